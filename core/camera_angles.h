// Heading, pitch and roll of a camera (x right, y down, z forward) in an ENU
// frame: the geo pose convention of the API (proto GeoPose), shared by the
// localizer and the SDK's portable core. Header-only, Eigen only, so it
// also compiles to WebAssembly.
#pragma once

#include <cmath>

#include <Eigen/Core>

namespace armap {

struct CameraAnglesDeg {
  double heading_deg = 0;  // of the optical axis, clockwise from north, [0, 360)
  double pitch_deg = 0;    // of the optical axis above the horizon
  double roll_deg = 0;     // about the optical axis; 0 when level, + clockwise
};

inline CameraAnglesDeg CameraAnglesFromEnuFromCam(const Eigen::Matrix3d& enu_from_cam_rotation) {
  constexpr double kRadToDeg = 180.0 / 3.14159265358979323846;
  const Eigen::Vector3d right = enu_from_cam_rotation.col(0);
  const Eigen::Vector3d down = enu_from_cam_rotation.col(1);
  const Eigen::Vector3d forward = enu_from_cam_rotation.col(2);
  CameraAnglesDeg a;
  a.heading_deg = std::atan2(forward.x(), forward.y()) * kRadToDeg;
  if (a.heading_deg < 0) a.heading_deg += 360.0;
  a.pitch_deg = std::atan2(forward.z(), forward.head<2>().norm()) * kRadToDeg;
  // Level camera: right is horizontal and down points down; turning the
  // phone clockwise tips the right axis down.
  a.roll_deg = std::atan2(-right.z(), -down.z()) * kRadToDeg;
  return a;
}

}  // namespace armap
