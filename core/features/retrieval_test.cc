#include "core/features/retrieval.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/testing/status_matchers.h"

namespace armap::features {
namespace {

using ::armap::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

std::vector<std::vector<float>> RandomUnitVectors(int n, int dim, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<std::vector<float>> out(n, std::vector<float>(dim));
  for (auto& v : out) {
    double n2 = 0;
    for (float& x : v) {
      x = normal(rng);
      n2 += double{x} * x;
    }
    for (float& x : v) x = static_cast<float>(x / std::sqrt(n2));
  }
  return out;
}

// Brute force: (id, score) by decreasing score, ties by id.
std::vector<RetrievalIndex::Result> BruteForce(const std::vector<std::vector<float>>& db, const std::vector<float>& q,
                                               int k, const std::vector<uint32_t>* allowed) {
  std::vector<RetrievalIndex::Result> all;
  for (uint32_t i = 0; i < db.size(); ++i) {
    if (allowed && std::find(allowed->begin(), allowed->end(), i) == allowed->end()) continue;
    double s = 0;
    for (size_t j = 0; j < q.size(); ++j) s += double{q[j]} * db[i][j];
    all.push_back({i, static_cast<float>(s)});
  }
  std::sort(all.begin(), all.end(),
            [](const auto& a, const auto& b) { return a.score != b.score ? a.score > b.score : a.id < b.id; });
  if (all.size() > static_cast<size_t>(k)) all.resize(k);
  return all;
}

std::filesystem::path TempDir(const std::string& name) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("armap_retrieval_test_" + std::to_string(getpid())) / name;
  std::filesystem::create_directories(dir);
  return dir;
}

TEST(RetrievalIndexTest, SearchIsExactTopK) {
  const auto db = RandomUnitVectors(500, 64, 1);
  auto index = RetrievalIndex::Build(64, db);
  ARMAP_ASSERT_OK(index);
  EXPECT_EQ(index->size(), 500u);
  EXPECT_EQ(index->descriptor_size(), 64);
  const auto queries = RandomUnitVectors(20, 64, 2);
  for (const auto& q : queries) {
    const auto got = index->Search(q, 10);
    const auto want = BruteForce(db, q, 10, nullptr);
    ASSERT_EQ(got.size(), 10u);
    for (size_t r = 0; r < 10; ++r) {
      EXPECT_EQ(got[r].id, want[r].id) << r;
      // FAISS sums in float, the reference in double: 1e-5 on unit vectors.
      EXPECT_NEAR(got[r].score, want[r].score, 1e-5);
    }
  }
  // Each database vector finds itself first with score 1.
  for (uint32_t i = 0; i < 500; i += 37) {
    const auto self = index->Search(db[i], 1);
    ASSERT_EQ(self.size(), 1u);
    EXPECT_EQ(self[0].id, i);
    EXPECT_NEAR(self[0].score, 1.0, 1e-5);
  }
}

TEST(RetrievalIndexTest, AllowedRestrictsTheSearch) {
  const auto db = RandomUnitVectors(300, 32, 3);
  auto index = RetrievalIndex::Build(32, db);
  ARMAP_ASSERT_OK(index);
  // Includes a repeat and an out-of-range id (ignored).
  const std::vector<uint32_t> allowed = {5, 17, 17, 42, 99, 250, 299, 1000};
  const std::vector<uint32_t> valid = {5, 17, 42, 99, 250, 299};
  for (const auto& q : RandomUnitVectors(10, 32, 4)) {
    const auto got = index->Search(q, 4, &allowed);
    const auto want = BruteForce(db, q, 4, &valid);
    ASSERT_EQ(got.size(), 4u);
    for (size_t r = 0; r < got.size(); ++r) EXPECT_EQ(got[r].id, want[r].id);
    // k beyond the allowed set returns the whole set, nothing else.
    const auto everything = index->Search(q, 50, &allowed);
    ASSERT_EQ(everything.size(), valid.size());
    for (const auto& r : everything) EXPECT_TRUE(std::count(valid.begin(), valid.end(), r.id)) << r.id;
    // A restricted search scores exactly like the unrestricted one.
    const auto all = index->Search(q, 300);
    for (const auto& r : everything) {
      const auto it = std::find_if(all.begin(), all.end(), [&](const auto& a) { return a.id == r.id; });
      ASSERT_NE(it, all.end());
      EXPECT_EQ(it->score, r.score);
    }
  }
  const std::vector<uint32_t> none;
  EXPECT_TRUE(index->Search(db[0], 5, &none).empty());
  const std::vector<uint32_t> self = {7};
  const auto only = index->Search(db[0], 5, &self);
  ASSERT_EQ(only.size(), 1u);
  EXPECT_EQ(only[0].id, 7u);
}

TEST(RetrievalIndexTest, EdgeCases) {
  const auto db = RandomUnitVectors(5, 8, 5);
  auto index = RetrievalIndex::Build(8, db);
  ARMAP_ASSERT_OK(index);
  EXPECT_EQ(index->Search(db[0], 100).size(), 5u);  // k > size
  EXPECT_TRUE(index->Search(db[0], 0).empty());
  EXPECT_TRUE(index->Search(std::vector<float>(7, 0.1f), 3).empty());  // wrong size

  // Ties come out in id order.
  auto ties = RetrievalIndex::Build(2, {{1, 0}, {0, 1}, {1, 0}, {1, 0}});
  ARMAP_ASSERT_OK(ties);
  const auto r = ties->Search({1, 0}, 3);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].id, 0u);
  EXPECT_EQ(r[1].id, 2u);
  EXPECT_EQ(r[2].id, 3u);

  auto empty = RetrievalIndex::Build(8, {});
  ARMAP_ASSERT_OK(empty);
  EXPECT_EQ(empty->size(), 0u);
  EXPECT_TRUE(empty->Search(db[0], 3).empty());

  RetrievalIndex moved = std::move(*index);
  EXPECT_EQ(moved.size(), 5u);
  EXPECT_EQ(moved.Search(db[2], 1)[0].id, 2u);

  EXPECT_THAT(RetrievalIndex::Build(8, {db[0], std::vector<float>(9)}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("descriptor 1 has 9 values; expected 8")));
  EXPECT_THAT(RetrievalIndex::Build(0, {}), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("descriptor_size")));
}

TEST(RetrievalIndexTest, FileErrorsNameTheFile) {
  const auto db = RandomUnitVectors(20, 16, 6);
  auto index = RetrievalIndex::Build(16, db);
  ARMAP_ASSERT_OK(index);
  const std::filesystem::path dir = TempDir("errors");
  ARMAP_ASSERT_OK(index->Save(dir / "index.faiss"));
  std::string bytes;
  {
    std::ifstream in(dir / "index.faiss", std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  auto write = [&](const std::string& name, const std::string& data) {
    std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    return dir / name;
  };
  EXPECT_THAT(RetrievalIndex::Load(write("truncated.faiss", bytes.substr(0, bytes.size() - 7))),
              StatusIs(absl::StatusCode::kDataLoss, AllOf(HasSubstr("truncated.faiss"), HasSubstr("truncated"))));
  EXPECT_THAT(RetrievalIndex::Load(write("header_only.faiss", bytes.substr(0, 20))),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("header_only.faiss")));
  EXPECT_THAT(RetrievalIndex::Load(write("garbage.faiss", "not an index at all, just text")),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("garbage.faiss")));
  std::string huge = bytes;
  huge[12] = 0x7f;  // ntotal's high bytes: a count that would need terabytes
  EXPECT_THAT(RetrievalIndex::Load(write("huge.faiss", huge)),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("huge.faiss")));
  EXPECT_THAT(RetrievalIndex::Load(dir / "missing.faiss"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("missing.faiss")));

  // A FAISS file of another index type is refused, with the file's name.
  auto loaded = RetrievalIndex::Load(dir / "index.faiss");
  ARMAP_ASSERT_OK(loaded);
  EXPECT_EQ(loaded->size(), 20u);
  std::string l2 = bytes;
  l2[3] = '2';  // "IxFI" -> "IxF2" (IndexFlatL2), same layout
  EXPECT_THAT(RetrievalIndex::Load(write("l2.faiss", l2)),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("l2.faiss")));
  std::filesystem::remove_all(dir.parent_path());
}

}  // namespace
}  // namespace armap::features
