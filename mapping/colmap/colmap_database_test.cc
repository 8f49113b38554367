#include "mapping/colmap/colmap_database.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "core/features/extractor.h"
#include "core/testing/status_matchers.h"
#include "mapping/colmap/colmap_test_util.h"
#include "mapping/colmap/process.h"

namespace armap::mapping {
namespace {

using ::armap::testing::IsOk;
using ::armap::testing::StatusIs;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

// A descriptor whose bytes are round(512 * v) of a unit-L2 vector.
std::vector<uint8_t> UnitDescriptorBytes(int seed) {
  std::vector<double> v(128);
  double n2 = 0;
  for (int c = 0; c < 128; ++c) {
    v[c] = 1.0 + ((c * 37 + seed * 11) % 17);
    n2 += v[c] * v[c];
  }
  std::vector<uint8_t> out(128);
  for (int c = 0; c < 128; ++c)
    out[c] = static_cast<uint8_t>(std::lround(std::min(255.0, 512.0 * v[c] / std::sqrt(n2))));
  return out;
}

TEST(ColmapDatabaseTest, ReadsImagesCamerasKeypointsAndDescriptors) {
  testing::ScratchDir dir("db");
  const fs::path path = dir / "database.db";
  {
    testing::SyntheticDatabase db(path);
    db.AddCamera(1, /*SIMPLE_RADIAL*/ 2, 640, 480, {500, 320, 240, 0.01});
    db.AddImage(2, "b.jpg", 1);
    db.AddImage(1, "a.jpg", 1);
    // Affine shape of scale 3 rotated by 30 deg: a = 3 * [cos -sin; sin cos].
    const float c = 3 * std::cos(0.5235988f), s = 3 * std::sin(0.5235988f);
    db.AddMatrix<float>("keypoints", 1, 2, 6, {10.5f, 20.5f, c, -s, s, c, 0.5f, 0.5f, 2, 0, 0, 2});
    std::vector<uint8_t> d = UnitDescriptorBytes(1), d2 = UnitDescriptorBytes(2);
    d.insert(d.end(), d2.begin(), d2.end());
    db.AddMatrix<uint8_t>("descriptors", 1, 2, 128, d);
    db.AddMatrix<float>("keypoints", 2, 1, 4, {100.5f, 50.5f, 1.5f, -0.25f});
    db.AddMatrix<uint8_t>("descriptors", 2, 1, 128, UnitDescriptorBytes(3));
  }
  auto db = ColmapDatabase::Open(path);
  ASSERT_THAT(db, IsOk());
  auto images = db->ReadImages();
  ASSERT_THAT(images, IsOk());
  ASSERT_EQ(images->size(), 2u);
  EXPECT_EQ((*images)[0].image_id, 1u);
  EXPECT_EQ((*images)[0].name, "a.jpg");
  EXPECT_EQ((*images)[1].name, "b.jpg");
  auto cameras = db->ReadCameras();
  ASSERT_THAT(cameras, IsOk());
  ASSERT_EQ(cameras->size(), 1u);
  EXPECT_EQ((*cameras)[0].model_id, 2);
  EXPECT_EQ((*cameras)[0].params, (std::vector<double>{500, 320, 240, 0.01}));
  EXPECT_THAT(db->NumKeypoints(1), ::testing::AllOf(IsOk()));
  EXPECT_EQ(*db->NumKeypoints(1), 2);
  EXPECT_EQ(*db->NumKeypoints(99), 0);

  // COLMAP's (10.5, 20.5) is the centre of pixel (10, 20).
  auto set = db->ReadFeatures(1, ColmapDescriptorNormalization::kL1Root);
  ASSERT_THAT(set, IsOk());
  ASSERT_EQ(set->size(), 2u);
  EXPECT_FLOAT_EQ(set->keypoints[0].x, 10.0f);
  EXPECT_FLOAT_EQ(set->keypoints[0].y, 20.0f);
  EXPECT_NEAR(set->keypoints[0].scale, 3.0f, 1e-5);
  EXPECT_NEAR(set->keypoints[0].orientation_rad, 0.5235988f, 1e-5);
  EXPECT_FLOAT_EQ(set->keypoints[1].x, 0.0f);
  EXPECT_NEAR(set->keypoints[1].scale, 2.0f, 1e-6);
  // l1_root: the stored bytes are RootSIFT already and are kept.
  EXPECT_TRUE(std::equal(set->descriptors.begin(), set->descriptors.begin() + 128, UnitDescriptorBytes(1).begin()));

  // 4 columns: scale and orientation as stored (orientation wrapped to [0, 2pi)).
  auto b = db->ReadFeatures(2, ColmapDescriptorNormalization::kL2);
  ASSERT_THAT(b, IsOk());
  EXPECT_FLOAT_EQ(b->keypoints[0].x, 100.0f);
  EXPECT_FLOAT_EQ(b->keypoints[0].scale, 1.5f);
  EXPECT_NEAR(b->keypoints[0].orientation_rad, 2 * M_PI - 0.25, 1e-5);
  // l2: de-quantised and converted, exactly as SiftToRootSift does.
  std::vector<float> sift(128);
  const std::vector<uint8_t> raw = UnitDescriptorBytes(3);
  for (int c = 0; c < 128; ++c) sift[c] = raw[c] / 512.0f;
  std::vector<uint8_t> expected(128);
  features::SiftToRootSift(sift.data(), 128, expected.data());
  EXPECT_EQ(b->descriptors, expected);
  EXPECT_NE(b->descriptors, raw);
}

TEST(ColmapDatabaseTest, MalformedBlobsAreDataLossNamingTheImage) {
  testing::ScratchDir dir("bad");
  const fs::path path = dir / "database.db";
  {
    testing::SyntheticDatabase db(path);
    db.AddImage(1, "a.jpg", 1);
    db.AddImage(2, "b.jpg", 1);
    db.AddImage(3, "c.jpg", 1);
    db.AddMatrix<float>("keypoints", 1, 1, 5, {1, 2, 3, 4, 5});               // 5 columns
    db.AddMatrix<float>("keypoints", 2, 2, 2, {1, 2, 3, 4});                  // 2 keypoints ...
    db.AddMatrix<uint8_t>("descriptors", 2, 1, 128, UnitDescriptorBytes(0));  // ... 1 descriptor
    db.AddMatrix<float>("keypoints", 3, 3, 2, {1, 2, 3, 4});                  // blob too short
  }
  auto db = ColmapDatabase::Open(path);
  ASSERT_THAT(db, IsOk());
  EXPECT_THAT(db->ReadKeypoints(1), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("image 1 have 5 columns")));
  EXPECT_THAT(db->ReadFeatures(2, ColmapDescriptorNormalization::kL1Root),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("image 2 has 2 keypoints but 1 descriptors")));
  EXPECT_THAT(db->ReadKeypoints(3), StatusIs(absl::StatusCode::kDataLoss, HasSubstr(path.string())));
}

TEST(ColmapDatabaseTest, OpenNamesTheFileWhenItIsNotAColmapDatabase) {
  testing::ScratchDir dir("open");
  EXPECT_THAT(ColmapDatabase::Open(dir / "missing.db"), StatusIs(absl::StatusCode::kNotFound, HasSubstr("missing.db")));
  const fs::path text = dir / "notes.db";
  std::ofstream(text) << "this is not a database, just some text that is long enough to have a header\n";
  EXPECT_THAT(ColmapDatabase::Open(text), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(text.string())));
  const fs::path empty_sqlite = dir / "other.sqlite";
  {
    sqlite3* db = nullptr;
    sqlite3_open(empty_sqlite.c_str(), &db);
    sqlite3_exec(db, "CREATE TABLE things (x INTEGER)", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }
  EXPECT_THAT(ColmapDatabase::Open(empty_sqlite),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a COLMAP database (no 'images' table)")));
  EXPECT_THAT(ParseColmapDescriptorNormalization("l1"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'l1'")));
}

// The conventions, checked against the real `colmap` program: COLMAP's
// keypoints, shifted by -0.5, land on the keypoints features::FeatureExtractor
// finds for the same extrema, and its default (l1_root) descriptors, kept as
// they are, match ours; converting them as if they were L2 SIFT does not.
TEST(ColmapDatabaseTest, ConventionsAgreeWithOurExtractorOnARealColmapDatabase) {
  const std::string colmap = testing::ColmapBinary();
  if (colmap.empty()) GTEST_SKIP() << "no colmap binary";
  if (!fs::exists(testing::LundDoor() / "images" / "DSC_0001.JPG")) GTEST_SKIP() << "lund_door dataset missing";
  testing::ScratchDir dir("real");
  // Half size, gray, lossless: both detectors see identical pixels, quickly.
  cv::Mat gray = cv::imread((testing::LundDoor() / "images" / "DSC_0001.JPG").string(), cv::IMREAD_GRAYSCALE);
  ASSERT_FALSE(gray.empty());
  cv::resize(gray, gray, cv::Size(), 0.5, 0.5, cv::INTER_AREA);
  fs::create_directories(dir / "images");
  ASSERT_TRUE(cv::imwrite((dir / "images" / "door.png").string(), gray));
  ProcessOptions process;
  process.log_path = dir / "colmap.log";
  auto run =
      RunProcess({colmap, "feature_extractor", "--database_path", (dir / "database.db").string(), "--image_path",
                  (dir / "images").string(), "--SiftExtraction.use_gpu", "0", "--SiftExtraction.num_threads", "2"},
                 process);
  ASSERT_THAT(run, IsOk());
  ASSERT_TRUE(run->ok()) << run->Describe() << "; see " << process.log_path;

  auto db = ColmapDatabase::Open(dir / "database.db");
  ASSERT_THAT(db, IsOk());
  auto colmap_set = db->ReadFeatures(1, ColmapDescriptorNormalization::kL1Root);
  auto as_l2 = db->ReadFeatures(1, ColmapDescriptorNormalization::kL2);
  ASSERT_THAT(colmap_set, IsOk());
  ASSERT_THAT(as_l2, IsOk());
  ASSERT_GT(colmap_set->size(), 1000u);

  features::ExtractorOptions options;
  options.max_features = 20000;
  auto extractor = features::FeatureExtractor::Create(options);
  ASSERT_THAT(extractor, IsOk());
  features::ImageView view;
  view.data = gray.data;
  view.width = gray.cols;
  view.height = gray.rows;
  view.stride_bytes = gray.step[0];
  auto ours = (*extractor)->Extract(view);
  ASSERT_THAT(ours, IsOk());

  // Pair keypoints that are the same detection: within 1 px, scale within
  // 15%, orientation within 0.15 rad.
  std::vector<double> dx, dy, dist_kept, dist_l2, dist_other;
  auto l2 = [](const uint8_t* a, const uint8_t* b) {
    double s = 0;
    for (int c = 0; c < 128; ++c) s += (a[c] - b[c]) * (a[c] - b[c]);
    return std::sqrt(s);
  };
  for (size_t i = 0; i < colmap_set->size(); i += 3) {
    const features::Keypoint& k = colmap_set->keypoints[i];
    size_t best = 0;
    double best_d = 1.0;
    bool found = false;
    for (size_t j = 0; j < ours->size(); ++j) {
      const features::Keypoint& o = ours->keypoints[j];
      const double d = std::hypot(o.x - k.x, o.y - k.y);
      if (d >= best_d || o.scale < 0.85f * k.scale || o.scale > 1.18f * k.scale) continue;
      if (std::abs(std::remainder(o.orientation_rad - k.orientation_rad, 2 * M_PI)) > 0.15) continue;
      best_d = d;
      best = j;
      found = true;
    }
    if (!found) continue;
    dx.push_back(ours->keypoints[best].x - k.x);
    dy.push_back(ours->keypoints[best].y - k.y);
    dist_kept.push_back(l2(ours->descriptor(best), colmap_set->descriptor(i)));
    dist_l2.push_back(l2(ours->descriptor(best), as_l2->descriptor(i)));
    dist_other.push_back(
        l2(ours->descriptor(best), colmap_set->descriptor((i + colmap_set->size() / 2) % colmap_set->size())));
  }
  auto median = [](std::vector<double> v) {
    std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
    return v[v.size() / 2];
  };
  ASSERT_GT(dx.size(), 300u) << "too few co-detected keypoints to judge";
  // Measured: |median offset| < 0.01 px. Without the -0.5 shift it would be
  // 0.5 px, so 0.1 px separates right from wrong with a wide margin.
  EXPECT_LT(std::abs(median(dx)), 0.1);
  EXPECT_LT(std::abs(median(dy)), 0.1);
  // Measured medians: kept ~38, re-converted as L2 ~147, unrelated ~410.
  const double kept = median(dist_kept), reconverted = median(dist_l2), other = median(dist_other);
  EXPECT_LT(kept, 0.25 * other) << "kept " << kept << " other " << other;
  EXPECT_GT(reconverted, 2 * kept) << "kept " << kept << " reconverted " << reconverted;
}

}  // namespace
}  // namespace armap::mapping
