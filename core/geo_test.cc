#include "core/geo.h"

#include <gtest/gtest.h>

namespace armap {
namespace {

TEST(GeoTest, EnuRoundTripAndScale) {
  const EnuFrame frame({22.5431, 114.0579, 10.0});
  const GeoPoint p = frame.Wgs84FromEnu({100.0, 200.0, 5.0});
  const Eigen::Vector3d back = frame.EnuFromWgs84(p);
  EXPECT_LT((back - Eigen::Vector3d(100, 200, 5)).norm(), 1e-6);
  // 200 m north is ~0.0018 deg of latitude (1 deg ~ 110.8 km at 22.5 N).
  EXPECT_NEAR(p.lat_deg - 22.5431, 200.0 / 110770.0, 2e-6);
  EXPECT_GT(p.lon_deg, 114.0579);
}

TEST(GeoTest, EcefOfKnownPoint) {
  // Equator / prime meridian at sea level lies on the x axis at a = 6378137 m.
  const Eigen::Vector3d ecef = EnuFrame::EcefFromWgs84({0, 0, 0});
  EXPECT_NEAR(ecef.x(), 6378137.0, 1e-6);
  EXPECT_NEAR(ecef.y(), 0.0, 1e-6);
  const GeoPoint back = EnuFrame::Wgs84FromEcef(EnuFrame::EcefFromWgs84({22.5, 114.0, 30.0}));
  EXPECT_NEAR(back.lat_deg, 22.5, 1e-9);
  EXPECT_NEAR(back.alt_m, 30.0, 1e-6);
}

}  // namespace
}  // namespace armap
