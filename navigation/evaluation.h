// `armap eval navigation`: routes planned on a map's network against the
// true network, and simulated walks through Guidance (positioning noise;
// deliberate wrong turns at junctions). Keys (a contract): routes,
// route_length_ratio_vs_gt, false_offroute_rate, missed_offroute_rate,
// offroute_detect_distance_m.p90, reroute_ms.p99, plan_ms.{p50,p99}.
//
// Fairness: start/goal pairs are drawn on the true network, which may reach
// beyond what the capture mapped (a synthetic city's sidewalks run on past
// the lidar's reach). A true point there snaps to the nearest mapped point,
// metres away, so its route is shorter or longer than the true one for want
// of data, not of routing. With a mapped area (the package's
// roads/coverage.geojson) the route-length keys at the top level cover the
// routes whose true shortest path lies in it; "all_routes" has the same keys
// over every route, and "worst_routes" lists the routes farthest from 1.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/json.h"
#include "navigation/guidance.h"
#include "navigation/planner.h"
#include "navigation/walk_graph.h"

namespace armap::nav {

inline PlanOptions LengthOnlyPlanOptions() {
  PlanOptions o;
  o.crossing_penalty_m = 0.0;
  return o;
}

struct NavigationEvalOptions {
  int num_routes = 200;
  uint64_t seed = 7;
  // Start/goal pairs closer than this (straight line) are redrawn.
  double min_route_distance_m = 40.0;
  double walk_speed_mps = 1.2;
  double pose_rate_hz = 2.0;
  double position_sigma_m = 1.0;   // Gaussian, per axis
  double heading_sigma_deg = 10.0;
  // Metres walked down the wrong branch before a walk counts as missed.
  double wrong_turn_walk_m = 30.0;
  // Walks start this far before the wrong turn (0: from the route start).
  double wrong_turn_lead_m = 25.0;
  // The walker is on the true network: simulated positions are moved onto
  // it when it lies within this distance (0: walk the map's geometry).
  double true_network_snap_m = 5.0;
  // Planning for the length ratio: pure length by default, so the ratio
  // measures the network, not the cost preferences.
  PlanOptions plan = LengthOnlyPlanOptions();
  GuidanceOptions guidance;
  // The mapped area in the map frame: polygons, each an outer ring then its
  // holes (rings not closed). Empty: unknown, every route counts as mapped.
  std::vector<std::vector<std::vector<Eigen::Vector2d>>> mapped_area_in_map;
  // A true shortest path may cross unseen gaps this long (a parked car's
  // shadow, which the roads product bridges) and still be in the mapped area.
  double max_unmapped_gap_m = 3.0;
  // Routes listed under "worst_routes".
  int num_worst_routes = 8;
  absl::Status Validate() const;
};

// Runs the evaluation; `map` and `truth` must share the map frame.
absl::StatusOr<OrderedJson> EvaluateNavigation(const WalkGraph& map, const WalkGraph& truth, const NavigationEvalOptions& options);
std::string NavigationEvaluationMarkdown(const OrderedJson& report);

// Linear-interpolated quantile (q in [0, 1]); 0 for an empty set.
double NavQuantile(std::vector<double> values, double q);

}  // namespace armap::nav
