#include "navigation/route_follower.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>
#include <utility>

namespace armap::nav {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kRadToDeg = 180.0 / kPi;

Eigen::Vector2d Xy(const Eigen::Vector3d& p) { return p.head<2>(); }

// Compass heading (clockwise from north) as a unit ENU direction; the same
// convention as walk_graph.h's HeadingVector.
Eigen::Vector2d HeadingVector(double heading_deg) {
  const double h = heading_deg * kPi / 180.0;
  return {std::sin(h), std::cos(h)};
}

double SignedTurnDeg(const Eigen::Vector2d& in, const Eigen::Vector2d& out) {
  return std::atan2(in.x() * out.y() - in.y() * out.x(), in.dot(out)) * kRadToDeg;
}

std::string Str(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

const char* CompassZh(double heading_deg) {
  static const char* kNames[] = {"北", "东北", "东", "东南", "南", "西南", "西", "西北"};
  return kNames[static_cast<int>(std::floor(std::fmod(heading_deg + 22.5 + 360.0, 360.0) / 45.0)) % 8];
}
const char* CompassEn(double heading_deg) {
  static const char* kNames[] = {"north", "northeast", "east", "southeast", "south", "southwest", "west", "northwest"};
  return kNames[static_cast<int>(std::floor(std::fmod(heading_deg + 22.5 + 360.0, 360.0) / 45.0)) % 8];
}

// The action words of a maneuver (lower-case English, for use mid-sentence).
std::pair<std::string, std::string> Action(const Maneuver& m) {
  std::string zh, en;
  switch (m.type) {
    case ManeuverType::kDepart:
      zh = std::string("向") + CompassZh(m.heading_deg) + "出发";
      en = std::string("head ") + CompassEn(m.heading_deg);
      break;
    case ManeuverType::kStraight: zh = "直行"; en = "go straight"; break;
    case ManeuverType::kTurnLeft: zh = "左转"; en = "turn left"; break;
    case ManeuverType::kTurnRight: zh = "右转"; en = "turn right"; break;
    case ManeuverType::kSlightLeft: zh = "稍向左转"; en = "bear left"; break;
    case ManeuverType::kSlightRight: zh = "稍向右转"; en = "bear right"; break;
    case ManeuverType::kUTurn: zh = "掉头"; en = "make a U-turn"; break;
    case ManeuverType::kArrive: zh = "到达目的地"; en = "arrive at your destination"; break;
  }
  if (m.onto_crossing) {
    if (m.type == ManeuverType::kStraight) {
      zh = "直行过马路";
      en = "go straight across the street";
    } else {
      zh += "，过马路";
      en += " and cross the street";
    }
  }
  return {zh, en};
}

std::string Capitalised(std::string s) {
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

}  // namespace

const char* ManeuverTypeName(ManeuverType type) {
  switch (type) {
    case ManeuverType::kDepart: return "depart";
    case ManeuverType::kStraight: return "straight";
    case ManeuverType::kTurnLeft: return "left";
    case ManeuverType::kTurnRight: return "right";
    case ManeuverType::kSlightLeft: return "slight_left";
    case ManeuverType::kSlightRight: return "slight_right";
    case ManeuverType::kUTurn: return "uturn";
    case ManeuverType::kArrive: return "arrive";
  }
  return "unknown";
}

int RoundedDistanceM(double d) {
  if (d < 20) return static_cast<int>(std::lround(std::max(0.0, d)));
  if (d < 200) return static_cast<int>(5 * std::lround(d / 5));
  return static_cast<int>(10 * std::lround(d / 10));
}

Prompt PromptFor(const Maneuver& m, double distance_m) {
  const int d = RoundedDistanceM(distance_m);
  if (m.type == ManeuverType::kArrive && d <= 1) return {"到达目的地", "You have arrived"};
  const auto [zh, en] = Action(m);
  const std::string ds = std::to_string(d);
  if (m.type == ManeuverType::kDepart) return {zh + "，直行 " + ds + " 米", Capitalised(en) + " for " + ds + " m"};
  if (d <= 1) return {"现在" + zh, Capitalised(en) + " now"};
  return {"在 " + ds + " 米后" + zh, "In " + ds + " m, " + en};
}

Prompt ManeuverText(const Maneuver& m) {
  if (m.type == ManeuverType::kArrive) return {"到达目的地", "You have arrived"};
  const auto [zh, en] = Action(m);
  return {zh, Capitalised(en)};
}

std::string RouteFollowOptions::Check(const char* name) const {
  const std::string n(name);
  if (!(offroute_distance_m > 0 && offroute_heading_distance_m > 0 && onroute_distance_m > 0))
    return n + ": offroute_distance_m, offroute_heading_distance_m and onroute_distance_m must be > 0";
  if (!(onroute_distance_m < offroute_distance_m))
    return n + "::onroute_distance_m = " + Str(onroute_distance_m) + "; must be < offroute_distance_m (" +
           Str(offroute_distance_m) + ") for hysteresis";
  if (offroute_min_poses < 1 || onroute_min_poses < 1)
    return n + ": offroute_min_poses and onroute_min_poses must be >= 1";
  if (!(offroute_min_duration_s >= 0))
    return n + "::offroute_min_duration_s = " + Str(offroute_min_duration_s) + "; must be >= 0";
  if (!(offroute_heading_deg > 0 && offroute_heading_deg <= 180))
    return n + "::offroute_heading_deg = " + Str(offroute_heading_deg) + "; must be in (0, 180]";
  if (!(track_back_m >= 0 && track_ahead_m > 0 && heading_window_m >= 0 && arrival_radius_m >= 0))
    return n + ": track_back_m, track_ahead_m, heading_window_m, arrival_radius_m must be >= 0";
  return "";
}

std::string RouteFollower::SetRoute(std::vector<Eigen::Vector3d> polyline_in_map, std::vector<Maneuver> maneuvers) {
  if (polyline_in_map.size() < 2) return "RouteFollower: the route has no geometry (fewer than 2 points)";
  for (size_t i = 0; i < polyline_in_map.size(); ++i) {
    if (!polyline_in_map[i].allFinite()) return "RouteFollower: route point " + std::to_string(i) + " is not finite";
  }
  polyline_ = std::move(polyline_in_map);
  arc_m_.assign(polyline_.size(), 0.0);
  for (size_t i = 1; i < polyline_.size(); ++i) arc_m_[i] = arc_m_[i - 1] + (Xy(polyline_[i]) - Xy(polyline_[i - 1])).norm();
  maneuvers_ = std::move(maneuvers);
  progress_m_ = 0;
  off_route_ = false;
  evidence_poses_ = 0;
  clear_poses_ = 0;
  return "";
}

void RouteFollower::Project(const Eigen::Vector2d& p, double* arc_m, double* distance_m, bool global) const {
  const auto& line = polyline_;
  const auto& arc = arc_m_;
  const double lo = global ? -1.0 : progress_m_ - options_.track_back_m;
  const double hi = global ? length_m() + 1.0 : progress_m_ + options_.track_ahead_m;
  double best = std::numeric_limits<double>::infinity(), best_arc = progress_m_;
  for (size_t i = 1; i < line.size(); ++i) {
    if (arc[i] < lo || arc[i - 1] > hi) continue;
    const Eigen::Vector2d a = Xy(line[i - 1]), b = Xy(line[i]);
    const Eigen::Vector2d ab = b - a;
    const double l2 = ab.squaredNorm();
    double t = l2 > 0 ? std::clamp((p - a).dot(ab) / l2, 0.0, 1.0) : 0.0;
    // Stay inside the window on the boundary segments.
    const double seg_len = arc[i] - arc[i - 1];
    if (seg_len > 0) t = std::clamp(t, std::max(0.0, (lo - arc[i - 1]) / seg_len), std::min(1.0, (hi - arc[i - 1]) / seg_len));
    const double d = (a + t * ab - p).norm();
    if (d < best) {
      best = d;
      best_arc = arc[i - 1] + t * seg_len;
    }
  }
  *arc_m = best_arc;
  *distance_m = best;
}

double RouteFollower::HeadingErrorDeg(double arc_m, double heading_deg) const {
  const auto& line = polyline_;
  const auto& arc = arc_m_;
  const Eigen::Vector2d h = HeadingVector(heading_deg);
  double best = 180;
  for (size_t i = 1; i < line.size(); ++i) {
    if (arc[i] < arc_m - options_.heading_window_m || arc[i - 1] > arc_m + options_.heading_window_m) continue;
    const Eigen::Vector2d d = Xy(line[i]) - Xy(line[i - 1]);
    if (d.norm() < 1e-6) continue;
    best = std::min(best, std::abs(SignedTurnDeg(d.normalized(), h)));
  }
  return best;
}

std::string RouteFollower::Update(const NavPose& pose, FollowUpdate* update) {
  if (!has_route()) return "RouteFollower::Update: no route (call SetRoute first)";
  if (!pose.position_in_map.allFinite() || !std::isfinite(pose.time_s) || (pose.heading_deg && !std::isfinite(*pose.heading_deg)))
    return "RouteFollower::Update: the pose has non-finite values";
  if (last_time_s_ && pose.time_s < *last_time_s_) {
    char buffer[128];
    std::snprintf(buffer, sizeof(buffer), "RouteFollower::Update: time went backwards (%.3f s after %.3f s)", pose.time_s,
                  *last_time_s_);
    return buffer;
  }
  // The first pose may be anywhere along the route (a session joined
  // mid-way): search all of it; later poses search near the progress.
  const bool first_pose = !last_time_s_.has_value();
  last_time_s_ = pose.time_s;
  FollowUpdate& u = *update;
  u = FollowUpdate();
  const Eigen::Vector2d p = Xy(pose.position_in_map);
  double arc = 0, dist = 0;
  Project(p, &arc, &dist, first_pose);
  const double heading_err = pose.heading_deg ? HeadingErrorDeg(arc, *pose.heading_deg) : 0.0;

  const bool evidence = dist > options_.offroute_distance_m ||
                        (pose.heading_deg && dist > options_.offroute_heading_distance_m && heading_err > options_.offroute_heading_deg);
  if (!off_route_) {
    // Progress follows the user only while on the route.
    progress_m_ = arc;
    if (evidence) {
      if (evidence_poses_++ == 0) evidence_since_s_ = pose.time_s;
      if (evidence_poses_ >= options_.offroute_min_poses && pose.time_s - evidence_since_s_ >= options_.offroute_min_duration_s) {
        off_route_ = true;
        u.off_route_entered = true;
        clear_poses_ = 0;
      }
    } else {
      evidence_poses_ = 0;
    }
  } else {
    clear_poses_ = dist < options_.onroute_distance_m ? clear_poses_ + 1 : 0;
    if (clear_poses_ >= options_.onroute_min_poses) {
      off_route_ = false;
      evidence_poses_ = 0;
      progress_m_ = arc;
    }
  }
  Summarize(dist, heading_err, &u);
  return "";
}

void RouteFollower::Rejoin(const NavPose& pose, FollowUpdate* update) {
  double arc = 0, dist = 0;
  Project(Xy(pose.position_in_map), &arc, &dist);
  progress_m_ = arc;
  Summarize(dist, update->heading_error_deg, update);
}

void RouteFollower::Summarize(double distance_m, double heading_error_deg, FollowUpdate* update) {
  FollowUpdate& u = *update;
  u.off_route = off_route_;
  u.progress_m = progress_m_;
  u.remaining_m = std::max(0.0, length_m() - progress_m_);
  u.distance_to_route_m = distance_m;
  u.heading_error_deg = heading_error_deg;
  if (!off_route_ && u.remaining_m <= options_.arrival_radius_m) arrived_ = true;
  u.arrived = arrived_;
  u.next.reset();
  u.distance_to_next_m = 0;
  for (const Maneuver& m : maneuvers_) {
    if (m.type == ManeuverType::kDepart || m.at_m <= progress_m_ + 0.5) {
      if (m.type != ManeuverType::kArrive) continue;
    }
    u.next = m;
    u.distance_to_next_m = std::max(0.0, m.at_m - progress_m_);
    break;
  }
  if (arrived_) {
    u.prompt = {"到达目的地", "You have arrived"};
  } else if (off_route_) {
    u.prompt = {"已偏离路线", "You are off the route"};
  } else if (u.next) {
    u.prompt = PromptFor(*u.next, u.distance_to_next_m);
  } else {
    u.prompt = Prompt();
  }
}

}  // namespace armap::nav
