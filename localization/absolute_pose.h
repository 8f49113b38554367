// Absolute camera pose from 2D-3D correspondences: P3P (p3p.h) in a locally
// optimised RANSAC (LO-RANSAC, Chum et al. 2003), with an optional gravity
// check on every hypothesis, and robust non-linear refinement (Ceres).
//
// Image points are normalised camera coordinates (undistorted x/z, y/z), so
// the solvers see a pinhole camera with unit focal length whatever the
// phone's model; errors are converted to pixels with `focal_px`.
#pragma once

#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include "absl/status/status.h"
#include "core/rigid3.h"

namespace armap::loc {

struct PoseCorrespondences {
  std::vector<Eigen::Vector2d> normalized;  // x/z, y/z in the camera frame
  std::vector<Eigen::Vector3d> point_in_world;
  size_t size() const { return normalized.size(); }
};

struct AbsolutePoseOptions {
  // Focal length (pixels) that converts normalised errors to pixels.
  double focal_px = 500;
  // Inlier threshold, pixels.
  double max_error_px = 4.0;
  int min_iterations = 100;
  int max_iterations = 2000;
  // Stop once a better hypothesis is this unlikely to exist.
  double success_probability = 0.9999;
  // Hypotheses need this many inliers before local optimisation runs.
  int min_inliers = 12;
  // Gravity ("down", unit) in the camera frame; hypotheses further than
  // max_gravity_error_deg from it are discarded before scoring.
  bool has_gravity = false;
  Eigen::Vector3d gravity_in_cam = Eigen::Vector3d(0, 1, 0);
  double max_gravity_error_deg = 5.0;
  // Refinement: Cauchy loss scale (pixels) and gravity prior sigma.
  double refine_loss_px = 1.5;
  double gravity_sigma_deg = 1.0;
  int refine_max_iterations = 30;
  uint64_t seed = 1;

  [[nodiscard]] absl::Status Validate() const;
};

struct AbsolutePoseResult {
  bool found = false;
  Rigid3d cam_from_world;
  std::vector<char> inlier_mask;  // per correspondence
  int num_inliers = 0;
  int iterations = 0;
  double rms_error_px = 0;  // over the inliers, after refinement
};

// Deterministic for a seed. Needs at least 4 correspondences (3 for the
// sample, one to disambiguate); fewer gives found = false.
AbsolutePoseResult EstimateAbsolutePose(const PoseCorrespondences& correspondences,
                                        const AbsolutePoseOptions& options);

// Robust refinement of cam_from_world over the correspondences in
// `inlier_mask` (Cauchy loss in pixels, gravity prior when given). Returns
// the refined pose; *rms_px receives the inliers' RMS reprojection error.
Rigid3d RefineAbsolutePose(const PoseCorrespondences& correspondences, const std::vector<char>& inlier_mask,
                           const Rigid3d& initial_cam_from_world, const AbsolutePoseOptions& options,
                           double* rms_px);

}  // namespace armap::loc
