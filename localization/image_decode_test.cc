#include "localization/image_decode.h"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include "core/testing/status_matchers.h"

namespace armap::loc {
namespace {

using ::armap::testing::StatusIs;
using ::testing::HasSubstr;

std::string Encode(const std::string& ext, int width, int height) {
  cv::Mat image(height, width, CV_8UC3, cv::Scalar(10, 120, 200));
  std::vector<uchar> bytes;
  EXPECT_TRUE(cv::imencode(ext, image, bytes));
  return std::string(bytes.begin(), bytes.end());
}

TEST(ImageHeaderTest, ReadsJpegAndPngSizes) {
  auto jpeg = ReadImageHeader(Encode(".jpg", 321, 123));
  ASSERT_TRUE(jpeg.ok()) << jpeg.status();
  EXPECT_EQ(jpeg->format, ImageHeader::Format::kJpeg);
  EXPECT_EQ(jpeg->width, 321);
  EXPECT_EQ(jpeg->height, 123);
  auto png = ReadImageHeader(Encode(".png", 17, 900));
  ASSERT_TRUE(png.ok()) << png.status();
  EXPECT_EQ(png->format, ImageHeader::Format::kPng);
  EXPECT_EQ(png->width, 17);
  EXPECT_EQ(png->height, 900);
}

TEST(ImageHeaderTest, ReadsAHugeClaimWithoutDecoding) {
  // SOI, then a baseline SOF0 segment claiming 60000 x 60000, 3 components.
  const unsigned char bytes[] = {0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0xEA, 0x60, 0xEA, 0x60, 0x03,
                                 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01};
  auto h = ReadImageHeader(std::string(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->width, 60000);
  EXPECT_EQ(h->height, 60000);
}

TEST(ImageHeaderTest, RefusesGarbageAndTruncation) {
  EXPECT_THAT(ReadImageHeader("definitely not an image"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a JPEG or PNG")));
  EXPECT_THAT(ReadImageHeader(""), StatusIs(absl::StatusCode::kInvalidArgument, ::testing::_));
  const std::string jpeg = Encode(".jpg", 64, 64);
  EXPECT_THAT(ReadImageHeader(jpeg.substr(0, 20)), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("truncated")));
  const std::string png = Encode(".png", 64, 64);
  EXPECT_THAT(ReadImageHeader(png.substr(0, 12)), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("truncated")));
}

}  // namespace
}  // namespace armap::loc
