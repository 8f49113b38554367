#include "core/io/point_cloud_io.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "core/io/io_internal.h"
#include "core/io/las.h"
#include "core/io/pcd.h"
#include "core/io/ply.h"

namespace armap::io {

absl::StatusOr<PointCloud> ReadPointCloud(const std::filesystem::path& path) {
  const std::string extension = internal::ToLower(path.extension().string());
  if (extension == ".ply") return ReadPly(path);
  if (extension == ".pcd") return ReadPcd(path);
  if (extension == ".las" || extension == ".laz") return ReadLas(path);
  return absl::InvalidArgumentError(absl::StrCat(path.string(), ": unsupported point cloud extension '", extension,
                                                 "' (supported: .ply, .pcd, .las, .laz)"));
}

}  // namespace armap::io
