// Turn-by-turn guidance along a route: maneuvers (left/right/straight across,
// arrival) with Chinese and English text, the route polyline for AR drawing,
// and a per-session Guidance object that is fed poses, tracks progress,
// detects off-route with hysteresis and re-plans from the current position.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "navigation/planner.h"
#include "navigation/walk_graph.h"

namespace armap::nav {

enum class ManeuverType { kDepart, kStraight, kTurnLeft, kTurnRight, kSlightLeft, kSlightRight, kUTurn, kArrive };
const char* ManeuverTypeName(ManeuverType type);

struct Maneuver {
  ManeuverType type = ManeuverType::kDepart;
  double at_m = 0;         // arc length along the route where it happens
  double turn_deg = 0;     // signed: + left (counter-clockwise), - right
  bool onto_crossing = false;  // the next leg crosses a street
  double heading_deg = 0;  // compass heading of the leg after it
  std::string text_zh;     // the action alone: "左转", "到达目的地"
  std::string text_en;     // "Turn left", "You have arrived"
};

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

// Spoken/printed prompt for a maneuver `distance_m` ahead:
// "在 30 米后左转" / "In 30 m, turn left"; arrival: "到达目的地" / "You have arrived".
struct Prompt {
  std::string zh;
  std::string en;
};
Prompt PromptFor(const Maneuver& maneuver, double distance_m);
// Distances as spoken: metres under 20 m, then steps of 5 m (10 m over 200 m).
int RoundedDistanceM(double distance_m);

struct ArPolylineOptions {
  double spacing_m = 1.0;         // resampling step
  double corner_radius_m = 3.0;   // corners are rounded with this radius (shrunk on short legs)
  double ground_offset_m = 0.05;  // drawn this far above the network (ground) height
  absl::Status Validate() const;
};

// The route polyline for AR drawing: corners rounded with circular arcs,
// resampled every spacing_m, z = network ground height + offset.
std::vector<Eigen::Vector3d> ArPolyline(const Route& route, const ArPolylineOptions& options);

// A pose fed to guidance: position in the map frame, optional compass
// heading (degrees clockwise from north) and a timestamp.
struct NavPose {
  Eigen::Vector3d position_in_map = Eigen::Vector3d::Zero();
  std::optional<double> heading_deg;
  double time_s = 0;
};

struct GuidanceOptions {
  // Off-route evidence: farther than offroute_distance_m from the route, or
  // farther than offroute_heading_distance_m while heading more than
  // offroute_heading_deg away from the route's direction.
  double offroute_distance_m = 6.0;
  double offroute_heading_distance_m = 3.0;
  double offroute_heading_deg = 60.0;
  // Off-route is entered only after evidence on this many consecutive poses
  // spanning at least this long, and left after onroute_min_poses poses
  // closer than onroute_distance_m (hysteresis: noise cannot flap it).
  int offroute_min_poses = 3;
  double offroute_min_duration_s = 0.9;
  double onroute_distance_m = 3.0;
  int onroute_min_poses = 2;
  // Progress is searched this far behind/ahead of the last progress.
  double track_back_m = 10.0;
  double track_ahead_m = 40.0;
  // Route directions within this arc of the projection count for heading.
  double heading_window_m = 3.0;
  // Within this of the goal: arrived.
  double arrival_radius_m = 4.0;
  // Re-plan from the current pose when off-route.
  bool reroute = true;
  SnapOptions snap;
  PlanOptions plan;
  InstructionOptions instructions;
  ArPolylineOptions polyline;
  absl::Status Validate() const;
};

struct GuidanceUpdate {
  double progress_m = 0;             // along the current route
  double remaining_m = 0;
  double distance_to_route_m = 0;
  double heading_error_deg = 0;      // 0 when the pose has no heading
  bool off_route = false;            // in the off-route state after this pose
  bool off_route_entered = false;    // this pose entered it
  bool rerouted = false;             // a new route replaced the old one
  double reroute_ms = 0;
  std::string reroute_error;         // re-planning failed (stays off-route)
  bool arrived = false;
  int route_version = 0;             // increments with every re-route
  // The next maneuver ahead and the prompt for it.
  std::optional<Maneuver> next;
  double distance_to_next_m = 0;
  Prompt prompt;
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
  const std::vector<Maneuver>& maneuvers() const { return maneuvers_; }
  const std::vector<Eigen::Vector3d>& ar_polyline() const { return ar_polyline_; }
  int route_version() const { return route_version_; }
  bool off_route() const { return off_route_; }

 private:
  Guidance(const Planner& planner, const GuidanceOptions& options) : planner_(&planner), options_(options) {}
  void SetRoute(Route route);
  // Closest point of the route to p within the tracking window (the whole
  // route when `global`).
  void Project(const Eigen::Vector2d& p, double* arc_m, double* distance_m, bool global = false) const;
  double HeadingErrorDeg(double arc_m, double heading_deg) const;

  const Planner* planner_;
  GuidanceOptions options_;
  EdgePoint goal_;
  Route route_;
  std::vector<Maneuver> maneuvers_;
  std::vector<Eigen::Vector3d> ar_polyline_;
  int route_version_ = 0;
  double progress_m_ = 0;
  bool off_route_ = false;
  bool arrived_ = false;
  int evidence_poses_ = 0;
  double evidence_since_s_ = 0;
  int clear_poses_ = 0;
  std::optional<double> last_time_s_;
};

}  // namespace armap::nav
