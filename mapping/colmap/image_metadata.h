// What the photos' files say about themselves without decoding the pixels:
// the stored size (JPEG SOF / PNG IHDR header) and EXIF tags (libexif):
// GPS position, camera make/model and focal length.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "core/geo.h"

namespace armap::mapping {

struct ImageMetadata {
  // Stored pixel size, before any EXIF orientation (what COLMAP and
  // cv::IMREAD_IGNORE_ORIENTATION see). 0 when the header is not JPEG/PNG.
  int width = 0;
  int height = 0;
  // EXIF GPS (WGS84). Absent when the tags are missing, malformed, out of
  // range or exactly (0, 0) (a common "no fix" placeholder).
  std::optional<GeoPoint> gps;
  bool gps_has_altitude = false;  // GPSAltitude present (else alt_m = 0)
  std::string make;               // EXIF Make / Model, trimmed
  std::string model;
  double focal_length_mm = 0;  // EXIF FocalLength, 0 when absent
};

// NotFound for a missing file. A file without EXIF (or with a header that
// is neither JPEG nor PNG) is not an error: the fields stay empty.
absl::StatusOr<ImageMetadata> ReadImageMetadata(const std::filesystem::path& path);

}  // namespace armap::mapping
