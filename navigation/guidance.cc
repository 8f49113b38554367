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

}  // namespace

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
  if (const std::string error = Check("GuidanceOptions"); !error.empty()) return absl::InvalidArgumentError(error);
  ARMAP_RETURN_IF_ERROR(snap.Validate());
  ARMAP_RETURN_IF_ERROR(plan.Validate());
  ARMAP_RETURN_IF_ERROR(instructions.Validate());
  return polyline.Validate();
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
    const Prompt text = ManeuverText(m);
    m.text_zh = text.zh;
    m.text_en = text.en;
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
  ar_polyline_ = ArPolyline(route_, options_.polyline);
  // Planner routes have >= 2 finite points (checked in FromRoute for the first).
  (void)follower_.SetRoute(route_.polyline_in_map, BuildManeuvers(planner_->graph(), route_, options_.instructions));
}

absl::StatusOr<GuidanceUpdate> Guidance::Update(const NavPose& pose) {
  GuidanceUpdate u;
  if (std::string error = follower_.Update(pose, &u); !error.empty()) {
    // The follower names itself; this API is Guidance's.
    error.replace(0, error.find(": "), "Guidance::Update");
    return absl::InvalidArgumentError(error);
  }
  if (follower_.off_route() && options_.reroute && !follower_.arrived()) {
    const auto t0 = std::chrono::steady_clock::now();
    auto from = planner_->graph().Snap(pose.position_in_map, pose.heading_deg, options_.snap, "current position");
    absl::StatusOr<Route> route = from.ok() ? planner_->Plan(*from, goal_, options_.plan) : absl::StatusOr<Route>(from.status());
    u.reroute_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (route.ok()) {
      SetRoute(std::move(*route));
      ++route_version_;
      u.rerouted = true;
      follower_.Rejoin(pose, &u);
    } else {
      u.reroute_error = std::string(route.status().message());
    }
  }
  u.route_version = route_version_;
  return u;
}

}  // namespace armap::nav
