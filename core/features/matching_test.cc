#include "core/features/matching.h"

#include "core/features/dot_tile.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <set>
#include <thread>
#include <tuple>
#include <utility>
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
using ::armap::features::testing::SecondsSince;
using ::armap::features::testing::ViewOf;
using ::armap::testing::StatusIs;
using ::testing::HasSubstr;

constexpr double kPi = 3.14159265358979323846;

// Random RootSIFT-like descriptors (keypoints at the origin).
FeatureSet RandomRootSift(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::exponential_distribution<float> exp(1.0f);
  FeatureSet set;
  set.keypoints.resize(n);
  set.descriptors.resize(n * 128);
  std::vector<float> sift(128);
  for (size_t i = 0; i < n; ++i) {
    for (float& v : sift) v = std::floor(40.0f * exp(rng));
    SiftToRootSift(sift.data(), 128, set.descriptors.data() + i * 128);
  }
  return set;
}

// The obvious scalar definition, as the reference for the GEMM version.
std::vector<Match> NaiveMatch(const FeatureSet& query, const FeatureSet& train, const MatchOptions& options) {
  auto dist2 = [&](size_t i, size_t j) {
    int64_t s = 0;
    for (int k = 0; k < query.dim; ++k) {
      const int64_t d = int64_t{query.descriptor(i)[k]} - train.descriptor(j)[k];
      s += d * d;
    }
    return s;
  };
  std::vector<size_t> train_nn(train.size());
  for (size_t j = 0; j < train.size(); ++j) {
    int64_t best = std::numeric_limits<int64_t>::max();
    for (size_t i = 0; i < query.size(); ++i) {
      const int64_t d = dist2(i, j);
      if (d < best) best = d, train_nn[j] = i;  // strict: first (lowest) index wins ties
    }
  }
  std::vector<Match> out;
  for (size_t i = 0; i < query.size(); ++i) {
    int64_t b1 = std::numeric_limits<int64_t>::max(), b2 = b1;
    size_t j1 = 0;
    for (size_t j = 0; j < train.size(); ++j) {
      const int64_t d = dist2(i, j);
      if (d < b1) {
        b2 = b1;
        b1 = d;
        j1 = j;
      } else if (d < b2) {
        b2 = d;
      }
    }
    const double d1 = std::sqrt(double(b1));
    if (d1 > options.max_distance) continue;
    if (train.size() > 1 && !(d1 < options.max_ratio * std::sqrt(double(b2)))) continue;
    if (options.mutual && train_nn[j1] != i) continue;
    out.push_back({uint32_t(i), uint32_t(j1), float(d1)});
  }
  return out;
}

TEST(MatchOptionsTest, ValidationNamesTheField) {
  MatchOptions options;
  EXPECT_TRUE(options.Validate().ok());
  options.max_ratio = 1.5f;
  EXPECT_THAT(options.Validate(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("MatchOptions::max_ratio")));
  options = MatchOptions();
  options.max_distance = 0;
  EXPECT_THAT(options.Validate(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("MatchOptions::max_distance")));
  EXPECT_THAT(MatchDescriptors(FeatureSet(), FeatureSet(), options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("MatchOptions::max_distance")));
}

TEST(MatchDescriptorsTest, EmptySetsGiveNoMatches) {
  const FeatureSet some = RandomRootSift(10, 1);
  for (const MatchOptions& options : {MatchOptions(), MatchOptions{0.8f, false}}) {
    auto none = MatchDescriptors(some, FeatureSet(), options);
    ARMAP_ASSERT_OK(none);
    EXPECT_TRUE(none->empty());
    none = MatchDescriptors(FeatureSet(), some, options);
    ARMAP_ASSERT_OK(none);
    EXPECT_TRUE(none->empty());
  }
}

TEST(MatchDescriptorsTest, RejectsInconsistentInput) {
  FeatureSet a = RandomRootSift(10, 1);
  FeatureSet b = RandomRootSift(10, 2);
  b.descriptors.pop_back();
  EXPECT_THAT(MatchDescriptors(a, b, MatchOptions()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("train FeatureSet")));
  FeatureSet c;
  c.dim = 64;
  c.keypoints.resize(3);
  c.descriptors.resize(3 * 64);
  EXPECT_THAT(MatchDescriptors(a, c, MatchOptions()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("dims differ")));
}

// The blocked GEMM (several query and train tiles, threads) gives exactly
// the scalar definition: same pairs, same distances, same tie-breaking.
TEST(MatchDescriptorsTest, EqualsTheScalarDefinition) {
  FeatureSet query = RandomRootSift(1100, 5);  // 2 query tiles of 1024, 9 uint8 slices of 128
  FeatureSet train = RandomRootSift(2100, 6);  // 3 train tiles
  std::mt19937 rng(9);
  // Make ~300 true correspondences (noisy copies) so the ratio test passes
  // for some, and exact duplicates in train to exercise ties.
  for (int n = 0; n < 300; ++n) {
    const size_t i = rng() % query.size(), j = rng() % train.size();
    for (int k = 0; k < 128; ++k) {
      const int v = int{query.descriptor(i)[k]} + int(rng() % 7) - 3;
      train.descriptors[j * 128 + k] = static_cast<uint8_t>(std::clamp(v, 0, 255));
    }
  }
  for (int n = 0; n < 20; ++n) {
    const size_t from = rng() % train.size(), to = rng() % train.size();
    std::copy_n(train.descriptor(from), 128, train.descriptors.begin() + to * 128);
  }
  for (int n = 0; n < 20; ++n) {  // duplicate queries: ties in the mutual check
    const size_t from = rng() % query.size(), to = rng() % query.size();
    std::copy_n(query.descriptor(from), 128, query.descriptors.begin() + to * 128);
  }
  for (const MatchOptions& options : {MatchOptions{0.8f, true}, MatchOptions{0.8f, false}, MatchOptions{1.0f, false},
                                      MatchOptions{0.9f, true, 200.0f}}) {
    auto fast = MatchDescriptors(query, train, options);
    ARMAP_ASSERT_OK(fast);
    const std::vector<Match> slow = NaiveMatch(query, train, options);
    ASSERT_EQ(fast->size(), slow.size()) << "ratio " << options.max_ratio << " mutual " << options.mutual;
    ASSERT_GT(slow.size(), 100u);
    for (size_t m = 0; m < slow.size(); ++m) {
      EXPECT_EQ((*fast)[m].query, slow[m].query);
      EXPECT_EQ((*fast)[m].train, slow[m].train);
      EXPECT_EQ((*fast)[m].distance, slow[m].distance);
    }
  }
}

TEST(MatchDescriptorsTest, SingleTrainDescriptorHasNoRatioTest) {
  const FeatureSet query = RandomRootSift(5, 3);
  const FeatureSet train = RandomRootSift(1, 4);
  auto matches = MatchDescriptors(query, train, MatchOptions{0.8f, false});
  ARMAP_ASSERT_OK(matches);
  EXPECT_EQ(matches->size(), 5u);
  matches = MatchDescriptors(query, train, MatchOptions{0.8f, true});
  ARMAP_ASSERT_OK(matches);
  EXPECT_EQ(matches->size(), 1u);
}

// ---------------------------------------------------------------- real photo

// The photo and its warp by a known homography: 10 deg rotation, 0.8 scale
// about the image centre, then a (25, -15) px shift.
TEST(MatchDescriptorsTest, RecoversAKnownHomography) {
  if (!HaveLundDoor()) GTEST_SKIP() << "missing " << LundDoorImage(1);
  const cv::Mat src = LoadGray(LundDoorImage(1), 0.5);  // 648 x 968
  ASSERT_FALSE(src.empty());
  const double angle = 10.0 * kPi / 180.0, scale = 0.8;
  const double cx = (src.cols - 1) / 2.0, cy = (src.rows - 1) / 2.0;
  const cv::Matx33d to_origin(1, 0, -cx, 0, 1, -cy, 0, 0, 1);
  const cv::Matx33d rotate_scale(scale * std::cos(angle), -scale * std::sin(angle), 0, scale * std::sin(angle),
                                 scale * std::cos(angle), 0, 0, 0, 1);
  const cv::Matx33d back(1, 0, cx + 25, 0, 1, cy - 15, 0, 0, 1);
  const cv::Matx33d dst_from_src = back * rotate_scale * to_origin;
  cv::Mat dst;
  // warpPerspective samples dst(x) = src(H^-1 x) with pixel centres at
  // integer coordinates, the convention of our keypoints.
  cv::warpPerspective(src, dst, cv::Mat(dst_from_src), src.size(), cv::INTER_LINEAR);

  auto extractor = FeatureExtractor::Create(ExtractorOptions());
  ARMAP_ASSERT_OK(extractor);
  auto src_features = (*extractor)->Extract(ViewOf(src));
  auto dst_features = (*extractor)->Extract(ViewOf(dst));
  ARMAP_ASSERT_OK(src_features);
  ARMAP_ASSERT_OK(dst_features);

  auto ratio_matches = MatchDescriptors(*src_features, *dst_features, MatchOptions{0.8f, false});
  auto mutual_matches = MatchDescriptors(*src_features, *dst_features, MatchOptions{0.8f, true});
  ARMAP_ASSERT_OK(ratio_matches);
  ARMAP_ASSERT_OK(mutual_matches);

  int inliers = 0;
  std::vector<double> rotation_deg, scale_ratio;
  for (const Match& m : *ratio_matches) {
    const Keypoint& a = src_features->keypoints[m.query];
    const Keypoint& b = dst_features->keypoints[m.train];
    const cv::Vec3d p = dst_from_src * cv::Vec3d(a.x, a.y, 1.0);
    if (std::hypot(p[0] / p[2] - b.x, p[1] / p[2] - b.y) > 3.0) continue;
    ++inliers;
    rotation_deg.push_back(std::remainder(b.orientation_rad - a.orientation_rad, 2 * kPi) * 180.0 / kPi);
    scale_ratio.push_back(b.scale / a.scale);
  }
  const double inlier_ratio = double(inliers) / ratio_matches->size();
  std::nth_element(rotation_deg.begin(), rotation_deg.begin() + rotation_deg.size() / 2, rotation_deg.end());
  std::nth_element(scale_ratio.begin(), scale_ratio.begin() + scale_ratio.size() / 2, scale_ratio.end());
  const double median_rotation = rotation_deg[rotation_deg.size() / 2];
  const double median_scale = scale_ratio[scale_ratio.size() / 2];
  std::printf(
      "homography: %zu + %zu features, %zu ratio matches (%d within 3 px, %.1f%%), %zu mutual; "
      "median orientation change %.2f deg, scale ratio %.3f\n",
      src_features->size(), dst_features->size(), ratio_matches->size(), inliers, 100 * inlier_ratio,
      mutual_matches->size(), median_rotation, median_scale);

  // N = 500: the warp keeps most of the photo in view and 2000 RootSIFT
  // features per side typically give ~1000 ratio-test matches here; 500
  // leaves a wide margin while still failing for a broken descriptor.
  EXPECT_GE(ratio_matches->size(), 500u);
  EXPECT_GE(inlier_ratio, 0.90);
  // Orientations are measured from +x towards +y, as is the rotation in
  // dst_from_src, so they turn by +10 deg; scales shrink by 0.8. (The DoG
  // resolution is much finer than these bounds.)
  EXPECT_NEAR(median_rotation, 10.0, 1.5);
  EXPECT_NEAR(median_scale, 0.8, 0.05);

  // The mutual check only removes matches.
  EXPECT_LE(mutual_matches->size(), ratio_matches->size());
  std::set<std::pair<uint32_t, uint32_t>> ratio_pairs;
  for (const Match& m : *ratio_matches) ratio_pairs.insert({m.query, m.train});
  for (const Match& m : *mutual_matches) EXPECT_TRUE(ratio_pairs.count({m.query, m.train})) << m.query;
  EXPECT_GE(mutual_matches->size(), ratio_matches->size() / 2);
}

TEST(MatchDescriptorsTest, Timing2000x30000) {
  // Not asserted: logged for the notes.
  const FeatureSet query = RandomRootSift(2000, 21);
  const FeatureSet train = RandomRootSift(30000, 22);
  ARMAP_ASSERT_OK(MatchDescriptors(query, RandomRootSift(2000, 23), MatchOptions()));  // warm-up
  for (bool mutual : {true, false}) {
    const auto start = std::chrono::steady_clock::now();
    auto matches = MatchDescriptors(query, train, MatchOptions{0.8f, mutual});
    const double seconds = SecondsSince(start);
    ARMAP_ASSERT_OK(matches);
    std::printf("[timing] MatchDescriptors 2000 x 30000 (dim 128, mutual=%d): %.3f s (%u hw threads)\n", mutual,
                seconds, std::thread::hardware_concurrency());
  }
}

}  // namespace
}  // namespace armap::features

namespace armap::features {
namespace {

TEST(DotTileTest, KernelIsExactForDescriptorValuesAtEverySize) {
  // Odd sizes exercise the 4 x 4 blocks' remainders and a dim tail.
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> value(0, 255);
  for (const auto& [nq, nt, dim] : {std::tuple{7, 13, 130}, std::tuple{4, 4, 128}, std::tuple{1, 9, 5}, std::tuple{33, 17, 128}}) {
    std::vector<float> q(nq * dim), t(nt * dim), fast(nq * nt), reference(nq * nt);
    for (float& x : q) x = static_cast<float>(value(rng));
    for (float& x : t) x = static_cast<float>(value(rng));
    internal::DotTile(q.data(), nq, t.data(), nt, dim, fast.data());
    internal::DotTileReference(q.data(), nq, t.data(), nt, dim, reference.data());
    EXPECT_EQ(fast, reference) << nq << "x" << nt << "x" << dim << (internal::DotTileUsesAvx2() ? " (avx2)" : "");
  }
}

TEST(DotTileTest, Uint8KernelEqualsTheFloatDefinition) {
  // Sizes around the 4-row, 32-column blocks and a dim that is not a
  // multiple of 4 (the k-quad padding), values at the extremes included.
  std::mt19937 rng(12);
  std::uniform_int_distribution<int> value(0, 255);
  for (const auto& [nq, nt, dim] : {std::tuple{7, 45, 130}, std::tuple{4, 32, 128}, std::tuple{1, 9, 5}, std::tuple{33, 17, 128},
                                    std::tuple{64, 1024, 128}}) {
    std::vector<uint8_t> q(nq * dim), t(nt * dim);
    for (uint8_t& x : q) x = static_cast<uint8_t>(value(rng));
    for (uint8_t& x : t) x = static_cast<uint8_t>(value(rng));
    q[0] = 255;
    t[0] = 255;
    t[1] = 0;
    std::vector<float> qf(q.begin(), q.end()), tf(t.begin(), t.end()), fast(nq * nt), reference(nq * nt);
    internal::DotTileU8(q.data(), nq, t.data(), nt, dim, fast.data());
    internal::DotTileReference(qf.data(), nq, tf.data(), nt, dim, reference.data());
    EXPECT_EQ(fast, reference) << nq << "x" << nt << "x" << dim << (internal::DotTileUsesVnni() ? " (vnni)" : "");
  }
}

// Matching packs the operands once and takes the product in slices of
// query rows: every slice must equal the rows of the whole product, with
// the AMX kernel (where the machine has it) and the VNNI one.
TEST(DotTileTest, PackedSlicesEqualTheWholeProduct) {
  if (!internal::DotTileUsesVnni()) GTEST_SKIP() << "no AVX-512 VNNI on this machine";
  std::mt19937 rng(13);
  std::uniform_int_distribution<int> value(0, 255);
  for (const auto& [nq, nt, dim] : {std::tuple{300, 77, 128}, std::tuple{9, 40, 130}, std::tuple{130, 1024, 128}}) {
    std::vector<uint8_t> q(nq * dim), t(nt * dim);
    for (uint8_t& x : q) x = static_cast<uint8_t>(value(rng));
    for (uint8_t& x : t) x = static_cast<uint8_t>(value(rng));
    std::vector<float> qf(q.begin(), q.end()), tf(t.begin(), t.end()), reference(nq * nt);
    internal::DotTileReference(qf.data(), nq, tf.data(), nt, dim, reference.data());
    internal::PackedQueryU8 packed_query;
    internal::PackedTrainU8 packed_train;
    internal::PackQueryU8(q.data(), nq, dim, &packed_query);
    internal::PackTrainU8(t.data(), nt, dim, &packed_train);
    for (int slice : {1, 7, 128}) {
      for (int q0 = 0; q0 < nq; q0 += slice) {
        const int count = std::min(slice, nq - q0);
        std::vector<float> out(static_cast<size_t>(count) * nt);
        internal::DotTilePackedU8(packed_query, q0, count, packed_train, out.data());
        const std::vector<float> expected(reference.begin() + static_cast<long>(q0) * nt,
                                          reference.begin() + static_cast<long>(q0 + count) * nt);
        ASSERT_EQ(out, expected) << nq << "x" << nt << "x" << dim << " slice " << slice << " at row " << q0
                                 << (internal::DotTileUsesAmx() ? " (amx)" : " (vnni)");
        // The VNNI kernel too where AMX runs by default.
        std::fill(out.begin(), out.end(), -1.0f);
        internal::DotTilePackedU8Vnni(packed_query, q0, count, packed_train, out.data());
        ASSERT_EQ(out, expected) << nq << "x" << nt << "x" << dim << " slice " << slice << " at row " << q0 << " (vnni)";
      }
    }
  }
}

}  // namespace
}  // namespace armap::features
