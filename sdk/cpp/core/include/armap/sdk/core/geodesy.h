// WGS84 <-> ECEF <-> local ENU (the map frame) and the pose maths of the
// client (session and map frames, geo poses), without GeographicLib or
// Abseil so that the WebAssembly SDK shares them. Tested against core/geo
// (GeographicLib) to well under a millimetre.
#pragma once

#include <Eigen/Core>

#include "armap/sdk/core/geometry.h"

namespace armap::sdk {

// WGS84 ellipsoid.
inline constexpr double kWgs84A = 6378137.0;
inline constexpr double kWgs84F = 1.0 / 298.257223563;

// Closed form.
Eigen::Vector3d EcefFromWgs84(const GeoPoint& point);
// Accurate to ~1e-9 m near the Earth's surface (Bowring's start, refined by
// fixed-point iterations on the parametric latitude); any point but the
// Earth's centre.
GeoPoint Wgs84FromEcef(const Eigen::Vector3d& point_in_ecef);

// The map frame: ENU metres (x east, y north, z up) about an origin.
class EnuFrame {
 public:
  explicit EnuFrame(const GeoPoint& origin);
  const GeoPoint& origin() const { return origin_; }
  Eigen::Vector3d EnuFromWgs84(const GeoPoint& point) const;
  GeoPoint Wgs84FromEnu(const Eigen::Vector3d& point_in_enu) const;
  // Rotation ecef_from_enu (columns: east, north, up in ECEF).
  const Eigen::Matrix3d& ecef_from_enu() const { return ecef_from_enu_; }

 private:
  GeoPoint origin_;
  Eigen::Vector3d origin_ecef_;
  Eigen::Matrix3d ecef_from_enu_;
};

// a_from_c = a_from_b * b_from_c.
Rigid3 Compose(const Rigid3& a_from_b, const Rigid3& b_from_c);
// b_from_a from a_from_b.
Rigid3 Inverse(const Rigid3& a_from_b);
// The quaternion normalised with w >= 0.
Rigid3 Normalized(const Rigid3& pose);

// The geo pose of an OpenCV camera (x right, y down, z forward) posed
// map_from_cam in the frame's map: position in WGS84, heading of the optical
// axis clockwise from north, its elevation, and roll (clockwise as the user
// sees it positive), as the server reports LocalizeResponse.geo_pose.
GeoPose GeoPoseFromMapFromCam(const EnuFrame& frame, const Rigid3& map_from_cam);

}  // namespace armap::sdk
