// Decoding of query images sent over the network: the header is read and
// checked before any pixel is decoded, so a 200-byte JPEG that claims
// 60000 x 60000 pixels is refused without allocating 3.6 GB.
#pragma once

#include <cstdint>
#include <string_view>

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

}  // namespace armap::loc
