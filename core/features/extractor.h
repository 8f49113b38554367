// SIFT / RootSIFT feature extraction behind a plain-data API: our SIFT
// (core/features/sift.h) or OpenCV's, the same features either way.
//
// Output is deterministic: the same image and options give bit-identical
// keypoints and descriptors in the same order, whatever the thread count, so
// a map built by the mapping pipeline and a query seen by the localizer are
// described identically.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/features/feature_set.h"

namespace armap::features {

// A non-owning 8-bit image view, row-major with a stride in bytes.
// channels: 1 (gray), 3 (BGR) or 4 (BGRA). stride_bytes == 0 means tightly
// packed (width * channels).
struct ImageView {
  const uint8_t* data = nullptr;
  int width = 0;
  int height = 0;
  int channels = 1;
  size_t stride_bytes = 0;

  // InvalidArgument for a null/zero-size image, bad channel count or a
  // stride smaller than a row.
  [[nodiscard]] absl::Status Validate() const;
};

// A map and the queries against it must be described with the same options.
struct ExtractorOptions {
  // "rootsift" (default) or "sift".
  std::string type = "rootsift";
  // The strongest features (by detector response) are kept.
  int max_features = 2000;
  // OpenCV SIFT's contrast threshold; lower than its 0.04 default so that
  // low-texture facades still yield features.
  double contrast_threshold = 0.02;
  // OpenCV SIFT's edge threshold (principal curvature ratio).
  double edge_threshold = 10.0;
  // Scale-space layers per octave.
  int octave_layers = 3;
  // "opencv": cv::SIFT itself. "armap": core/features/sift.h, OpenCV 4.6's
  // SIFT re-engineered for one core (bench/sift_bench: ~0.55 of OpenCV's
  // time on the default city's 640 px queries). Same keypoints and
  // descriptors to float rounding (SiftVsOpenCvTest), so maps built with
  // one match queries described by the other. Not yet the default:
  // FromColmapTest.LundDoorWithoutDatabase's exact top-1 retrieval of view
  // 9 flips to view 10 when the map is built with it (a near tie of the
  // trained VLAD codebook).
  std::string implementation = "opencv";

  // InvalidArgument naming the field, e.g.
  // "ExtractorOptions::max_features = 0; must be > 0".
  [[nodiscard]] absl::Status Validate() const;
};

class FeatureExtractor {
 public:
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<FeatureExtractor>> Create(const ExtractorOptions& options);
  virtual ~FeatureExtractor() = default;

  // Thread-safe. `mask` (optional) is width * height bytes, row-major and
  // tightly packed; features are detected only where it is nonzero.
  // Returns at most max_features features, strongest first.
  [[nodiscard]] virtual absl::StatusOr<FeatureSet> Extract(const ImageView& image,
                                                           const uint8_t* mask = nullptr) const = 0;
};

// RootSIFT (Arandjelovic & Zisserman 2012): L1-normalise the (non-negative)
// SIFT vector, take the element-wise square root (the result has unit L2
// norm), and quantise to uint8 as round(min(255, 512 * v)) (COLMAP's
// scaling). A zero vector maps to zeros; negative inputs count as 0.
void SiftToRootSift(const float* sift, int dim, uint8_t* out);
// The same before quantisation: out = sqrt(max(sift, 0) / |max(sift, 0)|_1).
void SiftToRootSiftFloat(const float* sift, int dim, float* out);

}  // namespace armap::features
