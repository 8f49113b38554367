#include "mapping/pipeline/alignment.h"

#include <chrono>
#include <cmath>

#include <ceres/ceres.h>
#include <ceres/rotation.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/logging.h"

namespace armap::mapping {
namespace {

// Pinhole reprojection of a world point into view v of panorama i.
// Parameters: rig_from_world as an Eigen quaternion [x,y,z,w] and a translation.
struct ReprojectionCost {
  ReprojectionCost(const Eigen::Vector2d& pixel, const Eigen::Quaterniond& cam_from_rig, double fx, double fy, double cx,
                   double cy)
      : pixel(pixel), cam_from_rig(cam_from_rig), fx(fx), fy(fy), cx(cx), cy(cy) {}

  template <typename T>
  bool operator()(const T* q_rig_world, const T* t_rig_world, const T* point, T* residual) const {
    const Eigen::Map<const Eigen::Quaternion<T>> q(q_rig_world);
    const Eigen::Map<const Eigen::Matrix<T, 3, 1>> t(t_rig_world);
    const Eigen::Map<const Eigen::Matrix<T, 3, 1>> x(point);
    const Eigen::Matrix<T, 3, 1> in_cam = cam_from_rig.cast<T>() * (q * x + t);
    if (in_cam.z() <= T(1e-6)) {
      residual[0] = residual[1] = T(0);
      return true;
    }
    residual[0] = T(fx) * in_cam.x() / in_cam.z() + T(cx) - T(pixel.x());
    residual[1] = T(fy) * in_cam.y() / in_cam.z() + T(cy) - T(pixel.y());
    return true;
  }

  Eigen::Vector2d pixel;
  Eigen::Quaterniond cam_from_rig;
  double fx, fy, cx, cy;
};

struct PointToPlaneCost {
  PointToPlaneCost(const SurfacePlane& plane, double sigma) : plane(plane), sigma(sigma) {}
  template <typename T>
  bool operator()(const T* point, T* residual) const {
    const Eigen::Map<const Eigen::Matrix<T, 3, 1>> x(point);
    residual[0] = plane.normal.cast<T>().dot(x - plane.point.cast<T>()) / T(sigma);
    return true;
  }
  SurfacePlane plane;
  double sigma;
};

// Weak prior on a pose: camera centre and orientation near the measurement.
struct PosePriorCost {
  PosePriorCost(const Rigid3d& rig_from_world, double sigma_m, double sigma_rad)
      : q_measured(rig_from_world.rotation), centre_measured(CameraCenter(rig_from_world)), sigma_m(sigma_m),
        sigma_rad(sigma_rad) {}
  template <typename T>
  bool operator()(const T* q_rig_world, const T* t_rig_world, T* residual) const {
    const Eigen::Map<const Eigen::Quaternion<T>> q(q_rig_world);
    const Eigen::Map<const Eigen::Matrix<T, 3, 1>> t(t_rig_world);
    const Eigen::Matrix<T, 3, 1> centre = -(q.conjugate() * t);
    for (int k = 0; k < 3; ++k) residual[k] = (centre[k] - T(centre_measured[k])) / T(sigma_m);
    const Eigen::Quaternion<T> delta = q_measured.cast<T>().conjugate() * q;
    // Small-angle: 2 * vector part, sign-corrected so q and -q agree.
    const T sign = delta.w() < T(0) ? T(-1) : T(1);
    for (int k = 0; k < 3; ++k) residual[3 + k] = T(2) * sign * delta.vec()[k] / T(sigma_rad);
    return true;
  }
  Eigen::Quaterniond q_measured;
  Eigen::Vector3d centre_measured;
  double sigma_m, sigma_rad;
};

double ReprojectionErrorPx(const AlignmentInput& in, const std::vector<Eigen::Quaterniond>& q,
                           const std::vector<Eigen::Vector3d>& t, const AlignmentObservation& obs,
                           const Eigen::Vector3d& point) {
  const Camera& cam = in.view_cameras[obs.view];
  const Eigen::Vector3d in_cam = in.view_cam_from_rig[obs.view].rotation * (q[obs.pano] * point + t[obs.pano]);
  if (in_cam.z() <= 1e-6) return 1e9;
  const Eigen::Vector2d proj(cam.params[0] * in_cam.x() / in_cam.z() + cam.params[2],
                             cam.params[1] * in_cam.y() / in_cam.z() + cam.params[3]);
  return (proj - obs.pixel).norm();
}

}  // namespace

absl::Status AlignmentOptions::Validate() const {
  auto positive = [](double v, const char* name) -> absl::Status {
    if (!(v > 0)) return absl::InvalidArgumentError(absl::StrCat("AlignmentOptions::", name, " = ", v, "; must be > 0"));
    return absl::OkStatus();
  };
  for (auto [v, name] : {std::pair{reprojection_loss_px, "reprojection_loss_px"}, {plane_sigma_m, "plane_sigma_m"},
                         {plane_loss_m, "plane_loss_m"}, {prior_position_sigma_m, "prior_position_sigma_m"},
                         {prior_rotation_sigma_deg, "prior_rotation_sigma_deg"},
                         {max_reprojection_error_px, "max_reprojection_error_px"}}) {
    if (auto s = positive(v, name); !s.ok()) return s;
  }
  if (rounds < 1 || max_iterations < 1 || num_threads < 1) {
    return absl::InvalidArgumentError("AlignmentOptions: rounds, max_iterations and num_threads must be >= 1");
  }
  return absl::OkStatus();
}

std::string AlignmentSummary::BriefReport() const {
  return absl::StrFormat(
      "alignment: %d tracks, %d observations, %d anchored on lidar (%d on level ground); reprojection rms %.2f -> %.2f px "
      "in %.1f s",
      num_tracks, num_observations, num_anchored, num_anchored_level, initial_rms_px, final_rms_px, seconds);
}

absl::StatusOr<std::vector<Rigid3d>> AlignPanoramas(const AlignmentInput& in, const AlignmentOptions& options,
                                                    std::vector<Eigen::Vector3d>* points, AlignmentSummary* summary) {
  if (auto s = options.Validate(); !s.ok()) return s;
  const auto start = std::chrono::steady_clock::now();
  const size_t num_panos = in.world_from_rig.size();
  if (in.view_cameras.size() != in.view_cam_from_rig.size()) return absl::InvalidArgumentError("views and cameras differ in count");
  for (const Camera& c : in.view_cameras) {
    if (c.model != CameraModelId::kPinhole) return absl::InvalidArgumentError("alignment expects PINHOLE virtual views");
  }
  for (const AlignmentTrack& track : in.tracks) {
    for (const AlignmentObservation& o : track.observations) {
      if (o.pano >= num_panos || o.view >= in.view_cameras.size()) return absl::InvalidArgumentError("observation index out of range");
    }
  }
  // Parameters.
  std::vector<Eigen::Quaterniond> q(num_panos);
  std::vector<Eigen::Vector3d> t(num_panos);
  for (size_t i = 0; i < num_panos; ++i) {
    const Rigid3d rig_from_world = in.world_from_rig[i].Inverse();
    q[i] = rig_from_world.rotation;
    t[i] = rig_from_world.translation;
  }
  points->assign(in.tracks.size(), Eigen::Vector3d::Constant(std::numeric_limits<double>::quiet_NaN()));
  for (size_t k = 0; k < in.tracks.size(); ++k) (*points)[k] = in.tracks[k].initial_point;
  std::vector<std::vector<bool>> active(in.tracks.size());
  for (size_t k = 0; k < in.tracks.size(); ++k) active[k].assign(in.tracks[k].observations.size(), true);

  auto rms = [&]() {
    double sum = 0;
    long n = 0;
    for (size_t k = 0; k < in.tracks.size(); ++k) {
      for (size_t o = 0; o < in.tracks[k].observations.size(); ++o) {
        if (!active[k][o]) continue;
        const double e = ReprojectionErrorPx(in, q, t, in.tracks[k].observations[o], (*points)[k]);
        sum += e * e;
        ++n;
      }
    }
    return n ? std::sqrt(sum / n) : 0.0;
  };
  summary->num_tracks = static_cast<int>(in.tracks.size());
  summary->initial_rms_px = rms();

  for (int round = 0; round < options.rounds; ++round) {
    ceres::Problem problem;
    int num_obs = 0, anchored = 0, anchored_level = 0;
    std::vector<bool> used_pano(num_panos, false);
    for (size_t k = 0; k < in.tracks.size(); ++k) {
      int n_active = 0;
      for (bool a : active[k]) n_active += a;
      if (n_active < 2) continue;  // a single view does not constrain relative poses
      double* point = (*points)[k].data();
      for (size_t o = 0; o < in.tracks[k].observations.size(); ++o) {
        if (!active[k][o]) continue;
        const AlignmentObservation& obs = in.tracks[k].observations[o];
        const Camera& cam = in.view_cameras[obs.view];
        auto* cost = new ceres::AutoDiffCostFunction<ReprojectionCost, 2, 4, 3, 3>(new ReprojectionCost(
            obs.pixel, in.view_cam_from_rig[obs.view].rotation, cam.params[0], cam.params[1], cam.params[2], cam.params[3]));
        problem.AddResidualBlock(cost, new ceres::CauchyLoss(options.reprojection_loss_px), q[obs.pano].coeffs().data(),
                                 t[obs.pano].data(), point);
        used_pano[obs.pano] = true;
        ++num_obs;
      }
      SurfacePlane plane;
      if (in.lidar_plane && in.lidar_plane((*points)[k], &plane)) {
        auto* cost = new ceres::AutoDiffCostFunction<PointToPlaneCost, 1, 3>(new PointToPlaneCost(plane, options.plane_sigma_m));
        problem.AddResidualBlock(cost, new ceres::HuberLoss(options.plane_loss_m / options.plane_sigma_m), point);
        ++anchored;
        anchored_level += std::abs(plane.normal.z()) > std::cos(30 * M_PI / 180);
      }
    }
    for (size_t i = 0; i < num_panos; ++i) {
      if (!used_pano[i]) continue;
      auto* prior = new ceres::AutoDiffCostFunction<PosePriorCost, 6, 4, 3>(new PosePriorCost(
          in.world_from_rig[i].Inverse(), options.prior_position_sigma_m, options.prior_rotation_sigma_deg * M_PI / 180));
      problem.AddResidualBlock(prior, nullptr, q[i].coeffs().data(), t[i].data());
      problem.SetManifold(q[i].coeffs().data(), new ceres::EigenQuaternionManifold);
    }
    summary->num_observations = num_obs;
    summary->num_anchored = anchored;
    summary->num_anchored_level = anchored_level;
    if (num_obs == 0) {
      ARMAP_LOG_WARN("alignment: no landmark is seen by two panoramas; keeping the measured trajectory");
      break;
    }
    ceres::Solver::Options solver;
    // Few poses (tens to hundreds): the reduced camera system is small and
    // dense. Starting Levenberg-Marquardt with more damping (Ceres starts at
    // a trust region of 1e4) avoids first steps whose reduced system is not
    // positive definite in floating point (stiff lidar-plane terms next to
    // landmarks whose depth the images barely fix), which Ceres reports as
    // "Linear solver failure" warnings before it retries with more damping.
    solver.linear_solver_type = num_panos <= 300 ? ceres::DENSE_SCHUR : ceres::SPARSE_SCHUR;
    solver.initial_trust_region_radius = 1e2;
    solver.max_num_iterations = options.max_iterations;
    solver.num_threads = options.num_threads;
    solver.logging_type = ceres::SILENT;
    ceres::Solver::Summary ceres_summary;
    {
      // Rejected steps that Ceres retries with more damping are glog
      // warnings ("Linear solver failure"); expected here, so only glog
      // errors are printed during the solve (the summary keeps the count).
      const int saved_min_log_level = FLAGS_minloglevel;
      FLAGS_minloglevel = google::GLOG_ERROR;
      ceres::Solve(solver, &problem, &ceres_summary);
      FLAGS_minloglevel = saved_min_log_level;
    }
    if (!ceres_summary.IsSolutionUsable()) {
      return absl::InternalError(absl::StrCat("alignment: solver failed: ", ceres_summary.message));
    }
    // Drop observations that still do not fit before the next round.
    int dropped = 0;
    for (size_t k = 0; k < in.tracks.size(); ++k) {
      for (size_t o = 0; o < in.tracks[k].observations.size(); ++o) {
        if (active[k][o] && ReprojectionErrorPx(in, q, t, in.tracks[k].observations[o], (*points)[k]) >
                                options.max_reprojection_error_px) {
          active[k][o] = false;
          ++dropped;
        }
      }
    }
    ARMAP_LOG_INFO("alignment round {}: {} observations, {} anchored, cost {:.1f} -> {:.1f}, dropped {}", round + 1,
                   num_obs, anchored, ceres_summary.initial_cost, ceres_summary.final_cost, dropped);
  }
  summary->final_rms_px = rms();
  for (size_t k = 0; k < in.tracks.size(); ++k) {
    int n_active = 0;
    for (bool a : active[k]) n_active += a;
    if (n_active < 2) (*points)[k] = Eigen::Vector3d::Constant(std::numeric_limits<double>::quiet_NaN());
  }
  summary->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<Rigid3d> refined(num_panos);
  for (size_t i = 0; i < num_panos; ++i) refined[i] = Rigid3d(q[i].normalized(), t[i]).Inverse();
  return refined;
}

}  // namespace armap::mapping
