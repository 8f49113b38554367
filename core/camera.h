// Camera models: pinhole, OpenCV radial-tangential, equirectangular.
//
// Camera frame: OpenCV convention, x right, y down, z forward.
// Pixel convention: the centre of pixel (col, row) is at (col, row); the
// image spans [-0.5, width - 0.5] x [-0.5, height - 0.5] (OpenCV's).
//
// Equirectangular convention (the one place it is defined): a ray d in the
// camera frame has azimuth  lon = atan2(d.x, d.z)  (0 = forward/+z, +90 deg =
// right/+x) and elevation  lat = asin(-d.y / |d|)  (+90 deg = up/-y).
//   col = (lon / 2pi + 0.5) * width - 0.5     (the centre column looks forward)
//   row = (0.5 - lat / pi) * height - 0.5     (row 0 is straight up)
#pragma once

#include <string>
#include <vector>

#include <Eigen/Core>

#include "absl/status/statusor.h"

namespace armap {

enum class CameraModelId { kPinhole = 1, kOpenCV = 4, kEquirectangular = 100 };

struct Camera {
  CameraModelId model = CameraModelId::kPinhole;
  int width = 0;
  int height = 0;
  // PINHOLE: fx fy cx cy.  OPENCV: fx fy cx cy k1 k2 p1 p2.  EQUIRECTANGULAR: none.
  std::vector<double> params;

  // Validates sizes, parameter count and finiteness; names the bad field.
  static absl::StatusOr<Camera> Create(const std::string& model_name, int width, int height,
                                       std::vector<double> params);
  static Camera Pinhole(int width, int height, double fx, double fy, double cx, double cy);
  static Camera Equirectangular(int width, int height);

  std::string ModelName() const;
  static absl::StatusOr<CameraModelId> ModelFromName(const std::string& name);
  static int NumParams(CameraModelId model);

  // Projects a point in the camera frame. Returns false for points behind a
  // perspective camera or at the centre of an equirectangular one. The pixel
  // may be outside the image; use InImage() to check.
  bool Project(const Eigen::Vector3d& point_in_cam, Eigen::Vector2d* pixel) const;
  // Unit ray in the camera frame through a pixel.
  Eigen::Vector3d Unproject(const Eigen::Vector2d& pixel) const;
  bool InImage(const Eigen::Vector2d& pixel) const {
    return pixel.x() >= -0.5 && pixel.y() >= -0.5 && pixel.x() < width - 0.5 && pixel.y() < height - 0.5;
  }
  bool IsPerspective() const { return model != CameraModelId::kEquirectangular; }
  // Horizontal field of view, degrees (perspective models, ignoring distortion).
  double HorizontalFovDeg() const;
  double FocalLengthX() const { return params.at(0); }
};

// Applies / removes OpenCV radial-tangential distortion on normalized coordinates.
Eigen::Vector2d DistortOpenCV(const Eigen::Vector2d& undistorted, double k1, double k2, double p1, double p2);
// Largest r^2 (normalized) for which OpenCV radial distortion is monotonic;
// +inf when it always is. Project() rejects points beyond it.
double MaxMonotonicRadiusSquared(double k1, double k2);
Eigen::Vector2d UndistortOpenCV(const Eigen::Vector2d& distorted, double k1, double k2, double p1, double p2);

}  // namespace armap
