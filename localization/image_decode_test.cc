#include "localization/image_decode.h"

#include <algorithm>

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

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

// A colour JPEG (as phones send) of smooth blobs at known sub-pixel
// centres on a flat background (a sloped one would bias the centroids).
struct BlobImage {
  std::string jpeg;
  std::vector<cv::Point2d> centres;  // encoded image's pixels
  double sigma_px = 0;
};
BlobImage MakeBlobImage(int width, int height) {
  BlobImage b;
  b.sigma_px = 0.02 * std::max(width, height);
  cv::Mat gray(height, width, CV_32F, cv::Scalar(40.0f));
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      b.centres.emplace_back((0.2 + 0.3 * i) * width + 0.37 * j, (0.2 + 0.3 * j) * height + 0.61 * i);
    }
  }
  const int r = static_cast<int>(std::ceil(5 * b.sigma_px));
  for (const cv::Point2d& c : b.centres) {
    for (int y = std::max(0, static_cast<int>(c.y) - r); y < std::min(height, static_cast<int>(c.y) + r); ++y) {
      for (int x = std::max(0, static_cast<int>(c.x) - r); x < std::min(width, static_cast<int>(c.x) + r); ++x) {
        const double r2 = (x - c.x) * (x - c.x) + (y - c.y) * (y - c.y);
        gray.at<float>(y, x) += static_cast<float>(180.0 * std::exp(-0.5 * r2 / (b.sigma_px * b.sigma_px)));
      }
    }
  }
  cv::Mat u8, colour;
  gray.convertTo(u8, CV_8U);
  cv::cvtColor(u8, colour, cv::COLOR_GRAY2BGR);
  std::vector<uchar> bytes;
  EXPECT_TRUE(cv::imencode(".jpg", colour, bytes, {cv::IMWRITE_JPEG_QUALITY, 95}));
  b.jpeg.assign(bytes.begin(), bytes.end());
  return b;
}

// Intensity-weighted centre of the blob near `guess` (background removed),
// within 3 sigma.
cv::Point2d BlobCentre(const cv::Mat& image, cv::Point2d guess, double sigma) {
  double sw = 0, sx = 0, sy = 0;
  const int r = static_cast<int>(std::ceil(3 * sigma));
  for (int y = std::max(0, static_cast<int>(guess.y) - r); y <= std::min(image.rows - 1, static_cast<int>(guess.y) + r); ++y) {
    for (int x = std::max(0, static_cast<int>(guess.x) - r); x <= std::min(image.cols - 1, static_cast<int>(guess.x) + r); ++x) {
      const double w = std::max(0.0, image.at<uchar>(y, x) - 60.0);
      sw += w;
      sx += w * x;
      sy += w * y;
    }
  }
  return sw > 0 ? cv::Point2d(sx / sw, sy / sw) : cv::Point2d(-1, -1);
}

// The DCT-scaled decode puts every point where the pixel-centre mapping of
// its scale says (x -> (x + 0.5) s - 0.5 per axis) and matches a full decode
// area-reduced to the same size: even sizes (1/2 exactly), odd sizes (1/2
// then a resize), a 1/4 reduction, and no reduction at all.
TEST(DecodeGrayTest, DownscaledPixelsSitWhereTheScaleSays) {
  struct Case {
    int width, height, max_side, out_w, out_h;
  };
  for (const Case& c : {Case{1280, 960, 640, 640, 480}, Case{1283, 961, 640, 640, 479},
                        Case{2600, 1950, 640, 640, 480}, Case{1000, 750, 640, 640, 480}, Case{400, 300, 640, 400, 300}}) {
    SCOPED_TRACE(::testing::Message() << c.width << " x " << c.height);
    const BlobImage b = MakeBlobImage(c.width, c.height);
    auto header = ReadImageHeader(b.jpeg);
    ASSERT_TRUE(header.ok()) << header.status();
    auto gray = DecodeGray(b.jpeg, *header, c.max_side, /*dct_scaling=*/true);
    ASSERT_TRUE(gray.ok()) << gray.status();
    ASSERT_EQ(gray->width, c.out_w);
    ASSERT_EQ(gray->height, c.out_h);
    ASSERT_EQ(gray->pixels.size(), static_cast<size_t>(c.out_w) * c.out_h);
    const cv::Mat ours(c.out_h, c.out_w, CV_8U, const_cast<uint8_t*>(gray->pixels.data()));
    cv::Mat full = cv::imdecode(cv::Mat(1, static_cast<int>(b.jpeg.size()), CV_8U, const_cast<char*>(b.jpeg.data())),
                                cv::IMREAD_GRAYSCALE);
    cv::Mat reference;
    cv::resize(full, reference, cv::Size(c.out_w, c.out_h), 0, 0, cv::INTER_AREA);
    const double ref_sx = static_cast<double>(c.out_w) / c.width, ref_sy = static_cast<double>(c.out_h) / c.height;
    // The mapping's scale is the output over the input size to within the
    // 1/k decode's rounding up of an odd side (at most 1 in 2 pixels).
    EXPECT_NEAR(gray->scale_x, ref_sx, ref_sx / c.out_w);
    EXPECT_NEAR(gray->scale_y, ref_sy, ref_sy / c.out_h);
    const double sigma_out = b.sigma_px * ref_sx;
    for (const cv::Point2d& centre : b.centres) {
      const cv::Point2d expected((centre.x + 0.5) * gray->scale_x - 0.5, (centre.y + 0.5) * gray->scale_y - 0.5);
      const cv::Point2d got = BlobCentre(ours, expected, sigma_out);
      const cv::Point2d ref_expected((centre.x + 0.5) * ref_sx - 0.5, (centre.y + 0.5) * ref_sy - 0.5);
      const cv::Point2d ref = BlobCentre(reference, ref_expected, sigma_out);
      // Centroids of blobs ~13 px wide on 8-bit pixels: a few hundredths
      // of a pixel; a half-pixel convention error would be 0.25-0.5.
      EXPECT_NEAR(got.x, expected.x, 0.05);
      EXPECT_NEAR(got.y, expected.y, 0.05);
      EXPECT_NEAR(ref.x, ref_expected.x, 0.05);
      EXPECT_NEAR(ref.y, ref_expected.y, 0.05);
    }
    // Pixels: the reduced decode and the area resize of the full one differ
    // by the JPEG's rounding and the filters' shapes only.
    cv::Mat diff;
    cv::absdiff(ours, reference, diff);
    EXPECT_LT(cv::mean(diff)[0], 1.5);
    // Without DCT scaling: exactly the full decode + INTER_AREA, at its scale.
    auto plain = DecodeGray(b.jpeg, *header, c.max_side, /*dct_scaling=*/false);
    ASSERT_TRUE(plain.ok()) << plain.status();
    ASSERT_EQ(plain->pixels.size(), reference.total());
    EXPECT_TRUE(std::equal(plain->pixels.begin(), plain->pixels.end(), reference.ptr<uint8_t>(0)));
    EXPECT_DOUBLE_EQ(plain->scale_x, ref_sx);
    EXPECT_DOUBLE_EQ(plain->scale_y, ref_sy);
  }
}

TEST(DecodeGrayTest, RefusesDataThatIsNotTheHeadersImage) {
  const BlobImage b = MakeBlobImage(320, 240);
  auto header = ReadImageHeader(b.jpeg);
  ASSERT_TRUE(header.ok());
  // Cut before the scan (byte 300 is inside the Huffman tables): the size
  // still reads from the frame header, the pixels do not. (A cut inside the
  // scan itself decodes, as libjpeg does, with the missing rows grey.)
  EXPECT_THAT(DecodeGray(std::string_view(b.jpeg).substr(0, 300), *header, 640, true),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cannot decode")));
  ImageHeader wrong = *header;
  wrong.width = 640;
  EXPECT_THAT(DecodeGray(b.jpeg, wrong, 0, false), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cannot decode")));
}

}  // namespace
}  // namespace armap::loc
