// Rigid and similarity transforms. Names state both frames:
//   point_in_b = b_from_a * point_in_a;   c_from_a = c_from_b * b_from_a.
#pragma once

#include <Eigen/Core>
#include <Eigen/Geometry>

namespace armap {

struct Rigid3d {
  Eigen::Quaterniond rotation = Eigen::Quaterniond::Identity();
  Eigen::Vector3d translation = Eigen::Vector3d::Zero();

  Rigid3d() = default;
  Rigid3d(const Eigen::Quaterniond& r, const Eigen::Vector3d& t) : rotation(r.normalized()), translation(t) {}

  static Rigid3d FromMatrix(const Eigen::Matrix3d& r, const Eigen::Vector3d& t) {
    return Rigid3d(Eigen::Quaterniond(r), t);
  }
  Eigen::Matrix<double, 3, 4> ToMatrix3x4() const {
    Eigen::Matrix<double, 3, 4> m;
    m.leftCols<3>() = rotation.toRotationMatrix();
    m.col(3) = translation;
    return m;
  }
  Eigen::Vector3d operator*(const Eigen::Vector3d& point) const { return rotation * point + translation; }
  Rigid3d operator*(const Rigid3d& b_from_a) const {
    return Rigid3d(rotation * b_from_a.rotation, rotation * b_from_a.translation + translation);
  }
  // Inverse of b_from_a is a_from_b.
  Rigid3d Inverse() const {
    const Eigen::Quaterniond inv = rotation.conjugate();
    return Rigid3d(inv, -(inv * translation));
  }
};

struct Sim3d {
  double scale = 1.0;
  Eigen::Quaterniond rotation = Eigen::Quaterniond::Identity();
  Eigen::Vector3d translation = Eigen::Vector3d::Zero();

  Sim3d() = default;
  Sim3d(double s, const Eigen::Quaterniond& r, const Eigen::Vector3d& t)
      : scale(s), rotation(r.normalized()), translation(t) {}

  Eigen::Vector3d operator*(const Eigen::Vector3d& point) const {
    return scale * (rotation * point) + translation;
  }
  Sim3d operator*(const Sim3d& b_from_a) const {
    return Sim3d(scale * b_from_a.scale, rotation * b_from_a.rotation,
                 scale * (rotation * b_from_a.translation) + translation);
  }
  Sim3d Inverse() const {
    const Eigen::Quaterniond inv = rotation.conjugate();
    return Sim3d(1.0 / scale, inv, -(inv * translation) / scale);
  }
  // If this is new_from_old, maps cam_from_old to cam_from_new (the camera
  // frame is rescaled to the units of `new`).
  Rigid3d TransformCamFromWorld(const Rigid3d& cam_from_old) const {
    const Eigen::Quaterniond r = cam_from_old.rotation * rotation.conjugate();
    return Rigid3d(r, -(r * translation) + scale * cam_from_old.translation);
  }
};

// Camera centre in world coordinates of cam_from_world: c = -R^T t.
inline Eigen::Vector3d CameraCenter(const Rigid3d& cam_from_world) {
  return cam_from_world.Inverse().translation;
}

// Angle of the rotation between two orientations, degrees; atan2 form keeps
// precision near zero (EVALUATION.md).
double RotationErrorDeg(const Eigen::Quaterniond& a, const Eigen::Quaterniond& b);

}  // namespace armap
