// Internal to mapping/lidar: the only door to PCL (implemented in
// lidar_pcl.cc, the one translation unit that includes PCL headers). Takes
// and returns plain Eigen / std types. Not a public API.
#pragma once

#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include "absl/status/statusor.h"

namespace armap::mapping::internal {

// pcl::StatisticalOutlierRemoval over all `points` (mean distance to the
// mean_k nearest neighbours; outlier above mean + stddev_mul * stddev of
// those over the cloud): keep[i] = 1 for inliers. Single-threaded, FLANN
// kd-tree. PCL exceptions and failures become a Status.
absl::StatusOr<std::vector<uint8_t>> PclStatisticalOutlierKeepMask(const std::vector<Eigen::Vector3f>& points,
                                                                   int mean_k, double stddev_mul);

}  // namespace armap::mapping::internal
