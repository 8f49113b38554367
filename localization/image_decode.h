// Decoding of query images sent over the network: the header is read and
// checked before any pixel is decoded, so a 200-byte JPEG that claims
// 60000 x 60000 pixels is refused without allocating 3.6 GB.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace armap::loc {

struct ImageHeader {
  enum class Format { kJpeg, kPng };
  Format format = Format::kJpeg;
  int width = 0;
  int height = 0;
};

// Parses the JPEG (SOFn marker) or PNG (IHDR) header. InvalidArgument for
// anything else, a truncated header, or a zero size.
[[nodiscard]] absl::StatusOr<ImageHeader> ReadImageHeader(std::string_view bytes);

// A decoded grayscale image and where its pixels sit in the encoded one.
struct GrayImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;  // row-major, stride = width
  // Pixel centres at integer coordinates: a point at x in the encoded image
  // is at (x + 0.5) * scale_x - 0.5 here (likewise y); 1 at full size.
  double scale_x = 1;
  double scale_y = 1;
};

// Decodes `bytes` (whose header, already read and checked against the size
// limits, is `header`) to grayscale; when the longer side exceeds
// max_side_px (> 0) the image is area-reduced (INTER_AREA) so that it is
// max_side_px, the other side round(side * max_side_px / longer). With
// dct_scaling a JPEG is decoded straight to the largest 1/2, 1/4 or 1/8
// still at least that size (libjpeg's DCT scaling, which skips most of the
// inverse transform) and only the rest is resampled; a PNG is always
// decoded at full size first. InvalidArgument when the data does not
// decode to the header's size.
[[nodiscard]] absl::StatusOr<GrayImage> DecodeGray(std::string_view bytes, const ImageHeader& header,
                                                   int max_side_px, bool dct_scaling);

}  // namespace armap::loc
