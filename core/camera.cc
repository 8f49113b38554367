#include "core/camera.h"

#include <cmath>
#include <limits>

#include <Eigen/LU>

#include "absl/strings/str_cat.h"

namespace armap {

int Camera::NumParams(CameraModelId model) {
  switch (model) {
    case CameraModelId::kPinhole: return 4;
    case CameraModelId::kOpenCV: return 8;
    case CameraModelId::kEquirectangular: return 0;
  }
  return -1;
}

std::string Camera::ModelName() const {
  switch (model) {
    case CameraModelId::kPinhole: return "PINHOLE";
    case CameraModelId::kOpenCV: return "OPENCV";
    case CameraModelId::kEquirectangular: return "EQUIRECTANGULAR";
  }
  return "UNKNOWN";
}

absl::StatusOr<CameraModelId> Camera::ModelFromName(const std::string& name) {
  if (name == "PINHOLE") return CameraModelId::kPinhole;
  if (name == "OPENCV") return CameraModelId::kOpenCV;
  if (name == "EQUIRECTANGULAR") return CameraModelId::kEquirectangular;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown camera model '", name, "' (supported: PINHOLE, OPENCV, EQUIRECTANGULAR)"));
}

absl::StatusOr<Camera> Camera::Create(const std::string& model_name, int width, int height,
                                      std::vector<double> params) {
  auto model = ModelFromName(model_name);
  if (!model.ok()) return model.status();
  if (width <= 0 || height <= 0 || width > 65536 || height > 65536) {
    return absl::InvalidArgumentError(absl::StrCat("camera size ", width, "x", height, " must be within 1..65536"));
  }
  const int expected = NumParams(*model);
  if (static_cast<int>(params.size()) != expected) {
    return absl::InvalidArgumentError(absl::StrCat("camera model ", model_name, " takes ", expected,
                                                   " params, got ", params.size()));
  }
  for (size_t i = 0; i < params.size(); ++i) {
    if (!std::isfinite(params[i])) {
      return absl::InvalidArgumentError(absl::StrCat("camera params[", i, "] is not finite"));
    }
  }
  if (*model != CameraModelId::kEquirectangular && (params[0] <= 0 || params[1] <= 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("camera focal lengths must be > 0, got fx=", params[0], " fy=", params[1]));
  }
  Camera camera;
  camera.model = *model;
  camera.width = width;
  camera.height = height;
  camera.params = std::move(params);
  return camera;
}

Camera Camera::Pinhole(int width, int height, double fx, double fy, double cx, double cy) {
  Camera c;
  c.model = CameraModelId::kPinhole;
  c.width = width;
  c.height = height;
  c.params = {fx, fy, cx, cy};
  return c;
}

Camera Camera::Equirectangular(int width, int height) {
  Camera c;
  c.model = CameraModelId::kEquirectangular;
  c.width = width;
  c.height = height;
  return c;
}

double Camera::HorizontalFovDeg() const {
  if (!IsPerspective()) return 360.0;
  return 2.0 * std::atan2(0.5 * width, params[0]) * 180.0 / M_PI;
}

Eigen::Vector2d DistortOpenCV(const Eigen::Vector2d& u, double k1, double k2, double p1, double p2) {
  const double x = u.x(), y = u.y();
  const double r2 = x * x + y * y;
  const double radial = 1.0 + k1 * r2 + k2 * r2 * r2;
  return {x * radial + 2.0 * p1 * x * y + p2 * (r2 + 2.0 * x * x),
          y * radial + p1 * (r2 + 2.0 * y * y) + 2.0 * p2 * x * y};
}

Eigen::Vector2d UndistortOpenCV(const Eigen::Vector2d& d, double k1, double k2, double p1, double p2) {
  // Newton iterations on f(u) = Distort(u) - d with a numeric Jacobian
  // (COLMAP's IterativeUndistortion does the same).
  Eigen::Vector2d u = d;
  for (int iter = 0; iter < 100; ++iter) {
    const Eigen::Vector2d f = DistortOpenCV(u, k1, k2, p1, p2) - d;
    if (f.squaredNorm() < 1e-24) break;
    const double eps = 1e-7 * std::max(1.0, u.norm());
    Eigen::Matrix2d jac;
    jac.col(0) = (DistortOpenCV(u + Eigen::Vector2d(eps, 0), k1, k2, p1, p2) - d - f) / eps;
    jac.col(1) = (DistortOpenCV(u + Eigen::Vector2d(0, eps), k1, k2, p1, p2) - d - f) / eps;
    const Eigen::Vector2d step = jac.partialPivLu().solve(f);
    if (!step.allFinite()) break;
    u -= step;
    if (step.squaredNorm() < 1e-26) break;
  }
  return u;
}

double MaxMonotonicRadiusSquared(double k1, double k2) {
  // Radial distortion r_d = r (1 + k1 r^2 + k2 r^4) is invertible while its
  // derivative 1 + 3 k1 s + 5 k2 s^2 (s = r^2) stays positive. Beyond the
  // first root, points far outside the field of view fold back into the
  // image, so projection must reject them.
  const double a = 5.0 * k2, b = 3.0 * k1, c = 1.0;
  double root = std::numeric_limits<double>::infinity();
  if (std::abs(a) < 1e-15) {
    if (b < 0) root = -c / b;
  } else {
    const double disc = b * b - 4 * a * c;
    if (disc >= 0) {
      for (double r : {(-b - std::sqrt(disc)) / (2 * a), (-b + std::sqrt(disc)) / (2 * a)}) {
        if (r > 0) root = std::min(root, r);
      }
    }
  }
  return root;
}

bool Camera::Project(const Eigen::Vector3d& p, Eigen::Vector2d* pixel) const {
  switch (model) {
    case CameraModelId::kPinhole:
    case CameraModelId::kOpenCV: {
      if (p.z() <= 1e-12) return false;
      Eigen::Vector2d n(p.x() / p.z(), p.y() / p.z());
      if (model == CameraModelId::kOpenCV) {
        if (n.squaredNorm() >= MaxMonotonicRadiusSquared(params[4], params[5])) return false;
        n = DistortOpenCV(n, params[4], params[5], params[6], params[7]);
      }
      *pixel = {params[0] * n.x() + params[2], params[1] * n.y() + params[3]};
      return true;
    }
    case CameraModelId::kEquirectangular: {
      const double norm = p.norm();
      if (norm <= 1e-12) return false;
      const double lon = std::atan2(p.x(), p.z());
      const double lat = std::asin(std::clamp(-p.y() / norm, -1.0, 1.0));
      *pixel = {(lon / (2.0 * M_PI) + 0.5) * width - 0.5, (0.5 - lat / M_PI) * height - 0.5};
      return true;
    }
  }
  return false;
}

Eigen::Vector3d Camera::Unproject(const Eigen::Vector2d& pixel) const {
  switch (model) {
    case CameraModelId::kPinhole:
    case CameraModelId::kOpenCV: {
      Eigen::Vector2d n((pixel.x() - params[2]) / params[0], (pixel.y() - params[3]) / params[1]);
      if (model == CameraModelId::kOpenCV) n = UndistortOpenCV(n, params[4], params[5], params[6], params[7]);
      return Eigen::Vector3d(n.x(), n.y(), 1.0).normalized();
    }
    case CameraModelId::kEquirectangular: {
      const double lon = ((pixel.x() + 0.5) / width - 0.5) * 2.0 * M_PI;
      const double lat = (0.5 - (pixel.y() + 0.5) / height) * M_PI;
      return {std::cos(lat) * std::sin(lon), -std::sin(lat), std::cos(lat) * std::cos(lon)};
    }
  }
  return Eigen::Vector3d::UnitZ();
}

}  // namespace armap
