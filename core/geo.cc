#include "core/geo.h"

#include <GeographicLib/Geocentric.hpp>
#include <GeographicLib/LocalCartesian.hpp>

namespace armap {

struct EnuFrame::Impl {
  GeographicLib::LocalCartesian local;
};

EnuFrame::EnuFrame(const GeoPoint& origin)
    : origin_(origin),
      impl_(new Impl{GeographicLib::LocalCartesian(origin.lat_deg, origin.lon_deg, origin.alt_m,
                                                   GeographicLib::Geocentric::WGS84())}) {}
EnuFrame::~EnuFrame() = default;
EnuFrame::EnuFrame(const EnuFrame& other) : origin_(other.origin_), impl_(new Impl(*other.impl_)) {}
EnuFrame& EnuFrame::operator=(const EnuFrame& other) {
  origin_ = other.origin_;
  impl_.reset(new Impl(*other.impl_));
  return *this;
}

Eigen::Vector3d EnuFrame::EnuFromWgs84(const GeoPoint& p) const {
  Eigen::Vector3d enu;
  impl_->local.Forward(p.lat_deg, p.lon_deg, p.alt_m, enu.x(), enu.y(), enu.z());
  return enu;
}

GeoPoint EnuFrame::Wgs84FromEnu(const Eigen::Vector3d& enu) const {
  GeoPoint p;
  impl_->local.Reverse(enu.x(), enu.y(), enu.z(), p.lat_deg, p.lon_deg, p.alt_m);
  return p;
}

Eigen::Vector3d EnuFrame::EcefFromWgs84(const GeoPoint& p) {
  Eigen::Vector3d ecef;
  GeographicLib::Geocentric::WGS84().Forward(p.lat_deg, p.lon_deg, p.alt_m, ecef.x(), ecef.y(), ecef.z());
  return ecef;
}

GeoPoint EnuFrame::Wgs84FromEcef(const Eigen::Vector3d& ecef) {
  GeoPoint p;
  GeographicLib::Geocentric::WGS84().Reverse(ecef.x(), ecef.y(), ecef.z(), p.lat_deg, p.lon_deg, p.alt_m);
  return p;
}

}  // namespace armap
