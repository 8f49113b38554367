// Our SIFT (sift.h) against OpenCV 4.6's, the implementation maps are built
// with: same keypoints, same descriptors, to float rounding.
#include "core/features/sift.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/features/extractor.h"
#include "core/features/features_test_util.h"
#include "core/testing/status_matchers.h"

namespace armap::features {
namespace {

using ::armap::features::testing::HaveLundDoor;
using ::armap::features::testing::LoadGray;
using ::armap::features::testing::LundDoorImage;
using ::armap::features::testing::ViewOf;
using ::armap::testing::StatusIs;
using ::testing::HasSubstr;

constexpr double kPi = 3.14159265358979323846;

FeatureSet ExtractWith(const std::string& implementation, const cv::Mat& gray, const uint8_t* mask = nullptr,
                       int max_features = 2000) {
  ExtractorOptions options;
  options.implementation = implementation;
  options.max_features = max_features;
  auto extractor = FeatureExtractor::Create(options);
  EXPECT_TRUE(extractor.ok()) << extractor.status();
  auto features = (*extractor)->Extract(ViewOf(gray), mask);
  EXPECT_TRUE(features.ok()) << features.status();
  return features.ok() ? *std::move(features) : FeatureSet();
}

double L2(const uint8_t* a, const uint8_t* b) {
  double s = 0;
  for (int k = 0; k < 128; ++k) {
    const double d = static_cast<double>(a[k]) - b[k];
    s += d * d;
  }
  return std::sqrt(s);
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

struct Agreement {
  double found_fraction = 0;    // of OpenCV's strongest 1000 with a counterpart of ours
  double median_matched = 0;    // median L2 between counterpart descriptors (uint8 RootSIFT)
  double median_nn_other = 0;   // median L2 from an OpenCV descriptor to its nearest other one
};

// Tolerances: the two implementations run the same float arithmetic except
// for summation order, exp() of table products instead of exp() of sums and
// FMA contraction, all ~1e-6 relative, so a keypoint moves by ~1e-4 px and
// its angle by ~1e-3 deg. 0.3 px / 10% scale / 5 deg are far outside that and
// still far inside the spacing of distinct keypoints at one place (a layer
// step is 26% in scale; a second orientation needs a separate histogram peak,
// >= 10 deg away). What may differ at all: keypoints whose contrast, edge or
// 0.8-peak test sits within rounding of its threshold (a handful).
Agreement Compare(const FeatureSet& ours, const FeatureSet& cv) {
  Agreement a;
  const size_t n = std::min<size_t>(1000, cv.size());
  int found = 0;
  std::vector<double> matched, nn_other;
  for (size_t i = 0; i < n; ++i) {
    const Keypoint& q = cv.keypoints[i];
    int best = -1;
    double best_d = 1e9;
    for (size_t j = 0; j < ours.size(); ++j) {
      const Keypoint& k = ours.keypoints[j];
      const double d = std::hypot(k.x - q.x, k.y - q.y);
      double dang = std::abs(k.orientation_rad - q.orientation_rad);
      dang = std::min(dang, 2 * kPi - dang) * 180 / kPi;
      if (d < 0.3 && std::abs(k.scale - q.scale) < 0.1 * q.scale && dang < 5 && d < best_d) {
        best = static_cast<int>(j);
        best_d = d;
      }
    }
    if (best >= 0) {
      ++found;
      matched.push_back(L2(ours.descriptor(best), cv.descriptor(i)));
    }
    double nearest = 1e9;
    for (size_t j = 0; j < cv.size(); ++j) {
      if (j != i) nearest = std::min(nearest, L2(cv.descriptor(i), cv.descriptor(j)));
    }
    nn_other.push_back(nearest);
  }
  a.found_fraction = n > 0 ? static_cast<double>(found) / n : 0;
  a.median_matched = Median(matched);
  a.median_nn_other = Median(nn_other);
  return a;
}

void ExpectEquivalent(const FeatureSet& ours, const FeatureSet& cv, const char* what) {
  ASSERT_GE(cv.size(), 1000u) << what << ": the test needs >= 1000 OpenCV keypoints";
  // Same count: the cut is the same and few decisions sit on a threshold.
  EXPECT_NEAR(static_cast<double>(ours.size()), static_cast<double>(cv.size()), 0.01 * cv.size()) << what;
  const Agreement a = Compare(ours, cv);
  std::printf("[%s] found %.4f of OpenCV's strongest 1000; descriptor L2 median %.2f matched vs %.1f nearest other\n",
              what, a.found_fraction, a.median_matched, a.median_nn_other);
  EXPECT_GE(a.found_fraction, 0.9) << what;
  // uint8 RootSIFT rows have norm ~512; rounding alone moves an element by
  // <= 1, so a few differing elements give an L2 of 1-3, while distinct
  // keypoints sit ~100+ apart. 2% of the nearest-other distance separates
  // "the same descriptor" from "a similar one" by a wide margin.
  EXPECT_LE(a.median_matched, 0.02 * a.median_nn_other) << what;
}

class SiftVsOpenCvTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveLundDoor()) GTEST_SKIP() << "missing " << LundDoorImage(1);
    // 0.3 of the 2.5-Mpx photo: ~ 920 x 610, the class of the localizer's
    // 640-px queries (doubled internally), > 2000 features.
    image_ = LoadGray(LundDoorImage(1), 0.3);
    ASSERT_FALSE(image_.empty());
    opencv_ = ExtractWith("opencv", image_);
  }
  cv::Mat image_;
  FeatureSet opencv_;
};

TEST_F(SiftVsOpenCvTest, KeypointsAndDescriptorsAgree) {
  const FeatureSet ours = ExtractWith("armap", image_);
  ExpectEquivalent(ours, opencv_, internal::SiftUsesAvx512() ? "avx512" : "scalar");
  ARMAP_EXPECT_OK(ours.CheckConsistent());
}

TEST_F(SiftVsOpenCvTest, ScalarKernelsAgreeToo) {
  internal::SiftForceScalarForTesting(true);
  const FeatureSet ours = ExtractWith("armap", image_);
  internal::SiftForceScalarForTesting(false);
  ExpectEquivalent(ours, opencv_, "scalar");
}

TEST_F(SiftVsOpenCvTest, ScalarAndAvx512KernelsGiveTheSameFeatures) {
  if (!internal::SiftUsesAvx512()) GTEST_SKIP() << "no AVX-512 on this CPU";
  internal::SiftOutput simd, scalar;
  ARMAP_ASSERT_OK(internal::DetectAndDescribeSift(image_.data, image_.cols, image_.rows, image_.step[0], nullptr,
                                                  internal::SiftOptions(), &simd));
  internal::SiftForceScalarForTesting(true);
  const absl::Status s = internal::DetectAndDescribeSift(image_.data, image_.cols, image_.rows, image_.step[0],
                                                         nullptr, internal::SiftOptions(), &scalar);
  internal::SiftForceScalarForTesting(false);
  ARMAP_ASSERT_OK(s);
  ASSERT_EQ(simd.keypoints.size(), 2000u);
  ASSERT_EQ(scalar.keypoints.size(), 2000u);
  // The extrema scan is exact in both (comparisons only); the kernels
  // differ in FMA contraction and summation order (~1e-6 relative), so a
  // keypoint agrees to ~1e-4 px / 1e-3 deg and a descriptor element (an
  // integer, round(512 v)) can flip by 1 where it sits on a rounding edge.
  // What may differ at all: an orientation peak within rounding of the 0.8
  // ratio, or a response tie at the 2000 cut. So match each keypoint to
  // its counterpart (not rank by rank: one such flip shifts all later
  // ranks) and require nearly all to have one.
  int same = 0, max_diff = 0;
  for (size_t i = 0; i < simd.keypoints.size(); ++i) {
    const internal::SiftKeypoint& a = simd.keypoints[i];
    for (size_t j = 0; j < scalar.keypoints.size(); ++j) {
      const internal::SiftKeypoint& b = scalar.keypoints[j];
      if (std::hypot(a.x - b.x, a.y - b.y) > 1e-2 || std::abs(a.size - b.size) > 1e-3f * b.size ||
          std::abs(a.angle_deg - b.angle_deg) > 1e-2f || a.octave != b.octave) {
        continue;
      }
      ++same;
      for (int k = 0; k < 128; ++k) {
        const int d = static_cast<int>(std::abs(simd.descriptors[i * 128 + k] - scalar.descriptors[j * 128 + k]));
        max_diff = std::max(max_diff, d);
      }
      break;
    }
  }
  std::printf("[scalar vs avx512] %d of 2000 keypoints in both; descriptor elements differ by <= %d\n", same,
              max_diff);
  EXPECT_GE(same, 1980) << "of 2000 keypoints found in both";
  EXPECT_LE(max_diff, 2) << "largest descriptor element difference between the kernels";
}

TEST_F(SiftVsOpenCvTest, MaxFeaturesKeepsTheStrongestPrefix) {
  const FeatureSet all = ExtractWith("armap", image_);
  const FeatureSet top = ExtractWith("armap", image_, nullptr, 150);
  ASSERT_EQ(all.size(), 2000u);
  ASSERT_EQ(top.size(), 150u);
  for (size_t i = 0; i < top.size(); ++i) {
    EXPECT_EQ(std::memcmp(&top.keypoints[i], &all.keypoints[i], sizeof(Keypoint)), 0) << i;
    EXPECT_TRUE(std::equal(top.descriptor(i), top.descriptor(i) + 128, all.descriptor(i))) << i;
  }
  // Strongest first, as the raw output shows.
  internal::SiftOutput raw;
  ARMAP_ASSERT_OK(internal::DetectAndDescribeSift(image_.data, image_.cols, image_.rows, image_.step[0], nullptr,
                                                  internal::SiftOptions(), &raw));
  ASSERT_EQ(raw.keypoints.size(), 2000u);
  for (size_t i = 1; i < raw.keypoints.size(); ++i) {
    EXPECT_GE(raw.keypoints[i - 1].response, raw.keypoints[i].response) << i;
  }
}

TEST_F(SiftVsOpenCvTest, MaskAgreesWithOpenCv) {
  const int cut = image_.cols / 2;
  std::vector<uint8_t> mask(static_cast<size_t>(image_.cols) * image_.rows, 255);
  for (int y = 0; y < image_.rows; ++y) std::fill_n(mask.begin() + static_cast<size_t>(y) * image_.cols, cut, 0);
  const FeatureSet ours = ExtractWith("armap", image_, mask.data());
  const FeatureSet cv = ExtractWith("opencv", image_, mask.data());
  for (const Keypoint& k : ours.keypoints) ASSERT_GE(k.x, cut - 1.0f);
  ExpectEquivalent(ours, cv, "masked");
}

TEST(SiftTest, KeypointsFollowThePixelCentreConvention) {
  // Gaussian blobs at known sub-pixel centres (see extractor_test.cc): the
  // blob's keypoint sits on its centre in the core/camera.h convention.
  const double sigma = 3.0;
  std::vector<cv::Point2d> centres;
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 4; ++c) centres.emplace_back(50.0 + 70.0 * c + 0.13 * (c + 4 * r), 50.0 + 70.0 * r + 0.29 * c);
  }
  cv::Mat image(240, 320, CV_8UC1);
  for (int y = 0; y < image.rows; ++y) {
    for (int x = 0; x < image.cols; ++x) {
      double v = 20;
      for (const cv::Point2d& c : centres) {
        v += 200 * std::exp(-((x - c.x) * (x - c.x) + (y - c.y) * (y - c.y)) / (2 * sigma * sigma));
      }
      image.at<uint8_t>(y, x) = cv::saturate_cast<uint8_t>(v);
    }
  }
  const FeatureSet ours = ExtractWith("armap", image);
  for (const cv::Point2d& c : centres) {
    double best = 1e9;
    for (const Keypoint& k : ours.keypoints) {
      if (k.scale > 0.5 * sigma && k.scale < 2.0 * sigma) best = std::min(best, std::hypot(k.x - c.x, k.y - c.y));
    }
    // The quadratic sub-pixel fit of a symmetric blob is accurate to a few
    // hundredths of a pixel; 0.1 would catch the 0.25 px convention offset.
    EXPECT_LT(best, 0.1) << c;
  }
}

TEST(SiftTest, RejectsBadInput) {
  const std::vector<uint8_t> pixels(64 * 64, 128);
  internal::SiftOptions options;
  internal::SiftOutput out;
  EXPECT_THAT(internal::DetectAndDescribeSift(nullptr, 64, 64, 64, nullptr, options, &out),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("null")));
  EXPECT_THAT(internal::DetectAndDescribeSift(pixels.data(), 0, 64, 64, nullptr, options, &out),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("0x64")));
  EXPECT_THAT(internal::DetectAndDescribeSift(pixels.data(), 64, 0, 64, nullptr, options, &out),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("64x0")));
  EXPECT_THAT(internal::DetectAndDescribeSift(pixels.data(), 64, 64, 32, nullptr, options, &out),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("stride_bytes = 32")));
  options.octave_layers = 0;
  EXPECT_THAT(internal::DetectAndDescribeSift(pixels.data(), 64, 64, 64, nullptr, options, &out),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("SiftOptions::octave_layers = 0")));
  options = internal::SiftOptions();
  // A constant image and tiny ones are valid and featureless.
  ARMAP_EXPECT_OK(internal::DetectAndDescribeSift(pixels.data(), 64, 64, 64, nullptr, options, &out));
  EXPECT_TRUE(out.keypoints.empty());
  for (int size : {1, 2, 7}) {
    ARMAP_EXPECT_OK(internal::DetectAndDescribeSift(pixels.data(), size, size, 64, nullptr, options, &out));
  }

  ExtractorOptions eo;
  eo.implementation = "vlfeat";
  EXPECT_THAT(FeatureExtractor::Create(eo), StatusIs(absl::StatusCode::kInvalidArgument,
                                                     HasSubstr("ExtractorOptions::implementation = 'vlfeat'")));
  eo.implementation = "armap";
  auto extractor = FeatureExtractor::Create(eo);
  ARMAP_ASSERT_OK(extractor);
  ImageView view;
  EXPECT_THAT((*extractor)->Extract(view), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("null")));
  view.data = pixels.data();
  view.width = 0;
  view.height = 64;
  EXPECT_THAT((*extractor)->Extract(view), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("0x64")));
}

}  // namespace
}  // namespace armap::features
