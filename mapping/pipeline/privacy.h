// Privacy: faces and licence plates are detected and blurred in every
// panorama before any other stage reads it.
#pragma once

#include <memory>
#include <string>

#include <opencv2/core.hpp>

#include "absl/status/statusor.h"

namespace armap::mapping {

struct PrivacyOptions {
  std::string cascade_dir = "/usr/share/opencv4/haarcascades";  // Debian's opencv-data
  int min_neighbors = 6;         // higher = fewer false positives on window grids
  int min_size_px = 20;
  double max_abs_elevation_deg = 40;  // people and cars are near the horizon
  absl::Status Validate() const;
};

struct PrivacyCounts {
  int faces = 0;
  int plates = 0;
};

class PrivacyFilter {
 public:
  static absl::StatusOr<std::unique_ptr<PrivacyFilter>> Create(const PrivacyOptions& options);
  ~PrivacyFilter();
  // Blurs detections in place (equirectangular BGR image). Not thread-safe.
  PrivacyCounts Apply(cv::Mat& panorama) const;

 private:
  PrivacyFilter();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace armap::mapping
