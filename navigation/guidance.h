// Turn-by-turn guidance along a route: maneuvers (left/right/straight across,
// arrival) with Chinese and English text, the route polyline for AR drawing,
// and a per-session Guidance object that is fed poses, tracks progress,
// detects off-route with hysteresis (both through RouteFollower) and
// re-plans from the current position.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "navigation/planner.h"
#include "navigation/route_follower.h"
#include "navigation/walk_graph.h"

namespace armap::nav {

// ManeuverType, Maneuver, Prompt, PromptFor, RoundedDistanceM, NavPose:
// navigation/route_follower.h (shared with the WebAssembly SDK).

struct InstructionOptions {
  // Turns below this are "straight" (no maneuver unless onto a crossing).
  double straight_max_deg = 25.0;
  // Turns below this are "slight".
  double slight_max_deg = 50.0;
  // Turns above this are U-turns.
  double uturn_min_deg = 150.0;
  // Bends closer together than this merge into one maneuver.
  double merge_distance_m = 3.0;
  // Polyline wiggles below this are ignored (Douglas-Peucker tolerance).
  double simplify_tolerance_m = 1.0;
  absl::Status Validate() const;
};

// Maneuvers of a route: kDepart first, kArrive last.
std::vector<Maneuver> BuildManeuvers(const WalkGraph& graph, const Route& route, const InstructionOptions& options);

struct ArPolylineOptions {
  double spacing_m = 1.0;         // resampling step
  double corner_radius_m = 3.0;   // corners are rounded with this radius (shrunk on short legs)
  double ground_offset_m = 0.05;  // drawn this far above the network (ground) height
  absl::Status Validate() const;
};

// The route polyline for AR drawing: corners rounded with circular arcs,
// resampled every spacing_m, z = network ground height + offset.
std::vector<Eigen::Vector3d> ArPolyline(const Route& route, const ArPolylineOptions& options);

// The route-following options (off-route thresholds and hysteresis,
// tracking window, arrival radius) are RouteFollowOptions'.
struct GuidanceOptions : RouteFollowOptions {
  // Re-plan from the current pose when off-route.
  bool reroute = true;
  SnapOptions snap;
  PlanOptions plan;
  InstructionOptions instructions;
  ArPolylineOptions polyline;
  absl::Status Validate() const;
};

// FollowUpdate (progress, off-route, next maneuver, prompt) plus re-routing.
struct GuidanceUpdate : FollowUpdate {
  bool rerouted = false;             // a new route replaced the old one
  double reroute_ms = 0;
  std::string reroute_error;         // re-planning failed (stays off-route)
  int route_version = 0;             // increments with every re-route
};

// One navigation session. Not thread-safe (one per user); the Planner and
// its graph are shared and must outlive it.
class Guidance {
 public:
  // Plans from the start pose (snapped with its heading) to the goal.
  static absl::StatusOr<Guidance> Start(const Planner& planner, const NavPose& start, const EdgePoint& goal,
                                        const GuidanceOptions& options);
  // Follows an already planned route.
  static absl::StatusOr<Guidance> FromRoute(const Planner& planner, Route route, const GuidanceOptions& options);

  // Feeds one pose (time must not go backwards).
  absl::StatusOr<GuidanceUpdate> Update(const NavPose& pose);

  const Route& route() const { return route_; }
  const std::vector<Maneuver>& maneuvers() const { return follower_.maneuvers(); }
  const std::vector<Eigen::Vector3d>& ar_polyline() const { return ar_polyline_; }
  int route_version() const { return route_version_; }
  bool off_route() const { return follower_.off_route(); }

 private:
  Guidance(const Planner& planner, const GuidanceOptions& options)
      : planner_(&planner), options_(options), follower_(options) {}
  void SetRoute(Route route);

  const Planner* planner_;
  GuidanceOptions options_;
  EdgePoint goal_;
  Route route_;
  std::vector<Eigen::Vector3d> ar_polyline_;
  int route_version_ = 0;
  RouteFollower follower_;  // progress, off-route, prompts on route_
};

}  // namespace armap::nav
