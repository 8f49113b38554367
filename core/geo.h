// WGS84 <-> ECEF <-> local ENU (map frame), through GeographicLib.
#pragma once

#include <memory>

#include <Eigen/Core>

namespace armap {

struct GeoPoint {
  double lat_deg = 0.0;
  double lon_deg = 0.0;
  double alt_m = 0.0;
};

// Converts between WGS84 and the map frame: ENU metres (x east, y north,
// z up) about an origin. Thread-safe: all methods are const.
class EnuFrame {
 public:
  explicit EnuFrame(const GeoPoint& origin);
  ~EnuFrame();
  EnuFrame(const EnuFrame& other);
  EnuFrame& operator=(const EnuFrame& other);

  const GeoPoint& origin() const { return origin_; }
  Eigen::Vector3d EnuFromWgs84(const GeoPoint& point) const;
  GeoPoint Wgs84FromEnu(const Eigen::Vector3d& point_in_enu) const;

  static Eigen::Vector3d EcefFromWgs84(const GeoPoint& point);
  static GeoPoint Wgs84FromEcef(const Eigen::Vector3d& point_in_ecef);

 private:
  struct Impl;
  GeoPoint origin_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace armap
