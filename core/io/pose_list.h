// Pose lists of the PJLab SensorsCalibration (OpenCalib) data: one pose per
// line, whitespace-separated, the top three rows of a row-major 4x4 matrix:
//
//   NAME r11 r12 r13 tx r21 r22 r23 ty r31 r32 r33 tz
//   2021-10-26-16-21-29-468 0.999999487 0.000000001 0.000000005 0.000000000 ...
//
// The frames are not in the file; each file's documentation states them. In
// pjlab_lidar_seq_poses, top_center_lidar-pose.txt holds world_from_lidar
// with "world" the first lidar frame, top_center_lidar-enu.txt holds
// enu_from_lidar, and NovAtel-pose-lidar-time.txt the INS poses at lidar
// times. The names there are timestamps (YYYY-MM-DD-hh-mm-ss-mmm).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/rigid3.h"

namespace armap::io {

// Largest accepted ||R^T R - I||_F of a rotation matrix in a pose file. The
// PJLab files print 9 decimals but are off by up to 1.6e-6 (diagonals of
// 1.000000458); a mistyped or swapped entry is off by ~0.1 or more.
inline constexpr double kMaxPoseRotationOrthonormalityError = 1e-3;

struct NamedPose {
  std::string name;
  // target_from_source; which frames depends on the file (see above).
  Rigid3d target_from_source;
};

// Reads a pose list. Blank lines and lines starting with '#' are skipped.
// Rotation matrices are replaced by the nearest rotation (SVD). Errors are
// InvalidArgument "PATH:LINE: reason" (1-based line) for: a line without
// exactly 13 fields, a field that is not a finite number (named r11..tz), a
// rotation with ||R^T R - I|| > kMaxPoseRotationOrthonormalityError or a
// reflection. A file without poses is an error too (a truncated download
// should not read as an empty trajectory).
[[nodiscard]] absl::StatusOr<std::vector<NamedPose>> ReadPoseMatrixList(const std::filesystem::path& path);

}  // namespace armap::io
