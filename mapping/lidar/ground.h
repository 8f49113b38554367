// Internal to mapping/lidar: ground segmentation and the ground model it
// leaves behind. Not a public API.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "mapping/lidar/lidar_map.h"

namespace armap::mapping::internal {

// A plane per grid cell, in the cloud's offset frame:
//   z(x, y) = height + slope_x * (x - centre_x) + slope_y * (y - centre_y).
struct GroundModel {
  enum State : uint8_t { kNone = 0, kFitted = 1, kFilled = 2, kRejected = 3 };
  double min_x = 0, min_y = 0;  // lower-left corner of cell (0, 0)
  double cell_m = 1.0;
  int nx = 0, ny = 0;
  float max_height_m = 0.25f;
  std::vector<float> height, slope_x, slope_y;
  std::vector<uint8_t> state;

  bool HeightAt(double x, double y, double* z) const;
  bool IsGround(const Eigen::Vector3f& point) const {
    double z;
    return HeightAt(point.x(), point.y(), &z) && std::abs(point.z() - z) <= max_height_m;
  }
};

struct GroundStats {
  int num_ground_cells = 0;      // cells with a fitted plane
  int num_regions_dropped = 0;   // 8-connected regions below ground_min_component_m2
  std::vector<std::string> warnings;
};

// Segments ground in `points` (offset frame); flags->at(i) = 1 for ground.
GroundModel SegmentGround(const std::vector<Eigen::Vector3f>& points, const LidarPreprocessOptions& options,
                          std::vector<uint8_t>* flags, GroundStats* stats);

}  // namespace armap::mapping::internal
