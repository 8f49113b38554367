// Our SIFT detector + descriptor: the algorithm of OpenCV 4.6's cv::SIFT
// (Lowe 2004, float scale space, "double image" first octave), re-engineered
// for one core. Keypoints and descriptors are OpenCV's up to float rounding,
// so maps built with OpenCV SIFT keep matching queries described by this one.
//
// Where it differs from OpenCV in the work done, never in the result:
// - the max_features cut happens before orientation and description (the
//   response |interpolated DoG| is known after sub-pixel refinement);
// - gradient magnitude and angle are computed where the windows sample them,
//   16 at a time, from the Gaussian level (maps per level, COLMAP / VLFeat
//   style, were 9.8 MB each at 1280 x 960 and left the windows waiting on
//   L3 for two arrays);
// - Gaussian sample weights come from small separable tables
//   (exp(-(i^2 + j^2) a) = exp(-i^2 a) exp(-j^2 a));
// - the descriptor histogram holds one 8-value block per (row, column,
//   orientation) corner, so a sample's trilinear interpolation is one
//   32-byte add; the bins are summed from their blocks at the end;
// - the blur, extrema scan, orientation and descriptor kernels use AVX-512
//   when the CPU has it (runtime check, scalar fallback, tested against
//   each other and against OpenCV).
//
// Internal to core/features: extractor.cc wraps it behind FeatureExtractor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"

namespace armap::features::internal {

struct SiftOptions {
  // Keep the strongest max_features keypoints (after the mask), ordered as
  // extractor.cc's StrongerFirst; 0 keeps all.
  int max_features = 2000;
  int octave_layers = 3;
  double contrast_threshold = 0.02;
  double edge_threshold = 10.0;
  double sigma = 1.6;

  [[nodiscard]] absl::Status Validate() const;
};

// A keypoint in OpenCV's cv::KeyPoint conventions, so extractor.cc treats
// both implementations alike: (x, y) in input pixels with OpenCV's
// "double image" offset (0.25 px from the core/camera.h pixel centres),
// size = diameter (2 * scale), angle in degrees, counter-clockwise in OpenCV's
// y-down sense, octave packed as octave | layer << 8 | sub-layer << 16.
struct SiftKeypoint {
  float x = 0;
  float y = 0;
  float size = 0;
  float angle_deg = 0;
  float response = 0;
  int octave = 0;
};

struct SiftOutput {
  std::vector<SiftKeypoint> keypoints;
  // keypoints.size() x 128, row-major: OpenCV's CV_32F SIFT values, i.e.
  // round(512 * v) of the clamped, renormalised histogram, in [0, 255].
  std::vector<float> descriptors;
  // Thread CPU time per stage, for benchmarks.
  double pyramid_ms = 0;      // initial image, Gaussian and DoG pyramids
  double extrema_ms = 0;      // scan, refinement, duplicates, mask, sort
  double orientation_ms = 0;  // orientation histograms
  double descriptor_ms = 0;
};

// gray: width x height 8-bit, row stride stride_bytes (>= width). mask:
// optional, width x height tightly packed; keypoints are kept only where it
// is nonzero (tested at the rounded keypoint position, like OpenCV's
// KeyPointsFilter::runByPixelsMask), before the max_features cut.
// Keypoints come out strongest first; at equal response by y, x, size, angle.
[[nodiscard]] absl::Status DetectAndDescribeSift(const uint8_t* gray, int width, int height, size_t stride_bytes,
                                                 const uint8_t* mask, const SiftOptions& options, SiftOutput* out);

// True when this machine runs the AVX-512 kernels.
bool SiftUsesAvx512();
// Testing hook: force the scalar kernels (process-wide).
void SiftForceScalarForTesting(bool force);

}  // namespace armap::features::internal
