#include "armap/sdk/core/geodesy.h"

#include "core/camera_angles.h"

#include <cmath>

#include <Eigen/Geometry>

namespace armap::sdk {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kDegToRad = kPi / 180.0;
constexpr double kRadToDeg = 180.0 / kPi;
constexpr double kB = kWgs84A * (1 - kWgs84F);         // semi-minor axis
constexpr double kE2 = kWgs84F * (2 - kWgs84F);        // first eccentricity squared
constexpr double kEp2 = kE2 / ((1 - kWgs84F) * (1 - kWgs84F));  // second eccentricity squared

Eigen::Quaterniond Q(const Rigid3& p) { return Eigen::Quaterniond(p.qw, p.qx, p.qy, p.qz).normalized(); }
Eigen::Vector3d T(const Rigid3& p) { return Eigen::Vector3d(p.tx, p.ty, p.tz); }
Rigid3 Make(Eigen::Quaterniond q, const Eigen::Vector3d& t) {
  q.normalize();
  if (q.w() < 0) q.coeffs() *= -1;
  return Rigid3{q.w(), q.x(), q.y(), q.z(), t.x(), t.y(), t.z()};
}

}  // namespace

Eigen::Vector3d EcefFromWgs84(const GeoPoint& p) {
  const double lat = p.lat_deg * kDegToRad, lon = p.lon_deg * kDegToRad;
  const double s = std::sin(lat), c = std::cos(lat);
  const double n = kWgs84A / std::sqrt(1 - kE2 * s * s);  // prime vertical radius
  return Eigen::Vector3d((n + p.alt_m) * c * std::cos(lon), (n + p.alt_m) * c * std::sin(lon),
                         (n * (1 - kE2) + p.alt_m) * s);
}

GeoPoint Wgs84FromEcef(const Eigen::Vector3d& x) {
  GeoPoint out;
  const double p = std::hypot(x.x(), x.y());
  out.lon_deg = std::atan2(x.y(), x.x()) * kRadToDeg;
  if (p < 1e-9) {  // on the axis: a pole
    out.lat_deg = x.z() >= 0 ? 90.0 : -90.0;
    out.alt_m = std::abs(x.z()) - kB;
    return out;
  }
  // Bowring's formula from the parametric latitude, iterated: each pass
  // gains several orders of magnitude; three reach double precision for
  // any height a phone can have.
  double beta = std::atan2(x.z() * kWgs84A, p * kB);
  double lat = 0;
  for (int i = 0; i < 3; ++i) {
    const double sb = std::sin(beta), cb = std::cos(beta);
    lat = std::atan2(x.z() + kEp2 * kB * sb * sb * sb, p - kE2 * kWgs84A * cb * cb * cb);
    beta = std::atan2((1 - kWgs84F) * std::sin(lat), std::cos(lat));
  }
  const double s = std::sin(lat), c = std::cos(lat);
  const double n = kWgs84A / std::sqrt(1 - kE2 * s * s);
  // Stable at every latitude (no division by cos(lat)).
  out.alt_m = p * c + x.z() * s - kWgs84A * kWgs84A / n;
  out.lat_deg = lat * kRadToDeg;
  return out;
}

EnuFrame::EnuFrame(const GeoPoint& origin) : origin_(origin), origin_ecef_(EcefFromWgs84(origin)) {
  const double lat = origin.lat_deg * kDegToRad, lon = origin.lon_deg * kDegToRad;
  const double sl = std::sin(lat), cl = std::cos(lat), so = std::sin(lon), co = std::cos(lon);
  ecef_from_enu_.col(0) = Eigen::Vector3d(-so, co, 0);                 // east
  ecef_from_enu_.col(1) = Eigen::Vector3d(-sl * co, -sl * so, cl);     // north
  ecef_from_enu_.col(2) = Eigen::Vector3d(cl * co, cl * so, sl);       // up
}

Eigen::Vector3d EnuFrame::EnuFromWgs84(const GeoPoint& point) const {
  return ecef_from_enu_.transpose() * (EcefFromWgs84(point) - origin_ecef_);
}

GeoPoint EnuFrame::Wgs84FromEnu(const Eigen::Vector3d& point_in_enu) const {
  return Wgs84FromEcef(origin_ecef_ + ecef_from_enu_ * point_in_enu);
}

Rigid3 Compose(const Rigid3& a_from_b, const Rigid3& b_from_c) {
  const Eigen::Quaterniond qab = Q(a_from_b);
  return Make(qab * Q(b_from_c), qab * T(b_from_c) + T(a_from_b));
}

Rigid3 Inverse(const Rigid3& a_from_b) {
  const Eigen::Quaterniond qba = Q(a_from_b).conjugate();
  return Make(qba, -(qba * T(a_from_b)));
}

Rigid3 Normalized(const Rigid3& pose) { return Make(Q(pose), T(pose)); }

GeoPose GeoPoseFromMapFromCam(const EnuFrame& frame, const Rigid3& map_from_cam) {
  const CameraAnglesDeg angles = CameraAnglesFromEnuFromCam(Q(map_from_cam).toRotationMatrix());
  GeoPose g;
  g.position = frame.Wgs84FromEnu(T(map_from_cam));
  g.heading_deg = angles.heading_deg;
  g.pitch_deg = angles.pitch_deg;
  g.roll_deg = angles.roll_deg;
  return g;
}

}  // namespace armap::sdk
