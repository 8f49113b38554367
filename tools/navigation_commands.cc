// armap route / armap eval navigation: routing on a map package's
// pedestrian network (MAP/roads/network.geojson, MAP/pois/pois.geojson).
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "core/geo.h"
#include "core/json.h"
#include "core/logging.h"
#include "core/map/overview.h"
#include "core/map/package.h"
#include "core/status.h"
#include "mapping/products/roads.h"
#include "navigation/evaluation.h"
#include "navigation/guidance.h"
#include "navigation/planner.h"
#include "navigation/walk_graph.h"
#include "tools/commands.h"

namespace armap::tools {
namespace {

namespace fs = std::filesystem;
constexpr double kWalkSpeedMps = 1.2;

struct NetworkFlags {
  std::string map_dir;
  std::string network;  // overrides MAP/roads/network.geojson
  std::string pois;     // overrides MAP/pois/pois.geojson
};

void AddNetworkFlags(CLI::App* app, NetworkFlags* f) {
  app->add_option("--map", f->map_dir, "Map package folder (its manifest gives the map frame's origin)")->required();
  app->add_option("--network", f->network, "Pedestrian network GeoJSON (default MAP/roads/network.geojson)");
  app->add_option("--pois", f->pois, "POI GeoJSON (default MAP/pois/pois.geojson)");
}

struct LoadedMap {
  std::unique_ptr<EnuFrame> frame;
  std::unique_ptr<nav::WalkGraph> graph;
};

absl::StatusOr<LoadedMap> LoadMap(const NetworkFlags& f, bool with_pois) {
  ARMAP_ASSIGN_OR_RETURN(map::Manifest manifest, map::ReadManifest(f.map_dir));
  LoadedMap out;
  out.frame = std::make_unique<EnuFrame>(manifest.origin);
  const fs::path network = f.network.empty() ? fs::path(f.map_dir) / "roads" / "network.geojson" : fs::path(f.network);
  fs::path pois;
  if (with_pois) pois = f.pois.empty() ? fs::path(f.map_dir) / "pois" / "pois.geojson" : fs::path(f.pois);
  ARMAP_ASSIGN_OR_RETURN(nav::WalkGraph graph, nav::LoadWalkGraph(network, pois, *out.frame));
  out.graph = std::make_unique<nav::WalkGraph>(std::move(graph));
  return out;
}

// "LAT,LON" -> point; nullopt when the text is not two numbers.
std::optional<GeoPoint> ParseLatLon(const std::string& text) {
  std::vector<std::string> parts = absl::StrSplit(text, ',');
  if (parts.size() != 2) return std::nullopt;
  GeoPoint g;
  if (!absl::SimpleAtod(absl::StripAsciiWhitespace(parts[0]), &g.lat_deg) ||
      !absl::SimpleAtod(absl::StripAsciiWhitespace(parts[1]), &g.lon_deg))
    return std::nullopt;
  if (std::abs(g.lat_deg) > 90 || std::abs(g.lon_deg) > 180) return std::nullopt;
  return g;
}

std::string Eta(double length_m) {
  const int s = static_cast<int>(std::lround(length_m / kWalkSpeedMps));
  return s >= 60 ? absl::StrFormat("%d min %02d s", s / 60, s % 60) : absl::StrFormat("%d s", s);
}

struct RouteFlags {
  NetworkFlags net;
  std::string from;
  std::string to;
  std::string json_out;
  std::string png_out;
  double heading_deg = std::nan("");
  int alternatives = 0;
  std::vector<int64_t> avoid;
  nav::PlanOptions plan;
  nav::SnapOptions snap;
};

OrderedJson RouteJson(const nav::WalkGraph& graph, const nav::Route& route, const std::vector<nav::Maneuver>& maneuvers,
                      const std::vector<Eigen::Vector3d>& ar, const EnuFrame& frame) {
  OrderedJson j;
  j["length_m"] = route.length_m;
  j["eta_s"] = route.length_m / kWalkSpeedMps;
  j["cost"] = route.cost;
  j["crossings"] = route.num_crossings;
  j["plan_ms"] = route.plan_ms;
  OrderedJson edges = OrderedJson::array();
  // Edge ids as in the network file, in travel order.
  for (const nav::RouteStep& s : route.steps) edges.push_back(graph.edges()[s.edge].id);
  j["edge_ids"] = edges;
  OrderedJson m = OrderedJson::array();
  double prev = 0;
  for (const nav::Maneuver& x : maneuvers) {
    const nav::Prompt p = x.type == nav::ManeuverType::kDepart
                              ? nav::PromptFor(x, (maneuvers.size() > 1 ? maneuvers[1].at_m : route.length_m))
                              : nav::PromptFor(x, x.at_m - prev);
    m.push_back({{"type", nav::ManeuverTypeName(x.type)},
                 {"at_m", x.at_m},
                 {"turn_deg", x.turn_deg},
                 {"onto_crossing", x.onto_crossing},
                 {"text_zh", x.text_zh},
                 {"text_en", x.text_en},
                 {"prompt_zh", p.zh},
                 {"prompt_en", p.en}});
    prev = x.at_m;
  }
  j["maneuvers"] = m;
  OrderedJson wgs = OrderedJson::array(), enu = OrderedJson::array(), arj = OrderedJson::array();
  for (const auto& p : route.polyline_in_map) {
    const GeoPoint g = frame.Wgs84FromEnu(p);
    wgs.push_back({g.lon_deg, g.lat_deg, g.alt_m});
    enu.push_back({p.x(), p.y(), p.z()});
  }
  for (const auto& p : ar) arj.push_back({p.x(), p.y(), p.z()});
  j["polyline_wgs84"] = wgs;
  j["polyline_enu"] = enu;
  j["ar_polyline_enu"] = arj;
  return j;
}

int RunRoute(const RouteFlags& f) {
  auto fail = [](const absl::Status& s) {
    ARMAP_LOG_ERROR("route: {}", s.message());
    return 1;
  };
  auto map = LoadMap(f.net, /*with_pois=*/true);
  if (!map.ok()) return fail(map.status());
  const nav::WalkGraph& graph = *map->graph;
  const EnuFrame& frame = *map->frame;
  const auto from_geo = ParseLatLon(f.from);
  if (!from_geo) return fail(absl::InvalidArgumentError(absl::StrCat("--from '", f.from, "' must be LAT,LON in degrees")));
  const Eigen::Vector3d from_enu = frame.EnuFromWgs84({from_geo->lat_deg, from_geo->lon_deg, frame.origin().alt_m});
  std::optional<double> heading;
  if (std::isfinite(f.heading_deg)) heading = f.heading_deg;
  auto start = graph.Snap(from_enu, heading, f.snap, "start");
  if (!start.ok()) return fail(start.status());

  Eigen::Vector3d to_enu;
  std::string to_label;
  if (const auto to_geo = ParseLatLon(f.to)) {
    to_enu = frame.EnuFromWgs84({to_geo->lat_deg, to_geo->lon_deg, frame.origin().alt_m});
    to_label = f.to;
  } else {
    auto poi = graph.FindPoi(f.to);
    if (!poi.ok()) return fail(poi.status());
    to_enu = (*poi)->position_in_map;
    to_label = (*poi)->name_en.empty() ? (*poi)->name : absl::StrCat((*poi)->name, " (", (*poi)->name_en, ")");
  }
  auto goal = graph.Snap(to_enu, std::nullopt, f.snap, "destination");
  if (!goal.ok()) return fail(goal.status());

  const nav::Planner planner(graph);
  nav::PlanOptions plan = f.plan;
  plan.avoid_edge_ids = f.avoid;
  plan.num_alternatives = f.alternatives;
  auto routes = planner.PlanWithAlternatives(*start, *goal, plan);
  if (!routes.ok()) return fail(routes.status());

  nav::GuidanceOptions go;
  OrderedJson out;
  out["from"] = {{"lat", from_geo->lat_deg}, {"lon", from_geo->lon_deg}, {"snap_distance_m", start->distance_m}};
  out["to"] = {{"query", f.to}, {"label", to_label}, {"snap_distance_m", goal->distance_m}};
  out["walk_speed_mps"] = kWalkSpeedMps;
  OrderedJson all = OrderedJson::array();
  for (size_t r = 0; r < routes->size(); ++r) {
    const nav::Route& route = (*routes)[r];
    const auto maneuvers = nav::BuildManeuvers(graph, route, go.instructions);
    const auto ar = nav::ArPolyline(route, go.polyline);
    all.push_back(RouteJson(graph, route, maneuvers, ar, frame));
    std::printf("%s: %.0f m, about %s at %.1f m/s, %d crossing%s (planned in %.2f ms)\n",
                r == 0 ? "Route" : absl::StrCat("Alternative ", r).c_str(), route.length_m, Eta(route.length_m).c_str(),
                kWalkSpeedMps, route.num_crossings, route.num_crossings == 1 ? "" : "s", route.plan_ms);
    if (r == 0) {
      std::printf("  from %.6f,%.6f (%.1f m to the network) to %s (%.1f m to the network)\n", from_geo->lat_deg,
                  from_geo->lon_deg, start->distance_m, to_label.c_str(), goal->distance_m);
      for (const auto& m : all.back()["maneuvers"])
        std::printf("  %-28s %s\n", m["prompt_zh"].get<std::string>().c_str(), m["prompt_en"].get<std::string>().c_str());
    }
  }
  out["routes"] = all;
  std::fflush(stdout);
  if (!f.json_out.empty()) {
    if (const absl::Status s = WriteJsonFile(f.json_out, out); !s.ok()) return fail(s);
  }
  if (!f.png_out.empty()) {
    // Over the package's overview (footprints, walkways, POIs on the lidar
    // ground) when it has one with its placement; else the network alone.
    const fs::path overview_png = fs::path(f.net.map_dir) / "overview.png";
    const fs::path overview_json = fs::path(f.net.map_dir) / "overview.json";
    const bool on_overview = f.net.network.empty() && fs::exists(overview_png) && fs::exists(overview_json);
    map::OverviewLayers layers;
    if (!on_overview) {
      for (const nav::WalkEdge& e : graph.edges()) {
        map::OverviewLayers::Line line;
        for (const auto& p : e.polyline_in_map) line.points.push_back(nav::Xy(p));
        line.rgb = e.kind == nav::EdgeKind::kCrossing ? std::array<uint8_t, 3>{230, 150, 30} : std::array<uint8_t, 3>{40, 160, 60};
        layers.lines.push_back(std::move(line));
      }
    }
    for (size_t r = routes->size(); r-- > 0;) {
      map::OverviewLayers::Line line;
      for (const auto& p : nav::ArPolyline((*routes)[r], go.polyline)) line.points.push_back(nav::Xy(p));
      line.rgb = r == 0 ? std::array<uint8_t, 3>{30, 90, 230} : std::array<uint8_t, 3>{140, 140, 220};
      line.width_px = r == 0 ? 5 : 3;
      layers.lines.push_back(std::move(line));
    }
    layers.markers.push_back({nav::Xy(start->point_in_map), "start", {20, 20, 20}});
    layers.markers.push_back({nav::Xy(goal->point_in_map), "goal", {220, 30, 30}});
    layers.title = absl::StrFormat("route %.0f m", (*routes)[0].length_m);
    absl::Status drawn;
    if (on_overview) {
      auto placement_json = ReadJsonFile(overview_json);
      if (!placement_json.ok()) return fail(placement_json.status());
      auto placement = map::OverviewFrame::FromJson(*placement_json, overview_json.string());
      if (!placement.ok()) return fail(placement.status());
      drawn = map::DrawOnOverviewPng(overview_png, *placement, layers, f.png_out);
    } else {
      drawn = map::WriteOverviewPng(layers, map::OverviewOptions{}, f.png_out);
    }
    if (!drawn.ok()) return fail(drawn);
  }
  return 0;
}

struct EvalNavFlags {
  NetworkFlags net;
  std::string gt;
  std::string json_out;
  std::string coverage;  // "" = MAP/roads/coverage.geojson when present; "none"
  nav::NavigationEvalOptions options;
};

int RunEvalNavigation(const EvalNavFlags& f) {
  auto fail = [](const absl::Status& s) {
    ARMAP_LOG_ERROR("eval navigation: {}", s.message());
    return 1;
  };
  auto map = LoadMap(f.net, /*with_pois=*/false);
  if (!map.ok()) return fail(map.status());
  const fs::path gt = fs::is_directory(f.gt) ? fs::path(f.gt) / "roads.geojson" : fs::path(f.gt);
  auto truth = nav::LoadWalkGraph(gt, {}, *map->frame);
  if (!truth.ok()) return fail(truth.status());
  // The mapped area (what the capture's lidar saw): route lengths are judged
  // on routes inside it; without the file every route counts.
  nav::NavigationEvalOptions options = f.options;
  const fs::path coverage = f.coverage.empty() ? fs::path(f.net.map_dir) / "roads" / "coverage.geojson" : fs::path(f.coverage);
  if (f.coverage != "none" && (fs::exists(coverage) || !f.coverage.empty())) {
    auto area = mapping::ReadRoadCoverage(coverage, *map->frame);
    if (!area.ok()) return fail(area.status());
    options.mapped_area_in_map = std::move(*area);
  } else {
    ARMAP_LOG_WARN("eval navigation: no mapped area ({} missing): every route is compared", coverage.string());
  }
  auto report = nav::EvaluateNavigation(*map->graph, *truth, options);
  if (!report.ok()) return fail(report.status());
  (*report)["armap_version"] = VersionString();
  (*report)["map_dir"] = f.net.map_dir;
  (*report)["network_file"] = f.net.network.empty() ? (fs::path(f.net.map_dir) / "roads" / "network.geojson").string() : f.net.network;
  (*report)["gt_file"] = gt.string();
  (*report)["mapped_area_file"] = options.mapped_area_in_map.empty() ? "" : coverage.string();
  std::printf("\n%s", nav::NavigationEvaluationMarkdown(*report).c_str());
  std::fflush(stdout);
  if (!f.json_out.empty()) {
    if (const absl::Status s = WriteJsonFile(f.json_out, *report); !s.ok()) return fail(s);
  }
  return 0;
}

}  // namespace

void RegisterNavigationCommands(CLI::App& app, int* exit_code) {
  CLI::App* route = app.add_subcommand("route", "Plan a walking route on a map package's pedestrian network (zh + en instructions)");
  auto rf = std::make_shared<RouteFlags>();
  AddNetworkFlags(route, &rf->net);
  route->add_option("--from", rf->from, "Start: LAT,LON (degrees)")->required();
  route->add_option("--to", rf->to, "Destination: a POI name (name or name_en) or LAT,LON")->required();
  route->add_option("--heading-deg", rf->heading_deg, "Start heading, degrees clockwise from north (snaps to matching edges)");
  route->add_option("--alternatives", rf->alternatives, "Alternative routes besides the best")->capture_default_str();
  route->add_option("--avoid", rf->avoid, "Edge ids (the network file's) to avoid")->delimiter(',');
  route->add_option("--crossing-penalty-m", rf->plan.crossing_penalty_m, "Cost of a street crossing, metres-equivalent")
      ->capture_default_str();
  route->add_option("--max-snap-m", rf->snap.max_snap_distance_m, "Refuse start/destination farther than this from the network")
      ->capture_default_str();
  route->add_option("--json", rf->json_out, "Write the route(s) as JSON here (WGS84 + map-frame polylines, maneuvers)");
  route->add_option("--png", rf->png_out, "Draw the route(s) on the package's overview PNG into this file (the network alone with --network)");
  route->callback([=] { *exit_code = RunRoute(*rf); });

  CLI::App* eval = EvalGroup(app);
  CLI::App* en = eval->add_subcommand(
      "navigation", "Routes and simulated walks (1 m noise, wrong turns) on the map's network against the true network");
  auto ef = std::make_shared<EvalNavFlags>();
  AddNetworkFlags(en, &ef->net);
  en->add_option("--gt", ef->gt, "Ground truth: the capture's gt/ folder or gt/roads.geojson")->required();
  en->add_option("--json", ef->json_out, "Write the figures as JSON here");
  en->add_option("--coverage", ef->coverage,
                 "Mapped area GeoJSON (default MAP/roads/coverage.geojson when present; 'none': judge every route)");
  en->add_option("--max-unmapped-gap-m", ef->options.max_unmapped_gap_m,
                 "Unseen stretch a true path may cross and still count as mapped")
      ->capture_default_str();
  en->add_option("--routes", ef->options.num_routes, "Random start/goal pairs")->capture_default_str();
  en->add_option("--seed", ef->options.seed, "Seed of the pairs and the noise")->capture_default_str();
  en->add_option("--sigma-m", ef->options.position_sigma_m, "Positioning noise, metres (per axis)")->capture_default_str();
  en->add_option("--heading-sigma-deg", ef->options.heading_sigma_deg, "Heading noise, degrees")->capture_default_str();
  en->add_option("--rate-hz", ef->options.pose_rate_hz, "Poses per second")->capture_default_str();
  en->add_option("--crossing-penalty-m", ef->options.plan.crossing_penalty_m,
                 "Crossing penalty for the planned routes (0: pure length, like the true shortest path)")
      ->capture_default_str();
  en->add_option("--worst-routes", ef->options.num_worst_routes, "Routes farthest from the true length listed in the JSON")
      ->capture_default_str();
  en->callback([=] { *exit_code = RunEvalNavigation(*ef); });
}

}  // namespace armap::tools
