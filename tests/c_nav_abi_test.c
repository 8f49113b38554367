/* The navigation part of the C ABI from a plain C99 program, linked only
 * against libarmap_sdk_c.so: plan a route through a real server, read it
 * through the accessors, then walk it in a guidance session.
 *
 *   c_nav_abi_test HOST:PORT START_LAT START_LON DEST_LAT DEST_LON
 *
 * Prints "route LENGTH_M NUM_POINTS NUM_MANEUVERS" and "PASS" on success. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "armap/armap_c.h"

#include "c_check.h"

int main(int argc, char** argv) {
  ArmapClient* client = NULL;
  ArmapRoute* route = NULL;
  ArmapGuide* guide = NULL;
  ArmapRouteParams params;
  ArmapRouteSummary summary;
  ArmapNavPose pose;
  ArmapGuideUpdate update;
  uint32_t count = 0, n = 0, i = 0;
  double* points = NULL;
  int32_t* types = NULL;
  const char* prompt = NULL;
  double t = 0, last_progress = 0;
  int arrived = 0;
  int64_t* edges = NULL;
  uint32_t num_edges = 0;
  ArmapRoute* detour = NULL;
  ArmapGuide* avoiding = NULL;

  if (argc != 6) {
    fprintf(stderr, "usage: %s HOST:PORT START_LAT START_LON DEST_LAT DEST_LON\n", argv[0]);
    return 2;
  }
  CHECK(armap_route_params_init(&params) == ARMAP_OK && params.struct_size == sizeof(params));
  CHECK(armap_route_summary_init(&summary) == ARMAP_OK && summary.struct_size == sizeof(summary));
  CHECK(armap_nav_pose_init(&pose) == ARMAP_OK && pose.struct_size == sizeof(pose));
  CHECK(armap_guide_update_init(&update) == ARMAP_OK && update.struct_size == sizeof(update));
  if (armap_client_connect(argv[1], NULL, &client) != ARMAP_OK) {
    fprintf(stderr, "cannot connect to %s: %s\n", argv[1], armap_last_error());
    return 1;
  }
  params.start_lat_deg = atof(argv[2]);
  params.start_lon_deg = atof(argv[3]);
  params.has_destination = 1;
  params.destination_lat_deg = atof(argv[4]);
  params.destination_lon_deg = atof(argv[5]);
  snprintf(params.request_id, sizeof(params.request_id), "c-nav");

  /* Bad arguments. */
  CHECK_ERROR(armap_route(client, &params, NULL, 0, NULL), ARMAP_INVALID_ARGUMENT, "out");
  CHECK_ERROR(armap_route(NULL, &params, NULL, 0, &route), ARMAP_INVALID_ARGUMENT, "client");
  CHECK(route == NULL);
  CHECK_ERROR(armap_route(client, &params, NULL, 3, &route), ARMAP_INVALID_ARGUMENT, "avoid_edge_ids");
  params.struct_size = 8;
  CHECK_ERROR(armap_route(client, &params, NULL, 0, &route), ARMAP_INVALID_ARGUMENT, "struct_size");
  params.struct_size = sizeof(params);
  params.has_destination = 0;
  snprintf(params.poi_name, sizeof(params.poi_name), "No Such Shop 12345");
  CHECK_ERROR(armap_route(client, &params, NULL, 0, &route), ARMAP_NOT_FOUND, "poi_name");
  CHECK(route == NULL);
  params.has_destination = 1;
  params.start_lat_deg = NAN;
  CHECK_ERROR(armap_route(client, &params, NULL, 0, &route), ARMAP_INVALID_ARGUMENT, "RouteRequest.start.position");
  params.start_lat_deg = atof(argv[2]);

  /* A route and its accessors. */
  CHECK(armap_route(client, &params, NULL, 0, &route) == ARMAP_OK && route != NULL);
  if (route == NULL) {
    armap_client_free(client);
    return 1;
  }
  CHECK(armap_last_error()[0] == '\0');
  CHECK(armap_route_count(route, &count) == ARMAP_OK && count >= 1);
  CHECK(armap_route_summary(route, 0, &summary) == ARMAP_OK);
  CHECK(summary.length_m > 0 && summary.num_points >= 2 && summary.num_maneuvers >= 2 && summary.num_ar_points > 2);
  CHECK(fabs(summary.eta_s * 1.2 - summary.length_m) < 1e-6);
  CHECK_ERROR(armap_route_summary(route, count, &summary), ARMAP_OUT_OF_RANGE, "index");
  CHECK(armap_route_polyline_wgs84(route, 0, NULL, 0, &n) == ARMAP_OK && n == summary.num_points);
  points = (double*)malloc(sizeof(double) * 3 * n);
  CHECK(armap_route_polyline_wgs84(route, 0, points, n, &n) == ARMAP_OK);
  CHECK(fabs(points[0] - params.start_lat_deg) < 1e-4 && fabs(points[1] - params.start_lon_deg) < 1e-4);
  CHECK(fabs(points[3 * (n - 1)] - params.destination_lat_deg) < 1e-4);
  CHECK(armap_route_polyline_map(route, 0, points, n, &n) == ARMAP_OK);
  CHECK_ERROR(armap_route_polyline_map(route, 0, NULL, 2, &n), ARMAP_INVALID_ARGUMENT, "out");
  types = (int32_t*)malloc(sizeof(int32_t) * summary.num_maneuvers);
  CHECK(armap_route_maneuver_types(route, 0, types, summary.num_maneuvers, &count) == ARMAP_OK &&
        count == summary.num_maneuvers);
  CHECK(types[0] == ARMAP_MANEUVER_DEPART && types[count - 1] == ARMAP_MANEUVER_ARRIVE);
  CHECK(armap_route_maneuver_prompt(route, 0, count - 1, ARMAP_PROMPT_EN, &prompt) == ARMAP_OK && prompt != NULL &&
        strstr(prompt, "arrive") != NULL);
  CHECK(armap_route_maneuver_prompt(route, 0, 0, ARMAP_PROMPT_ZH, &prompt) == ARMAP_OK && prompt != NULL &&
        strlen(prompt) > 0);
  CHECK_ERROR(armap_route_maneuver_prompt(route, 0, count, ARMAP_PROMPT_EN, &prompt), ARMAP_OUT_OF_RANGE, "maneuver");
  CHECK_ERROR(armap_route_maneuver_prompt(route, 0, 0, 7, &prompt), ARMAP_INVALID_ARGUMENT, "language");
  CHECK(armap_route_edge_ids(route, 0, NULL, 0, &num_edges) == ARMAP_OK && num_edges >= 1);
  edges = (int64_t*)malloc(sizeof(int64_t) * (num_edges + 1));
  CHECK(armap_route_edge_ids(route, 0, edges, num_edges, &num_edges) == ARMAP_OK);
  CHECK_ERROR(armap_route_edge_ids(route, count + 5, edges, num_edges, &num_edges), ARMAP_OUT_OF_RANGE, "index");
  printf("route %.3f %u %u\n", summary.length_m, summary.num_points, summary.num_maneuvers);

  /* Guidance avoiding an edge of the route (not the start's or the
   * destination's, which stay usable): the session's route keeps off it and
   * costs more, as armap_route with the same avoid list plans it. */
  pose.frame = ARMAP_POSE_WGS84;
  pose.x = params.start_lat_deg;
  pose.y = params.start_lon_deg;
  CHECK_ERROR(armap_guide_open_avoiding(client, &params, NULL, 2, &pose, &update, &avoiding), ARMAP_INVALID_ARGUMENT,
              "avoid_edge_ids");
  CHECK(avoiding == NULL);
  CHECK_ERROR(armap_guide_open_avoiding(client, &params, NULL, 0, &pose, &update, NULL), ARMAP_INVALID_ARGUMENT, "out");
  if (num_edges >= 3) {
    const int64_t avoid = edges[num_edges / 2];
    ArmapRouteSummary detour_summary;
    uint32_t k = 0, num_guide_edges = 0;
    int64_t* guide_edges = NULL;
    int uses_avoided = 0;
    CHECK(armap_route_summary_init(&detour_summary) == ARMAP_OK);
    CHECK(armap_route(client, &params, &avoid, 1, &detour) == ARMAP_OK && detour != NULL);
    CHECK(armap_guide_open_avoiding(client, &params, &avoid, 1, &pose, &update, &avoiding) == ARMAP_OK && avoiding != NULL);
    if (detour != NULL && avoiding != NULL) {
      CHECK(armap_route_summary(detour, 0, &detour_summary) == ARMAP_OK);
      CHECK(detour_summary.cost > summary.cost);
      /* The session's first update measures what is left of the same detour. */
      CHECK(fabs(update.remaining_m - detour_summary.length_m) < 1.0);
      armap_route_free(detour);
      detour = NULL;
      CHECK(armap_guide_route(avoiding, &detour) == ARMAP_OK && detour != NULL);
      if (detour != NULL) {
        CHECK(armap_route_edge_ids(detour, 0, NULL, 0, &num_guide_edges) == ARMAP_OK && num_guide_edges >= 1);
        guide_edges = (int64_t*)malloc(sizeof(int64_t) * (num_guide_edges + 1));
        CHECK(armap_route_edge_ids(detour, 0, guide_edges, num_guide_edges, &num_guide_edges) == ARMAP_OK);
        for (k = 0; k < num_guide_edges; ++k) uses_avoided |= guide_edges[k] == avoid;
        CHECK(!uses_avoided);
        free(guide_edges);
      }
      CHECK(armap_guide_close(avoiding) == ARMAP_OK);
    }
    armap_guide_free(avoiding);
    armap_route_free(detour);
    detour = NULL;
    avoiding = NULL;
  } else {
    fprintf(stderr, "the route has %u edges: the avoid-list check needs 3 or more\n", num_edges);
    CHECK(num_edges >= 3);
  }

  /* Guidance along the route's map-frame polyline, a pose every metre. */
  pose.frame = ARMAP_POSE_WGS84;
  pose.x = params.start_lat_deg;
  pose.y = params.start_lon_deg;
  CHECK(armap_guide_open(client, &params, &pose, &update, &guide) == ARMAP_OK && guide != NULL);
  if (guide != NULL) {
    CHECK(update.route_version == 0 && update.remaining_m > 0);
    pose.frame = ARMAP_POSE_MAP;
    for (i = 0; i + 1 < n; ++i) {
      const double* a = points + 3 * i;
      const double* b = points + 3 * (i + 1);
      const double len = hypot(b[0] - a[0], b[1] - a[1]);
      double s;
      for (s = 0; s < len; s += 1.0) {
        pose.x = a[0] + (b[0] - a[0]) * s / len;
        pose.y = a[1] + (b[1] - a[1]) * s / len;
        pose.time_s = (t += 1.0);
        CHECK(armap_guide_send_pose(guide, &pose, &update) == ARMAP_OK);
        CHECK(!update.off_route && update.progress_m >= last_progress - 0.5);
        last_progress = update.progress_m;
      }
    }
    pose.x = points[3 * (n - 1)];
    pose.y = points[3 * (n - 1) + 1];
    pose.time_s = (t += 1.0);
    CHECK(armap_guide_send_pose(guide, &pose, &update) == ARMAP_OK);
    arrived = update.arrived;
    CHECK(arrived == 1);
    pose.frame = 9;
    CHECK_ERROR(armap_guide_send_pose(guide, &pose, &update), ARMAP_INVALID_ARGUMENT, "frame");
    armap_route_free(route);
    route = NULL;
    CHECK(armap_guide_route(guide, &route) == ARMAP_OK && route != NULL);
    CHECK(armap_route_summary(route, 0, &summary) == ARMAP_OK && summary.length_m > 0);
    CHECK(armap_guide_close(guide) == ARMAP_OK);
    CHECK(armap_guide_close(guide) == ARMAP_OK);
    armap_guide_free(guide);
  }
  armap_guide_free(NULL);
  armap_route_free(route);
  armap_route_free(NULL);
  free(points);
  free(types);
  free(edges);
  armap_client_free(client);
  printf("%d checks, %d failures\n", g_checks, g_failures);
  if (g_failures == 0) printf("PASS\n");
  return g_failures == 0 ? 0 : 1;
}
