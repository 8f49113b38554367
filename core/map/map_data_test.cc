#include "core/map/map_data.h"

#include <gtest/gtest.h>

#include "core/files.h"
#include "core/random.h"
#include "core/testing/status_matchers.h"

namespace armap::map {
namespace {

using ::armap::testing::IsOk;
using ::armap::testing::StatusIs;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

TEST(MapDataTest, ViewsRoundTrip) {
  const fs::path dir = fs::temp_directory_path() / "armap_map_data_views";
  fs::create_directories(dir);
  std::vector<MapView> views(2);
  for (view_t i = 0; i < 2; ++i) {
    views[i].id = i;
    views[i].name = "pano_0000/yaw" + std::to_string(45 * i);
    views[i].source = "pano_0000";
    views[i].camera = Camera::Pinhole(640, 640, 320, 320, 319.5, 319.5);
    views[i].cam_from_world = Rigid3d(Eigen::Quaterniond(Eigen::AngleAxisd(0.1 * i + 0.3, Eigen::Vector3d(1, 2, 3).normalized())),
                                      Eigen::Vector3d(1.25, -2.5, 3.0 + i));
  }
  ASSERT_THAT(WriteViews(dir / "views.json", views), IsOk());
  auto back = ReadViews(dir / "views.json");
  ASSERT_THAT(back.status(), IsOk());
  ASSERT_EQ(back->size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ((*back)[i].name, views[i].name);
    EXPECT_EQ((*back)[i].camera.params, views[i].camera.params);
    EXPECT_LT(RotationErrorDeg((*back)[i].cam_from_world.rotation, views[i].cam_from_world.rotation), 1e-9);
    EXPECT_LT(((*back)[i].cam_from_world.translation - views[i].cam_from_world.translation).norm(), 1e-12);
  }
  ASSERT_THAT(WriteFileAtomic(dir / "bad.json", R"({"views":[{"id":0,"name":"a","source":"b","camera":{"model":"FOO","width":1,"height":1,"params":[]}}]})"), IsOk());
  EXPECT_THAT(ReadViews(dir / "bad.json"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("views[0]")));
  fs::remove_all(dir);
}

TEST(MapDataTest, LandmarksRoundTripAndCorruption) {
  const fs::path dir = fs::temp_directory_path() / "armap_map_data_lm";
  fs::create_directories(dir);
  Landmarks lm;
  Rng rng(4);
  for (int i = 0; i < 100; ++i) {
    std::vector<uint8_t> d(128);
    for (auto& x : d) x = static_cast<uint8_t>(rng.UniformInt(0, 255));
    std::vector<view_t> views;
    std::vector<Eigen::Vector2f> pixels;
    for (int k = 0; k < 1 + i % 3; ++k) {
      views.push_back(static_cast<view_t>((i + k) % 10));
      pixels.emplace_back(rng.Uniform(0, 640), rng.Uniform(0, 640));
    }
    lm.Add(Eigen::Vector3d(rng.Normal(), rng.Normal(), rng.Normal()) * 50, d.data(), views, pixels);
  }
  ASSERT_THAT(lm.Validate(10), IsOk());
  EXPECT_THAT(lm.Validate(5), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("unknown view")));
  ASSERT_THAT(WriteLandmarks(dir / "landmarks.bin", lm), IsOk());
  auto back = ReadLandmarks(dir / "landmarks.bin");
  ASSERT_THAT(back.status(), IsOk());
  EXPECT_EQ(back->positions, lm.positions);
  EXPECT_EQ(back->descriptors, lm.descriptors);
  EXPECT_EQ(back->obs_begin, lm.obs_begin);
  EXPECT_EQ(back->obs_view, lm.obs_view);
  EXPECT_EQ(back->obs_pixel, lm.obs_pixel);
  // Truncation and foreign files are refused with the file name.
  auto bytes = *ReadFileToString(dir / "landmarks.bin");
  ASSERT_THAT(WriteFileAtomic(dir / "short.bin", bytes.substr(0, bytes.size() - 10)), IsOk());
  EXPECT_THAT(ReadLandmarks(dir / "short.bin"), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("short.bin: truncated")));
  ASSERT_THAT(WriteFileAtomic(dir / "other.bin", "PK\x03\x04 not landmarks at all"), IsOk());
  EXPECT_THAT(ReadLandmarks(dir / "other.bin"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not an armap landmarks file")));
  fs::remove_all(dir);
}

}  // namespace
}  // namespace armap::map
