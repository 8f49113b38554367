// PLY point clouds (Stanford polygon format), as exported by scanner software,
// CloudCompare, Open3D and PDAL.
#pragma once

#include <filesystem>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/point_cloud.h"

namespace armap::io {

// Reads the "vertex" element of an ascii, binary_little_endian or
// binary_big_endian PLY file.
//   - x, y, z: any scalar type (float or double in practice); required.
//   - intensity: property "intensity" or "scalar_intensity", any scalar type,
//     stored as float without rescaling.
//   - timestamp_s: "timestamp", "time", "t", "gps_time" (or with a "scalar_"
//     prefix), any scalar type, stored as double seconds as written.
//   - colors: "red", "green", "blue" as uchar (ushort is scaled down by 256).
//   - classification: "classification", any scalar type with values 0..255.
// Property names match case-insensitively; other properties are skipped by
// their size; elements before the vertices are skipped, and elements after
// them (faces, edges) are ignored. Vertices with non-finite coordinates are
// kept as they are (they do not affect the origin). List properties inside the vertex element
// are not supported (InvalidArgument). When a coordinate exceeds 1e4 in
// magnitude, PointCloud::origin is set to the rounded centre of the bounding
// box (see io_internal.h) so float offsets keep sub-millimetre precision.
// Errors name the file and, where relevant, the header line or property.
[[nodiscard]] absl::StatusOr<PointCloud> ReadPly(const std::filesystem::path& path);

// Writes `cloud` as binary_little_endian PLY, atomically (temp file + rename).
// Positions are written as float x, y, z when cloud.origin is zero and as
// absolute double x, y, z otherwise (so other tools see georeferenced
// coordinates). Optional attributes: float intensity, double timestamp,
// uchar red/green/blue, uchar classification. Every non-empty attribute must
// have one value per point (InvalidArgument otherwise).
[[nodiscard]] absl::Status WritePlyBinary(const std::filesystem::path& path, const PointCloud& cloud);

}  // namespace armap::io
