#include "navigation/evaluation.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/random.h"
#include "core/status.h"

namespace armap::nav {
namespace {

struct Sample {
  Eigen::Vector3d position;
  double heading_deg;
  double arc_m;  // along the walked path
};

// Points every `step_m` along a polyline, with the travel heading there.
std::vector<Sample> SampleAlong(const std::vector<Eigen::Vector3d>& line, double step_m, double from_arc_m = 0) {
  std::vector<Sample> out;
  double s = 0, next = from_arc_m;
  for (size_t i = 1; i < line.size(); ++i) {
    const Eigen::Vector3d a = line[i - 1], b = line[i];
    const double len = (Xy(b) - Xy(a)).norm();
    if (len < 1e-9) continue;
    const double heading = HeadingDegOf(Xy(b - a));
    while (next <= s + len) {
      out.push_back({a + (b - a) * ((next - s) / len), heading, next});
      next += step_m;
    }
    s += len;
  }
  return out;
}

double DistanceToPolyline(const Eigen::Vector2d& p, const std::vector<Eigen::Vector3d>& line) {
  double best = std::numeric_limits<double>::infinity();
  for (size_t i = 1; i < line.size(); ++i) {
    const Eigen::Vector2d a = Xy(line[i - 1]), ab = Xy(line[i]) - a;
    const double l2 = ab.squaredNorm();
    const double t = l2 > 0 ? std::clamp((p - a).dot(ab) / l2, 0.0, 1.0) : 0.0;
    best = std::min(best, (a + t * ab - p).norm());
  }
  return best;
}

// A random point on the network, uniform over length.
EdgePoint RandomPoint(const WalkGraph& g, const std::vector<double>& cumulative, Rng& rng) {
  const double u = rng.Uniform() * cumulative.back();
  const edge_t e = static_cast<edge_t>(std::upper_bound(cumulative.begin(), cumulative.end(), u) - cumulative.begin());
  EdgePoint p;
  p.edge = std::min<edge_t>(e, static_cast<edge_t>(g.num_edges() - 1));
  p.offset_m = rng.Uniform() * g.edges()[p.edge].polyline_length_m;
  p.point_in_map = g.PointAt(p.edge, p.offset_m);
  return p;
}

struct WrongTurn {
  std::vector<Eigen::Vector3d> path;  // route up to the junction, then the wrong branch
  double junction_arc_m = 0;
};

// The wrong branch from `node` along edge `e`, continuing straight-most at
// the following nodes, for up to `length_m`.
std::vector<Eigen::Vector3d> BranchWalk(const WalkGraph& g, node_t node, edge_t e, double length_m) {
  std::vector<Eigen::Vector3d> out{g.nodes()[node].position_in_map};
  double walked = 0;
  std::set<edge_t> used;
  while (walked < length_m) {
    used.insert(e);
    const WalkEdge& edge = g.edges()[e];
    std::vector<Eigen::Vector3d> pts = edge.polyline_in_map;
    if (edge.from != node) std::reverse(pts.begin(), pts.end());
    for (size_t i = 1; i < pts.size(); ++i) out.push_back(pts[i]);
    walked += edge.polyline_length_m;
    node = g.OtherEnd(e, node);
    const Eigen::Vector2d in = Xy(pts.back() - pts[pts.size() - 2]).normalized();
    edge_t best = kInvalidEdge;
    double best_dot = -2;
    for (uint32_t i = g.incident_offsets()[node]; i < g.incident_offsets()[node + 1]; ++i) {
      const edge_t f = g.incident_edges()[i];
      if (used.count(f)) continue;
      const WalkEdge& fe = g.edges()[f];
      const Eigen::Vector2d d = fe.from == node ? Xy(fe.polyline_in_map[1] - fe.polyline_in_map[0])
                                                : Xy(fe.polyline_in_map[fe.polyline_in_map.size() - 2] - fe.polyline_in_map.back());
      const double dot = in.dot(d.normalized());
      if (dot > best_dot) {
        best_dot = dot;
        best = f;
      }
    }
    if (best == kInvalidEdge) break;
    e = best;
  }
  return out;
}

std::optional<WrongTurn> MakeWrongTurn(const WalkGraph& g, const Route& route, const NavigationEvalOptions& o, Rng& rng) {
  struct Candidate {
    node_t node;
    edge_t branch;
    double arc_m;
  };
  std::set<edge_t> route_edges;
  for (const RouteStep& s : route.steps) route_edges.insert(s.edge);
  std::vector<Candidate> candidates;
  double arc = 0;
  for (size_t k = 0; k + 1 < route.steps.size(); ++k) {
    arc += route.steps[k].length_m;
    const WalkEdge& e = g.edges()[route.steps[k].edge];
    const node_t node = route.steps[k].forward ? e.to : e.from;
    if (g.Degree(node) < 3 || arc < 5.0 || route.length_m - arc < 10.0) continue;
    for (uint32_t i = g.incident_offsets()[node]; i < g.incident_offsets()[node + 1]; ++i) {
      const edge_t b = g.incident_edges()[i];
      if (!route_edges.count(b)) candidates.push_back({node, b, arc});
    }
  }
  // Random order; take the first whose wrong walk really leaves the route.
  for (size_t i = candidates.size(); i > 1; --i) std::swap(candidates[i - 1], candidates[rng.NextU64() % i]);
  for (const Candidate& c : candidates) {
    std::vector<Eigen::Vector3d> branch = BranchWalk(g, c.node, c.branch, o.wrong_turn_walk_m + 1.0);
    double len = 0;
    bool rejoins = false;
    for (size_t i = 1; i < branch.size(); ++i) {
      len += (Xy(branch[i]) - Xy(branch[i - 1])).norm();
      if (len > 12.0 && DistanceToPolyline(Xy(branch[i]), route.polyline_in_map) < o.guidance.offroute_distance_m) rejoins = true;
    }
    if (rejoins || len < 12.0) continue;
    WrongTurn w;
    w.junction_arc_m = c.arc_m;
    for (size_t i = 0; i < route.polyline_in_map.size() && route.arc_m[i] < c.arc_m - 1e-6; ++i) w.path.push_back(route.polyline_in_map[i]);
    w.path.insert(w.path.end(), branch.begin(), branch.end());
    return w;
  }
  return std::nullopt;
}

bool InRing(const std::vector<Eigen::Vector2d>& ring, const Eigen::Vector2d& p) {
  bool inside = false;
  for (size_t i = 0, j = ring.size() - 1; i < ring.size(); j = i++) {
    const Eigen::Vector2d& a = ring[i];
    const Eigen::Vector2d& b = ring[j];
    if ((a.y() > p.y()) != (b.y() > p.y()) && p.x() < (b.x() - a.x()) * (p.y() - a.y()) / (b.y() - a.y()) + a.x())
      inside = !inside;
  }
  return inside;
}

bool InArea(const std::vector<std::vector<std::vector<Eigen::Vector2d>>>& area, const Eigen::Vector2d& p) {
  for (const auto& polygon : area) {
    if (polygon.empty() || polygon[0].size() < 3 || !InRing(polygon[0], p)) continue;
    bool in_hole = false;
    for (size_t h = 1; h < polygon.size() && !in_hole; ++h) in_hole = polygon[h].size() >= 3 && InRing(polygon[h], p);
    if (!in_hole) return true;
  }
  return false;
}

// Whether a path lies in the mapped area: both ends in it and no unmapped
// stretch longer than `max_gap_m` (sampled every 0.25 m).
bool PathInArea(const std::vector<Eigen::Vector3d>& line, const NavigationEvalOptions& o) {
  if (o.mapped_area_in_map.empty()) return true;
  if (!InArea(o.mapped_area_in_map, Xy(line.front())) || !InArea(o.mapped_area_in_map, Xy(line.back()))) return false;
  double gap = 0;
  constexpr double kStepM = 0.25;
  for (size_t i = 1; i < line.size(); ++i) {
    const Eigen::Vector2d a = Xy(line[i - 1]), b = Xy(line[i]);
    const double len = (b - a).norm();
    for (double t = 0; t < len; t += kStepM) {
      if (InArea(o.mapped_area_in_map, a + (b - a) * (t / len))) {
        gap = 0;
      } else if ((gap += kStepM) > o.max_unmapped_gap_m) {
        return false;
      }
    }
  }
  return true;
}

struct RouteRecord {
  int index = 0;
  double ratio = 1;
  double length_m = 0, true_length_m = 0;
  Eigen::Vector2d start_xy, goal_xy;
  double start_snap_m = 0, goal_snap_m = 0;
  bool mapped = true;
};

// The route-length figures over a set of routes.
void RatioStats(const std::vector<RouteRecord>& records, bool mapped_only, OrderedJson* j) {
  std::vector<double> ratios;
  for (const RouteRecord& r : records)
    if (!mapped_only || r.mapped) ratios.push_back(r.ratio);
  int within = 0;
  double sum = 0;
  for (double r : ratios) {
    within += std::abs(r - 1.0) <= 0.01;
    sum += r;
  }
  (*j)["routes_compared"] = static_cast<int>(ratios.size());
  (*j)["route_length_ratio_vs_gt"] = ratios.empty() ? 0.0 : sum / ratios.size();
  (*j)["route_length_ratio_vs_gt_min"] = ratios.empty() ? 0.0 : *std::min_element(ratios.begin(), ratios.end());
  (*j)["route_length_ratio_vs_gt_max"] = ratios.empty() ? 0.0 : *std::max_element(ratios.begin(), ratios.end());
  (*j)["routes_within_1pct"] = ratios.empty() ? 0.0 : static_cast<double>(within) / ratios.size();
}

OrderedJson Quantiles(const std::vector<double>& v, std::initializer_list<std::pair<const char*, double>> qs) {
  OrderedJson j = OrderedJson::object();
  for (const auto& [name, q] : qs) j[name] = NavQuantile(v, q);
  return j;
}

}  // namespace

double NavQuantile(std::vector<double> values, double q) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  const double pos = std::clamp(q, 0.0, 1.0) * (values.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(values.size() - 1, lo + 1);
  return values[lo] + (pos - lo) * (values[hi] - values[lo]);
}

absl::Status NavigationEvalOptions::Validate() const {
  if (num_routes < 1) return absl::InvalidArgumentError(absl::StrCat("NavigationEvalOptions::num_routes = ", num_routes, "; must be >= 1"));
  if (!(walk_speed_mps > 0 && pose_rate_hz > 0))
    return absl::InvalidArgumentError("NavigationEvalOptions: walk_speed_mps and pose_rate_hz must be > 0");
  if (!(position_sigma_m >= 0 && heading_sigma_deg >= 0))
    return absl::InvalidArgumentError("NavigationEvalOptions: position_sigma_m and heading_sigma_deg must be >= 0");
  if (!(wrong_turn_walk_m > 0 && wrong_turn_lead_m >= 0 && true_network_snap_m >= 0 && min_route_distance_m >= 0))
    return absl::InvalidArgumentError("NavigationEvalOptions: distances must be >= 0 (wrong_turn_walk_m > 0)");
  if (!(max_unmapped_gap_m >= 0) || num_worst_routes < 0)
    return absl::InvalidArgumentError(absl::StrCat("NavigationEvalOptions: max_unmapped_gap_m = ", max_unmapped_gap_m,
                                                   " and num_worst_routes = ", num_worst_routes, " must be >= 0"));
  for (size_t i = 0; i < mapped_area_in_map.size(); ++i)
    for (const auto& ring : mapped_area_in_map[i])
      for (const Eigen::Vector2d& p : ring)
        if (!p.allFinite())
          return absl::InvalidArgumentError(absl::StrCat("NavigationEvalOptions::mapped_area_in_map: polygon ", i, " has a non-finite point"));
  ARMAP_RETURN_IF_ERROR(plan.Validate());
  return guidance.Validate();
}

absl::StatusOr<OrderedJson> EvaluateNavigation(const WalkGraph& map, const WalkGraph& truth, const NavigationEvalOptions& o) {
  ARMAP_RETURN_IF_ERROR(o.Validate());
  const Planner map_planner(map);
  const Planner truth_planner(truth);
  std::vector<double> cumulative;
  double total = 0;
  for (const WalkEdge& e : truth.edges()) cumulative.push_back(total += e.polyline_length_m);
  const double step_m = o.walk_speed_mps / o.pose_rate_hz;
  const double dt_s = 1.0 / o.pose_rate_hz;
  PlanOptions shortest;
  shortest.crossing_penalty_m = 0;

  std::vector<double> plan_ms, reroute_ms, detect_m, snap_m;
  std::vector<RouteRecord> records;
  int routes = 0, failed = 0, noise_walks = 0, false_walks = 0, wrong_walks = 0, missed = 0, no_junction = 0, false_before_turn = 0;
  std::string first_failure;
  auto on_truth = [&](const Eigen::Vector3d& p) -> Eigen::Vector3d {
    if (o.true_network_snap_m <= 0) return p;
    SnapOptions so;
    so.max_snap_distance_m = o.true_network_snap_m;
    auto s = truth.Snap(p, std::nullopt, so);
    return s.ok() ? s->point_in_map : p;
  };

  for (int i = 0; i < o.num_routes; ++i) {
    Rng rng(o.seed, static_cast<uint64_t>(i));
    EdgePoint a, b;
    for (int attempt = 0; attempt < 100; ++attempt) {
      a = RandomPoint(truth, cumulative, rng);
      b = RandomPoint(truth, cumulative, rng);
      if ((Xy(a.point_in_map) - Xy(b.point_in_map)).norm() >= o.min_route_distance_m) break;
    }
    ++routes;
    auto truth_route = truth_planner.Plan(a, b, shortest, SearchAlgorithm::kDijkstra);
    auto fail = [&](const absl::Status& s) {
      ++failed;
      if (first_failure.empty()) first_failure = absl::StrCat("route ", i, ": ", s.message());
    };
    if (!truth_route.ok()) {
      fail(truth_route.status());
      continue;
    }
    auto start = map.Snap(a.point_in_map, std::nullopt, o.guidance.snap, "start");
    auto goal = map.Snap(b.point_in_map, std::nullopt, o.guidance.snap, "goal");
    if (!start.ok() || !goal.ok()) {
      fail(start.ok() ? goal.status() : start.status());
      continue;
    }
    // How far the true points lie from the map's network (coverage, offset).
    snap_m.push_back(start->distance_m);
    snap_m.push_back(goal->distance_m);
    auto route = map_planner.Plan(*start, *goal, o.plan);
    if (!route.ok()) {
      fail(route.status());
      continue;
    }
    plan_ms.push_back(route->plan_ms);
    {
      RouteRecord r;
      r.index = i;
      r.length_m = route->length_m;
      r.true_length_m = truth_route->length_m;
      r.ratio = truth_route->length_m > 0 ? route->length_m / truth_route->length_m : 1.0;
      r.start_xy = Xy(a.point_in_map);
      r.goal_xy = Xy(b.point_in_map);
      r.start_snap_m = start->distance_m;
      r.goal_snap_m = goal->distance_m;
      r.mapped = PathInArea(truth_route->polyline_in_map, o);
      records.push_back(r);
    }

    // Walk the route with positioning noise: any off-route is false.
    {
      auto guidance = Guidance::FromRoute(map_planner, *route, o.guidance);
      if (!guidance.ok()) return guidance.status();
      ++noise_walks;
      double t = 0;
      for (const Sample& s : SampleAlong(route->polyline_in_map, step_m)) {
        NavPose pose;
        const Eigen::Vector3d p = on_truth(s.position);
        pose.position_in_map = p + Eigen::Vector3d(rng.Normal(0, o.position_sigma_m), rng.Normal(0, o.position_sigma_m), 0);
        pose.heading_deg = s.heading_deg + rng.Normal(0, o.heading_sigma_deg);
        pose.time_s = t += dt_s;
        ARMAP_ASSIGN_OR_RETURN(GuidanceUpdate u, guidance->Update(pose));
        if (u.rerouted) reroute_ms.push_back(u.reroute_ms);
        if (u.off_route_entered) {
          ++false_walks;
          break;
        }
        if (u.arrived) break;
      }
    }

    // A deliberate wrong turn at a junction of the route.
    std::optional<WrongTurn> wrong = MakeWrongTurn(map, *route, o, rng);
    if (!wrong) {
      ++no_junction;
      continue;
    }
    auto guidance = Guidance::FromRoute(map_planner, *route, o.guidance);
    if (!guidance.ok()) return guidance.status();
    ++wrong_walks;
    const double lead_from = std::max(0.0, wrong->junction_arc_m - o.wrong_turn_lead_m);
    bool detected = false;
    double t = 0;
    for (const Sample& s : SampleAlong(wrong->path, step_m, lead_from)) {
      const double past_m = s.arc_m - wrong->junction_arc_m;
      if (past_m > o.wrong_turn_walk_m) break;
      NavPose pose;
      pose.position_in_map = on_truth(s.position) +
                             Eigen::Vector3d(rng.Normal(0, o.position_sigma_m), rng.Normal(0, o.position_sigma_m), 0);
      pose.heading_deg = s.heading_deg + rng.Normal(0, o.heading_sigma_deg);
      pose.time_s = t += dt_s;
      ARMAP_ASSIGN_OR_RETURN(GuidanceUpdate u, guidance->Update(pose));
      if (u.off_route_entered) {
        if (past_m > 0) {
          detected = true;
          detect_m.push_back(past_m);
          if (u.rerouted) reroute_ms.push_back(u.reroute_ms);
        } else {
          // Before the junction this is a false alarm, reported apart.
          ++false_before_turn;
        }
        if (past_m > 0) break;
      }
    }
    if (!detected) ++missed;
  }

  const int planned = routes - failed;
  const bool have_area = !o.mapped_area_in_map.empty();
  OrderedJson j;
  j["scope"] = have_area ? "route-length keys at the top level: routes whose true shortest path lies in the mapped area (the "
                           "package's roads/coverage.geojson, gaps up to max_unmapped_gap_m); all_routes: every route; the walks "
                           "(off-route keys) use every route"
                         : "no mapped area given: every route";
  j["routes"] = routes;
  j["routes_planned"] = planned;
  j["routes_failed"] = failed;
  if (!first_failure.empty()) j["first_failure"] = first_failure;
  RatioStats(records, /*mapped_only=*/true, &j);
  j["routes_in_mapped_area"] = j["routes_compared"];
  OrderedJson all;
  RatioStats(records, /*mapped_only=*/false, &all);
  j["all_routes"] = all;
  {
    std::vector<RouteRecord> worst = records;
    std::sort(worst.begin(), worst.end(),
              [](const RouteRecord& x, const RouteRecord& y) { return std::abs(x.ratio - 1) > std::abs(y.ratio - 1); });
    OrderedJson list = OrderedJson::array();
    for (size_t k = 0; k < worst.size() && static_cast<int>(k) < o.num_worst_routes; ++k) {
      const RouteRecord& r = worst[k];
      list.push_back({{"route", r.index},
                      {"ratio", r.ratio},
                      {"length_m", r.length_m},
                      {"true_length_m", r.true_length_m},
                      {"true_start_xy_m", {r.start_xy.x(), r.start_xy.y()}},
                      {"true_goal_xy_m", {r.goal_xy.x(), r.goal_xy.y()}},
                      {"start_snap_m", r.start_snap_m},
                      {"goal_snap_m", r.goal_snap_m},
                      {"in_mapped_area", r.mapped}});
    }
    j["worst_routes"] = list;
  }
  j["gt_point_to_map_network_m"] = Quantiles(snap_m, {{"p50", 0.5}, {"p90", 0.9}, {"max", 1.0}});
  j["noise_walks"] = noise_walks;
  j["false_offroute_rate"] = noise_walks > 0 ? static_cast<double>(false_walks) / noise_walks : 0.0;
  j["wrong_turn_walks"] = wrong_walks;
  j["routes_without_wrong_turn_junction"] = no_junction;
  j["false_offroute_before_wrong_turn"] = false_before_turn;
  j["missed_offroute_rate"] = wrong_walks > 0 ? static_cast<double>(missed) / wrong_walks : 0.0;
  j["offroute_detect_distance_m"] = Quantiles(detect_m, {{"p50", 0.5}, {"p90", 0.9}, {"max", 1.0}});
  j["reroute_ms"] = Quantiles(reroute_ms, {{"p50", 0.5}, {"p99", 0.99}});
  j["plan_ms"] = Quantiles(plan_ms, {{"p50", 0.5}, {"p99", 0.99}});
  j["settings"] = {{"seed", o.seed},
                   {"mapped_area_polygons", o.mapped_area_in_map.size()},
                   {"max_unmapped_gap_m", o.max_unmapped_gap_m},
                   {"walk_speed_mps", o.walk_speed_mps},
                   {"pose_rate_hz", o.pose_rate_hz},
                   {"position_sigma_m", o.position_sigma_m},
                   {"heading_sigma_deg", o.heading_sigma_deg},
                   {"wrong_turn_walk_m", o.wrong_turn_walk_m},
                   {"crossing_penalty_m", o.plan.crossing_penalty_m},
                   {"offroute_distance_m", o.guidance.offroute_distance_m},
                   {"offroute_heading_distance_m", o.guidance.offroute_heading_distance_m},
                   {"offroute_heading_deg", o.guidance.offroute_heading_deg},
                   {"offroute_min_poses", o.guidance.offroute_min_poses},
                   {"onroute_distance_m", o.guidance.onroute_distance_m}};
  j["map_network"] = {{"nodes", map.num_nodes()}, {"edges", map.num_edges()}};
  j["gt_network"] = {{"nodes", truth.num_nodes()}, {"edges", truth.num_edges()}};
  return j;
}

std::string NavigationEvaluationMarkdown(const OrderedJson& j) {
  std::string out = "| navigation | value | goal |\n|---|---|---|\n";
  absl::StrAppendFormat(&out, "| routes (planned / failed) | %d (%d / %d) | |\n", j["routes"].get<int>(), j["routes_planned"].get<int>(),
                        j["routes_failed"].get<int>());
  const OrderedJson& all = j["all_routes"];
  absl::StrAppendFormat(&out, "| route length / true shortest, mapped area (%d routes; mean; min, max) | %.4f; %.4f, %.4f | within 1%% |\n",
                        j["routes_compared"].get<int>(), j["route_length_ratio_vs_gt"].get<double>(),
                        j["route_length_ratio_vs_gt_min"].get<double>(), j["route_length_ratio_vs_gt_max"].get<double>());
  absl::StrAppendFormat(&out, "| routes within 1%% of the true length, mapped area | %.1f%% | 100%% |\n",
                        100 * j["routes_within_1pct"].get<double>());
  absl::StrAppendFormat(&out, "| the same over all routes (%d; mean; min, max; within 1%%) | %.4f; %.4f, %.4f; %.1f%% | |\n",
                        all["routes_compared"].get<int>(), all["route_length_ratio_vs_gt"].get<double>(),
                        all["route_length_ratio_vs_gt_min"].get<double>(), all["route_length_ratio_vs_gt_max"].get<double>(),
                        100 * all["routes_within_1pct"].get<double>());
  absl::StrAppendFormat(&out, "| false off-route rate (%.1f m noise, %d walks) | %.3f | 0 |\n",
                        j["settings"]["position_sigma_m"].get<double>(), j["noise_walks"].get<int>(),
                        j["false_offroute_rate"].get<double>());
  absl::StrAppendFormat(&out, "| missed off-route rate (%d wrong turns) | %.3f | 0 |\n", j["wrong_turn_walks"].get<int>(),
                        j["missed_offroute_rate"].get<double>());
  absl::StrAppendFormat(&out, "| off-route detected after (p50 / p90 / max) | %.1f / %.1f / %.1f m | p90 <= 10 m |\n",
                        j["offroute_detect_distance_m"]["p50"].get<double>(), j["offroute_detect_distance_m"]["p90"].get<double>(),
                        j["offroute_detect_distance_m"]["max"].get<double>());
  absl::StrAppendFormat(&out, "| re-route time (p50 / p99) | %.3f / %.3f ms | |\n", j["reroute_ms"]["p50"].get<double>(),
                        j["reroute_ms"]["p99"].get<double>());
  absl::StrAppendFormat(&out, "| plan time (p50 / p99) | %.3f / %.3f ms | |\n", j["plan_ms"]["p50"].get<double>(),
                        j["plan_ms"]["p99"].get<double>());
  return out;
}

}  // namespace armap::nav
