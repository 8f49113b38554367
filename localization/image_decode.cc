#include "localization/image_decode.h"

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

}  // namespace armap::loc
