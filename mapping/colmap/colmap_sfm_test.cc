#include "mapping/colmap/colmap_sfm.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <Eigen/Geometry>
#include <chrono>
#include <cmath>
#include <set>
#include <string>

#include "core/files.h"
#include "core/geo.h"
#include "core/io/colmap_model.h"
#include "core/map/map_data.h"
#include "core/map/package.h"
#include "core/testing/status_matchers.h"
#include "mapping/colmap/colmap_test_util.h"
#include "mapping/colmap/image_metadata.h"

namespace armap::mapping {
namespace {

using ::armap::testing::IsOk;
using ::armap::testing::StatusIs;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

TEST(ColmapSfmTest, MissingColmapBinaryIsFailedPreconditionNamingIt) {
  testing::ScratchDir dir("nobinary");
  ColmapSfmRequest request;
  request.images_dir = testing::BerlinImages();
  request.out_dir = dir / "map";
  request.colmap_binary = "/nonexistent/colmap";
  EXPECT_THAT(RunColmapSfm(request), StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("/nonexistent/colmap")));
  EXPECT_FALSE(fs::exists(dir / "map"));
}

TEST(ColmapSfmTest, BadRequestsNameTheField) {
  testing::ScratchDir dir("badrequest");
  ColmapSfmRequest request;
  request.images_dir = dir / "images";
  request.out_dir = dir / "map";
  request.matcher = "vocab_tree";
  EXPECT_THAT(RunColmapSfm(request),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ColmapSfmRequest::matcher")));
  request.matcher = "exhaustive";
  request.camera_model = "PANORAMA";
  EXPECT_THAT(RunColmapSfm(request), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("PANORAMA")));
  request.camera_model = "SIMPLE_RADIAL";
  request.colmap_binary = "sh";  // exists; the photo folder does not
  EXPECT_THAT(RunColmapSfm(request), StatusIs(absl::StatusCode::kNotFound, HasSubstr((dir / "images").string())));
  fs::create_directories(dir / "images");
  EXPECT_THAT(RunColmapSfm(request), StatusIs(absl::StatusCode::kNotFound, HasSubstr("no photos")));
}

// A failing COLMAP step names itself and the log. `false` stands in for a
// colmap that exits non-zero.
TEST(ColmapSfmTest, AFailingStepNamesTheStepAndTheLog) {
  if (!fs::exists(testing::BerlinImages())) GTEST_SKIP() << "berlin dataset missing";
  testing::ScratchDir dir("failing");
  ColmapSfmRequest request;
  request.images_dir = testing::BerlinImages();
  request.out_dir = dir / "map";
  request.workspace_dir = dir / "ws";
  request.colmap_binary = "false";
  EXPECT_THAT(RunColmapSfm(request), StatusIs(absl::StatusCode::kInternal,
                                              ::testing::AllOf(HasSubstr("feature_extractor failed (exit code 1)"),
                                                               HasSubstr((dir / "ws" / "colmap.log").string()))));
  auto log = ReadFileToString(dir / "ws" / "colmap.log");
  ASSERT_THAT(log, IsOk());
  EXPECT_THAT(*log, HasSubstr("feature_extractor --database_path"));
  EXPECT_THAT(*log, HasSubstr("--SiftExtraction.use_gpu 0"));
}

// The real thing on the 3 geotagged berlin phone photos (3264x2448, detected
// at 1600 px): ~30 s on 2 busy cores. All 3 register. Their camera centres
// are nearly on one line (singular value ratio 0.014; OpenSfM's reference
// reconstruction of the same photos has them within 0.3 m of a 10.6 m line),
// so the rotation about that line is not determined by GPS positions and
// geo-registration must decline, saying why.
TEST(ColmapSfmRealTest, BerlinPhotosBecomeAMapAndDeclineDegenerateGeoRegistration) {
  const std::string colmap = testing::ColmapBinary();
  if (colmap.empty()) GTEST_SKIP() << "no colmap binary";
  if (!fs::exists(testing::BerlinImages() / "01.jpg")) GTEST_SKIP() << "berlin dataset missing";
  testing::ScratchDir dir("berlin");
  ColmapSfmRequest request;
  request.images_dir = testing::BerlinImages();
  request.out_dir = dir / "map";
  request.colmap_binary = colmap;
  request.max_image_size_px = 1600;
  request.max_num_features = 4096;
  auto report = RunColmapSfm(request);
  ASSERT_THAT(report, IsOk());
  auto manifest = map::ReadManifest(dir / "map");
  ASSERT_THAT(manifest, IsOk());
  ARMAP_EXPECT_OK(map::VerifyPackage(dir / "map", *manifest));
  EXPECT_EQ(manifest->counts.at("views"), 3);
  const OrderedJson& r = *report;
  EXPECT_EQ(r["colmap"]["registered_photos"], 3);
  EXPECT_EQ(r["colmap"]["single_camera"], true);
  EXPECT_TRUE(fs::exists(r["colmap"]["log"].get<std::string>()));
  for (const char* stage : {"colmap_feature_extractor", "colmap_exhaustive_matcher", "colmap_mapper", "retrieval"}) {
    EXPECT_GT(r["stages"][stage]["seconds"].get<double>(), 0) << stage;
  }
  // Every COLMAP point has its database descriptor.
  EXPECT_GT(r["counts"]["landmarks"].get<int64_t>(), 300);
  EXPECT_EQ(r["counts"]["landmarks_dropped"], 0);
  EXPECT_EQ(r["descriptors"]["source"], "database");
  EXPECT_FALSE(r["descriptors"].contains("warning")) << r["descriptors"].dump();
  // COLMAP's own mean reprojection error is ~0.5-1 px here; no half-pixel bias.
  EXPECT_LT(r["reprojection"]["median_px"].get<double>(), 1.5);
  EXPECT_LT(std::abs(r["reprojection"]["mean_dx_px"].get<double>()), 0.1);
  EXPECT_LT(std::abs(r["reprojection"]["mean_dy_px"].get<double>()), 0.1);
  const OrderedJson& geo = r["georegistration"];
  EXPECT_EQ(geo["images_with_gps"], 3);
  EXPECT_EQ(geo["method"], "none");
  EXPECT_THAT(geo["reason"].get<std::string>(), HasSubstr("collinear"));
  EXPECT_EQ(manifest->origin.lat_deg, 0.0);
}

// 6 lund_door photos (every other one) through COLMAP, detected at 1000 px
// with 2048 features: ~20 s. The camera centres must match the reference
// model's after a similarity. Measured: <= 0.002 reference units (the photos
// are ~1.5 units apart, the path spans ~11), so 0.02 keeps a 10x margin and
// still fails any mix-up of views or a pose convention error (units).
TEST(ColmapSfmRealTest, LundDoorPosesMatchTheReferenceModel) {
  const std::string colmap = testing::ColmapBinary();
  if (colmap.empty()) GTEST_SKIP() << "no colmap binary";
  if (!fs::exists(testing::LundDoor() / "images" / "DSC_0001.JPG")) GTEST_SKIP() << "lund_door dataset missing";
  testing::ScratchDir dir("lund6");
  fs::create_directories(dir / "images");
  for (int i : {1, 3, 5, 7, 9, 11}) {
    char name[32];
    std::snprintf(name, sizeof(name), "DSC_%04d.JPG", i);
    fs::copy_file(testing::LundDoor() / "images" / name, dir / "images" / name);
  }
  ColmapSfmRequest request;
  request.images_dir = dir / "images";
  request.out_dir = dir / "map";
  request.colmap_binary = colmap;
  request.max_image_size_px = 1000;
  request.max_num_features = 2048;
  request.map_id = "door6";
  auto report = RunColmapSfm(request);
  ASSERT_THAT(report, IsOk());
  EXPECT_EQ((*report)["colmap"]["registered_photos"], 6);
  EXPECT_EQ((*report)["georegistration"]["method"], "none");
  EXPECT_EQ((*report)["georegistration"]["images_with_gps"], 0);

  auto views = map::ReadViews(dir / "map" / "views.json");
  auto reference = io::ReadColmapModel(testing::LundDoor() / "colmap_ground_truth");
  ASSERT_THAT(views, IsOk());
  ASSERT_THAT(reference, IsOk());
  ASSERT_EQ(views->size(), 6u);
  std::map<std::string, Rigid3d> ref_poses;
  for (const auto& [id, image] : reference->images) ref_poses[image.name] = image.cam_from_world;
  Eigen::Matrix3Xd ours(3, 6), ref(3, 6);
  for (size_t i = 0; i < 6; ++i) {
    ASSERT_EQ(ref_poses.count((*views)[i].name), 1u) << (*views)[i].name;
    ours.col(i) = CameraCenter((*views)[i].cam_from_world);
    ref.col(i) = CameraCenter(ref_poses[(*views)[i].name]);
  }
  const Eigen::Matrix4d m = Eigen::umeyama(ours, ref, /*with_scaling=*/true);
  const double scale = std::cbrt(m.topLeftCorner<3, 3>().determinant());
  const Sim3d ref_from_ours(scale, Eigen::Quaterniond(Eigen::Matrix3d(m.topLeftCorner<3, 3>() / scale)),
                            m.topRightCorner<3, 1>());
  for (size_t i = 0; i < 6; ++i) {
    const std::string& name = (*views)[i].name;
    EXPECT_LT((ref_from_ours * ours.col(i) - ref.col(i)).norm(), 0.02) << name;
    // Orientation too (measured < 0.1 deg).
    const Rigid3d aligned = ref_from_ours.TransformCamFromWorld((*views)[i].cam_from_world);
    EXPECT_LT(RotationErrorDeg(aligned.rotation, ref_poses[name].rotation), 0.5) << name;
  }
}

}  // namespace
}  // namespace armap::mapping
