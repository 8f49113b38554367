// COLMAP sparse models (cameras, images, points3D) in COLMAP 3.8's text and
// binary formats. Debian ships no COLMAP headers, so this is our own reader
// and writer; the layout follows src/base/reconstruction.cc of COLMAP 3.8.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/camera.h"
#include "core/rigid3.h"

namespace armap::io {

// COLMAP writes -1 in text (UINT64_MAX in binary) for a 2D point without a 3D point.
constexpr uint64_t kInvalidPoint3DId = std::numeric_limits<uint64_t>::max();

struct ColmapCamera {
  uint32_t camera_id = 0;
  std::string model_name;      // COLMAP's name, e.g. "SIMPLE_RADIAL"
  int width = 0;               // pixels
  int height = 0;              // pixels
  std::vector<double> params;  // COLMAP's order for the model
};

struct ColmapImage {
  uint32_t image_id = 0;
  Rigid3d cam_from_world;  // COLMAP's (qvec, tvec)
  uint32_t camera_id = 0;
  std::string name;                       // path relative to the image folder
  std::vector<Eigen::Vector2d> points2D;  // pixels, COLMAP convention (centre of top-left pixel at 0.5, 0.5)
  std::vector<uint64_t> point3D_ids;      // one per 2D point; kInvalidPoint3DId if untriangulated
};

struct ColmapPoint3D {
  uint64_t point3D_id = 0;
  Eigen::Vector3d xyz = Eigen::Vector3d::Zero();     // point_in_world
  std::array<uint8_t, 3> color{};                    // RGB
  double error = 0.0;                                // mean reprojection error, pixels
  std::vector<std::pair<uint32_t, uint32_t>> track;  // (image_id, point2D_idx)
};

struct ColmapModel {
  std::map<uint32_t, ColmapCamera> cameras;
  std::map<uint32_t, ColmapImage> images;
  std::map<uint64_t, ColmapPoint3D> points3D;
};

// COLMAP's camera models (src/base/camera_models.h): id, name, parameter count.
struct ColmapCameraModelInfo {
  int model_id;
  std::string_view name;
  int num_params;
};
// nullptr when the model is unknown.
const ColmapCameraModelInfo* FindColmapCameraModel(std::string_view model_name);
const ColmapCameraModelInfo* FindColmapCameraModelById(int model_id);

// Reads cameras, images and points3D from `dir`: the .bin files when all three
// exist, else the .txt files. Errors name the file and line (text) or byte
// offset (binary). Checked on read: known camera models and parameter counts,
// one 3D id per 2D point, images referring to existing cameras, tracks
// referring to existing images and 2D point indices. Not checked: that an
// image's point3D_ids exist in points3D (COLMAP does not either).
[[nodiscard]] absl::StatusOr<ColmapModel> ReadColmapModel(const std::filesystem::path& dir);
[[nodiscard]] absl::StatusOr<ColmapModel> ReadColmapModelText(const std::filesystem::path& dir);
[[nodiscard]] absl::StatusOr<ColmapModel> ReadColmapModelBinary(const std::filesystem::path& dir);

// Write cameras/images/points3D.{txt,bin} into `dir` (created if needed), byte
// for byte as COLMAP 3.8 does (text: 17 significant digits), except that
// entries are sorted by id. Each file is written atomically. The model is
// validated first (same checks as on read, plus map keys equal to ids).
[[nodiscard]] absl::Status WriteColmapModelText(const ColmapModel& model, const std::filesystem::path& dir);
[[nodiscard]] absl::Status WriteColmapModelBinary(const ColmapModel& model, const std::filesystem::path& dir);

// Converts a COLMAP camera to armap's Camera (PINHOLE or OPENCV):
//   SIMPLE_PINHOLE (f, cx, cy)            -> PINHOLE (f, f, cx, cy)
//   PINHOLE, OPENCV                       -> as is
//   SIMPLE_RADIAL (f, cx, cy, k)          -> OPENCV (f, f, cx, cy, k, 0, 0, 0)
//   RADIAL (f, cx, cy, k1, k2)            -> OPENCV (f, f, cx, cy, k1, k2, 0, 0)
//   FULL_OPENCV with k3..k6 = 0           -> OPENCV (fx, fy, cx, cy, k1, k2, p1, p2)
//   FOV with omega = 0                    -> PINHOLE
// Everything else is InvalidArgument "camera model X cannot be used for
// localization yet" (the fisheye models; FULL_OPENCV with k3..k6 != 0 and FOV
// with omega != 0 are not representable exactly, and the message says why).
[[nodiscard]] absl::StatusOr<Camera> ToCamera(const ColmapCamera& colmap_camera);

}  // namespace armap::io
