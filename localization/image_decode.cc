#include "localization/image_decode.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"

namespace armap::loc {
namespace {

uint32_t BigEndian16(const unsigned char* p) { return (uint32_t{p[0]} << 8) | p[1]; }
uint32_t BigEndian32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

absl::StatusOr<ImageHeader> ReadJpegHeader(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  size_t i = 2;  // after SOI
  while (i + 4 <= n) {
    if (p[i] != 0xFF) return absl::InvalidArgumentError(absl::StrCat("image: corrupt JPEG (no marker at byte ", i, ")"));
    const unsigned char marker = p[i + 1];
    if (marker == 0xFF) {  // fill byte
      ++i;
      continue;
    }
    if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {  // no length
      i += 2;
      continue;
    }
    if (marker == 0xD9 || marker == 0xDA) break;  // EOI or SOS before any frame header
    const uint32_t length = BigEndian16(p + i + 2);
    if (length < 2) return absl::InvalidArgumentError("image: corrupt JPEG (segment length < 2)");
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
    const bool is_frame = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (is_frame) {
      if (i + 9 > n) break;
      ImageHeader h;
      h.format = ImageHeader::Format::kJpeg;
      h.height = static_cast<int>(BigEndian16(p + i + 5));
      h.width = static_cast<int>(BigEndian16(p + i + 7));
      if (h.width == 0 || h.height == 0) {
        return absl::InvalidArgumentError(absl::StrCat("image: JPEG header gives a zero size (", h.width, " x ", h.height, ")"));
      }
      return h;
    }
    i += 2 + length;
  }
  return absl::InvalidArgumentError("image: truncated JPEG (no frame header)");
}

}  // namespace

absl::StatusOr<ImageHeader> ReadImageHeader(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF) return ReadJpegHeader(bytes);
  static constexpr unsigned char kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (bytes.size() >= 8 && std::equal(kPng, kPng + 8, p)) {
    if (bytes.size() < 24 || std::string_view(bytes.data() + 12, 4) != "IHDR") {
      return absl::InvalidArgumentError("image: truncated PNG (no IHDR chunk)");
    }
    ImageHeader h;
    h.format = ImageHeader::Format::kPng;
    const uint32_t w = BigEndian32(p + 16), hh = BigEndian32(p + 20);
    if (w == 0 || hh == 0 || w > (1u << 30) || hh > (1u << 30)) {
      return absl::InvalidArgumentError(absl::StrCat("image: PNG header gives an invalid size (", w, " x ", hh, ")"));
    }
    h.width = static_cast<int>(w);
    h.height = static_cast<int>(hh);
    return h;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("image: not a JPEG or PNG (", bytes.size(), " bytes, starting with neither signature)"));
}

absl::StatusOr<GrayImage> DecodeGray(std::string_view bytes, const ImageHeader& header, int max_side_px,
                                     bool dct_scaling) {
  const int max_side = std::max(header.width, header.height);
  const bool downscale = max_side_px > 0 && max_side > max_side_px;
  const double s = downscale ? static_cast<double>(max_side_px) / max_side : 1.0;
  const int out_w = downscale ? std::max(1, static_cast<int>(std::lround(header.width * s))) : header.width;
  const int out_h = downscale ? std::max(1, static_cast<int>(std::lround(header.height * s))) : header.height;
  // libjpeg's 1/k output is ceil(side / k) pixels, pixel i covering the
  // source's [k i, k i + k): the pixel-centre map x -> (x + 0.5) / k - 0.5.
  int k = 1;
  if (dct_scaling && downscale && header.format == ImageHeader::Format::kJpeg) {
    for (int c : {8, 4, 2}) {
      if ((header.width + c - 1) / c >= out_w && (header.height + c - 1) / c >= out_h) {
        k = c;
        break;
      }
    }
  }
  const int flags = k == 8   ? cv::IMREAD_REDUCED_GRAYSCALE_8
                    : k == 4 ? cv::IMREAD_REDUCED_GRAYSCALE_4
                    : k == 2 ? cv::IMREAD_REDUCED_GRAYSCALE_2
                             : cv::IMREAD_GRAYSCALE;
  const cv::Mat raw(1, static_cast<int>(bytes.size()), CV_8U, const_cast<char*>(bytes.data()));
  cv::Mat decoded;
  try {
    decoded = cv::imdecode(raw, flags);
  } catch (const cv::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("image: cannot decode: ", e.what()));
  }
  const int dec_w = (header.width + k - 1) / k, dec_h = (header.height + k - 1) / k;
  if (decoded.empty() || decoded.type() != CV_8U || decoded.cols != dec_w || decoded.rows != dec_h) {
    return absl::InvalidArgumentError("image: cannot decode (corrupt or truncated data)");
  }
  GrayImage out;
  out.width = out_w;
  out.height = out_h;
  out.pixels.resize(static_cast<size_t>(out_w) * out_h);
  cv::Mat dst(out_h, out_w, CV_8U, out.pixels.data());
  if (dec_w == out_w && dec_h == out_h) {
    decoded.copyTo(dst);  // same size: copyTo keeps dst's buffer
  } else {
    cv::resize(decoded, dst, dst.size(), 0, 0, cv::INTER_AREA);
  }
  if (dst.data != out.pixels.data()) return absl::InternalError("image: resize reallocated its output");
  // The resize maps pixel centres by out / decoded per axis, after 1 / k.
  out.scale_x = static_cast<double>(out_w) / dec_w / k;
  out.scale_y = static_cast<double>(out_h) / dec_h / k;
  return out;
}

}  // namespace armap::loc
