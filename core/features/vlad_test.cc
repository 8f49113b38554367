#include "core/features/vlad.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/features/extractor.h"
#include "core/features/features_test_util.h"
#include "core/features/retrieval.h"
#include "core/testing/status_matchers.h"

namespace armap::features {
namespace {

using ::armap::features::testing::HaveLundDoor;
using ::armap::features::testing::LoadGray;
using ::armap::features::testing::LundDoorImage;
using ::armap::features::testing::ViewOf;
using ::armap::testing::StatusIs;
using ::testing::HasSubstr;

std::filesystem::path TempDir(const std::string& name) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("armap_features_test_" + std::to_string(getpid())) / name;
  std::filesystem::create_directories(dir);
  return dir;
}
// Removes a TempDir() and, once empty, its per-process parent.
void RemoveTempDir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::remove(dir.parent_path(), ec);  // fails harmlessly while not empty
}

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
void WriteAll(const std::filesystem::path& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

double Norm(const std::vector<float>& v) {
  double n2 = 0;
  for (float x : v) n2 += double{x} * x;
  return std::sqrt(n2);
}

TEST(VladOptionsTest, ValidationNamesTheField) {
  VladOptions options;
  EXPECT_TRUE(options.Validate().ok());
  options.num_clusters = 0;
  EXPECT_THAT(options.Validate(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("VladOptions::num_clusters = 0")));
  options = VladOptions();
  options.kmeans_iterations = -1;
  EXPECT_THAT(options.Validate(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("VladOptions::kmeans_iterations = -1")));
  options = VladOptions();
  options.max_training_descriptors = 10;
  EXPECT_THAT(options.Validate(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("VladOptions::max_training_descriptors = 10")));
}

TEST(VladTest, TrainNeedsEnoughDescriptors) {
  FeatureSet few;
  few.keypoints.resize(10);
  few.descriptors.resize(10 * 128, 7);
  EXPECT_THAT(VladCodebook::Train({&few}, VladOptions()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at least num_clusters = 64")));
  EXPECT_THAT(VladCodebook::Train({}, VladOptions()), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("got 0")));
}

// Two clusters in 2-D, worked by hand:
//   c0 = (0, 0) gets (3, 4): residual (3, 4) -> intra-normalised (0.6, 0.8)
//   c1 = (10, 10) gets (10, 8): residual (0, -2) -> (0, -1)
//   signed sqrt: (sqrt 0.6, sqrt 0.8, 0, -1), squared norm 2.4 -> / sqrt 2.4.
// Any other order of the normalisations gives different numbers.
TEST(VladTest, EncodeFollowsTheDefinition) {
  auto codebook = VladCodebook::FromCentroids(2, 2, {0, 0, 10, 10});
  ARMAP_ASSERT_OK(codebook);
  FeatureSet f;
  f.dim = 2;
  f.keypoints.resize(2);
  f.descriptors = {3, 4, 10, 8};
  const std::vector<float> v = codebook->Encode(f);
  const double s = std::sqrt(2.4);
  ASSERT_EQ(v.size(), 4u);
  // float output of double arithmetic: 1e-6 is a few float ulps.
  EXPECT_NEAR(v[0], std::sqrt(0.6) / s, 1e-6);
  EXPECT_NEAR(v[1], std::sqrt(0.8) / s, 1e-6);
  EXPECT_NEAR(v[2], 0.0, 1e-6);
  EXPECT_NEAR(v[3], -1.0 / s, 1e-6);

  // Empty input: the zero vector of the right size.
  FeatureSet empty;
  empty.dim = 2;
  EXPECT_EQ(codebook->Encode(empty), std::vector<float>(4, 0.0f));
}

// Encode as defined: every descriptor assigned by the plain float loop over
// all centroids (ties to the lower index), residuals summed in double.
std::vector<float> ReferenceEncode(const VladCodebook& codebook, const FeatureSet& features) {
  const size_t k = codebook.num_clusters(), d = codebook.dim();
  const std::vector<float>& centroids = codebook.centroids();
  std::vector<double> sums(k * d, 0.0);
  std::vector<float> x(d);
  for (size_t i = 0; i < features.size(); ++i) {
    for (size_t j = 0; j < d; ++j) x[j] = features.descriptor(i)[j];
    size_t best = 0;
    float best_d2 = std::numeric_limits<float>::infinity();
    for (size_t c = 0; c < k; ++c) {
      float d2 = 0;
      for (size_t j = 0; j < d; ++j) {
        const float diff = x[j] - centroids[c * d + j];
        d2 += diff * diff;
      }
      if (d2 < best_d2) {
        best_d2 = d2;
        best = c;
      }
    }
    for (size_t j = 0; j < d; ++j) sums[best * d + j] += static_cast<double>(x[j]) - centroids[best * d + j];
  }
  for (size_t c = 0; c < k; ++c) {
    double n2 = 0;
    for (size_t j = 0; j < d; ++j) n2 += sums[c * d + j] * sums[c * d + j];
    if (n2 > 0) {
      for (size_t j = 0; j < d; ++j) sums[c * d + j] /= std::sqrt(n2);
    }
  }
  double total2 = 0;
  for (double& v : sums) {
    v = std::copysign(std::sqrt(std::fabs(v)), v);
    total2 += v * v;
  }
  std::vector<float> out(k * d, 0.0f);
  if (total2 > 0) {
    for (size_t j = 0; j < sums.size(); ++j) out[j] = static_cast<float>(sums[j] / std::sqrt(total2));
  }
  return out;
}

// Encode's SIMD pre-selection of the nearest centroid must give exactly the
// definition's assignment, including descriptors (nearly) equidistant from
// two centroids, where a product summed in another order alone would pick
// either: the encodings are compared bit for bit.
TEST(VladTest, FastAssignmentIsTheDefinitionsIncludingTies) {
  constexpr int kClusters = 64, kDim = 128;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> value(0.0f, 200.0f);
  std::uniform_int_distribution<int> small(-20, 20);
  // Real-valued centroids (as k-means gives); pairs 40..55 mirrored about an
  // integer point p by integer offsets (a descriptor at p is exactly as far
  // from both), pairs 0..39 by real offsets (as far up to the centroids'
  // own rounding: the two sums' rounding decides).
  std::vector<float> centroids(kClusters * kDim);
  std::vector<std::vector<int>> mirror_points, near_points;
  for (int m = 0; m < kClusters / 2; ++m) {
    std::vector<int> p(kDim);
    for (int j = 0; j < kDim; ++j) {
      p[j] = 30 + static_cast<int>(value(rng) * 0.9f);
      const float e = m >= 20 && m < 28 ? static_cast<float>(small(rng)) : 0.1f * value(rng) - 10.0f;
      centroids[(2 * m) * kDim + j] = static_cast<float>(p[j]) + e;
      centroids[(2 * m + 1) * kDim + j] = static_cast<float>(p[j]) - e;
    }
    (m >= 20 && m < 28 ? mirror_points : near_points).push_back(p);
  }
  auto codebook = VladCodebook::FromCentroids(kClusters, kDim, centroids);
  ARMAP_ASSERT_OK(codebook);

  FeatureSet f;
  f.dim = kDim;
  auto add = [&](const std::vector<float>& v) {
    for (float x : v) f.descriptors.push_back(static_cast<uint8_t>(std::clamp(std::lround(x), 0L, 255L)));
    f.keypoints.emplace_back();
  };
  std::uniform_int_distribution<int> pick(0, kClusters - 1);
  for (int i = 0; i < 1500; ++i) {  // random descriptors
    std::vector<float> v(kDim);
    for (float& x : v) x = value(rng) * 1.27f;
    add(v);
  }
  for (int i = 0; i < 1500; ++i) {  // midway between two centroids, rounded: near ties
    const int a = pick(rng), b = pick(rng);
    std::vector<float> v(kDim);
    for (int j = 0; j < kDim; ++j) v[j] = 0.5f * (centroids[a * kDim + j] + centroids[b * kDim + j]);
    add(v);
  }
  for (const std::vector<int>& p : mirror_points) add(std::vector<float>(p.begin(), p.end()));  // exact ties
  for (const std::vector<int>& p : near_points) {  // ties within rounding, moved by one step in one entry
    for (int j = 0; j < kDim; j += 8) {
      std::vector<float> v(p.begin(), p.end());
      v[j] += j % 16 == 0 ? 1.0f : -1.0f;
      add(v);
      add(std::vector<float>(p.begin(), p.end()));
    }
  }
  const std::vector<float> expected = ReferenceEncode(*codebook, f);
  const std::vector<float> got = codebook->Encode(f);
  ASSERT_EQ(got.size(), expected.size());
  for (size_t j = 0; j < got.size(); ++j) ASSERT_EQ(got[j], expected[j]) << "entry " << j;

  // Each exact tie alone: its residual lands in the lower-index centroid's
  // block (the higher one's block stays zero).
  for (int m = 0; m < 8; ++m) {
    FeatureSet one;
    one.dim = kDim;
    one.keypoints.resize(1);
    one.descriptors.assign(mirror_points[m].begin(), mirror_points[m].end());
    const std::vector<float> v = codebook->Encode(one);
    EXPECT_EQ(v, ReferenceEncode(*codebook, one));
    EXPECT_NE(Norm(std::vector<float>(v.begin() + (40 + 2 * m) * kDim, v.begin() + (41 + 2 * m) * kDim)), 0.0);
    EXPECT_EQ(Norm(std::vector<float>(v.begin() + (41 + 2 * m) * kDim, v.begin() + (42 + 2 * m) * kDim)), 0.0);
  }
}

TEST(VladTest, CodebookFileErrorsNameTheFile) {
  auto codebook = VladCodebook::FromCentroids(3, 4, std::vector<float>(12, 1.5f));
  ARMAP_ASSERT_OK(codebook);
  const std::filesystem::path dir = TempDir("codebook_errors");
  const std::filesystem::path good = dir / "codebook.vlad";
  ARMAP_ASSERT_OK(codebook->Save(good));
  auto loaded = VladCodebook::Load(good);
  ARMAP_ASSERT_OK(loaded);
  EXPECT_EQ(loaded->centroids(), codebook->centroids());

  const std::string bytes = ReadAll(good);
  const std::filesystem::path truncated = dir / "truncated.vlad";
  WriteAll(truncated, bytes.substr(0, bytes.size() - 5));
  EXPECT_THAT(
      VladCodebook::Load(truncated),
      StatusIs(absl::StatusCode::kDataLoss, ::testing::AllOf(HasSubstr("truncated.vlad"), HasSubstr("truncated"))));
  std::string flipped = bytes;
  flipped[30] ^= 0x10;  // inside the centroids
  const std::filesystem::path corrupted = dir / "corrupted.vlad";
  WriteAll(corrupted, flipped);
  EXPECT_THAT(
      VladCodebook::Load(corrupted),
      StatusIs(absl::StatusCode::kDataLoss, ::testing::AllOf(HasSubstr("corrupted.vlad"), HasSubstr("checksum"))));
  const std::filesystem::path garbage = dir / "garbage.vlad";
  WriteAll(garbage, "definitely not a codebook");
  EXPECT_THAT(VladCodebook::Load(garbage), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("garbage.vlad")));
  std::string future = bytes;
  future[8] = 9;  // version
  const std::filesystem::path newer = dir / "newer.vlad";
  WriteAll(newer, future);
  EXPECT_THAT(VladCodebook::Load(newer), StatusIs(absl::StatusCode::kFailedPrecondition,
                                                  ::testing::AllOf(HasSubstr("newer.vlad"), HasSubstr("version 9"))));
  EXPECT_THAT(VladCodebook::Load(dir / "missing.vlad"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("missing.vlad")));
  RemoveTempDir(dir);
}

// ---------------------------------------------------------------- lund_door

// The 12 photos are one walk past the door: the reference camera centres in
// colmap_ground_truth/images.txt move monotonically along one axis
// (x = 8.1, 6.9, 5.4, 4.0, 2.4, 0.9, -0.2, -1.7, -2.7, -3.7, -4.5, -5.3 for
// DSC_0001..0012), so image i's true neighbours are i +- 1, i +- 2.
class LundDoorVladTest : public ::testing::Test {
 protected:
  static constexpr int kNumImages = 12;

  void SetUp() override {
    if (!HaveLundDoor()) GTEST_SKIP() << "missing " << LundDoorImage(1);
  }
  static void TearDownTestSuite() { cache_.clear(); }

  // Features of DSC_(index + 1), extracted on first use (ctest runs every
  // test in its own process, so each extracts only what it needs). Half
  // resolution (648 x 968) keeps the suite fast; 2000 features each.
  static const FeatureSet& Features(int index) {
    if (cache_.empty()) cache_.resize(kNumImages);
    std::unique_ptr<FeatureSet>& slot = cache_.at(index);
    if (!slot) {
      slot = std::make_unique<FeatureSet>();
      auto extractor = FeatureExtractor::Create(ExtractorOptions());
      const cv::Mat gray = LoadGray(LundDoorImage(index + 1), 0.5);
      if (extractor.ok() && !gray.empty()) {
        auto f = (*extractor)->Extract(ViewOf(gray));
        if (f.ok()) *slot = *std::move(f);
      }
      // An empty set fails the tests below loudly (zero-vector encodings).
      EXPECT_GT(slot->size(), 1000u) << "feature extraction on " << LundDoorImage(index + 1);
    }
    return *slot;
  }

  // Codebook from every other image (DSC_0001, 0003, ..., 0011).
  static absl::StatusOr<VladCodebook> TrainOnOddImages(uint64_t seed) {
    std::vector<const FeatureSet*> sets;
    for (int i = 0; i < kNumImages; i += 2) sets.push_back(&Features(i));
    VladOptions options;
    options.seed = seed;
    return VladCodebook::Train(sets, options);
  }

  // How many images have their best other image within +-2 in the walk.
  static int SequenceNeighbourHits(const std::vector<std::vector<float>>& encodings, int* self_first) {
    auto index = RetrievalIndex::Build(static_cast<int>(encodings[0].size()), encodings);
    EXPECT_TRUE(index.ok());
    int hits = 0;
    *self_first = 0;
    for (int i = 0; i < kNumImages; ++i) {
      const std::vector<RetrievalIndex::Result> results = index->Search(encodings[i], kNumImages);
      EXPECT_EQ(results.size(), static_cast<size_t>(kNumImages));
      if (results.empty()) continue;
      if (results[0].id == static_cast<uint32_t>(i)) ++*self_first;
      const RetrievalIndex::Result& other = results[0].id == static_cast<uint32_t>(i) ? results[1] : results[0];
      if (std::abs(static_cast<int>(other.id) - i) <= 2) ++hits;
      std::printf("  DSC_%04d: best other DSC_%04d (score %.3f)\n", i + 1, other.id + 1, other.score);
    }
    return hits;
  }

  static std::vector<std::unique_ptr<FeatureSet>> cache_;
};

std::vector<std::unique_ptr<FeatureSet>> LundDoorVladTest::cache_;

TEST_F(LundDoorVladTest, RetrievalFollowsTheCaptureSequence) {
  auto codebook = TrainOnOddImages(1);
  ARMAP_ASSERT_OK(codebook);
  ASSERT_EQ(codebook->descriptor_size(), 64 * 128);
  std::vector<std::vector<float>> encodings;
  for (int i = 0; i < kNumImages; ++i) {
    encodings.push_back(codebook->Encode(Features(i)));
    ASSERT_EQ(encodings.back().size(), 64u * 128u);
    EXPECT_NEAR(Norm(encodings.back()), 1.0, 1e-5);  // unit vector (float rounding)
  }
  std::printf("real descriptors:\n");
  int self_first = 0;
  const int hits = SequenceNeighbourHits(encodings, &self_first);
  // Every image retrieves itself first (score 1 against < 1 for others).
  EXPECT_EQ(self_first, kNumImages);
  // Criterion: for >= 80% of images (10 of 12) the best other image is
  // within +-2 in the walk. A random ranking would hit 4/11 of the time for
  // interior images and 2/11 or 3/11 at the ends: 31.8% on average, so 10
  // or more hits by chance has probability ~3e-4 (Poisson-binomial).
  EXPECT_GE(hits, 10) << hits << " of 12";

  // Control: the same descriptors pooled over all images, shuffled and dealt
  // back in the same counts. Each "image" is then a random sample of the
  // whole walk, so the sequence structure must disappear.
  FeatureSet pool;
  for (int i = 0; i < kNumImages; ++i) pool.Append(Features(i));
  std::vector<size_t> order(pool.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937(1234));
  std::vector<std::vector<float>> shuffled;
  size_t next = 0;
  for (int i = 0; i < kNumImages; ++i) {
    const std::vector<size_t> picked(order.begin() + next, order.begin() + next + Features(i).size());
    next += Features(i).size();
    shuffled.push_back(codebook->Encode(pool.Subset(picked)));
  }
  std::printf("shuffled descriptors:\n");
  const int shuffled_hits = SequenceNeighbourHits(shuffled, &self_first);
  std::printf("sequence-neighbour hits: real %d/12, shuffled %d/12, random ranking 31.8%% (3.8/12)\n", hits,
              shuffled_hits);
  EXPECT_LT(shuffled_hits, 10);
  EXPECT_LT(shuffled_hits, hits);
}

TEST_F(LundDoorVladTest, TrainingIsDeterministicForASeed) {
  auto a = TrainOnOddImages(1);
  auto b = TrainOnOddImages(1);
  auto c = TrainOnOddImages(2);
  ARMAP_ASSERT_OK(a);
  ARMAP_ASSERT_OK(b);
  ARMAP_ASSERT_OK(c);
  EXPECT_EQ(a->centroids(), b->centroids());
  EXPECT_NE(a->centroids(), c->centroids());  // the seed is actually used
  EXPECT_EQ(a->Encode(Features(2)), b->Encode(Features(2)));

  // Subsampling below the available count is deterministic too.
  std::vector<const FeatureSet*> sets;
  for (int i = 0; i < kNumImages; i += 2) sets.push_back(&Features(i));
  VladOptions options;
  options.max_training_descriptors = 5000;
  options.num_clusters = 16;
  auto d = VladCodebook::Train(sets, options);
  auto e = VladCodebook::Train(sets, options);
  ARMAP_ASSERT_OK(d);
  ARMAP_ASSERT_OK(e);
  EXPECT_EQ(d->centroids(), e->centroids());
}

TEST_F(LundDoorVladTest, SaveLoadRoundTrips) {
  auto codebook = TrainOnOddImages(1);
  ARMAP_ASSERT_OK(codebook);
  const std::filesystem::path dir = TempDir("round_trip");
  ARMAP_ASSERT_OK(codebook->Save(dir / "codebook.vlad"));
  auto loaded = VladCodebook::Load(dir / "codebook.vlad");
  ARMAP_ASSERT_OK(loaded);
  EXPECT_EQ(loaded->num_clusters(), codebook->num_clusters());
  EXPECT_EQ(loaded->dim(), codebook->dim());
  EXPECT_EQ(loaded->centroids(), codebook->centroids());

  // The six training images (extraction dominates this test's time).
  std::vector<std::vector<float>> encodings;
  for (int i = 0; i < kNumImages; i += 2) {
    encodings.push_back(codebook->Encode(Features(i)));
    EXPECT_EQ(loaded->Encode(Features(i)), encodings.back());  // bit-identical
  }
  auto index = RetrievalIndex::Build(codebook->descriptor_size(), encodings);
  ARMAP_ASSERT_OK(index);
  ARMAP_ASSERT_OK(index->Save(dir / "views.faiss"));
  auto loaded_index = RetrievalIndex::Load(dir / "views.faiss");
  ARMAP_ASSERT_OK(loaded_index);
  ASSERT_EQ(loaded_index->size(), index->size());
  const std::vector<uint32_t> allowed = {0, 2, 3, 5};
  for (const std::vector<float>& query : encodings) {
    for (const std::vector<uint32_t>* subset : {static_cast<const std::vector<uint32_t>*>(nullptr), &allowed}) {
      const auto expected = index->Search(query, 3, subset);
      const auto actual = loaded_index->Search(query, 3, subset);
      ASSERT_EQ(actual.size(), expected.size());
      for (size_t r = 0; r < expected.size(); ++r) {
        EXPECT_EQ(actual[r].id, expected[r].id);
        EXPECT_EQ(actual[r].score, expected[r].score);
      }
    }
  }
  RemoveTempDir(dir);
}

}  // namespace
}  // namespace armap::features
