// One entry point for the point-cloud formats crews deliver.
#pragma once

#include <filesystem>

#include "absl/status/statusor.h"
#include "core/point_cloud.h"

namespace armap::io {

// Reads a point cloud, choosing the reader by extension (case-insensitive):
// .ply -> ReadPly, .pcd -> ReadPcd (non-finite points dropped), .las/.laz ->
// ReadLas (.laz gives the "not supported" error). Any other extension is
// InvalidArgument naming it.
[[nodiscard]] absl::StatusOr<PointCloud> ReadPointCloud(const std::filesystem::path& path);

}  // namespace armap::io
