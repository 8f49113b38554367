#include "mapping/colmap/from_colmap.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <set>
#include <string>

#include "core/features/extractor.h"
#include "core/features/retrieval.h"
#include "core/features/vlad.h"
#include "core/geo.h"
#include "core/io/colmap_model.h"
#include "core/map/map_data.h"
#include "core/map/package.h"
#include "core/testing/status_matchers.h"
#include "mapping/colmap/colmap_test_util.h"

namespace armap::mapping {
namespace {

using ::armap::testing::IsOk;
using ::armap::testing::StatusIs;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

fs::path LundDoorModel() { return testing::LundDoor() / "colmap_ground_truth"; }
fs::path LundDoorImages() { return testing::LundDoor() / "images"; }
bool HaveLundDoor() { return fs::exists(LundDoorModel() / "points3D.txt") && fs::exists(LundDoorImages()); }

// Checks on one build of the lund_door reference model without a database
// (descriptors from re-detecting SIFT on the 12 photos). ctest runs every
// test case in its own process, so the ~25 s build (2 idle cores) is done
// once, in LundDoorWithoutDatabase below, and these helpers check it.
struct LundDoorBuild {
  fs::path map_dir;
  OrderedJson report;
  io::ColmapModel model;
  const fs::path& MapDir() const { return map_dir; }
  const OrderedJson& Report() const { return report; }
  const io::ColmapModel& Model() const { return model; }
};

void CheckWritesAVerifiedPackageWithThePipelinesFiles(const LundDoorBuild& b) {
  auto manifest = map::ReadManifest(b.MapDir());
  ASSERT_THAT(manifest, IsOk());
  ARMAP_EXPECT_OK(map::VerifyPackage(b.MapDir(), *manifest));
  std::set<std::string> files;
  for (const auto& [name, entry] : manifest->files) files.insert(name);
  EXPECT_EQ(files, (std::set<std::string>{"config.json", "landmarks.bin", "report.json", "retrieval/codebook.bin",
                                          "retrieval/index.faiss", "views.json"}));
  EXPECT_EQ(manifest->map_id, "lund_door");
  EXPECT_EQ(manifest->counts.at("views"), 12);
  // No GPS in these photos (checked with libexif): the model's frame is kept
  // and the origin is the 0,0,0 placeholder.
  EXPECT_EQ(manifest->origin.lat_deg, 0.0);
  EXPECT_EQ(manifest->origin.lon_deg, 0.0);
  const OrderedJson& report = b.Report();
  EXPECT_EQ(report["georegistration"]["method"], "none");
  EXPECT_EQ(report["georegistration"]["images_with_gps"], 0);
  EXPECT_EQ(report["counts"]["views"], 12);
  for (const char* key : {"total", "descriptors", "index"})
    EXPECT_GT(report["size_bytes"][key].get<int64_t>(), 0) << key;
  for (const char* stage : {"read_model", "descriptors", "landmarks", "georegistration", "retrieval", "package"}) {
    EXPECT_TRUE(report["stages"][stage].contains("seconds")) << stage;
  }
  EXPECT_EQ(report["descriptors"]["source"], "extracted");
  // report.json in the package is the returned report.
  auto on_disk = ReadJsonFile(b.MapDir() / "report.json");
  ASSERT_THAT(on_disk, IsOk());
  EXPECT_EQ((*on_disk)["counts"]["landmarks"].get<int64_t>(), report["counts"]["landmarks"].get<int64_t>());
}

void CheckViewsAreTheModelsImagesWithTheirPoses(const LundDoorBuild& b) {
  auto views = map::ReadViews(b.MapDir() / "views.json");
  ASSERT_THAT(views, IsOk());
  ASSERT_EQ(views->size(), b.Model().images.size());
  size_t v = 0;
  for (const auto& [id, image] : b.Model().images) {
    const map::MapView& view = (*views)[v];
    EXPECT_EQ(view.id, v);
    EXPECT_EQ(view.name, image.name);
    EXPECT_EQ(view.source, image.name);
    // Same frame (not georegistered): the poses are the model's, up to
    // views.json's number formatting.
    EXPECT_LT(RotationErrorDeg(view.cam_from_world.rotation, image.cam_from_world.rotation), 1e-6) << image.name;
    EXPECT_LT((view.cam_from_world.translation - image.cam_from_world.translation).norm(), 1e-9) << image.name;
    // SIMPLE_RADIAL f=2435.38, cx=648, cy=968 -> OPENCV with the principal
    // point in armap's pixel convention (COLMAP's minus 0.5).
    EXPECT_EQ(view.camera.ModelName(), "OPENCV");
    EXPECT_DOUBLE_EQ(view.camera.params[0], 2435.38);
    EXPECT_DOUBLE_EQ(view.camera.params[2], 647.5);
    EXPECT_DOUBLE_EQ(view.camera.params[3], 967.5);
    ++v;
  }
}

void CheckMostLandmarksAndTheirPositionsSurvive(const LundDoorBuild& b) {
  auto landmarks = map::ReadLandmarks(b.MapDir() / "landmarks.bin");
  ASSERT_THAT(landmarks, IsOk());
  ARMAP_EXPECT_OK(landmarks->Validate(12));
  const size_t model_points = b.Model().points3D.size();  // 11,384
  int64_t model_obs = 0;
  for (const auto& [id, p] : b.Model().points3D) model_obs += static_cast<int64_t>(p.track.size());
  // A landmark survives when any of its observations (mean track length
  // 6.4) finds a re-detected keypoint within 2 px. Measured: 98.5% of the
  // landmarks and 83% of the observations. 90% / 70% leave room for
  // OpenCV/platform differences yet fail a broken lookup: capping the
  // detector at 16,000 features per photo keeps 48% / 40%, and a wrong
  // image order keeps almost nothing. (A half-pixel convention error stays
  // within 2 px; ReprojectionHasNoHalfPixelBias catches that.)
  EXPECT_GE(landmarks->size(), static_cast<size_t>(0.9 * model_points));
  EXPECT_LE(landmarks->size(), model_points);
  EXPECT_GE(landmarks->num_observations(), static_cast<size_t>(0.7 * model_obs));
  EXPECT_EQ(b.Report()["counts"]["landmarks"].get<size_t>() + b.Report()["counts"]["landmarks_dropped"].get<size_t>(),
            model_points);
  // Positions are the model's points (same frame): every landmark is one.
  std::set<std::tuple<double, double, double>> points;
  for (const auto& [id, p] : b.Model().points3D) points.emplace(p.xyz.x(), p.xyz.y(), p.xyz.z());
  size_t found = 0;
  for (const Eigen::Vector3d& x : landmarks->positions) found += points.count({x.x(), x.y(), x.z()});
  EXPECT_EQ(found, landmarks->size());
  // RootSIFT descriptors are unit vectors scaled by 512: |d| ~ 512.
  double norm = 0;
  for (int c = 0; c < 128; ++c) norm += landmarks->descriptor(0)[c] * landmarks->descriptor(0)[c];
  EXPECT_NEAR(std::sqrt(norm), 512, 15);
}

// Observations are points2D moved to armap's convention, the cameras' principal
// points too: projecting a landmark must land on its observation with no
// systematic half-pixel offset. (If either shift were missing or doubled, the
// mean residual would be 0.5 px in x and y.)
void CheckReprojectionHasNoHalfPixelBias(const LundDoorBuild& b) {
  const OrderedJson& r = b.Report()["reprojection"];
  EXPECT_GT(r["observations"].get<int64_t>(), 10000);
  // The reference model's own reprojection error is well under a pixel.
  EXPECT_LT(r["median_px"].get<double>(), 1.0);
  EXPECT_LT(std::abs(r["mean_dx_px"].get<double>()), 0.1);
  EXPECT_LT(std::abs(r["mean_dy_px"].get<double>()), 0.1);
}

// The retrieval index is usable as the localizer will use it: a query
// described with the localizer's default extractor (2000 features, not the
// ~41,000 per photo the map used) retrieves its own view first.
void CheckRetrievalFindsTheQuerysOwnView(const LundDoorBuild& b) {
  auto codebook = features::VladCodebook::Load(b.MapDir() / "retrieval" / "codebook.bin");
  auto index = features::RetrievalIndex::Load(b.MapDir() / "retrieval" / "index.faiss");
  ASSERT_THAT(codebook, IsOk());
  ASSERT_THAT(index, IsOk());
  EXPECT_EQ(index->size(), 12u);
  EXPECT_EQ(codebook->num_clusters(), 64);  // plenty of descriptors: the cap
  auto extractor = features::FeatureExtractor::Create(features::ExtractorOptions());
  ASSERT_THAT(extractor, IsOk());
  auto views = map::ReadViews(b.MapDir() / "views.json");
  ASSERT_THAT(views, IsOk());
  for (int v : {2, 9}) {
    const cv::Mat gray = cv::imread((LundDoorImages() / (*views)[v].name).string(), cv::IMREAD_GRAYSCALE);
    ASSERT_FALSE(gray.empty());
    features::ImageView image;
    image.data = gray.data;
    image.width = gray.cols;
    image.height = gray.rows;
    image.stride_bytes = gray.step[0];
    auto set = (*extractor)->Extract(image);
    ASSERT_THAT(set, IsOk());
    const auto results = index->Search(codebook->Encode(*set), 3);
    ASSERT_FALSE(results.empty());
    EXPECT_EQ(results[0].id, static_cast<uint32_t>(v)) << (*views)[v].name;
  }
}

void CheckAnExistingPackageNeedsOverwrite(const LundDoorBuild& b) {
  FromColmapRequest request;
  request.model_dir = LundDoorModel();
  request.images_dir = LundDoorImages();
  request.out_dir = b.MapDir();
  EXPECT_THAT(BuildMapFromColmap(request, FromColmapOptions()),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr(b.MapDir().string())));
}

TEST(FromColmapTest, LundDoorWithoutDatabase) {
  if (!HaveLundDoor()) GTEST_SKIP() << "lund_door dataset missing";
  testing::ScratchDir dir("lund_door_map");
  LundDoorBuild b;
  b.map_dir = dir / "map";
  FromColmapRequest request;
  request.model_dir = LundDoorModel();
  request.images_dir = LundDoorImages();
  request.out_dir = b.map_dir;
  request.map_id = "lund_door";
  auto report = BuildMapFromColmap(request, FromColmapOptions());
  ASSERT_THAT(report, IsOk());
  b.report = *std::move(report);
  auto model = io::ReadColmapModel(LundDoorModel());
  ASSERT_THAT(model, IsOk());
  b.model = *std::move(model);
  {
    SCOPED_TRACE("WritesAVerifiedPackageWithThePipelinesFiles");
    ASSERT_NO_FATAL_FAILURE(CheckWritesAVerifiedPackageWithThePipelinesFiles(b));
  }
  {
    SCOPED_TRACE("ViewsAreTheModelsImagesWithTheirPoses");
    ASSERT_NO_FATAL_FAILURE(CheckViewsAreTheModelsImagesWithTheirPoses(b));
  }
  {
    SCOPED_TRACE("MostLandmarksAndTheirPositionsSurvive");
    ASSERT_NO_FATAL_FAILURE(CheckMostLandmarksAndTheirPositionsSurvive(b));
  }
  {
    SCOPED_TRACE("ReprojectionHasNoHalfPixelBias");
    ASSERT_NO_FATAL_FAILURE(CheckReprojectionHasNoHalfPixelBias(b));
  }
  {
    SCOPED_TRACE("RetrievalFindsTheQuerysOwnView");
    ASSERT_NO_FATAL_FAILURE(CheckRetrievalFindsTheQuerysOwnView(b));
  }
  {
    SCOPED_TRACE("AnExistingPackageNeedsOverwrite");
    ASSERT_NO_FATAL_FAILURE(CheckAnExistingPackageNeedsOverwrite(b));
  }
}

// The database path and geo-registration end to end, on the lund_door
// reference model: a synthetic database whose keypoints are the model's
// points2D, and stand-in photos whose EXIF GPS puts each camera centre where
// a known similarity (model -> ENU at a known origin) sends it. The map must
// come out in that ENU frame (up to the shift to the GPS mean as origin).
TEST(FromColmapTest, GeoRegistersFromExifGpsWithADatabase) {
  if (!HaveLundDoor()) GTEST_SKIP() << "lund_door dataset missing";
  auto model = io::ReadColmapModel(LundDoorModel());
  ASSERT_THAT(model, IsOk());
  testing::ScratchDir dir("gps");
  fs::create_directories(dir / "images");
  const GeoPoint truth_origin{55.6994, 13.1925, 40.0};
  const EnuFrame truth(truth_origin);
  // ~1.6 m per model unit (the door is ~4 units wide), turned and raised.
  const Sim3d enu_from_model(1.6, Eigen::Quaterniond(Eigen::AngleAxisd(2.0, Eigen::Vector3d(0.2, 0.1, 1).normalized())),
                             Eigen::Vector3d(12, -7, 1.5));
  {
    testing::SyntheticDatabase db(dir / "database.db");
    db.AddCamera(1, 2, 1296, 1936, {2435.38, 648, 968, -0.0336422});
    uint32_t seed = 1;
    for (const auto& [id, image] : model->images) {
      db.AddImage(static_cast<int>(id), image.name, 1);
      std::vector<float> xy;
      std::vector<uint8_t> desc;
      for (const Eigen::Vector2d& p : image.points2D) {
        xy.push_back(static_cast<float>(p.x()));
        xy.push_back(static_cast<float>(p.y()));
        for (int c = 0; c < 128; ++c) desc.push_back(static_cast<uint8_t>((seed = seed * 1103515245u + 12345u) >> 25));
      }
      db.AddMatrix<float>("keypoints", static_cast<int>(id), static_cast<int>(image.points2D.size()), 2, xy);
      db.AddMatrix<uint8_t>("descriptors", static_cast<int>(id), static_cast<int>(image.points2D.size()), 128, desc);
      testing::WriteJpegWithGps(dir / "images" / image.name,
                                truth.Wgs84FromEnu(enu_from_model * CameraCenter(image.cam_from_world)));
    }
  }
  FromColmapRequest request;
  request.model_dir = LundDoorModel();
  request.database_path = dir / "database.db";
  request.images_dir = dir / "images";
  request.out_dir = dir / "map";
  auto report = BuildMapFromColmap(request, FromColmapOptions());
  ASSERT_THAT(report, IsOk());
  const OrderedJson& geo = (*report)["georegistration"];
  ASSERT_EQ(geo["method"], "exif_gps_sim3") << geo.dump();
  EXPECT_EQ(geo["images_with_gps"], 12);
  // GPS written with 1e-6 arc-second and 1 mm steps: exact to ~1 mm.
  EXPECT_NEAR(geo["scale"].get<double>(), 1.6, 1e-4);
  EXPECT_LT(geo["rms_residual_m"].get<double>(), 2e-3);
  // With a database every point and observation is kept.
  EXPECT_EQ((*report)["counts"]["landmarks"], model->points3D.size());
  EXPECT_EQ((*report)["counts"]["observations_dropped"], 0);
  EXPECT_EQ((*report)["descriptors"]["source"], "database");
  // A similarity keeps reprojection as it was.
  EXPECT_LT((*report)["reprojection"]["median_px"].get<double>(), 1.0);
  EXPECT_LT(std::abs((*report)["reprojection"]["mean_dx_px"].get<double>()), 0.1);

  auto manifest = map::ReadManifest(dir / "map");
  ASSERT_THAT(manifest, IsOk());
  ARMAP_EXPECT_OK(map::VerifyPackage(dir / "map", *manifest));
  const EnuFrame map_frame(manifest->origin);
  auto views = map::ReadViews(dir / "map" / "views.json");
  ASSERT_THAT(views, IsOk());
  Eigen::Vector3d mean = Eigen::Vector3d::Zero();
  size_t v = 0;
  for (const auto& [id, image] : model->images) {
    const Eigen::Vector3d expected_enu = enu_from_model * CameraCenter(image.cam_from_world);
    mean += expected_enu;
    // The view's centre, taken to WGS84 and back into the truth frame.
    const Eigen::Vector3d got = truth.EnuFromWgs84(map_frame.Wgs84FromEnu(CameraCenter((*views)[v].cam_from_world)));
    EXPECT_LT((got - expected_enu).norm(), 5e-3) << image.name;
    ++v;
  }
  // The origin is the GPS mean.
  EXPECT_LT((truth.EnuFromWgs84(manifest->origin) - mean / 12.0).norm(), 5e-3);
  // Landmarks moved with the cameras: the first one is the model's first point.
  auto landmarks = map::ReadLandmarks(dir / "map" / "landmarks.bin");
  ASSERT_THAT(landmarks, IsOk());
  const Eigen::Vector3d first = truth.EnuFromWgs84(map_frame.Wgs84FromEnu(landmarks->positions[0]));
  EXPECT_LT((first - enu_from_model * model->points3D.begin()->second.xyz).norm(), 5e-3);
}

TEST(FromColmapTest, ModelDirWithoutAModelIsNotFoundNamingIt) {
  testing::ScratchDir dir("nomodel");
  fs::create_directories(dir / "empty_model");
  std::ofstream(dir / "empty_model" / "cameras.txt") << "# only one of three files\n";
  FromColmapRequest request;
  request.model_dir = dir / "empty_model";
  request.images_dir = dir.path();
  request.out_dir = dir / "map";
  EXPECT_THAT(BuildMapFromColmap(request, FromColmapOptions()),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr((dir / "empty_model").string())));
  request.model_dir = dir / "no_such_dir";
  EXPECT_THAT(BuildMapFromColmap(request, FromColmapOptions()),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no_such_dir")));
  EXPECT_FALSE(fs::exists(dir / "map"));  // nothing half-written
}

TEST(FromColmapTest, DatabaseThatIsNotSqliteIsNamed) {
  if (!HaveLundDoor()) GTEST_SKIP() << "lund_door dataset missing";
  testing::ScratchDir dir("notsqlite");
  std::ofstream(dir / "database.db") << "COLMAP? no: plain text pretending to be a database.\n";
  FromColmapRequest request;
  request.model_dir = LundDoorModel();
  request.database_path = dir / "database.db";
  request.images_dir = LundDoorImages();
  request.out_dir = dir / "map";
  EXPECT_THAT(BuildMapFromColmap(request, FromColmapOptions()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr((dir / "database.db").string())));
  EXPECT_FALSE(fs::exists(dir / "map"));
}

TEST(FromColmapTest, DatabaseOfAnotherModelIsRejected) {
  if (!HaveLundDoor()) GTEST_SKIP() << "lund_door dataset missing";
  testing::ScratchDir dir("otherdb");
  {
    testing::SyntheticDatabase db(dir / "database.db");
    db.AddCamera(1, 2, 1296, 1936, {2435.38, 648, 968, 0});
    for (int i = 1; i <= 12; ++i) {
      char name[32];
      std::snprintf(name, sizeof(name), "DSC_%04d.JPG", i);
      db.AddImage(i, name, 1);
      db.AddMatrix<float>("keypoints", i, 1, 2, {10.5f, 10.5f});
      db.AddMatrix<uint8_t>("descriptors", i, 1, 128, std::vector<uint8_t>(128, 45));
    }
  }
  FromColmapRequest request;
  request.model_dir = LundDoorModel();
  request.database_path = dir / "database.db";
  request.out_dir = dir / "map";
  EXPECT_THAT(BuildMapFromColmap(request, FromColmapOptions()),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("the database is not the one the model was built from")));
}

TEST(FromColmapTest, OptionsNameTheBadField) {
  FromColmapOptions options;
  options.database_descriptor_normalization = "root";
  EXPECT_THAT(options.Validate(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'root'")));
  options = FromColmapOptions();
  options.max_keypoint_distance_px = 0;
  EXPECT_THAT(options.Validate(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("FromColmapOptions::max_keypoint_distance_px")));
  options = FromColmapOptions();
  options.features.type = "sift";
  EXPECT_THAT(options.Validate(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("features.type")));
  options = FromColmapOptions();
  options.min_descriptors_per_cluster = 0;
  EXPECT_THAT(options.Validate(), StatusIs(absl::StatusCode::kInvalidArgument,
                                           HasSubstr("FromColmapOptions::min_descriptors_per_cluster")));
}

}  // namespace
}  // namespace armap::mapping
