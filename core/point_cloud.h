// A point cloud with optional per-point attributes. Positions are stored as
// float offsets from a double `origin`, so georeferenced clouds (UTM, ECEF)
// keep millimetre precision in half the memory of doubles.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include <Eigen/Core>

namespace armap {

struct PointCloud {
  Eigen::Vector3d origin = Eigen::Vector3d::Zero();
  std::vector<Eigen::Vector3f> points;            // point = origin + points[i]
  std::vector<float> intensity;                   // empty, or one per point
  std::vector<double> timestamp_s;                // empty, or one per point
  std::vector<std::array<uint8_t, 3>> colors;     // empty, or one per point (RGB)
  std::vector<uint8_t> classification;            // empty, or one per point (LAS classes)

  size_t size() const { return points.size(); }
  bool empty() const { return points.empty(); }
  Eigen::Vector3d Point(size_t i) const { return origin + points[i].cast<double>(); }
  bool HasIntensity() const { return !intensity.empty(); }
  bool HasTimestamps() const { return !timestamp_s.empty(); }
  bool HasColors() const { return !colors.empty(); }
  bool HasClassification() const { return !classification.empty(); }
  void Reserve(size_t n) { points.reserve(n); }
};

}  // namespace armap
