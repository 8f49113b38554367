#include "mapping/colmap/image_metadata.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "core/testing/status_matchers.h"
#include "mapping/colmap/colmap_test_util.h"

namespace armap::mapping {
namespace {

using ::armap::testing::IsOk;
using ::armap::testing::StatusIs;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

TEST(ImageMetadataTest, ReadsExifGpsFromGeotaggedPhoneJpegs) {
  const fs::path path = testing::BerlinImages() / "01.jpg";
  if (!fs::exists(path)) GTEST_SKIP() << "berlin dataset missing";
  auto meta = ReadImageMetadata(path);
  ASSERT_THAT(meta, IsOk());
  EXPECT_EQ(meta->width, 3264);
  EXPECT_EQ(meta->height, 2448);
  ASSERT_TRUE(meta->gps.has_value());
  // EXIF: N 52 deg 31' 8.10", E 13 deg 24' 1.06", altitude 27 m.
  EXPECT_NEAR(meta->gps->lat_deg, 52 + 31 / 60.0 + 8.10 / 3600.0, 1e-9);
  EXPECT_NEAR(meta->gps->lon_deg, 13 + 24 / 60.0 + 1.06 / 3600.0, 1e-9);
  EXPECT_TRUE(meta->gps_has_altitude);
  EXPECT_NEAR(meta->gps->alt_m, 27.0, 1e-6);
  // The iPhone 4S's 4.3 mm lens (Mapillary's upload stripped Make/Model).
  EXPECT_NEAR(meta->focal_length_mm, 4.3, 0.05);
}

TEST(ImageMetadataTest, CameraWithoutGps) {
  const fs::path path = testing::LundDoor() / "images" / "DSC_0001.JPG";
  if (!fs::exists(path)) GTEST_SKIP() << "lund_door dataset missing";
  auto meta = ReadImageMetadata(path);
  ASSERT_THAT(meta, IsOk());
  EXPECT_EQ(meta->width, 1296);
  EXPECT_EQ(meta->height, 1936);
  EXPECT_FALSE(meta->gps.has_value());
  EXPECT_EQ(meta->make, "NIKON CORPORATION");
  EXPECT_EQ(meta->model, "NIKON D60");
  EXPECT_NEAR(meta->focal_length_mm, 29.0, 0.5);
}

TEST(ImageMetadataTest, SouthWestAndBelowSeaLevel) {
  testing::ScratchDir dir("sw");
  testing::WriteJpegWithGps(dir / "a.jpg", GeoPoint{-33.8568, -70.25, -12.5});
  auto meta = ReadImageMetadata(dir / "a.jpg");
  ASSERT_THAT(meta, IsOk());
  ASSERT_TRUE(meta->gps.has_value());
  EXPECT_NEAR(meta->gps->lat_deg, -33.8568, 1e-9);
  EXPECT_NEAR(meta->gps->lon_deg, -70.25, 1e-9);
  EXPECT_NEAR(meta->gps->alt_m, -12.5, 1e-9);
  EXPECT_EQ(meta->width, 16);
}

TEST(ImageMetadataTest, PngSizeNoExifAndMissingFiles) {
  testing::ScratchDir dir("meta");
  ASSERT_TRUE(cv::imwrite((dir / "a.png").string(), cv::Mat(37, 53, CV_8UC3, cv::Scalar(1, 2, 3))));
  auto png = ReadImageMetadata(dir / "a.png");
  ASSERT_THAT(png, IsOk());
  EXPECT_EQ(png->width, 53);
  EXPECT_EQ(png->height, 37);
  EXPECT_FALSE(png->gps.has_value());
  ASSERT_TRUE(cv::imwrite((dir / "b.jpg").string(), cv::Mat(21, 34, CV_8UC1, cv::Scalar(9))));
  auto jpg = ReadImageMetadata(dir / "b.jpg");
  ASSERT_THAT(jpg, IsOk());
  EXPECT_EQ(jpg->width, 34);
  EXPECT_EQ(jpg->height, 21);
  std::ofstream(dir / "c.txt") << "hello";
  auto text = ReadImageMetadata(dir / "c.txt");
  ASSERT_THAT(text, IsOk());
  EXPECT_EQ(text->width, 0);
  EXPECT_THAT(ReadImageMetadata(dir / "nope.jpg"), StatusIs(absl::StatusCode::kNotFound, HasSubstr("nope.jpg")));
}

}  // namespace
}  // namespace armap::mapping
