// Internals of the POI stage, exposed for its tests and tools.
#pragma once

#include <vector>

#include <Eigen/Core>

#include "absl/status/statusor.h"
#include "mapping/products/pois.h"

namespace armap::mapping::internal {

// A sign board found in the lidar: a vertical rectangle standing proud of a
// facade (box signs and light boxes stand 5-25 cm off the wall).
struct SignCandidate {
  Eigen::Vector3d centre = Eigen::Vector3d::Zero();   // centre of the face, map frame
  Eigen::Vector3d outward = Eigen::Vector3d::UnitX(); // facade normal, horizontal, towards the street
  Eigen::Vector3d right = Eigen::Vector3d::UnitY();   // along the face, left to right seen from the front
  double width_m = 0.0;
  double height_m = 0.0;
  double relief_m = 0.0;  // face in front of the wall
  int num_points = 0;
};

// Non-ground lidar points (map frame) with their height above the ground.
struct FacadePoints {
  std::vector<Eigen::Vector3d> points;
  std::vector<float> height_above_ground_m;
};

FacadePoints FacadePointsFromLidar(const LidarMap& lidar, const ProductInputs& inputs, const PoiOptions& options);

// Facades as straight wall segments (Hough on a plan-view occupancy grid of
// the wall points), the wall a least-squares line through its points, then
// per facade the points 5-25 cm off the wall on either side in the sign
// band, grouped along the facade into boards facing that side.
std::vector<SignCandidate> FindSignCandidates(const FacadePoints& facade, const ProductInputs& inputs,
                                              const PoiOptions& options, OrderedJson* summary);

// Share of the board's face (a 7 x 3 grid of rays) that lidar points
// between the camera and the board hide: a point within 8 cm of a ray,
// from 1 m off the camera to 40 cm before the face.
double OccludedFraction(const std::vector<Eigen::Vector3d>& points, const SignCandidate& sign,
                        const Eigen::Vector3d& camera);

// Everything after the lidar: candidates, views, OCR, fusion, categories.
absl::StatusOr<PoiSet> DetectPoisFromFacadePoints(const FacadePoints& facade, const ProductInputs& inputs,
                                                  const PoiOptions& options);

}  // namespace armap::mapping::internal
