// LAS point clouds (ASPRS LAser format), as delivered by airborne and mobile
// mapping crews. Own parser, no libLAS/PDAL.
#pragma once

#include <cstdint>
#include <filesystem>

#include <Eigen/Core>

#include "absl/status/statusor.h"
#include "core/point_cloud.h"

namespace armap::io {

// Header facts callers may want besides the points (e.g. to check bounds).
struct LasHeaderInfo {
  int version_major = 0;
  int version_minor = 0;
  int point_format = 0;        // 0..10, compression bits removed
  uint16_t record_length = 0;  // bytes per point record, extra bytes included
  uint64_t num_points = 0;     // legacy count, or the 64-bit one for LAS 1.4
  Eigen::Vector3d scale = Eigen::Vector3d::Ones();
  Eigen::Vector3d offset = Eigen::Vector3d::Zero();
  Eigen::Vector3d min = Eigen::Vector3d::Zero();  // header bounds, as written
  Eigen::Vector3d max = Eigen::Vector3d::Zero();
};

// Reads an uncompressed LAS 1.0-1.4 file with point data record format 0-10
// (the waveform packets of formats 4, 5, 9, 10 and any extra bytes are
// skipped). Fills:
//   - positions: X * scale + offset from the header (origin chosen as in
//     ReadPly when coordinates exceed 1e4);
//   - intensity: the raw 16-bit value as float;
//   - timestamp_s: GPS time for formats 1 and 3-10, as stored (GPS week
//     seconds or adjusted standard GPS time, see the global encoding bit 0);
//   - classification: the low 5 bits for formats 0-5, the full byte for 6-10;
//   - colors (formats 2, 3, 5, 7, 8, 10): LAS stores 16-bit RGB; the top byte
//     is kept. Many writers store 8-bit values unscaled instead; if no channel
//     of any point exceeds 255 the values are kept as they are.
// LAZ (".laz" extension or the compression bit 7/6 of the point format id) is
// InvalidArgument: Debian 12 ships no LAZ decoder. The header is validated
// (signature, header size for the version, offset to point data, record
// length, file long enough for the point count); every error names the file.
[[nodiscard]] absl::StatusOr<PointCloud> ReadLas(const std::filesystem::path& path,
                                                 LasHeaderInfo* header_info = nullptr);

}  // namespace armap::io
