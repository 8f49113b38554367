#include "core/features/extractor.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <utility>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/features2d.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"
#include "core/features/sift.h"
#include "core/status.h"

namespace armap::features {
namespace {

constexpr int kSiftDim = 128;
constexpr double kSiftSigma = 1.6;  // OpenCV's (and Lowe's) base scale
constexpr float kTwoPi = 6.28318530717958647692f;

// OpenCV SIFT (4.6, no "precise upscale") doubles the image with
// half-pixel-centred bilinear resampling, so doubled-image coordinate u is
// original coordinate u / 2 - 0.25, but it reports u / 2. Subtracting 0.25
// restores the core/camera.h convention (pixel (c, r) centred at (c, r));
// ExtractorTest.KeypointsFollowThePixelCentreConvention checks it on blobs.
constexpr float kUpsampledOctaveOffsetPx = 0.25f;

// A total order on keypoints: strongest first, then by position and shape,
// so the kept set and its order do not depend on OpenCV's thread schedule.
bool StrongerFirst(const cv::KeyPoint& a, const cv::KeyPoint& b) {
  if (a.response != b.response) return a.response > b.response;
  if (a.pt.y != b.pt.y) return a.pt.y < b.pt.y;
  if (a.pt.x != b.pt.x) return a.pt.x < b.pt.x;
  if (a.size != b.size) return a.size < b.size;
  if (a.angle != b.angle) return a.angle < b.angle;
  return a.octave < b.octave;
}

class SiftExtractor final : public FeatureExtractor {
 public:
  SiftExtractor(const ExtractorOptions& options, bool root) : options_(options), root_(root) {}

  absl::StatusOr<FeatureSet> Extract(const ImageView& image, const uint8_t* mask) const override {
    ARMAP_RETURN_IF_ERROR(image.Validate());
    const size_t stride =
        image.stride_bytes != 0 ? image.stride_bytes : static_cast<size_t>(image.width) * image.channels;
    try {
      // OpenCV does not write through these headers; the const_casts only
      // satisfy cv::Mat's constructor.
      const cv::Mat view(image.height, image.width, CV_8UC(image.channels), const_cast<uint8_t*>(image.data), stride);
      cv::Mat gray;
      if (image.channels == 1) {
        gray = view;
      } else {
        cv::cvtColor(view, gray, image.channels == 3 ? cv::COLOR_BGR2GRAY : cv::COLOR_BGRA2GRAY);
      }
      std::vector<cv::KeyPoint> cv_keypoints;
      cv::Mat cv_descriptors;
      if (options_.implementation == "armap") {
        ARMAP_RETURN_IF_ERROR(DetectArmap(gray, mask, &cv_keypoints, &cv_descriptors));
      } else {
        DetectOpenCv(gray, mask, &cv_keypoints, &cv_descriptors);
      }
      FeatureSet out;
      out.dim = kSiftDim;
      if (cv_keypoints.empty()) return out;
      if (cv_descriptors.rows != static_cast<int>(cv_keypoints.size()) || cv_descriptors.cols != kSiftDim ||
          cv_descriptors.type() != CV_32F) {
        return absl::InternalError(absl::StrCat("OpenCV SIFT returned ", cv_descriptors.rows, "x", cv_descriptors.cols,
                                                " descriptors for ", cv_keypoints.size(), " keypoints"));
      }
      std::vector<int> order(cv_keypoints.size());
      for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
      std::sort(order.begin(), order.end(), [&](int a, int b) { return StrongerFirst(cv_keypoints[a], cv_keypoints[b]); });
      const size_t num_selected = std::min(order.size(), static_cast<size_t>(options_.max_features));

      out.keypoints.resize(num_selected);
      out.descriptors.resize(num_selected * kSiftDim);
      for (size_t i = 0; i < num_selected; ++i) {
        const cv::KeyPoint& kp = cv_keypoints[order[i]];
        Keypoint& k = out.keypoints[i];
        k.x = kp.pt.x - kUpsampledOctaveOffsetPx;
        k.y = kp.pt.y - kUpsampledOctaveOffsetPx;
        k.scale = 0.5f * kp.size;
        float angle = kp.angle * (kTwoPi / 360.0f);
        if (angle < 0 || angle >= kTwoPi) angle -= kTwoPi * std::floor(angle / kTwoPi);
        k.orientation_rad = angle < kTwoPi ? angle : 0.0f;
        const float* row = cv_descriptors.ptr<float>(order[i]);
        uint8_t* dst = out.descriptors.data() + i * kSiftDim;
        if (root_) {
          SiftToRootSift(row, kSiftDim, dst);
        } else {
          // OpenCV's float SIFT is already round(512 * v) clamped to 255.
          for (int j = 0; j < kSiftDim; ++j) dst[j] = cv::saturate_cast<uint8_t>(row[j]);
        }
      }
      return out;
    } catch (const cv::Exception& e) {
      return absl::InternalError(
          absl::StrCat("OpenCV SIFT failed on a ", image.width, "x", image.height, " image: ", e.what()));
    } catch (const std::exception& e) {
      return absl::InternalError(absl::StrCat("SIFT extraction failed: ", e.what()));
    }
  }

 private:
  void DetectOpenCv(const cv::Mat& gray, const uint8_t* mask, std::vector<cv::KeyPoint>* keypoints,
                    cv::Mat* descriptors) const {
    cv::Mat cv_mask;
    if (mask != nullptr) cv_mask = cv::Mat(gray.rows, gray.cols, CV_8UC1, const_cast<uint8_t*>(mask));
    // A detector per call keeps Extract() thread-safe (creation is cheap).
    // One pass builds the scale space once. OpenCV's nfeatures cut
    // (retainBest) keeps every keypoint whose response reaches the
    // max_features-th, a set that does not depend on thread schedule; the
    // total order in Extract() then picks exactly max_features of them, so
    // the result equals detecting all, sorting, and describing the strongest
    // (descriptors depend only on the keypoint and the shared pyramid).
    // OpenCV applies the mask after that cut, so with a mask nothing is
    // cut early (the mask must not leave fewer than max_features).
    const int opencv_cut = mask != nullptr ? 0 : options_.max_features;
    cv::Ptr<cv::SIFT> sift = cv::SIFT::create(opencv_cut, options_.octave_layers, options_.contrast_threshold,
                                              options_.edge_threshold, kSiftSigma);
    sift->detectAndCompute(gray, cv_mask, *keypoints, *descriptors);
  }

  // core/features/sift.h: the same keypoints and descriptors, already cut
  // to max_features (after the mask) and in StrongerFirst order.
  absl::Status DetectArmap(const cv::Mat& gray, const uint8_t* mask, std::vector<cv::KeyPoint>* keypoints,
                           cv::Mat* descriptors) const {
    internal::SiftOptions sift_options;
    sift_options.max_features = options_.max_features;
    sift_options.octave_layers = options_.octave_layers;
    sift_options.contrast_threshold = options_.contrast_threshold;
    sift_options.edge_threshold = options_.edge_threshold;
    sift_options.sigma = kSiftSigma;
    internal::SiftOutput sift;
    ARMAP_RETURN_IF_ERROR(
        internal::DetectAndDescribeSift(gray.data, gray.cols, gray.rows, gray.step[0], mask, sift_options, &sift));
    keypoints->resize(sift.keypoints.size());
    for (size_t i = 0; i < sift.keypoints.size(); ++i) {
      const internal::SiftKeypoint& k = sift.keypoints[i];
      (*keypoints)[i] = cv::KeyPoint(k.x, k.y, k.size, k.angle_deg, k.response, k.octave);
    }
    cv::Mat(static_cast<int>(sift.keypoints.size()), kSiftDim, CV_32F, sift.descriptors.data()).copyTo(*descriptors);
    return absl::OkStatus();
  }

  const ExtractorOptions options_;
  const bool root_;
};

}  // namespace

absl::Status ImageView::Validate() const {
  if (data == nullptr) return absl::InvalidArgumentError("ImageView::data is null");
  if (width <= 0 || height <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("ImageView is ", width, "x", height, "; width and height must be > 0"));
  }
  if (channels != 1 && channels != 3 && channels != 4) {
    return absl::InvalidArgumentError(
        absl::StrCat("ImageView::channels = ", channels, "; must be 1 (gray), 3 (BGR) or 4 (BGRA)"));
  }
  if (stride_bytes != 0 && stride_bytes < static_cast<size_t>(width) * channels) {
    return absl::InvalidArgumentError(absl::StrCat("ImageView::stride_bytes = ", stride_bytes,
                                                   "; must be 0 or >= width * channels = ", width * channels));
  }
  return absl::OkStatus();
}

absl::Status ExtractorOptions::Validate() const {
  if (type != "rootsift" && type != "sift") {
    return absl::InvalidArgumentError(
        absl::StrCat("ExtractorOptions::type = '", type, "'; must be 'rootsift' or 'sift'"));
  }
  if (max_features <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("ExtractorOptions::max_features = ", max_features, "; must be > 0"));
  }
  if (!(contrast_threshold > 0) || !std::isfinite(contrast_threshold)) {
    return absl::InvalidArgumentError(
        absl::StrCat("ExtractorOptions::contrast_threshold = ", contrast_threshold, "; must be finite and > 0"));
  }
  if (!(edge_threshold > 0) || !std::isfinite(edge_threshold)) {
    return absl::InvalidArgumentError(
        absl::StrCat("ExtractorOptions::edge_threshold = ", edge_threshold, "; must be finite and > 0"));
  }
  if (implementation != "armap" && implementation != "opencv") {
    return absl::InvalidArgumentError(absl::StrCat("ExtractorOptions::implementation = '", implementation,
                                                   "'; must be 'armap' or 'opencv'"));
  }
  if (octave_layers < 1 || octave_layers > 10) {
    return absl::InvalidArgumentError(
        absl::StrCat("ExtractorOptions::octave_layers = ", octave_layers, "; must be in [1, 10]"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<FeatureExtractor>> FeatureExtractor::Create(const ExtractorOptions& options) {
  ARMAP_RETURN_IF_ERROR(options.Validate());
  return std::unique_ptr<FeatureExtractor>(new SiftExtractor(options, options.type == "rootsift"));
}

namespace {
// One implementation for both outputs, in double so the float and uint8
// versions agree exactly (a value never rounds differently between them).
template <typename Out>
void RootSiftImpl(const float* sift, int dim, Out&& out) {
  double l1 = 0;
  for (int i = 0; i < dim; ++i) l1 += std::max(sift[i], 0.0f);
  for (int i = 0; i < dim; ++i) out(i, l1 > 0 ? std::sqrt(std::max(sift[i], 0.0f) / l1) : 0.0);
}
}  // namespace

void SiftToRootSift(const float* sift, int dim, uint8_t* out) {
  RootSiftImpl(sift, dim,
               [out](int i, double v) { out[i] = static_cast<uint8_t>(std::lround(std::min(255.0, 512.0 * v))); });
}

void SiftToRootSiftFloat(const float* sift, int dim, float* out) {
  RootSiftImpl(sift, dim, [out](int i, double v) { out[i] = static_cast<float>(v); });
}

}  // namespace armap::features
