// Test and benchmark helper (header-only, not part of the SDK): simulated AR
// walks for pose fusion. A pedestrian walks through the map frame (ENU, z
// up) with an OpenCV camera held ahead; the phone's tracking reports
// session_from_cam at 60 Hz in a y-up (ARKit-style) or z-up session frame
// that drifts (a fraction of the distance walked in a slowly turning
// direction, plus a smoothly wandering yaw error); positioning fixes of map_from_cam
// arrive every few seconds with noise, latency and occasional outliers.
// The metric is the one an AR user sees: the error, in the camera, of a
// world-anchored point 5-10 m ahead, and its jump between frames.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include <Eigen/Core>
#include <Eigen/Geometry>

#include "armap/sdk/pose_fusion.h"
#include "armap/sdk/types.h"

namespace armap::sdk::testing {

struct WalkOptions {
  uint32_t seed = 1;
  double duration_s = 180;
  double rate_hz = 60;
  double speed_mps = 1.4;
  double stop_fraction = 0.1;          // of the time spent standing
  bool session_y_up = true;            // ARKit-style session frame
  // Tracking drift.
  double drift_fraction = 0.01;        // position drift per metre walked
  double yaw_drift_deg_per_min = 0.5;  // typical |yaw rate| of a smooth (OU) drift
  // Fixes.
  double fix_interval_s = 5;
  double fix_latency_s = 0.3;          // plus U(0, 0.4) s
  double fix_position_sigma_m = 0.03;  // per axis
  double fix_rotation_sigma_deg = 0.3; // per axis
  double outlier_fraction = 0.05;
  double outlier_min_m = 2;
  double outlier_max_m = 10;
};

struct WalkFrame {
  double time_s = 0;
  Rigid3 true_map_from_cam;
  Rigid3 session_from_cam;  // as tracked (drifting)
};

struct WalkFix {
  double deliver_time_s = 0;  // when the answer reaches the phone
  double capture_time_s = 0;  // the image's timestamp
  Rigid3 map_from_cam;
  bool outlier = false;
};

struct Walk {
  std::vector<WalkFrame> frames;
  std::vector<WalkFix> fixes;  // sorted by deliver_time_s
};

inline Eigen::Isometry3d ToIsometry(const Rigid3& p) {
  Eigen::Isometry3d out = Eigen::Isometry3d::Identity();
  out.linear() = Eigen::Quaterniond(p.qw, p.qx, p.qy, p.qz).normalized().toRotationMatrix();
  out.translation() = Eigen::Vector3d(p.tx, p.ty, p.tz);
  return out;
}

inline Rigid3 ToRigid3(const Eigen::Isometry3d& m) {
  Eigen::Quaterniond q(m.linear());
  q.normalize();
  if (q.w() < 0) q.coeffs() *= -1;
  const Eigen::Vector3d t = m.translation();
  return Rigid3{q.w(), q.x(), q.y(), q.z(), t.x(), t.y(), t.z()};
}

// OpenCV camera (x right, y down, z forward) looking along heading_rad
// (from the x axis, counter-clockwise) pitched up by pitch_rad, rolled by
// roll_rad: map_from_cam's rotation.
inline Eigen::Matrix3d CameraRotation(double heading_rad, double pitch_rad, double roll_rad) {
  const Eigen::Vector3d forward(std::cos(heading_rad) * std::cos(pitch_rad),
                                std::sin(heading_rad) * std::cos(pitch_rad), std::sin(pitch_rad));
  const Eigen::Vector3d right = Eigen::Vector3d(std::sin(heading_rad), -std::cos(heading_rad), 0).normalized();
  const Eigen::Vector3d down = forward.cross(right);
  Eigen::Matrix3d r;
  r.col(0) = right;
  r.col(1) = down;
  r.col(2) = forward;
  return r * Eigen::AngleAxisd(roll_rad, Eigen::Vector3d::UnitZ()).toRotationMatrix();
}

inline Walk SimulateWalk(const WalkOptions& o) {
  std::mt19937_64 rng(o.seed);
  std::normal_distribution<double> gauss(0.0, 1.0);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  const double dt = 1.0 / o.rate_hz;
  const int n = static_cast<int>(o.duration_s * o.rate_hz);

  // The true gravity-aligned session frame in the map, and the y-up
  // session's rotation from it.
  const double session_yaw = 2 * M_PI * uniform(rng);
  Eigen::Isometry3d map_from_g = Eigen::Isometry3d::Identity();
  map_from_g.linear() = Eigen::AngleAxisd(session_yaw, Eigen::Vector3d::UnitZ()).toRotationMatrix();
  map_from_g.translation() = Eigen::Vector3d(40 * gauss(rng), 40 * gauss(rng), 1.0 * gauss(rng));
  Eigen::Isometry3d session_from_g = Eigen::Isometry3d::Identity();
  if (o.session_y_up) {
    session_from_g.linear() = Eigen::AngleAxisd(-M_PI / 2, Eigen::Vector3d::UnitX()).toRotationMatrix();
  }

  Walk walk;
  walk.frames.reserve(n);
  Eigen::Vector3d position(100 * uniform(rng), 100 * uniform(rng), 1.5);
  double heading = 2 * M_PI * uniform(rng);
  double turn_rate = 0;       // rad/s, Ornstein-Uhlenbeck
  double look_offset = 0;     // camera yaw relative to the walking direction
  double look_rate = 0;
  bool walking = true;
  double phase_left_s = 10;
  // Drift state.
  double yaw_error = 0;
  double drift_direction = 2 * M_PI * uniform(rng);
  Eigen::Vector3d tracked_g(0, 0, 0);
  Eigen::Vector3d previous_true_g(0, 0, 0);
  // Yaw drift: a smooth yaw error whose rate wanders (Ornstein-Uhlenbeck,
  // 30 s correlation, 1-sigma rate yaw_drift_deg_per_min), as VIO drifts.
  double yaw_rate = 0;
  const double yaw_rate_sigma = o.yaw_drift_deg_per_min * M_PI / 180 / 60;
  const double yaw_rate_tau_s = 30;

  for (int k = 0; k < n; ++k) {
    const double t = k * dt;
    phase_left_s -= dt;
    if (phase_left_s <= 0) {
      walking = uniform(rng) > o.stop_fraction;
      phase_left_s = walking ? 5 + 20 * uniform(rng) : 1 + 4 * uniform(rng);
    }
    turn_rate += -turn_rate * dt / 3.0 + 0.25 * std::sqrt(dt) * gauss(rng);
    look_rate += -look_rate * dt / 0.8 - look_offset * dt * 1.5 + 0.6 * std::sqrt(dt) * gauss(rng);
    look_offset += look_rate * dt;
    look_offset = std::clamp(look_offset, -0.6, 0.6);
    const double speed = walking ? o.speed_mps : 0.0;
    if (walking) heading += turn_rate * dt;
    position += speed * dt * Eigen::Vector3d(std::cos(heading), std::sin(heading), 0);
    const double bob = walking ? 0.02 * std::sin(2 * M_PI * 1.8 * t) : 0.0;
    const Eigen::Vector3d camera_position(position.x(), position.y(), 1.5 + bob);
    const double pitch = -0.08 + 0.05 * std::sin(0.3 * t);
    const double roll = 0.03 * std::sin(0.7 * t + 1);

    Eigen::Isometry3d map_from_cam = Eigen::Isometry3d::Identity();
    map_from_cam.linear() = CameraRotation(heading + look_offset, pitch, roll);
    map_from_cam.translation() = camera_position;
    const Eigen::Isometry3d true_g_from_cam = map_from_g.inverse() * map_from_cam;

    // Tracking: the true motion in g, rotated by the yaw error, plus drift of
    // drift_fraction of each step in a slowly turning direction.
    const Eigen::Vector3d true_g = true_g_from_cam.translation();
    if (k == 0) {
      tracked_g = true_g;
    } else {
      const Eigen::Vector3d step = true_g - previous_true_g;
      yaw_rate += -yaw_rate * dt / yaw_rate_tau_s + yaw_rate_sigma * std::sqrt(2 * dt / yaw_rate_tau_s) * gauss(rng);
      yaw_error += yaw_rate * dt;
      drift_direction += 0.05 * std::sqrt(dt) * gauss(rng);
      const Eigen::Vector3d drift_unit =
          Eigen::Vector3d(std::cos(drift_direction), std::sin(drift_direction), 0.2).normalized();
      tracked_g += Eigen::AngleAxisd(yaw_error, Eigen::Vector3d::UnitZ()) * step +
                   o.drift_fraction * step.norm() * drift_unit;
    }
    previous_true_g = true_g;
    Eigen::Isometry3d tracked_g_from_cam = Eigen::Isometry3d::Identity();
    tracked_g_from_cam.linear() =
        Eigen::AngleAxisd(yaw_error, Eigen::Vector3d::UnitZ()).toRotationMatrix() * true_g_from_cam.linear();
    tracked_g_from_cam.translation() = tracked_g;

    WalkFrame frame;
    frame.time_s = t;
    frame.true_map_from_cam = ToRigid3(map_from_cam);
    frame.session_from_cam = ToRigid3(session_from_g * tracked_g_from_cam);
    walk.frames.push_back(frame);
  }

  // Fixes: captured every fix_interval_s (from 1 s on), noisy, some wrong
  // by metres, delivered after a latency.
  const int frames_per_fix = static_cast<int>(std::round(o.fix_interval_s * o.rate_hz));
  for (int k = static_cast<int>(o.rate_hz); k < n; k += frames_per_fix) {
    WalkFix fix;
    fix.capture_time_s = walk.frames[k].time_s;
    fix.deliver_time_s = fix.capture_time_s + o.fix_latency_s + 0.4 * uniform(rng);
    Eigen::Isometry3d m = ToIsometry(walk.frames[k].true_map_from_cam);
    const double rs = o.fix_rotation_sigma_deg * M_PI / 180;
    const Eigen::Vector3d rotation_noise(rs * gauss(rng), rs * gauss(rng), rs * gauss(rng));
    if (rotation_noise.norm() > 0) {
      m.linear() = m.linear() * Eigen::AngleAxisd(rotation_noise.norm(), rotation_noise.normalized()).toRotationMatrix();
    }
    m.translation() += o.fix_position_sigma_m * Eigen::Vector3d(gauss(rng), gauss(rng), gauss(rng));
    if (uniform(rng) < o.outlier_fraction) {
      fix.outlier = true;
      const double distance = o.outlier_min_m + (o.outlier_max_m - o.outlier_min_m) * uniform(rng);
      const double direction = 2 * M_PI * uniform(rng);
      m.translation() += distance * Eigen::Vector3d(std::cos(direction), std::sin(direction), 0.1 * gauss(rng));
      const double yaw = (uniform(rng) - 0.5) * 40 * M_PI / 180;
      m.linear() = Eigen::AngleAxisd(yaw, Eigen::Vector3d::UnitZ()).toRotationMatrix() * m.linear();
    }
    fix.map_from_cam = ToRigid3(m);
    walk.fixes.push_back(fix);
  }
  return walk;
}

// A world point anchored ahead of the true camera (5-10 m, at eye height
// give or take), for frame k.
inline Eigen::Vector3d AnchorAhead(const WalkFrame& frame) {
  const Eigen::Isometry3d m = ToIsometry(frame.true_map_from_cam);
  Eigen::Vector3d forward = m.linear().col(2);
  forward.z() = 0;
  forward.normalize();
  const double distance = 7.5 + 2.5 * std::sin(frame.time_s / 7.0);
  return m.translation() + distance * forward + Eigen::Vector3d(0, 0, -0.5);
}

// Where the user sees the point drawn with the estimated pose, minus where
// it is, in the map frame (metres): true_map_from_cam * est_cam_from_map *
// point - point. Its norm equals the error in the camera frame; in the map
// frame, a steady offset stays steady while the camera turns, so the
// frame-to-frame change is the visible jump.
inline Eigen::Vector3d AnchorError(const Rigid3& estimated_map_from_cam, const Rigid3& true_map_from_cam,
                                   const Eigen::Vector3d& point_in_map) {
  return ToIsometry(true_map_from_cam) * (ToIsometry(estimated_map_from_cam).inverse() * point_in_map) - point_in_map;
}

// Per-frame errors of an estimator over a walk, from its first estimate on.
struct TrackErrors {
  std::vector<double> time_s;
  std::vector<double> error_m;  // |AnchorError|
  std::vector<double> jump_m;   // change of the anchor's AnchorError since the previous frame
  std::vector<FixOutcome> outcomes;  // fusion only: one per fix, in delivery order
  bool ok = true;                     // no SDK call failed
};

// PoseFusion fed frame by frame; fixes are added when delivered, with
// their capture time and confidence 1.
inline TrackErrors RunFusion(const Walk& walk, const PoseFusionOptions& options) {
  TrackErrors out;
  auto fusion = PoseFusion::Create(options);
  if (!fusion.ok()) {
    out.ok = false;
    return out;
  }
  size_t next_fix = 0;
  bool have_previous = false;
  Rigid3 previous_estimate;
  for (size_t k = 0; k < walk.frames.size(); ++k) {
    const WalkFrame& frame = walk.frames[k];
    if (!(*fusion)->AddTracking(frame.time_s, frame.session_from_cam).ok()) out.ok = false;
    while (next_fix < walk.fixes.size() && walk.fixes[next_fix].deliver_time_s <= frame.time_s) {
      const WalkFix& fix = walk.fixes[next_fix++];
      auto outcome = (*fusion)->AddFix(fix.capture_time_s, fix.map_from_cam, 1.0);
      if (!outcome.ok()) {
        out.ok = false;
        continue;
      }
      out.outcomes.push_back(*outcome);
    }
    if (!(*fusion)->initialized()) continue;
    auto estimate = (*fusion)->MapFromCam(frame.time_s);
    if (!estimate.ok()) {
      out.ok = false;
      continue;
    }
    const Eigen::Vector3d point = AnchorAhead(frame);
    const Eigen::Vector3d e = AnchorError(*estimate, frame.true_map_from_cam, point);
    out.time_s.push_back(frame.time_s);
    out.error_m.push_back(e.norm());
    out.jump_m.push_back(have_previous
                             ? (e - AnchorError(previous_estimate, walk.frames[k - 1].true_map_from_cam, point)).norm()
                             : 0.0);
    previous_estimate = *estimate;
    have_previous = true;
  }
  return out;
}

// The naive baseline: map_from_session snapped (6 DoF) to every fix.
inline TrackErrors RunNaive(const Walk& walk, double rate_hz) {
  TrackErrors out;
  size_t next_fix = 0;
  bool initialized = false, have_previous = false;
  Eigen::Isometry3d map_from_session = Eigen::Isometry3d::Identity();
  Rigid3 previous_estimate;
  for (size_t k = 0; k < walk.frames.size(); ++k) {
    const WalkFrame& frame = walk.frames[k];
    while (next_fix < walk.fixes.size() && walk.fixes[next_fix].deliver_time_s <= frame.time_s) {
      const WalkFix& fix = walk.fixes[next_fix++];
      const size_t at = std::min(walk.frames.size() - 1, static_cast<size_t>(std::lround(fix.capture_time_s * rate_hz)));
      map_from_session = ToIsometry(fix.map_from_cam) * ToIsometry(walk.frames[at].session_from_cam).inverse();
      initialized = true;
    }
    if (!initialized) continue;
    const Rigid3 estimate = ToRigid3(map_from_session * ToIsometry(frame.session_from_cam));
    const Eigen::Vector3d point = AnchorAhead(frame);
    const Eigen::Vector3d e = AnchorError(estimate, frame.true_map_from_cam, point);
    out.time_s.push_back(frame.time_s);
    out.error_m.push_back(e.norm());
    out.jump_m.push_back(
        have_previous ? (e - AnchorError(previous_estimate, walk.frames[k - 1].true_map_from_cam, point)).norm() : 0.0);
    previous_estimate = estimate;
    have_previous = true;
  }
  return out;
}

// The q-quantile (0..1) of values (by copy).
inline double Quantile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  const size_t i = std::min(values.size() - 1, static_cast<size_t>(q * (values.size() - 1) + 0.5));
  std::nth_element(values.begin(), values.begin() + i, values.end());
  return values[i];
}

}  // namespace armap::sdk::testing
