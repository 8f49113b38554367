#include "navigation/guidance.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/status.h"

namespace armap::nav {
namespace {

constexpr double kRadToDeg = 180.0 / M_PI;

double SignedTurnDeg(const Eigen::Vector2d& in, const Eigen::Vector2d& out) {
  return std::atan2(in.x() * out.y() - in.y() * out.x(), in.dot(out)) * kRadToDeg;
}

// Douglas-Peucker on planar points: indices kept (always first and last).
void Simplify(const std::vector<Eigen::Vector2d>& p, size_t lo, size_t hi, double tol, std::vector<bool>* keep) {
  if (hi <= lo + 1) return;
  const Eigen::Vector2d a = p[lo], b = p[hi];
  const Eigen::Vector2d ab = b - a;
  const double len = ab.norm();
  double worst = -1;
  size_t worst_i = lo;
  for (size_t i = lo + 1; i < hi; ++i) {
    const Eigen::Vector2d ap = p[i] - a;
    const double d = len > 1e-9 ? std::abs(ab.x() * ap.y() - ab.y() * ap.x()) / len : ap.norm();
    if (d > worst) {
      worst = d;
      worst_i = i;
    }
  }
  if (worst > tol) {
    (*keep)[worst_i] = true;
    Simplify(p, lo, worst_i, tol, keep);
    Simplify(p, worst_i, hi, tol, keep);
  }
}

std::vector<size_t> SimplifiedIndices(const std::vector<Eigen::Vector2d>& p, double tol) {
  std::vector<bool> keep(p.size(), false);
  keep.front() = keep.back() = true;
  Simplify(p, 0, p.size() - 1, tol, &keep);
  std::vector<size_t> out;
  for (size_t i = 0; i < p.size(); ++i)
    if (keep[i]) out.push_back(i);
  return out;
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
      zh = absl::StrCat("向", CompassZh(m.heading_deg), "出发");
      en = absl::StrCat("head ", CompassEn(m.heading_deg));
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
      absl::StrAppend(&zh, "，过马路");
      absl::StrAppend(&en, " and cross the street");
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

absl::Status InstructionOptions::Validate() const {
  if (!(straight_max_deg > 0 && straight_max_deg <= slight_max_deg && slight_max_deg < uturn_min_deg && uturn_min_deg <= 180))
    return absl::InvalidArgumentError(absl::StrCat(
        "InstructionOptions: need 0 < straight_max_deg (", straight_max_deg, ") <= slight_max_deg (", slight_max_deg,
        ") < uturn_min_deg (", uturn_min_deg, ") <= 180"));
  if (!(merge_distance_m >= 0))
    return absl::InvalidArgumentError(absl::StrCat("InstructionOptions::merge_distance_m = ", merge_distance_m, "; must be >= 0"));
  if (!(simplify_tolerance_m >= 0))
    return absl::InvalidArgumentError(
        absl::StrCat("InstructionOptions::simplify_tolerance_m = ", simplify_tolerance_m, "; must be >= 0"));
  return absl::OkStatus();
}

absl::Status ArPolylineOptions::Validate() const {
  if (!(spacing_m > 0.01)) return absl::InvalidArgumentError(absl::StrCat("ArPolylineOptions::spacing_m = ", spacing_m, "; must be > 0.01"));
  if (!(corner_radius_m >= 0))
    return absl::InvalidArgumentError(absl::StrCat("ArPolylineOptions::corner_radius_m = ", corner_radius_m, "; must be >= 0"));
  if (!std::isfinite(ground_offset_m))
    return absl::InvalidArgumentError("ArPolylineOptions::ground_offset_m must be finite");
  return absl::OkStatus();
}

absl::Status GuidanceOptions::Validate() const {
  if (!(offroute_distance_m > 0 && offroute_heading_distance_m > 0 && onroute_distance_m > 0))
    return absl::InvalidArgumentError("GuidanceOptions: offroute_distance_m, offroute_heading_distance_m and onroute_distance_m must be > 0");
  if (!(onroute_distance_m < offroute_distance_m))
    return absl::InvalidArgumentError(absl::StrCat("GuidanceOptions::onroute_distance_m = ", onroute_distance_m,
                                                   "; must be < offroute_distance_m (", offroute_distance_m, ") for hysteresis"));
  if (offroute_min_poses < 1 || onroute_min_poses < 1)
    return absl::InvalidArgumentError("GuidanceOptions: offroute_min_poses and onroute_min_poses must be >= 1");
  if (!(offroute_min_duration_s >= 0))
    return absl::InvalidArgumentError(absl::StrCat("GuidanceOptions::offroute_min_duration_s = ", offroute_min_duration_s, "; must be >= 0"));
  if (!(offroute_heading_deg > 0 && offroute_heading_deg <= 180))
    return absl::InvalidArgumentError(absl::StrCat("GuidanceOptions::offroute_heading_deg = ", offroute_heading_deg, "; must be in (0, 180]"));
  if (!(track_back_m >= 0 && track_ahead_m > 0 && heading_window_m >= 0 && arrival_radius_m >= 0))
    return absl::InvalidArgumentError("GuidanceOptions: track_back_m, track_ahead_m, heading_window_m, arrival_radius_m must be >= 0");
  ARMAP_RETURN_IF_ERROR(snap.Validate());
  ARMAP_RETURN_IF_ERROR(plan.Validate());
  ARMAP_RETURN_IF_ERROR(instructions.Validate());
  return polyline.Validate();
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
  if (m.type == ManeuverType::kDepart) return {absl::StrCat(zh, "，直行 ", d, " 米"), absl::StrCat(Capitalised(en), " for ", d, " m")};
  if (d <= 1) return {absl::StrCat("现在", zh), absl::StrCat(Capitalised(en), " now")};
  return {absl::StrCat("在 ", d, " 米后", zh), absl::StrCat("In ", d, " m, ", en)};
}

std::vector<Maneuver> BuildManeuvers(const WalkGraph& graph, const Route& route, const InstructionOptions& options) {
  std::vector<Eigen::Vector2d> p;
  for (const auto& q : route.polyline_in_map) p.push_back(Xy(q));
  std::vector<double> arc = route.arc_m;
  // Arc ranges travelled on crossings.
  std::vector<std::pair<double, double>> crossings;
  double s = 0;
  for (const RouteStep& step : route.steps) {
    if (graph.edges()[step.edge].kind == EdgeKind::kCrossing && step.length_m > 1.0) crossings.emplace_back(s, s + step.length_m);
    s += step.length_m;
  }
  auto crossing_starts_near = [&](double at) {
    for (const auto& [a, b] : crossings)
      if (std::abs(a - at) <= std::max(options.merge_distance_m, 1.0)) return true;
    return false;
  };

  std::vector<Maneuver> out;
  const std::vector<size_t> idx = SimplifiedIndices(p, options.simplify_tolerance_m);
  auto dir = [&](size_t a, size_t b) -> Eigen::Vector2d {
    const Eigen::Vector2d d = p[b] - p[a];
    return d.norm() > 1e-9 ? Eigen::Vector2d(d.normalized()) : Eigen::Vector2d(0, 1);
  };
  Maneuver depart;
  depart.type = ManeuverType::kDepart;
  depart.heading_deg = HeadingDegOf(idx.size() >= 2 ? dir(idx[0], idx[1]) : Eigen::Vector2d(0, 1));
  depart.onto_crossing = !crossings.empty() && crossings.front().first < 1.0;
  out.push_back(depart);

  // Bends: group consecutive simplified vertices closer than merge_distance_m.
  for (size_t k = 1; k + 1 < idx.size();) {
    size_t last = k;
    while (last + 2 < idx.size() && arc[idx[last + 1]] - arc[idx[last]] < options.merge_distance_m) ++last;
    const double turn = SignedTurnDeg(dir(idx[k - 1], idx[k]), dir(idx[last], idx[last + 1]));
    const double a = std::abs(turn);
    Maneuver m;
    m.at_m = arc[idx[k]];
    m.turn_deg = turn;
    m.heading_deg = HeadingDegOf(dir(idx[last], idx[last + 1]));
    m.onto_crossing = crossing_starts_near(m.at_m) || crossing_starts_near(arc[idx[last]]);
    if (a >= options.uturn_min_deg) m.type = ManeuverType::kUTurn;
    else if (a >= options.slight_max_deg) m.type = turn > 0 ? ManeuverType::kTurnLeft : ManeuverType::kTurnRight;
    else if (a >= options.straight_max_deg) m.type = turn > 0 ? ManeuverType::kSlightLeft : ManeuverType::kSlightRight;
    else m.type = ManeuverType::kStraight;
    if (m.type != ManeuverType::kStraight || m.onto_crossing) out.push_back(m);
    k = last + 1;
  }
  // Crossings entered straight on, where no bend announced them.
  for (const auto& [a, b] : crossings) {
    if (a < 1.0) continue;
    bool announced = false;
    for (const Maneuver& m : out)
      if (m.onto_crossing && std::abs(m.at_m - a) <= std::max(options.merge_distance_m, 1.0) + 1e-9) announced = true;
    if (announced) continue;
    Maneuver m;
    m.type = ManeuverType::kStraight;
    m.at_m = a;
    m.onto_crossing = true;
    m.heading_deg = HeadingDegOf(p.size() >= 2 ? dir(0, p.size() - 1) : Eigen::Vector2d(0, 1));
    out.push_back(m);
  }
  std::sort(out.begin() + 1, out.end(), [](const Maneuver& x, const Maneuver& y) { return x.at_m < y.at_m; });
  Maneuver arrive;
  arrive.type = ManeuverType::kArrive;
  arrive.at_m = route.length_m;
  arrive.heading_deg = out.back().heading_deg;
  out.push_back(arrive);
  for (Maneuver& m : out) {
    const auto [zh, en] = Action(m);
    m.text_zh = zh;
    m.text_en = m.type == ManeuverType::kArrive ? "You have arrived" : Capitalised(en);
    if (m.type == ManeuverType::kArrive) m.text_zh = "到达目的地";
  }
  return out;
}

std::vector<Eigen::Vector3d> ArPolyline(const Route& route, const ArPolylineOptions& options) {
  const auto& raw = route.polyline_in_map;
  if (raw.size() < 2) return raw;
  std::vector<Eigen::Vector2d> p2;
  for (const auto& q : raw) p2.push_back(Xy(q));
  // Near-collinear points would make zero-angle "corners".
  const std::vector<size_t> idx = SimplifiedIndices(p2, 0.05);
  std::vector<Eigen::Vector2d> v;
  for (size_t i : idx) v.push_back(p2[i]);

  std::vector<Eigen::Vector2d> rounded{v.front()};
  for (size_t i = 1; i + 1 < v.size(); ++i) {
    const Eigen::Vector2d a = v[i - 1], b = v[i], c = v[i + 1];
    const double lab = (b - a).norm(), lbc = (c - b).norm();
    if (lab < 1e-6 || lbc < 1e-6) continue;
    const Eigen::Vector2d u = (b - a) / lab, w = (c - b) / lbc;
    const double theta = std::acos(std::clamp(u.dot(w), -1.0, 1.0));
    if (theta < 1.0 / kRadToDeg || theta > 175.0 / kRadToDeg || options.corner_radius_m <= 0) {
      rounded.push_back(b);
      continue;
    }
    // Tangent length for the radius, at most half of each adjacent leg so
    // that neighbouring corners never overlap.
    const double tan_half = std::tan(theta / 2);
    const double t = std::min(options.corner_radius_m * tan_half, 0.5 * std::min(lab, lbc));
    const double r = t / tan_half;
    const Eigen::Vector2d p1 = b - u * t, p2e = b + w * t;
    const double side = u.x() * w.y() - u.y() * w.x() > 0 ? 1.0 : -1.0;  // left turn: centre on the left
    const Eigen::Vector2d normal(-u.y() * side, u.x() * side);
    const Eigen::Vector2d centre = p1 + normal * r;
    const double a0 = std::atan2(p1.y() - centre.y(), p1.x() - centre.x());
    const int steps = std::max(2, static_cast<int>(std::ceil(theta * r / std::min(0.25, options.spacing_m))));
    for (int k = 0; k <= steps; ++k) {
      const double ang = a0 + side * theta * k / steps;
      rounded.push_back(centre + r * Eigen::Vector2d(std::cos(ang), std::sin(ang)));
    }
    (void)p2e;
  }
  rounded.push_back(v.back());

  // Resample at fixed spacing; z follows the raw route by arc fraction.
  std::vector<double> rarc(rounded.size(), 0.0);
  for (size_t i = 1; i < rounded.size(); ++i) rarc[i] = rarc[i - 1] + (rounded[i] - rounded[i - 1]).norm();
  const double total = rarc.back();
  auto z_at = [&](double s) {
    const double target = route.length_m > 0 && total > 0 ? s / total * route.length_m : 0;
    auto it = std::upper_bound(route.arc_m.begin(), route.arc_m.end(), target);
    if (it == route.arc_m.begin()) return raw.front().z();
    if (it == route.arc_m.end()) return raw.back().z();
    const size_t j = static_cast<size_t>(it - route.arc_m.begin());
    const double seg = route.arc_m[j] - route.arc_m[j - 1];
    const double f = seg > 0 ? (target - route.arc_m[j - 1]) / seg : 0;
    return raw[j - 1].z() + f * (raw[j].z() - raw[j - 1].z());
  };
  std::vector<Eigen::Vector3d> out;
  const int n = std::max(1, static_cast<int>(std::ceil(total / options.spacing_m - 1e-9)));
  size_t j = 1;
  for (int k = 0; k <= n; ++k) {
    const double s = std::min(total, k * options.spacing_m);
    while (j + 1 < rounded.size() && rarc[j] < s) ++j;
    const double seg = rarc[j] - rarc[j - 1];
    const double f = seg > 0 ? std::clamp((s - rarc[j - 1]) / seg, 0.0, 1.0) : 0.0;
    const Eigen::Vector2d q = rounded[j - 1] + f * (rounded[j] - rounded[j - 1]);
    out.emplace_back(q.x(), q.y(), z_at(s) + options.ground_offset_m);
  }
  return out;
}

absl::StatusOr<Guidance> Guidance::Start(const Planner& planner, const NavPose& start, const EdgePoint& goal,
                                         const GuidanceOptions& options) {
  ARMAP_RETURN_IF_ERROR(options.Validate());
  ARMAP_ASSIGN_OR_RETURN(EdgePoint from, planner.graph().Snap(start.position_in_map, start.heading_deg, options.snap, "start"));
  ARMAP_ASSIGN_OR_RETURN(Route route, planner.Plan(from, goal, options.plan));
  return FromRoute(planner, std::move(route), options);
}

absl::StatusOr<Guidance> Guidance::FromRoute(const Planner& planner, Route route, const GuidanceOptions& options) {
  ARMAP_RETURN_IF_ERROR(options.Validate());
  if (route.polyline_in_map.size() < 2) return absl::InvalidArgumentError("Guidance: the route has no geometry");
  Guidance g(planner, options);
  g.goal_ = route.goal;
  g.SetRoute(std::move(route));
  return g;
}

void Guidance::SetRoute(Route route) {
  route_ = std::move(route);
  maneuvers_ = BuildManeuvers(planner_->graph(), route_, options_.instructions);
  ar_polyline_ = ArPolyline(route_, options_.polyline);
  progress_m_ = 0;
  off_route_ = false;
  evidence_poses_ = 0;
  clear_poses_ = 0;
}

void Guidance::Project(const Eigen::Vector2d& p, double* arc_m, double* distance_m, bool global) const {
  const auto& line = route_.polyline_in_map;
  const auto& arc = route_.arc_m;
  const double lo = global ? -1.0 : progress_m_ - options_.track_back_m;
  const double hi = global ? route_.length_m + 1.0 : progress_m_ + options_.track_ahead_m;
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

double Guidance::HeadingErrorDeg(double arc_m, double heading_deg) const {
  const auto& line = route_.polyline_in_map;
  const auto& arc = route_.arc_m;
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

absl::StatusOr<GuidanceUpdate> Guidance::Update(const NavPose& pose) {
  if (!pose.position_in_map.allFinite() || !std::isfinite(pose.time_s) || (pose.heading_deg && !std::isfinite(*pose.heading_deg)))
    return absl::InvalidArgumentError("Guidance::Update: the pose has non-finite values");
  if (last_time_s_ && pose.time_s < *last_time_s_)
    return absl::InvalidArgumentError(absl::StrFormat("Guidance::Update: time went backwards (%.3f s after %.3f s)", pose.time_s, *last_time_s_));
  // The first pose may be anywhere along the route (a session joined
  // mid-way): search all of it; later poses search near the progress.
  const bool first_pose = !last_time_s_.has_value();
  last_time_s_ = pose.time_s;
  GuidanceUpdate u;
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

  if (off_route_ && options_.reroute && !arrived_) {
    const auto t0 = std::chrono::steady_clock::now();
    auto from = planner_->graph().Snap(pose.position_in_map, pose.heading_deg, options_.snap, "current position");
    absl::StatusOr<Route> route = from.ok() ? planner_->Plan(*from, goal_, options_.plan) : absl::StatusOr<Route>(from.status());
    u.reroute_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (route.ok()) {
      SetRoute(std::move(*route));
      ++route_version_;
      u.rerouted = true;
      Project(p, &arc, &dist);
      progress_m_ = arc;
    } else {
      u.reroute_error = std::string(route.status().message());
    }
  }

  u.off_route = off_route_;
  u.progress_m = progress_m_;
  u.remaining_m = std::max(0.0, route_.length_m - progress_m_);
  u.distance_to_route_m = dist;
  u.heading_error_deg = heading_err;
  u.route_version = route_version_;
  if (!off_route_ && u.remaining_m <= options_.arrival_radius_m) arrived_ = true;
  u.arrived = arrived_;
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
  }
  return u;
}

}  // namespace armap::nav
