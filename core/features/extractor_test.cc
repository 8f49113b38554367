#include "core/features/extractor.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <opencv2/features2d.hpp>

#include "core/features/features_test_util.h"
#include "core/testing/status_matchers.h"

namespace armap::features {
namespace {

using ::armap::features::testing::HaveLundDoor;
using ::armap::features::testing::LoadGray;
using ::armap::features::testing::LundDoorImage;
using ::armap::features::testing::SecondsSince;
using ::armap::features::testing::ViewOf;
using ::armap::testing::StatusIs;
using ::testing::HasSubstr;

constexpr double kPi = 3.14159265358979323846;

std::vector<float> RandomSift(std::mt19937* rng, int dim) {
  // SIFT-like: non-negative, many small values, a few large ones.
  std::exponential_distribution<float> exp(1.0f);
  std::vector<float> v(dim);
  for (float& x : v) x = std::floor(40.0f * exp(*rng));
  return v;
}

// ---------------------------------------------------------------- RootSIFT

TEST(RootSiftTest, UnitL2NormBeforeQuantisation) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 100; ++trial) {
    const std::vector<float> sift = RandomSift(&rng, 128);
    std::vector<float> root(128);
    SiftToRootSiftFloat(sift.data(), 128, root.data());
    double n2 = 0;
    for (float v : root) n2 += double{v} * v;
    // sqrt(p_i) squared sums to sum(p_i) = 1; float rounding of 128 terms
    // is ~1e-7 relative, 1e-5 leaves room and still catches any real error.
    EXPECT_NEAR(n2, 1.0, 1e-5);
  }
}

TEST(RootSiftTest, HellingerKernelIdentity) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 100; ++trial) {
    const std::vector<float> a = RandomSift(&rng, 128);
    const std::vector<float> b = RandomSift(&rng, 128);
    double l1a = 0, l1b = 0;
    for (int i = 0; i < 128; ++i) {
      l1a += a[i];
      l1b += b[i];
    }
    double hellinger = 0;
    for (int i = 0; i < 128; ++i) hellinger += std::sqrt(a[i] / l1a * b[i] / l1b);

    std::vector<float> ra(128), rb(128);
    SiftToRootSiftFloat(a.data(), 128, ra.data());
    SiftToRootSiftFloat(b.data(), 128, rb.data());
    double dot = 0;
    for (int i = 0; i < 128; ++i) dot += double{ra[i]} * rb[i];
    // Float storage of the roots: relative error ~1e-7 per term.
    EXPECT_NEAR(dot, hellinger, 1e-5);

    // The quantised descriptors (scaled by 512) approximate the same
    // kernel. Each element is off by at most 0.5 (rounding; clipping at 255
    // only happens for p_i > 0.248, absent here), so the dot product of
    // the quantised vectors is off by at most 0.5 * (|qa|_1 + |qb|_1) + 128/4;
    // that bound over 512^2 is the tolerance.
    std::vector<uint8_t> qa(128), qb(128);
    SiftToRootSift(a.data(), 128, qa.data());
    SiftToRootSift(b.data(), 128, qb.data());
    double qdot = 0, l1qa = 0, l1qb = 0;
    for (int i = 0; i < 128; ++i) {
      qdot += static_cast<double>(qa[i]) * qb[i];
      l1qa += qa[i];
      l1qb += qb[i];
    }
    const double bound = (0.5 * (l1qa + l1qb) + 128 * 0.25) / (512.0 * 512.0);
    EXPECT_NEAR(qdot / (512.0 * 512.0), hellinger, bound);
  }
}

TEST(RootSiftTest, QuantisationMatchesTheFormula) {
  std::vector<float> sift(128, 0.0f);
  for (int i = 0; i < 16; ++i) sift[i] = 3.0f;  // p_i = 1/16, sqrt = 0.25, 512 * 0.25 = 128
  std::vector<uint8_t> out(128);
  SiftToRootSift(sift.data(), 128, out.data());
  for (int i = 0; i < 128; ++i) EXPECT_EQ(out[i], i < 16 ? 128 : 0) << i;

  std::fill(sift.begin(), sift.end(), 0.0f);
  sift[5] = 10.0f;  // p = 1, 512 * 1 clipped to 255
  SiftToRootSift(sift.data(), 128, out.data());
  EXPECT_EQ(out[5], 255);
  EXPECT_EQ(out[4], 0);

  std::fill(sift.begin(), sift.end(), 0.0f);  // zero vector -> zeros, no NaN
  SiftToRootSift(sift.data(), 128, out.data());
  EXPECT_EQ(*std::max_element(out.begin(), out.end()), 0);

  // Against the formula on random vectors, element by element.
  std::mt19937 rng(3);
  for (int trial = 0; trial < 20; ++trial) {
    const std::vector<float> v = RandomSift(&rng, 128);
    double l1 = 0;
    for (float x : v) l1 += x;
    SiftToRootSift(v.data(), 128, out.data());
    for (int i = 0; i < 128; ++i) {
      EXPECT_EQ(out[i], static_cast<int>(std::lround(std::min(255.0, 512.0 * std::sqrt(v[i] / l1)))));
    }
  }
}

// ---------------------------------------------------------------- options

TEST(ExtractorOptionsTest, ValidationNamesTheField) {
  ExtractorOptions options;
  EXPECT_TRUE(options.Validate().ok());
  options.max_features = 0;
  EXPECT_THAT(options.Validate(), StatusIs(absl::StatusCode::kInvalidArgument,
                                           HasSubstr("ExtractorOptions::max_features = 0; must be > 0")));
  options = ExtractorOptions();
  options.type = "orb";
  EXPECT_THAT(FeatureExtractor::Create(options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ExtractorOptions::type = 'orb'")));
  options = ExtractorOptions();
  options.contrast_threshold = 0;
  EXPECT_THAT(options.Validate(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ExtractorOptions::contrast_threshold")));
  options = ExtractorOptions();
  options.edge_threshold = -1;
  EXPECT_THAT(options.Validate(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ExtractorOptions::edge_threshold")));
  options = ExtractorOptions();
  options.octave_layers = 0;
  EXPECT_THAT(options.Validate(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ExtractorOptions::octave_layers")));
}

TEST(ExtractorTest, RejectsBadImages) {
  auto extractor = FeatureExtractor::Create(ExtractorOptions());
  ARMAP_ASSERT_OK(extractor);
  const std::vector<uint8_t> pixels(64 * 64 * 3, 128);
  ImageView view;
  view.data = pixels.data();
  view.width = 0;
  view.height = 64;
  EXPECT_THAT((*extractor)->Extract(view), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("0x64")));
  view.width = 64;
  view.height = 0;
  EXPECT_THAT((*extractor)->Extract(view), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("64x0")));
  view.height = 64;
  view.channels = 2;
  EXPECT_THAT((*extractor)->Extract(view),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ImageView::channels = 2")));
  view.channels = 3;
  view.stride_bytes = 100;  // < 64 * 3
  EXPECT_THAT((*extractor)->Extract(view),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ImageView::stride_bytes = 100")));
  view.stride_bytes = 0;
  view.data = nullptr;
  EXPECT_THAT((*extractor)->Extract(view), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("null")));
  // A valid but featureless (constant) image is not an error.
  view.data = pixels.data();
  auto features = (*extractor)->Extract(view);
  ARMAP_ASSERT_OK(features);
  EXPECT_EQ(features->size(), 0u);
  // Nor is a tiny one.
  view.width = view.height = 2;
  EXPECT_TRUE((*extractor)->Extract(view).ok());
}

// ---------------------------------------------------------------- geometry

// Bright Gaussian blobs at known sub-pixel centres on a dark background: the
// DoG extremum of a symmetric blob is at its centre, so the keypoints show
// which pixel convention the extractor reports in. core/camera.h: the centre
// of pixel (c, r) is (c, r). OpenCV's raw output is 0.25 px off (see
// extractor.cc); this test fails if that correction is dropped.
TEST(ExtractorTest, KeypointsFollowThePixelCentreConvention) {
  const int width = 320, height = 240;
  const double sigma = 3.0;
  std::vector<cv::Point2d> centres;
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 4; ++c) centres.emplace_back(50.0 + 70.0 * c + 0.13 * (c + 4 * r), 50.0 + 70.0 * r + 0.29 * c);
  }
  cv::Mat image(height, width, CV_8UC1);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      double v = 20;
      for (const cv::Point2d& c : centres) {
        v += 200 * std::exp(-((x - c.x) * (x - c.x) + (y - c.y) * (y - c.y)) / (2 * sigma * sigma));
      }
      image.at<uint8_t>(y, x) = cv::saturate_cast<uint8_t>(v);
    }
  }
  ExtractorOptions options;
  options.type = "sift";
  auto extractor = FeatureExtractor::Create(options);
  ARMAP_ASSERT_OK(extractor);
  auto features = (*extractor)->Extract(ViewOf(image));
  ARMAP_ASSERT_OK(features);

  double sum_dx = 0, sum_dy = 0;
  for (const cv::Point2d& c : centres) {
    // The keypoint of the blob itself: nearest to the centre with a scale
    // near sigma (rings and corners of the blob give other, larger ones).
    double best = 1e9;
    Keypoint nearest;
    for (const Keypoint& k : features->keypoints) {
      const double d = std::hypot(k.x - c.x, k.y - c.y);
      if (d < best && k.scale > 0.5 * sigma && k.scale < 2.0 * sigma) {
        best = d;
        nearest = k;
      }
    }
    ASSERT_LT(best, 1.0) << "no keypoint on the blob at " << c;
    sum_dx += nearest.x - c.x;
    sum_dy += nearest.y - c.y;
    // Scale is the Gaussian sigma: a blob of sigma s peaks in the DoG near
    // s (a factor of 2^(1/3) per layer is the resolution of the search).
    EXPECT_NEAR(nearest.scale, sigma, 0.5 * sigma);
  }
  const double mean_dx = sum_dx / centres.size(), mean_dy = sum_dy / centres.size();
  std::printf("blob keypoints: mean offset (%.3f, %.3f) px\n", mean_dx, mean_dy);
  // The systematic offset being removed is 0.25 px; what is left is the
  // quadratic sub-pixel interpolation error, a few hundredths of a pixel.
  EXPECT_NEAR(mean_dx, 0.0, 0.1);
  EXPECT_NEAR(mean_dy, 0.0, 0.1);
}

// The "opencv" implementation's "sift" output against OpenCV's plain one-pass
// detectAndCompute(): every
// keypoint we keep must be one of OpenCV's (0.25 px convention shift aside)
// with the same descriptor, whichever subset max_features selected.
void ExpectEqualsOpenCvOnePass(const cv::Mat& gray, int max_features) {
  ExtractorOptions options;
  options.implementation = "opencv";  // bit-exact only for cv::SIFT itself (sift_test.cc: ours)
  options.type = "sift";
  options.max_features = max_features;
  auto extractor = FeatureExtractor::Create(options);
  ARMAP_ASSERT_OK(extractor);
  auto ours = (*extractor)->Extract(ViewOf(gray));
  ARMAP_ASSERT_OK(ours);
  ASSERT_GT(ours->size(), 0u);

  cv::Ptr<cv::SIFT> sift =
      cv::SIFT::create(0, options.octave_layers, options.contrast_threshold, options.edge_threshold, 1.6);
  std::vector<cv::KeyPoint> keypoints;
  cv::Mat descriptors;
  sift->detectAndCompute(gray, cv::noArray(), keypoints, descriptors);
  int compared = 0;
  for (size_t i = 0; i < ours->size(); ++i) {
    const Keypoint& k = ours->keypoints[i];
    for (size_t j = 0; j < keypoints.size(); ++j) {
      const cv::KeyPoint& c = keypoints[j];
      if (c.pt.x - 0.25f != k.x || c.pt.y - 0.25f != k.y || 0.5f * c.size != k.scale ||
          std::abs(c.angle * static_cast<float>(kPi / 180) - k.orientation_rad) > 1e-5f) {
        continue;
      }
      for (int d = 0; d < 128; ++d) {
        ASSERT_EQ(int{ours->descriptor(i)[d]}, cv::saturate_cast<int>(descriptors.at<float>(static_cast<int>(j), d)))
            << "keypoint " << i << " element " << d;
      }
      ++compared;
      break;
    }
  }
  EXPECT_EQ(compared, static_cast<int>(ours->size()));
}

TEST(ExtractorTest, DescriptorsDoNotDependOnTheSelection) {
  // Only large blobs (sigma 6 px): their keypoints all lie in octave >= 1,
  // so a selection of them alone would let OpenCV's compute() skip the
  // upsampled octave and describe them from a different pyramid.
  cv::Mat image(200, 260, CV_8UC1);
  for (int y = 0; y < image.rows; ++y) {
    for (int x = 0; x < image.cols; ++x) {
      double v = 30;
      for (const cv::Point2d c : {cv::Point2d(60.2, 60.7), cv::Point2d(190.4, 70.1), cv::Point2d(120.9, 140.3)}) {
        v += 180 * std::exp(-((x - c.x) * (x - c.x) + (y - c.y) * (y - c.y)) / (2 * 6.0 * 6.0));
      }
      image.at<uint8_t>(y, x) = cv::saturate_cast<uint8_t>(v);
    }
  }
  ExpectEqualsOpenCvOnePass(image, 2);
  ExpectEqualsOpenCvOnePass(image, 2000);
}

// ---------------------------------------------------------------- real photo

class LundDoorExtractionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveLundDoor()) GTEST_SKIP() << "missing " << LundDoorImage(1);
    image_ = LoadGray(LundDoorImage(1));
    ASSERT_FALSE(image_.empty());
  }
  cv::Mat image_;
};

TEST_F(LundDoorExtractionTest, KeepsAtMostMaxFeaturesInsideTheImage) {
  ExtractorOptions options;
  auto extractor = FeatureExtractor::Create(options);
  ARMAP_ASSERT_OK(extractor);
  auto features = (*extractor)->Extract(ViewOf(image_));
  ARMAP_ASSERT_OK(features);
  // A textured 2.5-megapixel photo has far more than 2000 SIFT features at
  // contrast 0.02, so the cap is hit exactly.
  EXPECT_EQ(features->size(), static_cast<size_t>(options.max_features));
  EXPECT_EQ(features->dim, 128);
  ARMAP_EXPECT_OK(features->CheckConsistent());
  for (const Keypoint& k : features->keypoints) {
    EXPECT_GE(k.x, -0.5f);
    EXPECT_LT(k.x, image_.cols - 0.5f);
    EXPECT_GE(k.y, -0.5f);
    EXPECT_LT(k.y, image_.rows - 0.5f);
    EXPECT_GT(k.scale, 0.0f);
    EXPECT_GE(k.orientation_rad, 0.0f);
    EXPECT_LT(k.orientation_rad, static_cast<float>(2 * kPi));
  }
  // RootSIFT rows are unit vectors scaled by 512; rounding each of 128
  // entries by <= 0.5 moves the norm by at most sqrt(128) * 0.5 = 5.7 and
  // the clip at 255 only lowers it.
  for (size_t i = 0; i < features->size(); ++i) {
    double n2 = 0;
    for (int j = 0; j < 128; ++j) n2 += static_cast<double>(features->descriptor(i)[j]) * features->descriptor(i)[j];
    EXPECT_NEAR(std::sqrt(n2), 512.0, 12.0) << i;
  }

  // The strongest 100 are the first 100 of the 2000 (strongest first).
  // Half resolution from here on, to keep the test quick.
  const cv::Mat half = LoadGray(LundDoorImage(1), 0.5);
  auto many = (*extractor)->Extract(ViewOf(half));
  ARMAP_ASSERT_OK(many);
  ASSERT_EQ(many->size(), 2000u);
  options.max_features = 100;
  auto few = FeatureExtractor::Create(options);
  ARMAP_ASSERT_OK(few);
  auto top = (*few)->Extract(ViewOf(half));
  ARMAP_ASSERT_OK(top);
  ASSERT_EQ(top->size(), 100u);
  for (size_t i = 0; i < 100; ++i) {
    EXPECT_EQ(top->keypoints[i].x, many->keypoints[i].x) << i;
    EXPECT_EQ(top->keypoints[i].y, many->keypoints[i].y) << i;
    EXPECT_TRUE(std::equal(top->descriptor(i), top->descriptor(i) + 128, many->descriptor(i))) << i;
  }
}

TEST_F(LundDoorExtractionTest, IsDeterministicAndThreadSafe) {
  auto extractor = FeatureExtractor::Create(ExtractorOptions());
  ARMAP_ASSERT_OK(extractor);
  const cv::Mat half = LoadGray(LundDoorImage(1), 0.5);
  auto first = (*extractor)->Extract(ViewOf(half));
  ARMAP_ASSERT_OK(first);
  ASSERT_GT(first->size(), 0u);

  // Twice more, concurrently, from one extractor.
  absl::StatusOr<FeatureSet> second, third;
  std::thread t1([&] { second = (*extractor)->Extract(ViewOf(half)); });
  std::thread t2([&] { third = (*extractor)->Extract(ViewOf(half)); });
  t1.join();
  t2.join();
  for (const absl::StatusOr<FeatureSet>* other : {&second, &third}) {
    ARMAP_ASSERT_OK(*other);
    ASSERT_EQ((*other)->size(), first->size());
    EXPECT_EQ((*other)->descriptors, first->descriptors);
    EXPECT_EQ(std::memcmp((*other)->keypoints.data(), first->keypoints.data(), first->size() * sizeof(Keypoint)), 0);
  }

  // One OpenCV thread instead of the default pool: the same output.
  const int threads = cv::getNumThreads();
  cv::setNumThreads(1);
  auto single = (*extractor)->Extract(ViewOf(half));
  cv::setNumThreads(threads);
  ARMAP_ASSERT_OK(single);
  EXPECT_EQ(single->descriptors, first->descriptors);
  ASSERT_EQ(single->size(), first->size());
  EXPECT_EQ(std::memcmp(single->keypoints.data(), first->keypoints.data(), first->size() * sizeof(Keypoint)), 0);

  // A padded row stride and a BGR copy describe the same pixels.
  cv::Mat padded(half.rows, half.cols + 13, CV_8UC1, cv::Scalar(0));
  half.copyTo(padded(cv::Rect(0, 0, half.cols, half.rows)));
  auto strided = (*extractor)->Extract(ViewOf(padded(cv::Rect(0, 0, half.cols, half.rows))));
  ARMAP_ASSERT_OK(strided);
  EXPECT_EQ(strided->descriptors, first->descriptors);
  cv::Mat bgr;
  cv::cvtColor(half, bgr, cv::COLOR_GRAY2BGR);  // gray -> BGR -> gray is exact
  auto color = (*extractor)->Extract(ViewOf(bgr));
  ARMAP_ASSERT_OK(color);
  EXPECT_EQ(color->descriptors, first->descriptors);

  // "sift" gives different descriptors for the same keypoints.
  ExtractorOptions sift_options;
  sift_options.type = "sift";
  auto sift = FeatureExtractor::Create(sift_options);
  ARMAP_ASSERT_OK(sift);
  auto plain = (*sift)->Extract(ViewOf(half));
  ARMAP_ASSERT_OK(plain);
  ASSERT_EQ(plain->size(), first->size());
  EXPECT_EQ(plain->keypoints[0].x, first->keypoints[0].x);
  EXPECT_NE(plain->descriptors, first->descriptors);
}

TEST_F(LundDoorExtractionTest, MaskExcludesARegion) {
  auto extractor = FeatureExtractor::Create(ExtractorOptions());
  ARMAP_ASSERT_OK(extractor);
  const cv::Mat half = LoadGray(LundDoorImage(1), 0.5);
  const int cut = half.cols / 2;
  std::vector<uint8_t> mask(static_cast<size_t>(half.cols) * half.rows, 255);
  for (int y = 0; y < half.rows; ++y) std::fill_n(mask.begin() + static_cast<size_t>(y) * half.cols, cut, 0);

  auto unmasked = (*extractor)->Extract(ViewOf(half));
  auto masked = (*extractor)->Extract(ViewOf(half), mask.data());
  ARMAP_ASSERT_OK(unmasked);
  ARMAP_ASSERT_OK(masked);
  auto count_left = [cut](const FeatureSet& f) {
    return std::count_if(f.keypoints.begin(), f.keypoints.end(), [cut](const Keypoint& k) { return k.x < cut - 1; });
  };
  ASSERT_GT(count_left(*unmasked), 100) << "the test needs features on the left half";
  EXPECT_EQ(count_left(*masked), 0);
  // The mask is tested at the rounded OpenCV position, 0.25 px right of
  // ours, hence "cut - 1" above; beyond that nothing masked may appear.
  EXPECT_GT(masked->size(), 100u);
}

TEST_F(LundDoorExtractionTest, DescriptorsEqualOpenCvOnePassSift) {
  const cv::Mat half = LoadGray(LundDoorImage(1), 0.5);
  ExpectEqualsOpenCvOnePass(half, 1);
  ExpectEqualsOpenCvOnePass(half, 300);
}

TEST_F(LundDoorExtractionTest, TimingFor1280x960) {
  // Not asserted: logged for the notes. A 1280x960 crop of the photo.
  const cv::Mat crop = image_(cv::Rect((image_.cols - 1280) / 2, (image_.rows - 960) / 2, 1280, 960)).clone();
  auto extractor = FeatureExtractor::Create(ExtractorOptions());
  ARMAP_ASSERT_OK(extractor);
  ARMAP_ASSERT_OK((*extractor)->Extract(ViewOf(crop)));  // warm-up
  const int runs = 3;
  size_t n = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < runs; ++i) {
    auto features = (*extractor)->Extract(ViewOf(crop));
    ARMAP_ASSERT_OK(features);
    n = features->size();
  }
  const double seconds = SecondsSince(start) / runs;
  std::printf("[timing] RootSIFT extraction 1280x960: %.3f s per image (%zu features, %u hw threads)\n", seconds, n,
              std::thread::hardware_concurrency());
}

}  // namespace
}  // namespace armap::features
