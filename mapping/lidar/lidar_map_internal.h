// Internal to mapping/lidar: what a LidarMap holds. Not a public API.
#pragma once

#include <cstdint>
#include <vector>

#include <Eigen/Geometry>

#include "core/point_cloud.h"
#include "mapping/lidar/grid_index.h"
#include "mapping/lidar/ground.h"

namespace armap::mapping::internal {

struct LidarMapData {
  PointCloud full;          // full resolution, ordered by full_index
  GridIndex full_index;
  PointCloud cloud;         // downsampled + outlier-filtered, ordered by cloud_index
  GridIndex cloud_index;
  std::vector<uint8_t> ground;  // per cloud point
  size_t num_ground = 0;
  GroundModel ground_model;     // offset frame of `cloud` (same origin as `full`)
  double voxel_size_m = 0.05;
  Eigen::AlignedBox3d bounds;   // map frame
};

}  // namespace armap::mapping::internal
