// Multi-source pose alignment: refines every panorama pose against the lidar
// and against its neighbours. Landmarks seen in several panoramas are
// jointly optimised with the poses (reprojection error, robust loss) while
// each landmark is held on its lidar surface (point-to-plane), which makes
// the result metric and anchored in the map frame; a weak prior keeps poses
// near the measured trajectory where the geometry says little.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "absl/status/statusor.h"
#include "core/camera.h"
#include "core/rigid3.h"

namespace armap::mapping {

struct AlignmentObservation {
  uint32_t pano = 0;
  uint32_t view = 0;            // index into AlignmentInput::views
  Eigen::Vector2d pixel;        // keypoint in the view image
};

struct AlignmentTrack {
  std::vector<AlignmentObservation> observations;
  Eigen::Vector3d initial_point;  // from lidar depth with the measured poses
};

struct SurfacePlane {
  Eigen::Vector3d point = Eigen::Vector3d::Zero();
  Eigen::Vector3d normal = Eigen::Vector3d::UnitZ();  // unit
  double rms_m = 0;
};

struct AlignmentInput {
  std::vector<Rigid3d> world_from_rig;                 // measured, one per panorama
  std::vector<Camera> view_cameras;                    // per view of the rig (perspective)
  std::vector<Rigid3d> view_cam_from_rig;
  std::vector<AlignmentTrack> tracks;
  // The lidar surface near a point; false where there is none.
  std::function<bool(const Eigen::Vector3d& point, SurfacePlane* plane)> lidar_plane;
};

struct AlignmentOptions {
  double reprojection_loss_px = 1.0;        // Cauchy scale
  // Uncertainty of a landmark's lidar surface. Each plane is fitted to the
  // points within 0.3 m (at least 8, typically tens) with 1-3 cm rms, so its
  // offset is known to a few millimetres. The planes are what fixes height
  // and roll: on the default synthetic city 0.02 / 0.01 / 0.005 leave a mean
  // rig roll error of 0.047 / 0.044 / 0.043 deg, median rotation error
  // 0.055 / 0.053 / 0.052 deg.
  double plane_sigma_m = 0.005;
  double plane_loss_m = 0.05;               // Huber scale for the surface residual
  double prior_position_sigma_m = 0.3;      // weak pull towards the measured trajectory
  double prior_rotation_sigma_deg = 2.0;
  double max_reprojection_error_px = 3.0;   // observations beyond are dropped between rounds
  int rounds = 3;                           // re-associate lidar planes between rounds
  int max_iterations = 50;                  // per round
  int num_threads = 2;
  absl::Status Validate() const;
};

struct AlignmentSummary {
  int num_tracks = 0;
  int num_observations = 0;
  int num_anchored = 0;                     // landmarks held on a lidar plane
  int num_anchored_level = 0;               // of which on a level plane (normal within 30 deg of vertical)
  double initial_rms_px = 0, final_rms_px = 0;
  double seconds = 0;
  std::string BriefReport() const;
};

// Returns the refined world_from_rig per panorama, and the refined landmark
// positions in *points (same order as input tracks; NaN for dropped ones).
absl::StatusOr<std::vector<Rigid3d>> AlignPanoramas(const AlignmentInput& input, const AlignmentOptions& options,
                                                    std::vector<Eigen::Vector3d>* points, AlignmentSummary* summary);

}  // namespace armap::mapping
