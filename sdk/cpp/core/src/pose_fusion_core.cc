// Pose fusion, the portable core (see armap/sdk/pose_fusion.h and
// armap/sdk/core/pose_fusion_core.h).
//
// Frames: "session" is the tracking's frame as given; "gravity session" (g)
// is the session rotated so that its up is +z (fixed: the ARKit-style +y up
// becomes +z). The estimate is a 4-DoF transform map_from_g: x_map =
// Rz(yaw) * x_g + t. A fix i gives the camera's position in both frames
// (p_map_i, p_g_i) and a yaw measurement yaw_i = yaw(R_map_i * R_g_i^T).
#include "armap/sdk/core/pose_fusion_core.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <Eigen/Geometry>
#include <Eigen/LU>

namespace armap::sdk {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kDegToRad = kPi / 180.0;

double WrapAngle(double a) {
  a = std::fmod(a + kPi, 2 * kPi);
  if (a < 0) a += 2 * kPi;
  return a - kPi;
}

Eigen::Matrix3d Rz(double yaw) { return Eigen::AngleAxisd(yaw, Eigen::Vector3d::UnitZ()).toRotationMatrix(); }

// d Rz(yaw) / d yaw.
Eigen::Matrix3d DRz(double yaw) {
  const double c = std::cos(yaw), s = std::sin(yaw);
  Eigen::Matrix3d d;
  d << -s, -c, 0, c, -s, 0, 0, 0, 0;
  return d;
}

// The yaw of the rotation about z closest to m (maximises trace(Rz^T m)).
double YawOf(const Eigen::Matrix3d& m) { return std::atan2(m(1, 0) - m(0, 1), m(0, 0) + m(1, 1)); }

bool Finite(const Rigid3& p) {
  for (double v : {p.qw, p.qx, p.qy, p.qz, p.tx, p.ty, p.tz}) {
    if (!std::isfinite(v)) return false;
  }
  return true;
}

Error CheckPose(const char* function, const char* name, const Rigid3& p) {
  if (!Finite(p)) return Error::InvalidArgument(std::string(function) + ": " + name + " is not finite");
  const double norm = std::sqrt(p.qw * p.qw + p.qx * p.qx + p.qy * p.qy + p.qz * p.qz);
  if (norm < 1e-6) {
    return Error::InvalidArgument(std::string(function) + ": " + name + " has a zero quaternion");
  }
  return Error::Ok();
}

struct Pose {
  Eigen::Quaterniond rotation = Eigen::Quaterniond::Identity();
  Eigen::Vector3d position = Eigen::Vector3d::Zero();  // of the camera (translation of x_from_cam)
};

Pose ToPose(const Rigid3& p) {
  Pose out;
  out.rotation = Eigen::Quaterniond(p.qw, p.qx, p.qy, p.qz).normalized();
  out.position = Eigen::Vector3d(p.tx, p.ty, p.tz);
  return out;
}

Rigid3 ToRigid(const Eigen::Quaterniond& q_in, const Eigen::Vector3d& t) {
  Eigen::Quaterniond q = q_in.normalized();
  if (q.w() < 0) q.coeffs() *= -1;
  return Rigid3{q.w(), q.x(), q.y(), q.z(), t.x(), t.y(), t.z()};
}

// map_from_g as yaw + translation.
struct Yaw4 {
  double yaw = 0;
  Eigen::Vector3d t = Eigen::Vector3d::Zero();
  Eigen::Vector3d Apply(const Eigen::Vector3d& x_g) const { return Rz(yaw) * x_g + t; }
};

struct TrackingSample {
  double time_s = 0;
  Pose g_from_cam;
  double path_m = 0;  // distance walked since the first sample
};

struct Fix {
  double time_s = 0;
  Eigen::Vector3d p_map;
  Eigen::Vector3d p_g;
  double yaw = 0;  // measured yaw of map_from_g
  double path_m = 0;
  double position_sigma_m = 0;
  double yaw_sigma_rad = 0;
};

struct Sigma {
  double position_m = 0;
  double yaw_rad = 0;
};

using Matrix7d = Eigen::Matrix<double, 7, 7>;
using Vector7d = Eigen::Matrix<double, 7, 1>;
constexpr double kNoLimit = std::numeric_limits<double>::infinity();

// The estimate of map_from_g as a function of the distance walked: at path
// p it is Yaw4{yaw, t + drift_rate * (p - path_ref)} (the tracking's drift,
// locally linear in the distance walked), with the covariance of (yaw, t,
// drift rate).
struct Estimate {
  Yaw4 at_ref;
  Eigen::Vector3d drift_rate_per_m = Eigen::Vector3d::Zero();
  double path_ref_m = 0;
  Matrix7d covariance = Matrix7d::Zero();
  // Extrapolated forward by at most max_ahead_m.
  Yaw4 At(double path_m, double max_ahead_m) const {
    Yaw4 out = at_ref;
    out.t += drift_rate_per_m * std::min(path_m - path_ref_m, max_ahead_m);
    return out;
  }
};

}  // namespace

const char* FixOutcomeName(FixOutcome outcome) {
  switch (outcome) {
    case FixOutcome::kInitialized: return "initialized";
    case FixOutcome::kAccepted: return "accepted";
    case FixOutcome::kRejected: return "rejected";
    case FixOutcome::kReset: return "reset";
  }
  return "unknown";
}

Error FusionOptions::Check() const {
  auto bad = [](const std::string& field, double value, const char* rule) {
    return Error::InvalidArgument("PoseFusionOptions::" + field + " = " + std::to_string(value) + "; must be " +
                                      rule);
  };
  if (session_up_axis != SessionUpAxis::kY && session_up_axis != SessionUpAxis::kZ) {
    return bad("session_up_axis", static_cast<double>(session_up_axis), "kY (0) or kZ (1)");
  }
  struct Positive {
    const char* name;
    double value;
  };
  for (const Positive& p : {Positive{"fix_position_sigma_m", fix_position_sigma_m},
                            Positive{"fix_yaw_sigma_deg", fix_yaw_sigma_deg}, Positive{"window_s", window_s},
                            Positive{"gate_sigma", gate_sigma}, Positive{"huber_k", huber_k},
                            Positive{"blend_time_s", blend_time_s},
                            Positive{"max_correction_speed_mps", max_correction_speed_mps},
                            Positive{"max_correction_yaw_rate_dps", max_correction_yaw_rate_dps},
                            Positive{"tracking_history_s", tracking_history_s}}) {
    if (!(p.value > 0) || !std::isfinite(p.value)) return bad(p.name, p.value, "> 0 and finite");
  }
  struct NonNegative {
    const char* name;
    double value;
  };
  for (const NonNegative& p :
       {NonNegative{"drift_fraction", drift_fraction}, NonNegative{"drift_nonlinearity", drift_nonlinearity},
        NonNegative{"drift_m_per_s", drift_m_per_s},
        NonNegative{"max_drift_extrapolation_m", max_drift_extrapolation_m},
        NonNegative{"yaw_drift_deg_per_m", yaw_drift_deg_per_m},
        NonNegative{"yaw_drift_deg_per_s", yaw_drift_deg_per_s}, NonNegative{"gate_floor_m", gate_floor_m},
        NonNegative{"gate_floor_deg", gate_floor_deg}, NonNegative{"max_extrapolation_s", max_extrapolation_s}}) {
    if (!(p.value >= 0) || !std::isfinite(p.value)) return bad(p.name, p.value, ">= 0 and finite");
  }
  if (!(min_confidence > 0 && min_confidence <= 1)) return bad("min_confidence", min_confidence, "in (0, 1]");
  if (window_size < 1 || window_size > 1000) return bad("window_size", window_size, "in 1..1000");
  return Error::Ok();
}

struct PoseFusionCore::Impl {
  FusionOptions options;
  Eigen::Quaterniond g_from_session;  // fixed gravity alignment

  std::deque<TrackingSample> tracking;
  std::deque<Fix> fixes;
  bool initialized = false;
  Estimate target;
  Yaw4 display;
  PoseFusionStats stats;

  explicit Impl(const FusionOptions& o) : options(o) {
    g_from_session = o.session_up_axis == SessionUpAxis::kY
                         ? Eigen::Quaterniond(Eigen::AngleAxisd(kPi / 2, Eigen::Vector3d::UnitX()))
                         : Eigen::Quaterniond::Identity();
  }

  // g_from_cam at time_s: interpolated between samples, or extrapolated up
  // to max_extrapolation_s past the newest (constant velocity).
  bool Interpolate(double time_s, TrackingSample* out) const {
    if (tracking.empty()) return false;
    const TrackingSample& newest = tracking.back();
    if (time_s >= newest.time_s) {
      const double ahead = time_s - newest.time_s;
      if (ahead > options.max_extrapolation_s) return false;
      *out = newest;
      out->time_s = time_s;
      if (tracking.size() >= 2 && ahead > 0) {
        const TrackingSample& prev = tracking[tracking.size() - 2];
        const double dt = newest.time_s - prev.time_s;
        if (dt > 1e-6) {
          const Eigen::Vector3d velocity = (newest.g_from_cam.position - prev.g_from_cam.position) / dt;
          out->g_from_cam.position += velocity * ahead;
          out->path_m += velocity.norm() * ahead;
        }
      }
      return true;
    }
    if (time_s < tracking.front().time_s) return false;
    // First sample with time > time_s.
    auto it = std::upper_bound(tracking.begin(), tracking.end(), time_s,
                               [](double t, const TrackingSample& s) { return t < s.time_s; });
    const TrackingSample& b = *it;
    const TrackingSample& a = *(it - 1);
    const double span = b.time_s - a.time_s;
    const double u = span > 0 ? (time_s - a.time_s) / span : 0.0;
    out->time_s = time_s;
    out->g_from_cam.rotation = a.g_from_cam.rotation.slerp(u, b.g_from_cam.rotation);
    out->g_from_cam.position = (1 - u) * a.g_from_cam.position + u * b.g_from_cam.position;
    out->path_m = (1 - u) * a.path_m + u * b.path_m;
    return true;
  }

  // A fix's 1-sigma seen from (path_m, time_s) with the camera at p_g_ref:
  // its own noise plus the drift since, of which `fraction` of the position
  // drift is not explained by the model; the yaw drift since also moves the
  // fix's position by its lever arm to the camera.
  Sigma SigmaAt(const Fix& f, double path_m, double time_s, double fraction, const Eigen::Vector3d& p_g_ref) const {
    const double walked = std::abs(path_m - f.path_m);
    const double elapsed = std::abs(time_s - f.time_s);
    const double drift_m = fraction * (options.drift_fraction * walked + options.drift_m_per_s * elapsed);
    const double drift_yaw =
        (options.yaw_drift_deg_per_m * walked + options.yaw_drift_deg_per_s * elapsed) * kDegToRad;
    const double lever_m = drift_yaw * (f.p_g - p_g_ref).head<2>().norm();
    return Sigma{std::sqrt(f.position_sigma_m * f.position_sigma_m + drift_m * drift_m + lever_m * lever_m),
                 std::sqrt(f.yaw_sigma_rad * f.yaw_sigma_rad + drift_yaw * drift_yaw)};
  }

  Yaw4 HypothesisOf(const Fix& f) const {
    Yaw4 h;
    h.yaw = f.yaw;
    h.t = f.p_map - Rz(f.yaw) * f.p_g;
    return h;
  }

  bool Agrees(double residual_m, double residual_yaw_rad, double position_sigma_m, double yaw_sigma_rad) const {
    return residual_m <= std::max(options.gate_floor_m, options.gate_sigma * position_sigma_m) &&
           std::abs(residual_yaw_rad) <= std::max(options.gate_floor_deg * kDegToRad, options.gate_sigma * yaw_sigma_rad);
  }

  // Fixes agreeing with the single-fix hypothesis of fix j (pairwise sigmas:
  // both fixes' noise, all the drift between them, and j's yaw noise over
  // the lever arm between them).
  std::vector<int> SupportOfFix(int j) const {
    std::vector<int> support;
    const Fix& fj = fixes[j];
    const Yaw4 h = HypothesisOf(fj);
    for (int i = 0; i < static_cast<int>(fixes.size()); ++i) {
      const Fix& fi = fixes[i];
      const Sigma si = SigmaAt(fi, fj.path_m, fj.time_s, 1.0, fj.p_g);
      const double lever = (fi.p_g - fj.p_g).head<2>().norm() * fj.yaw_sigma_rad;
      const double sp = std::sqrt(si.position_m * si.position_m + fj.position_sigma_m * fj.position_sigma_m +
                                  lever * lever);
      const double sy = std::sqrt(si.yaw_rad * si.yaw_rad + fj.yaw_sigma_rad * fj.yaw_sigma_rad);
      if (Agrees((fi.p_map - h.Apply(fi.p_g)).norm(), WrapAngle(fi.yaw - h.yaw), sp, sy)) support.push_back(i);
    }
    return support;
  }

  // d(predicted camera position in the map) / d(yaw, t, drift rate).
  static Eigen::Matrix<double, 3, 7> PositionJacobian(const Estimate& e, const Eigen::Vector3d& p_g, double path_m) {
    Eigen::Matrix<double, 3, 7> j;
    j.col(0) = DRz(e.at_ref.yaw) * p_g;
    j.block<3, 3>(0, 1) = Eigen::Matrix3d::Identity();
    j.block<3, 3>(0, 4) = Eigen::Matrix3d::Identity() * (path_m - e.path_ref_m);
    return j;
  }

  // Fixes agreeing with the estimate e (its own uncertainty included).
  std::vector<int> SupportOfEstimate(const Estimate& e, double time_s, const Eigen::Vector3d& p_g_ref) const {
    std::vector<int> support;
    for (int i = 0; i < static_cast<int>(fixes.size()); ++i) {
      const Fix& f = fixes[i];
      const Sigma s = SigmaAt(f, e.path_ref_m, time_s, options.drift_nonlinearity, p_g_ref);
      const Eigen::Matrix<double, 3, 7> j = PositionJacobian(e, f.p_g, f.path_m);
      const double est_var = std::max(0.0, (j * e.covariance * j.transpose()).trace());
      const double sp = std::sqrt(s.position_m * s.position_m + est_var);
      const double sy = std::sqrt(s.yaw_rad * s.yaw_rad + std::max(0.0, e.covariance(0, 0)));
      const Yaw4 at_fix = e.At(f.path_m, kNoLimit);
      if (Agrees((f.p_map - at_fix.Apply(f.p_g)).norm(), WrapAngle(f.yaw - at_fix.yaw), sp, sy)) {
        support.push_back(i);
      }
    }
    return support;
  }

  // Huber-weighted Gauss-Newton over the fixes in `support` for (yaw, t,
  // drift rate) at path_m, each fix weighed by its noise and the drift the
  // linear model leaves unexplained; the drift rate has a zero-mean prior of
  // drift_fraction per axis.
  Estimate Refine(const Yaw4& start, const Eigen::Vector3d& start_rate, const std::vector<int>& support,
                  double path_m, double time_s, const Eigen::Vector3d& p_g_ref) const {
    Estimate e;
    e.at_ref = start;
    e.drift_rate_per_m = start_rate;
    e.path_ref_m = path_m;
    const double prior_weight = 1.0 / (options.drift_fraction * options.drift_fraction + 1e-12);
    Matrix7d normal;
    for (int iteration = 0; iteration < 8; ++iteration) {
      normal = Matrix7d::Identity() * 1e-9;
      normal.block<3, 3>(4, 4) += Eigen::Matrix3d::Identity() * prior_weight;
      Vector7d gradient = Vector7d::Zero();
      gradient.tail<3>() = prior_weight * e.drift_rate_per_m;
      for (int i : support) {
        const Fix& f = fixes[i];
        const Sigma s = SigmaAt(f, path_m, time_s, options.drift_nonlinearity, p_g_ref);
        const Yaw4 at_fix = e.At(f.path_m, kNoLimit);
        const Eigen::Vector3d r = f.p_map - at_fix.Apply(f.p_g);
        const Eigen::Matrix<double, 3, 7> j = -PositionJacobian(e, f.p_g, f.path_m);
        const double mp = r.norm() / s.position_m;
        const double wp = (mp <= options.huber_k ? 1.0 : options.huber_k / mp) / (s.position_m * s.position_m);
        normal += wp * j.transpose() * j;
        gradient += wp * j.transpose() * r;
        const double y = WrapAngle(f.yaw - e.at_ref.yaw);
        const double my = std::abs(y) / s.yaw_rad;
        const double wy = (my <= options.huber_k ? 1.0 : options.huber_k / my) / (s.yaw_rad * s.yaw_rad);
        normal(0, 0) += wy;
        gradient(0) += wy * -y;
      }
      const Vector7d step = -normal.ldlt().solve(gradient);
      if (!step.allFinite()) break;
      e.at_ref.yaw = WrapAngle(e.at_ref.yaw + step(0));
      e.at_ref.t += step.segment<3>(1);
      e.drift_rate_per_m += step.tail<3>();
      if (std::abs(step(0)) < 1e-9 && step.tail<6>().norm() < 1e-7) break;
    }
    e.covariance = normal.inverse();
    return e;
  }

  void Prune(double newest_fix_time_s) {
    while (static_cast<int>(fixes.size()) > options.window_size) fixes.pop_front();
    while (!fixes.empty() && fixes.front().time_s < newest_fix_time_s - options.window_s) fixes.pop_front();
  }

  FixOutcome Update(const Fix& fix) {
    ++stats.num_fixes;
    fixes.push_back(fix);
    Prune(fix.time_s);
    const int newest = static_cast<int>(fixes.size()) - 1;
    const TrackingSample& now = tracking.back();
    if (!initialized) {
      initialized = true;
      target = Refine(HypothesisOf(fix), Eigen::Vector3d::Zero(), {newest}, now.path_m, now.time_s, now.g_from_cam.position);
      display = target.At(now.path_m, options.max_drift_extrapolation_m);
      ++stats.num_accepted;
      stats.window_inliers = 1;
      return FixOutcome::kInitialized;
    }
    // The estimate carried to now (its drift rate applied).
    Estimate current = target;
    current.at_ref = target.At(now.path_m, options.max_drift_extrapolation_m);
    current.path_ref_m = now.path_m;
    // Consensus: the current estimate and every fix's own hypothesis; the
    // most supported wins (ties: the current estimate, then the newest fix).
    std::vector<int> best = SupportOfEstimate(current, now.time_s, now.g_from_cam.position);
    bool from_current = true;
    int best_fix = -1;
    for (int j = newest; j >= 0; --j) {
      std::vector<int> support = SupportOfFix(j);
      if (support.size() > best.size()) {
        best = std::move(support);
        from_current = false;
        best_fix = j;
      }
    }
    if (std::find(best.begin(), best.end(), newest) == best.end()) {
      ++stats.num_rejected;
      return FixOutcome::kRejected;
    }
    Estimate refined = from_current
                           ? Refine(current.at_ref, current.drift_rate_per_m, best, now.path_m, now.time_s, now.g_from_cam.position)
                           : Refine(HypothesisOf(fixes[best_fix]), Eigen::Vector3d::Zero(), best, now.path_m, now.time_s, now.g_from_cam.position);
    // The inliers of the refined estimate (an outlier let through by a
    // loose single-fix gate drops out here), refined once more.
    std::vector<int> inliers = SupportOfEstimate(refined, now.time_s, now.g_from_cam.position);
    if (std::find(inliers.begin(), inliers.end(), newest) == inliers.end()) {
      ++stats.num_rejected;
      return FixOutcome::kRejected;
    }
    if (inliers != best) refined = Refine(refined.at_ref, refined.drift_rate_per_m, inliers, now.path_m, now.time_s, now.g_from_cam.position);
    // A reset: the winner is not the previous estimate moved a little but
    // another estimate (the previous one was outvoted).
    const Eigen::Vector3d& p_g = now.g_from_cam.position;
    const bool reset = !from_current &&
                       ((refined.at_ref.Apply(p_g) - current.at_ref.Apply(p_g)).norm() > options.gate_floor_m ||
                        std::abs(WrapAngle(refined.at_ref.yaw - current.at_ref.yaw)) > options.gate_floor_deg * kDegToRad);
    target = refined;
    stats.window_inliers = static_cast<int32_t>(inliers.size());
    ++stats.num_accepted;
    if (reset) {
      ++stats.num_resets;
      return FixOutcome::kReset;
    }
    return FixOutcome::kAccepted;
  }

  // Moves the display towards the target for dt seconds, pivoting about
  // the camera at p_g (path path_m).
  void Blend(double dt, const Eigen::Vector3d& p_g, double path_m) {
    if (!initialized || dt <= 0) return;
    const Yaw4 goal = target.At(path_m, options.max_drift_extrapolation_m);
    const Eigen::Vector3d q_display = display.Apply(p_g);
    const Eigen::Vector3d q_goal = goal.Apply(p_g);
    const double alpha = 1.0 - std::exp(-dt / options.blend_time_s);
    const double max_yaw = options.max_correction_yaw_rate_dps * kDegToRad * dt;
    const double step_yaw = std::clamp(alpha * WrapAngle(goal.yaw - display.yaw), -max_yaw, max_yaw);
    Eigen::Vector3d step_p = alpha * (q_goal - q_display);
    const double max_p = options.max_correction_speed_mps * dt;
    if (step_p.norm() > max_p) step_p *= max_p / step_p.norm();
    display.t = Rz(step_yaw) * (display.t - q_display) + q_display + step_p;
    display.yaw = WrapAngle(display.yaw + step_yaw);
  }

  PoseFusionStats Stats() const {
    PoseFusionStats s = stats;
    if (!initialized || tracking.empty()) return s;
    const TrackingSample& now = tracking.back();
    const Eigen::Vector3d& p_g = now.g_from_cam.position;
    const Yaw4 goal = target.At(now.path_m, options.max_drift_extrapolation_m);
    s.pending_correction_m = (goal.Apply(p_g) - display.Apply(p_g)).norm();
    s.pending_correction_deg = std::abs(WrapAngle(goal.yaw - display.yaw)) / kDegToRad;
    const Eigen::Matrix<double, 3, 7> j = PositionJacobian(target, p_g, now.path_m);
    s.position_sigma_m = std::sqrt(std::max(0.0, (j * target.covariance * j.transpose()).trace()));
    s.yaw_sigma_deg = std::sqrt(std::max(0.0, target.covariance(0, 0))) / kDegToRad;
    s.drift_rate = target.drift_rate_per_m.norm();
    return s;
  }

  Rigid3 MapFromSession(const Yaw4& h) const {
    const Eigen::Quaterniond map_from_g(Eigen::AngleAxisd(h.yaw, Eigen::Vector3d::UnitZ()));
    return ToRigid(map_from_g * g_from_session, h.t);
  }
};

PoseFusionCore::PoseFusionCore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PoseFusionCore::~PoseFusionCore() = default;
PoseFusionCore::PoseFusionCore(PoseFusionCore&&) noexcept = default;
PoseFusionCore& PoseFusionCore::operator=(PoseFusionCore&&) noexcept = default;

Result<PoseFusionCore> PoseFusionCore::Create(const FusionOptions& options) {
  if (Error e = options.Check(); !e.ok()) return e;
  return PoseFusionCore(std::make_unique<Impl>(options));
}

Error PoseFusionCore::AddTracking(double timestamp_s, const Rigid3& session_from_cam) {
  if (!std::isfinite(timestamp_s)) return Error::InvalidArgument("PoseFusion::AddTracking: timestamp_s is not finite");
  if (Error e = CheckPose("PoseFusion::AddTracking", "session_from_cam", session_from_cam); !e.ok()) return e;
  auto& tracking = impl_->tracking;
  const Pose session = ToPose(session_from_cam);
  TrackingSample sample;
  sample.time_s = timestamp_s;
  sample.g_from_cam.rotation = impl_->g_from_session * session.rotation;
  sample.g_from_cam.position = impl_->g_from_session * session.position;
  double dt = 0;
  if (!tracking.empty()) {
    const TrackingSample& last = tracking.back();
    if (timestamp_s < last.time_s) {
      return Error::InvalidArgument("PoseFusion::AddTracking: timestamp_s = " + std::to_string(timestamp_s) +
                                    " is before the previous tracking pose's " + std::to_string(last.time_s));
    }
    dt = std::min(timestamp_s - last.time_s, 0.1);  // a stall must not snap the display
    sample.path_m = last.path_m + (sample.g_from_cam.position - last.g_from_cam.position).norm();
    if (timestamp_s == last.time_s) tracking.pop_back();
  }
  tracking.push_back(sample);
  while (tracking.size() > 2 && tracking.front().time_s < timestamp_s - impl_->options.tracking_history_s) {
    tracking.pop_front();
  }
  ++impl_->stats.num_tracking;
  impl_->Blend(dt, sample.g_from_cam.position, sample.path_m);
  return Error::Ok();
}

Result<FixOutcome> PoseFusionCore::AddFix(double timestamp_s, const Rigid3& map_from_cam, double confidence) {
  if (!std::isfinite(confidence)) return Error::InvalidArgument("PoseFusion::AddFix: confidence is not finite");
  const FusionOptions& o = impl_->options;
  if (confidence < o.min_confidence) {
    if (Error e = CheckPose("PoseFusion::AddFix", "map_from_cam", map_from_cam); !e.ok()) return e;
    ++impl_->stats.num_fixes;
    ++impl_->stats.num_rejected;
    return FixOutcome::kRejected;
  }
  const double c = std::min(confidence, 1.0);
  return AddFixWithSigma(timestamp_s, map_from_cam, o.fix_position_sigma_m / c, o.fix_yaw_sigma_deg / c);
}

Result<FixOutcome> PoseFusionCore::AddFixWithSigma(double timestamp_s, const Rigid3& map_from_cam,
                                                   double position_sigma_m, double yaw_sigma_deg) {
  constexpr const char* kFn = "PoseFusion::AddFix";
  if (!std::isfinite(timestamp_s)) return Error::InvalidArgument(std::string(kFn) + ": timestamp_s is not finite");
  if (Error e = CheckPose(kFn, "map_from_cam", map_from_cam); !e.ok()) return e;
  if (!(position_sigma_m > 0) || !std::isfinite(position_sigma_m) || !(yaw_sigma_deg > 0) ||
      !std::isfinite(yaw_sigma_deg)) {
    return Error::InvalidArgument(std::string(kFn) + ": sigmas must be > 0 and finite");
  }
  TrackingSample at;
  if (!impl_->Interpolate(timestamp_s, &at)) {
    return Error::FailedPrecondition(
        std::string(kFn) + ": no tracking pose covers timestamp_s = " + std::to_string(timestamp_s) +
        (impl_->tracking.empty() ? " (no tracking yet)"
                                 : " (tracking spans " + std::to_string(impl_->tracking.front().time_s) + " .. " +
                                       std::to_string(impl_->tracking.back().time_s) + ")"));
  }
  const Pose map = ToPose(map_from_cam);
  Fix fix;
  fix.time_s = timestamp_s;
  fix.p_map = map.position;
  fix.p_g = at.g_from_cam.position;
  fix.yaw = YawOf((map.rotation * at.g_from_cam.rotation.inverse()).toRotationMatrix());
  fix.path_m = at.path_m;
  fix.position_sigma_m = position_sigma_m;
  fix.yaw_sigma_rad = yaw_sigma_deg * kDegToRad;
  return impl_->Update(fix);
}

bool PoseFusionCore::initialized() const { return impl_->initialized; }

Result<Rigid3> PoseFusionCore::MapFromSession() const {
  if (!impl_->initialized) return Error::FailedPrecondition("PoseFusion: no fix yet");
  return impl_->MapFromSession(impl_->display);
}

Result<Rigid3> PoseFusionCore::TargetMapFromSession() const {
  if (!impl_->initialized) return Error::FailedPrecondition("PoseFusion: no fix yet");
  const double path_m = impl_->tracking.empty() ? impl_->target.path_ref_m : impl_->tracking.back().path_m;
  return impl_->MapFromSession(impl_->target.At(path_m, impl_->options.max_drift_extrapolation_m));
}

Result<Rigid3> PoseFusionCore::MapFromCam(double timestamp_s) const {
  if (!std::isfinite(timestamp_s)) return Error::InvalidArgument("PoseFusion::MapFromCam: timestamp_s is not finite");
  if (!impl_->initialized) return Error::FailedPrecondition("PoseFusion: no fix yet");
  TrackingSample at;
  if (!impl_->Interpolate(timestamp_s, &at)) {
    return Error::OutOfRange("PoseFusion::MapFromCam: no tracking pose covers timestamp_s = " +
                             std::to_string(timestamp_s));
  }
  const Yaw4& d = impl_->display;
  const Eigen::Quaterniond map_from_g(Eigen::AngleAxisd(d.yaw, Eigen::Vector3d::UnitZ()));
  return ToRigid(map_from_g * at.g_from_cam.rotation, d.Apply(at.g_from_cam.position));
}

PoseFusionStats PoseFusionCore::stats() const { return impl_->Stats(); }

const FusionOptions& PoseFusionCore::options() const { return impl_->options; }

void PoseFusionCore::Reset() {
  impl_->tracking.clear();
  impl_->fixes.clear();
  impl_->initialized = false;
  impl_->target = Estimate();
  impl_->display = Yaw4();
  impl_->stats = PoseFusionStats();
}

}  // namespace armap::sdk
