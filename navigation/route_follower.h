// Following a planned route with nothing but its polyline and maneuvers:
// progress along it, off-route detection with hysteresis, the next maneuver
// and its spoken prompt (Chinese and English). Eigen and std only (no
// Abseil, no network or planner), so that nav::Guidance (which adds
// re-planning through the Planner) and the WebAssembly SDK (which re-routes
// through POST /v1/route) share one implementation.
//
//   nav::RouteFollower follower(options);             // options.Check() must be empty
//   follower.SetRoute(polyline_in_map, maneuvers);
//   every pose:  nav::FollowUpdate u;  error = follower.Update(pose, &u);
//   off-route:   plan a new route from the pose, SetRoute(...) it, then
//                Rejoin(pose, &u) places the walker on it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>

namespace armap::nav {

enum class ManeuverType { kDepart, kStraight, kTurnLeft, kTurnRight, kSlightLeft, kSlightRight, kUTurn, kArrive };
// "depart", "straight", "left", "right", "slight_left", "slight_right", "uturn", "arrive".
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

// Spoken/printed prompt for a maneuver `distance_m` ahead:
// "在 30 米后左转" / "In 30 m, turn left"; arrival: "到达目的地" / "You have arrived".
struct Prompt {
  std::string zh;
  std::string en;
};
Prompt PromptFor(const Maneuver& maneuver, double distance_m);
// Distances as spoken: metres under 20 m, then steps of 5 m (10 m over 200 m).
int RoundedDistanceM(double distance_m);
// A maneuver's own text (Maneuver::text_zh / text_en) from its type,
// heading and crossing: "左转" / "Turn left", "向北出发" / "Head north".
Prompt ManeuverText(const Maneuver& maneuver);

// A pose fed to guidance: position in the map frame, optional compass
// heading (degrees clockwise from north) and a timestamp.
struct NavPose {
  Eigen::Vector3d position_in_map = Eigen::Vector3d::Zero();
  std::optional<double> heading_deg;
  double time_s = 0;
};

struct RouteFollowOptions {
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
  // Empty when valid; otherwise what is wrong, naming the field as
  // "<name>::field" (name: the options' type as the caller knows it).
  std::string Check(const char* name = "RouteFollowOptions") const;
};

struct FollowUpdate {
  double progress_m = 0;             // along the current route
  double remaining_m = 0;
  double distance_to_route_m = 0;
  double heading_error_deg = 0;      // 0 when the pose has no heading
  bool off_route = false;            // in the off-route state after this pose
  bool off_route_entered = false;    // this pose entered it
  bool arrived = false;
  // The next maneuver ahead and the prompt for it.
  std::optional<Maneuver> next;
  double distance_to_next_m = 0;
  Prompt prompt;
};

// One walker on one route at a time. Not thread-safe.
class RouteFollower {
 public:
  // `options` must pass Check().
  explicit RouteFollower(const RouteFollowOptions& options) : options_(options) {}

  // A new route (the first, or a re-route): progress restarts at 0 and
  // off-route is cleared; time and arrival carry over. Empty on success;
  // otherwise why the route is unusable (fewer than 2 points, non-finite).
  std::string SetRoute(std::vector<Eigen::Vector3d> polyline_in_map, std::vector<Maneuver> maneuvers);
  // Feeds one pose (time must not go backwards). Empty on success, else
  // the error ("RouteFollower::Update: time went backwards ...").
  std::string Update(const NavPose& pose, FollowUpdate* update);
  // After SetRoute with a re-route planned from `pose` (already fed to
  // Update): projects it onto the new route near its start and refreshes
  // `update` (progress, distances, next maneuver, prompt, arrival).
  void Rejoin(const NavPose& pose, FollowUpdate* update);

  bool has_route() const { return polyline_.size() >= 2; }
  const std::vector<Eigen::Vector3d>& polyline_in_map() const { return polyline_; }
  const std::vector<double>& arc_m() const { return arc_m_; }
  const std::vector<Maneuver>& maneuvers() const { return maneuvers_; }
  double length_m() const { return arc_m_.empty() ? 0 : arc_m_.back(); }
  double progress_m() const { return progress_m_; }
  bool off_route() const { return off_route_; }
  bool arrived() const { return arrived_; }
  const RouteFollowOptions& options() const { return options_; }

 private:
  // Closest point of the route to p within the tracking window (the whole
  // route when `global`).
  void Project(const Eigen::Vector2d& p, double* arc_m, double* distance_m, bool global = false) const;
  double HeadingErrorDeg(double arc_m, double heading_deg) const;
  // The update's fields from the state (marks arrival).
  void Summarize(double distance_m, double heading_error_deg, FollowUpdate* u);

  RouteFollowOptions options_;
  std::vector<Eigen::Vector3d> polyline_;
  std::vector<double> arc_m_;  // planar arc length at each point
  std::vector<Maneuver> maneuvers_;
  double progress_m_ = 0;
  bool off_route_ = false;
  bool arrived_ = false;
  int evidence_poses_ = 0;
  double evidence_since_s_ = 0;
  int clear_poses_ = 0;
  std::optional<double> last_time_s_;
};

}  // namespace armap::nav
