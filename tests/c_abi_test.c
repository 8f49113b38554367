/* The armap C ABI from plain C99: proves that armap/armap_c.h is C and that
 * libarmap_sdk_c.so works on its own against a running server.
 *
 *   c_abi_test ADDRESS IMAGE MODEL WIDTH HEIGHT PARAMS [PRIOR [GRAVITY]]
 *     ADDRESS  host:port of an armap server (loopback in tests)
 *     IMAGE    a query photo (JPEG or PNG)
 *     MODEL    PINHOLE or OPENCV; WIDTH HEIGHT in pixels
 *     PARAMS   fx,fy,cx,cy[,k1,k2,p1,p2]
 *     PRIOR    lat,lon,alt,accuracy_m   (optional GPS prior)
 *     GRAVITY  gx,gy,gz                 (optional "down" in the camera frame)
 *
 * Prints "pose qw qx qy qz tx ty tz" (cam_from_world of the unary call),
 * "geo lat lon alt heading pitch roll", one "stream N ..." line per stream
 * round trip, and "PASS <n> checks"; exits 0 only if every check passed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "armap/armap_c.h"

#include "c_check.h"

static int ParseList(const char* text, double* values, int max_values) {
  int n = 0;
  const char* p = text;
  while (*p != '\0' && n < max_values) {
    char* end = NULL;
    values[n++] = strtod(p, &end);
    if (end == p) return -1;
    p = end;
    if (*p == ',') ++p;
    else if (*p != '\0') return -1;
  }
  return *p == '\0' ? n : -1;
}

static unsigned char* ReadFile(const char* path, size_t* len) {
  FILE* f = fopen(path, "rb");
  unsigned char* data = NULL;
  long size;
  if (f == NULL) return NULL;
  if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
    data = (unsigned char*)malloc((size_t)size);
    if (data != NULL && fread(data, 1, (size_t)size, f) != (size_t)size) {
      free(data);
      data = NULL;
    }
    *len = (size_t)size;
  }
  fclose(f);
  return data;
}

static int Finite(double x) { return x == x && x - x == 0.0; }

/* A pose a server could have produced: finite, unit quaternion, inside a
 * city-sized map, confidence in (0, 1]. */
static int PlausibleResult(const ArmapLocalizeResult* r) {
  const ArmapRigid3* p = &r->cam_from_world;
  const double norm = sqrt(p->qw * p->qw + p->qx * p->qx + p->qy * p->qy + p->qz * p->qz);
  return r->success == 1 && r->failure_reason == ARMAP_FAILURE_NONE && Finite(p->tx) && Finite(p->ty) &&
         Finite(p->tz) && fabs(norm - 1.0) < 1e-6 && fabs(p->tx) < 1e5 && fabs(p->ty) < 1e5 && fabs(p->tz) < 1e5 &&
         r->confidence > 0.0 && r->confidence <= 1.0 && r->num_inliers > 0 && r->num_matches >= r->num_inliers &&
         r->client_ms > 0.0 && r->num_stages <= ARMAP_MAX_STAGES;
}

int main(int argc, char** argv) {
  ArmapClient* client = NULL;
  ArmapClient* unreachable = NULL;
  ArmapStream* stream = NULL;
  ArmapClientOptions options;
  ArmapLocalizeParams params;
  ArmapLocalizeResult result;
  ArmapMapInfo info;
  ArmapMapInfo* maps = NULL;
  uint32_t num_maps = 0, i;
  unsigned char* image = NULL;
  size_t image_len = 0;
  double values[ARMAP_MAX_CAMERA_PARAMS];
  int n, has_prior = 0;
  double prior[4] = {0, 0, 0, 0};
  float keypoint[4] = {10, 10, 2, 0};
  uint8_t descriptor[128];

  if (argc < 7 || argc > 9) {
    fprintf(stderr, "usage: %s ADDRESS IMAGE MODEL WIDTH HEIGHT fx,fy,cx,cy[,...] [lat,lon,alt,acc] [gx,gy,gz]\n",
            argv[0]);
    return 2;
  }
  image = ReadFile(argv[2], &image_len);
  if (image == NULL) {
    fprintf(stderr, "cannot read %s\n", argv[2]);
    return 2;
  }
  memset(descriptor, 1, sizeof(descriptor));

  /* ---- library ---- */
  CHECK(armap_version() != NULL && strlen(armap_version()) >= 5);
  CHECK(strcmp(armap_status_name(ARMAP_NOT_FOUND), "NOT_FOUND") == 0);
  CHECK(strcmp(armap_status_name(ARMAP_UNAUTHENTICATED), "UNAUTHENTICATED") == 0);
  CHECK_ERROR(armap_client_options_init(NULL), ARMAP_INVALID_ARGUMENT, "options");
  CHECK(armap_localize_params_init(&params) == ARMAP_OK && params.struct_size == sizeof(params));
  CHECK(armap_localize_result_init(&result) == ARMAP_OK && result.struct_size == sizeof(result));
  CHECK(armap_map_info_init(&info) == ARMAP_OK && info.struct_size == sizeof(info));
  armap_client_free(NULL);
  armap_stream_free(NULL);

  /* ---- connect ---- */
  CHECK_ERROR(armap_client_connect(NULL, NULL, &client), ARMAP_INVALID_ARGUMENT, "target");
  CHECK(client == NULL);
  CHECK_ERROR(armap_client_connect(argv[1], NULL, NULL), ARMAP_INVALID_ARGUMENT, "out");
  CHECK(armap_client_options_init(&options) == ARMAP_OK);
  options.struct_size = 8;
  CHECK_ERROR(armap_client_connect(argv[1], &options, &client), ARMAP_INVALID_ARGUMENT, "struct_size");
  CHECK(armap_client_options_init(&options) == ARMAP_OK);
  options.timeout_ms = 60000;
  options.connect_timeout_ms = 10000;
  CHECK(armap_client_connect(argv[1], &options, &client) == ARMAP_OK && client != NULL);
  if (client == NULL) {
    fprintf(stderr, "cannot connect to %s: %s\n", argv[1], armap_last_error());
    free(image);
    return 1;
  }
  CHECK(armap_last_error()[0] == '\0');
  CHECK(armap_client_wait_for_ready(client, 5000) == ARMAP_OK);
  CHECK_ERROR(armap_client_wait_for_ready(NULL, 5000), ARMAP_INVALID_ARGUMENT, "client");

  /* Nothing listens on loopback port 1. */
  armap_client_options_init(&options);
  options.connect_timeout_ms = 300;
  CHECK_ERROR(armap_client_connect("127.0.0.1:1", &options, &unreachable), ARMAP_UNAVAILABLE, "127.0.0.1:1");
  CHECK(unreachable == NULL);

  /* ---- maps ---- */
  CHECK_ERROR(armap_client_list_maps(client, NULL, 0, NULL), ARMAP_INVALID_ARGUMENT, "out_count");
  CHECK_ERROR(armap_client_list_maps(client, NULL, 3, &num_maps), ARMAP_INVALID_ARGUMENT, "maps");
  CHECK(armap_client_list_maps(client, NULL, 0, &num_maps) == ARMAP_OK && num_maps >= 1);
  if (num_maps >= 1) {
    maps = (ArmapMapInfo*)calloc(num_maps, sizeof(ArmapMapInfo));
    for (i = 0; i < num_maps; ++i) armap_map_info_init(&maps[i]);
    CHECK(armap_client_list_maps(client, maps, num_maps, &num_maps) == ARMAP_OK);
    CHECK(maps[0].map_id[0] != '\0' && maps[0].num_views > 0 && maps[0].num_landmarks > 0);
    CHECK(armap_client_get_map_info(client, maps[0].map_id, &info) == ARMAP_OK);
    CHECK(strcmp(info.map_id, maps[0].map_id) == 0 && info.num_views == maps[0].num_views);
    printf("map %s version %lld views %lld landmarks %lld extractor %s\n", info.map_id, (long long)info.map_version,
           (long long)info.num_views, (long long)info.num_landmarks, info.extractor_type);
  }
  CHECK_ERROR(armap_client_get_map_info(client, "no-such-map", &info), ARMAP_NOT_FOUND, "");
  CHECK(armap_last_error()[0] != '\0');
  CHECK_ERROR(armap_client_get_map_info(client, NULL, &info), ARMAP_INVALID_ARGUMENT, "map_id");
  CHECK_ERROR(armap_client_get_map_info(client, "x", NULL), ARMAP_INVALID_ARGUMENT, "out");

  /* ---- localize ---- */
  armap_localize_params_init(&params);
  if (maps != NULL) memcpy(params.map_id, maps[0].map_id, sizeof(params.map_id));
  strcpy(params.request_id, "c-abi-1");
  strncpy(params.camera.model, argv[3], sizeof(params.camera.model) - 1);
  params.camera.width = (uint32_t)strtoul(argv[4], NULL, 10);
  params.camera.height = (uint32_t)strtoul(argv[5], NULL, 10);
  n = ParseList(argv[6], values, ARMAP_MAX_CAMERA_PARAMS);
  CHECK(n >= 4);
  params.camera.num_params = n > 0 ? (uint32_t)n : 0;
  memcpy(params.camera.params, values, sizeof(double) * (size_t)(n > 0 ? n : 0));
  if (argc >= 8) {
    CHECK(ParseList(argv[7], prior, 4) == 4);
    has_prior = 1;
    params.prior.has_position = 1;
    params.prior.lat_deg = prior[0];
    params.prior.lon_deg = prior[1];
    params.prior.alt_m = prior[2];
    params.prior.accuracy_m = prior[3];
  }
  if (argc >= 9) {
    CHECK(ParseList(argv[8], params.prior.gravity_in_cam, 3) == 3);
    params.prior.has_gravity = 1;
  }

  CHECK(armap_client_localize_image(client, &params, image, image_len, &result) == ARMAP_OK);
  CHECK(PlausibleResult(&result));
  CHECK(strcmp(result.request_id, "c-abi-1") == 0);
  CHECK(maps == NULL || strcmp(result.map_id, maps[0].map_id) == 0);
  CHECK(result.client_ms >= result.server_ms);
  if (has_prior) {
    /* The fix is within a GPS error (tens of metres) of the prior. */
    CHECK(fabs(result.geo_pose.lat_deg - prior[0]) < 0.005 && fabs(result.geo_pose.lon_deg - prior[1]) < 0.005);
  }
  CHECK(result.geo_pose.heading_deg >= 0.0 && result.geo_pose.heading_deg < 360.0);
  printf("pose %.9f %.9f %.9f %.9f %.9f %.9f %.9f\n", result.cam_from_world.qw, result.cam_from_world.qx,
         result.cam_from_world.qy, result.cam_from_world.qz, result.cam_from_world.tx, result.cam_from_world.ty,
         result.cam_from_world.tz);
  printf("geo %.9f %.9f %.3f %.3f %.3f %.3f\n", result.geo_pose.lat_deg, result.geo_pose.lon_deg,
         result.geo_pose.alt_m, result.geo_pose.heading_deg, result.geo_pose.pitch_deg, result.geo_pose.roll_deg);
  printf("stats inliers %d matches %d features %d confidence %.3f server_ms %.1f client_ms %.1f stages %u\n",
         result.num_inliers, result.num_matches, result.num_features, result.confidence, result.server_ms,
         result.client_ms, result.num_stages);

  /* Error paths of localize. */
  CHECK_ERROR(armap_client_localize_image(NULL, &params, image, image_len, &result), ARMAP_INVALID_ARGUMENT, "client");
  CHECK_ERROR(armap_client_localize_image(client, NULL, image, image_len, &result), ARMAP_INVALID_ARGUMENT, "params");
  CHECK_ERROR(armap_client_localize_image(client, &params, NULL, image_len, &result), ARMAP_INVALID_ARGUMENT, "image");
  CHECK_ERROR(armap_client_localize_image(client, &params, image, 0, &result), ARMAP_INVALID_ARGUMENT, "len");
  CHECK_ERROR(armap_client_localize_image(client, &params, image, image_len, NULL), ARMAP_INVALID_ARGUMENT, "out");
  result.struct_size = 4;
  CHECK_ERROR(armap_client_localize_image(client, &params, image, image_len, &result), ARMAP_INVALID_ARGUMENT,
              "struct_size");
  armap_localize_result_init(&result);
  CHECK_ERROR(armap_client_localize_features(client, &params, NULL, descriptor, 1, 128, &result),
              ARMAP_INVALID_ARGUMENT, "keypoints");
  CHECK_ERROR(armap_client_localize_features(client, &params, keypoint, NULL, 1, 128, &result),
              ARMAP_INVALID_ARGUMENT, "descriptors");
  CHECK_ERROR(armap_client_localize_features(client, &params, keypoint, descriptor, 1, 0, &result),
              ARMAP_INVALID_ARGUMENT, "dim");
  /* 4 billion keypoints are refused by the size limit before any allocation. */
  CHECK_ERROR(armap_client_localize_features(client, &params, keypoint, descriptor, 0xFFFFFFFFu, 128, &result),
              ARMAP_INVALID_ARGUMENT, "limit");
  memset(params.map_id, 'x', sizeof(params.map_id));
  CHECK_ERROR(armap_client_localize_image(client, &params, image, image_len, &result), ARMAP_INVALID_ARGUMENT,
              "map_id");
  strcpy(params.map_id, "no-such-map");
  CHECK_ERROR(armap_client_localize_image(client, &params, image, image_len, &result), ARMAP_NOT_FOUND, "");
  CHECK(armap_last_error()[0] != '\0');
  CHECK(result.success == 0);
  if (maps != NULL) memcpy(params.map_id, maps[0].map_id, sizeof(params.map_id));

  /* ---- stream: the second request has no prior; the server uses the first answer. ---- */
  CHECK_ERROR(armap_client_open_stream(NULL, &stream), ARMAP_INVALID_ARGUMENT, "client");
  CHECK_ERROR(armap_client_open_stream(client, NULL), ARMAP_INVALID_ARGUMENT, "out");
  CHECK(armap_client_open_stream(client, &stream) == ARMAP_OK && stream != NULL);
  if (stream != NULL) {
    for (i = 0; i < 2; ++i) {
      armap_localize_result_init(&result);
      sprintf(params.request_id, "c-abi-stream-%u", (unsigned)i);
      if (i == 1) memset(&params.prior, 0, sizeof(params.prior));
      CHECK(armap_stream_localize_image(stream, &params, image, image_len, &result) == ARMAP_OK);
      CHECK(PlausibleResult(&result));
      CHECK(strcmp(result.request_id, params.request_id) == 0);
      printf("stream %u %.9f %.9f %.9f %.9f %.9f %.9f %.9f\n", (unsigned)i, result.cam_from_world.qw, result.cam_from_world.qx,
             result.cam_from_world.qy, result.cam_from_world.qz, result.cam_from_world.tx, result.cam_from_world.ty,
             result.cam_from_world.tz);
    }
    CHECK_ERROR(armap_stream_localize_image(NULL, &params, image, image_len, &result), ARMAP_INVALID_ARGUMENT,
                "stream");
    CHECK(armap_stream_close(stream) == ARMAP_OK);
    CHECK(armap_stream_close(stream) == ARMAP_OK); /* idempotent */
    CHECK(armap_stream_localize_image(stream, &params, image, image_len, &result) == ARMAP_FAILED_PRECONDITION);
    armap_stream_free(stream);
  }
  CHECK_ERROR(armap_stream_close(NULL), ARMAP_INVALID_ARGUMENT, "stream");

  armap_client_free(client);
  free(maps);
  free(image);
  if (g_failures != 0) {
    printf("FAIL %d of %d checks\n", g_failures, g_checks);
    return 1;
  }
  printf("PASS %d checks\n", g_checks);
  return 0;
}
