#include "core/rigid3.h"

#include <cmath>

namespace armap {

double RotationErrorDeg(const Eigen::Quaterniond& a, const Eigen::Quaterniond& b) {
  const Eigen::Quaterniond d = a.normalized() * b.normalized().conjugate();
  const double sin_half = d.vec().norm();
  const double cos_half = std::abs(d.w());
  return 2.0 * std::atan2(sin_half, cos_half) * 180.0 / M_PI;
}

}  // namespace armap
