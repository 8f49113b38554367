// PCD point clouds (Point Cloud Library format), read through PCL. PCL is an
// implementation detail: no PCL header is reachable from this one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "absl/status/statusor.h"
#include "core/point_cloud.h"

namespace armap::io {

// What ReadPcd saw besides the points it returns.
struct PcdReadInfo {
  uint32_t width = 0;   // header WIDTH
  uint32_t height = 0;  // header HEIGHT (1 for unorganized clouds)
  // Points dropped because x, y or z was NaN or infinite. Organized clouds
  // (depth cameras) mark pixels without depth this way, so the returned cloud
  // has width * height - num_non_finite_dropped points and is unorganized.
  size_t num_non_finite_dropped = 0;
  std::string encoding;  // "ascii", "binary" or "binary_compressed"
};

// Reads a PCD file (ascii, binary or binary_compressed) and keeps, by field
// name (case-insensitive):
//   - x, y, z: FLOAT32 or FLOAT64 (any numeric type accepted); required.
//   - intensity ("intensity", "scalar_intensity"): any numeric type -> float.
//   - colors: "rgb" or "rgba", packed as PCL does (FLOAT32 or UINT32 whose
//     bytes are b, g, r, a in little-endian order).
//   - timestamp_s: "timestamp", "time", "t", "gps_time" -> double.
//   - classification: "classification" (values 0..255).
// Other fields are ignored. Points with a non-finite coordinate are dropped
// and counted in `info`. The VIEWPOINT (sensor pose) is not applied, matching
// PCL. Large coordinates get a non-zero PointCloud::origin as in ReadPly.
// PCL's own diagnostics go to stderr; the returned error names the file.
[[nodiscard]] absl::StatusOr<PointCloud> ReadPcd(const std::filesystem::path& path, PcdReadInfo* info = nullptr);

}  // namespace armap::io
