// Ceres lives in this one translation unit (it is heavy to compile).
#include <cmath>
#include <memory>

#include <ceres/ceres.h>
#include <ceres/rotation.h>

#include "localization/absolute_pose.h"

namespace armap::loc {
namespace {

// Reprojection error in pixels of one 2D-3D correspondence; the pose is an
// Eigen quaternion [x, y, z, w] (EigenQuaternionManifold) plus translation.
struct ReprojectionCost {
  ReprojectionCost(const Eigen::Vector2d& observed, const Eigen::Vector3d& point, double focal_px)
      : observed_(observed), point_(point), focal_px_(focal_px) {}
  template <typename T>
  bool operator()(const T* q, const T* t, T* residual) const {
    const Eigen::Map<const Eigen::Quaternion<T>> rotation(q);
    const Eigen::Matrix<T, 3, 1> p = rotation * point_.cast<T>() + Eigen::Map<const Eigen::Matrix<T, 3, 1>>(t);
    if (p.z() <= T(1e-6)) {
      residual[0] = residual[1] = T(1e3);  // behind the camera: a large, constant error
      return true;
    }
    residual[0] = T(focal_px_) * (p.x() / p.z() - T(observed_.x()));
    residual[1] = T(focal_px_) * (p.y() / p.z() - T(observed_.y()));
    return true;
  }
  Eigen::Vector2d observed_;
  Eigen::Vector3d point_;
  double focal_px_;
};

// The camera's predicted "down" against the accelerometer's, in units of
// sigma (small-angle: the difference of unit vectors is the angle).
struct GravityCost {
  GravityCost(const Eigen::Vector3d& gravity_in_cam, double sigma_rad)
      : gravity_(gravity_in_cam.normalized()), inv_sigma_(1.0 / sigma_rad) {}
  template <typename T>
  bool operator()(const T* q, T* residual) const {
    const Eigen::Map<const Eigen::Quaternion<T>> rotation(q);
    const Eigen::Matrix<T, 3, 1> down = rotation * Eigen::Matrix<T, 3, 1>(T(0), T(0), T(-1));
    for (int i = 0; i < 3; ++i) residual[i] = T(inv_sigma_) * (down[i] - T(gravity_[i]));
    return true;
  }
  Eigen::Vector3d gravity_;
  double inv_sigma_;
};

double InlierRmsPx(const PoseCorrespondences& c, const std::vector<char>& mask, const Rigid3d& cam_from_world,
                   double focal_px) {
  double sum = 0;
  int n = 0;
  for (size_t i = 0; i < c.size(); ++i) {
    if (!mask[i]) continue;
    const Eigen::Vector3d p = cam_from_world * c.point_in_world[i];
    if (p.z() <= 1e-6) continue;
    sum += (p.head<2>() / p.z() - c.normalized[i]).squaredNorm();
    ++n;
  }
  return n ? focal_px * std::sqrt(sum / n) : 0.0;
}

}  // namespace

Rigid3d RefineAbsolutePose(const PoseCorrespondences& c, const std::vector<char>& inlier_mask,
                           const Rigid3d& initial_cam_from_world, const AbsolutePoseOptions& o, double* rms_px) {
  Eigen::Quaterniond q = initial_cam_from_world.rotation;
  Eigen::Vector3d t = initial_cam_from_world.translation;
  // One loss shared by all residuals, owned here (declared before the
  // problem, so it outlives it).
  const auto loss = std::make_unique<ceres::CauchyLoss>(o.refine_loss_px);
  ceres::Problem::Options problem_options;
  problem_options.loss_function_ownership = ceres::DO_NOT_TAKE_OWNERSHIP;
  ceres::Problem problem(problem_options);
  int used = 0;
  for (size_t i = 0; i < c.size(); ++i) {
    if (!inlier_mask[i]) continue;
    problem.AddResidualBlock(new ceres::AutoDiffCostFunction<ReprojectionCost, 2, 4, 3>(
                                 new ReprojectionCost(c.normalized[i], c.point_in_world[i], o.focal_px)),
                             loss.get(), q.coeffs().data(), t.data());
    ++used;
  }
  if (used < 4) {
    if (rms_px) *rms_px = InlierRmsPx(c, inlier_mask, initial_cam_from_world, o.focal_px);
    return initial_cam_from_world;
  }
  if (o.has_gravity) {
    problem.AddResidualBlock(new ceres::AutoDiffCostFunction<GravityCost, 3, 4>(
                                 new GravityCost(o.gravity_in_cam, o.gravity_sigma_deg * M_PI / 180.0)),
                             nullptr, q.coeffs().data());
  }
  problem.SetManifold(q.coeffs().data(), new ceres::EigenQuaternionManifold);
  ceres::Solver::Options options;
  options.linear_solver_type = ceres::DENSE_QR;
  options.max_num_iterations = o.refine_max_iterations;
  options.num_threads = 1;
  options.logging_type = ceres::SILENT;
  options.minimizer_progress_to_stdout = false;
  ceres::Solver::Summary summary;
  ceres::Solve(options, &problem, &summary);
  Rigid3d refined(q, t);
  if (!summary.IsSolutionUsable() || !refined.translation.allFinite()) refined = initial_cam_from_world;
  if (rms_px) *rms_px = InlierRmsPx(c, inlier_mask, refined, o.focal_px);
  return refined;
}

}  // namespace armap::loc
