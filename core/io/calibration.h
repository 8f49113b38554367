// Calibration files of the PJLab SensorsCalibration (OpenCalib) tools, as in
// /work/shared/datasets/pjlab_lidar_camera:
//
// manual_calib/data/*.json: one object named after the calibration, e.g.
//   {"center_camera-intrinsic": {"sensor_name": ..., "param": {
//       "img_dist_w": 1920, "img_dist_h": 1080,
//       "cam_K": {"rows": 3, "cols": 3, "data": [[fx, 0, cx], [0, fy, cy], [0, 0, 1]]},
//       "cam_dist": {"rows": 1, "cols": 4, "data": [[k1, k2, p1, p2]]}}}}
//   {"top_center_lidar-to-center_camera-extrinsic": {"sensor_name": "top_center_lidar",
//       "target_sensor_name": "center_camera", "param": {"sensor_calib": {"data": 4x4}}}}
// auto_calib_v2.0/data/ours/N/calib.txt: three lines
//   K: fx 0 cx 0 fy cy 0 0 1
//   D: k1 k2 p1 p2
//   T: 3x4 row-major, camera_from_lidar
//
// An "A-to-B-extrinsic" matrix maps points from sensor A (sensor_name) to
// sensor B (target_sensor_name): it is B_from_A, e.g. camera_from_lidar for
// top_center_lidar-to-center_camera and lidar_from_gnss for
// gnss-to-top_center_lidar. Errors are InvalidArgument naming the file and
// the field path (e.g. "center_camera-intrinsic.param.cam_K.data") or line.
#pragma once

#include <filesystem>
#include <string>

#include "absl/status/statusor.h"
#include "core/camera.h"
#include "core/rigid3.h"

namespace armap::io {

// Largest accepted ||R^T R - I||_F of a calibration rotation. The PJLab
// files print 6 significant digits (error ~1e-5).
inline constexpr double kMaxCalibrationOrthonormalityError = 1e-3;

// What a JSON calibration says about itself.
struct PjlabCalibInfo {
  std::string name;                // the top-level key, e.g. "center_camera-intrinsic"
  std::string sensor_name;         // source sensor; empty when absent
  std::string target_sensor_name;  // target sensor; empty when absent
};

// An OPENCV camera (fx fy cx cy k1 k2 p1 p2) of img_dist_w x img_dist_h.
// cam_K must be upper triangular without skew with K(2,2) = 1; cam_dist
// holds k1 k2 p1 p2, optionally followed by coefficients (k3, ...) that must
// be 0 since the OPENCV model has none. `data` may be nested by rows or
// flat. Note: the size is the file's; manual_calib's JSON says 1920x1080
// while its image is 1920x1200 (OpenCalib's tools use the image's size), so
// callers holding the image should check it.
[[nodiscard]] absl::StatusOr<Camera> ReadPjlabCameraIntrinsics(const std::filesystem::path& path,
                                                               PjlabCalibInfo* info = nullptr);

// The 4x4 param.sensor_calib as target_from_source. The bottom row must be
// [0 0 0 1]; the rotation is replaced by the nearest rotation (SVD) and
// rejected beyond kMaxCalibrationOrthonormalityError or if a reflection.
[[nodiscard]] absl::StatusOr<Rigid3d> ReadPjlabExtrinsic(const std::filesystem::path& path,
                                                         PjlabCalibInfo* info = nullptr);

struct PjlabCalibTxt {
  Camera camera;              // OPENCV, of the size given to the reader
  Rigid3d camera_from_lidar;  // the T line
};

// Reads auto_calib_v2.0's calib.txt (K, D and T lines, in any order). The
// file holds no image size, so the caller passes the image's.
[[nodiscard]] absl::StatusOr<PjlabCalibTxt> ReadPjlabCalibTxt(const std::filesystem::path& path, int image_width_px,
                                                              int image_height_px);

}  // namespace armap::io
