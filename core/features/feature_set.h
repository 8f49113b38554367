// Local features as plain data: keypoints plus row-major uint8 descriptors.
// Shared by the mapping pipeline (building a map) and the localizer
// (querying it), so both see the same types and the same numbers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"

namespace armap::features {

// Pixel convention of core/camera.h: the centre of pixel (col, row) is at
// (col, row); x right, y down.
struct Keypoint {
  float x = 0;
  float y = 0;
  // Gaussian scale sigma of the detection, pixels of the input image
  // (cv::KeyPoint::size / 2 for OpenCV SIFT).
  float scale = 0;
  // Dominant gradient orientation, radians in [0, 2pi), measured from +x
  // towards +y (clockwise on screen, y pointing down).
  float orientation_rad = 0;
};

// N keypoints and N x dim uint8 descriptors, row-major
// (descriptors.size() == keypoints.size() * dim).
struct FeatureSet {
  std::vector<Keypoint> keypoints;
  std::vector<uint8_t> descriptors;
  int dim = 128;

  size_t size() const { return keypoints.size(); }
  bool empty() const { return keypoints.empty(); }
  const uint8_t* descriptor(size_t i) const { return descriptors.data() + i * static_cast<size_t>(dim); }
  // Appends `other`'s keypoints and descriptors. An empty set takes other's
  // dim; otherwise the dims must agree (a programmer error: aborts).
  void Append(const FeatureSet& other);
  // Keeps the features at `indices` (in that order).
  FeatureSet Subset(const std::vector<size_t>& indices) const;
  // InvalidArgument when dim <= 0 or the descriptor buffer does not hold
  // exactly size() * dim bytes; `what` names the set in the message.
  [[nodiscard]] absl::Status CheckConsistent(const char* what = "FeatureSet") const;
};

}  // namespace armap::features
