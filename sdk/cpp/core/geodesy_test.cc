// The portable geodesy (armap/sdk/core/geodesy.h) against GeographicLib
// (core/geo), and the pose helpers.
#include "armap/sdk/core/geodesy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include <Eigen/Geometry>

#include "core/geo.h"

namespace armap::sdk {
namespace {

armap::GeoPoint ToCore(const GeoPoint& p) { return armap::GeoPoint{p.lat_deg, p.lon_deg, p.alt_m}; }

// Points from the poles to the equator, both hemispheres and the
// antimeridian, from 500 m below the ellipsoid to airliner height.
std::vector<GeoPoint> Points() {
  std::vector<GeoPoint> out{{0, 0, 0},         {90, 0, 10},         {-90, 45, -20},  {89.9999, 179.9, 100},
                            {31.2304, 121.4737, 4}, {-33.8688, 151.2093, 58}, {51.4779, -0.0015, 46},
                            {0.001, -179.999, 9000}, {45, 90, -500}};
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> lat(-90, 90), lon(-180, 180), alt(-100, 10000);
  for (int i = 0; i < 500; ++i) out.push_back({lat(rng), lon(rng), alt(rng)});
  return out;
}

// 1e-7 deg of latitude is 1.1 cm: GeographicLib and the closed forms agree
// to double rounding (nanometres); 0.1 mm is far below any use here.
constexpr double kMetres = 1e-4;
constexpr double kDegreesAsMetres = 111320.0;

TEST(GeodesyTest, EcefMatchesGeographicLib) {
  for (const GeoPoint& p : Points()) {
    const Eigen::Vector3d expected = armap::EnuFrame::EcefFromWgs84(ToCore(p));
    EXPECT_LT((EcefFromWgs84(p) - expected).norm(), kMetres) << p.lat_deg << " " << p.lon_deg << " " << p.alt_m;
  }
}

TEST(GeodesyTest, EcefToWgs84MatchesGeographicLibAndRoundTrips) {
  for (const GeoPoint& p : Points()) {
    const Eigen::Vector3d ecef = armap::EnuFrame::EcefFromWgs84(ToCore(p));
    const GeoPoint back = Wgs84FromEcef(ecef);
    const armap::GeoPoint expected = armap::EnuFrame::Wgs84FromEcef(ecef);
    EXPECT_LT(std::abs(back.lat_deg - expected.lat_deg) * kDegreesAsMetres, kMetres) << p.lat_deg;
    if (std::abs(p.lat_deg) < 89.999) {
      EXPECT_LT(std::abs(back.lon_deg - expected.lon_deg) * kDegreesAsMetres * std::cos(p.lat_deg * M_PI / 180), kMetres);
    }
    EXPECT_LT(std::abs(back.alt_m - expected.alt_m), kMetres) << p.lat_deg << " " << p.alt_m;
    EXPECT_LT((EcefFromWgs84(back) - ecef).norm(), 1e-6);
  }
}

TEST(GeodesyTest, EnuMatchesGeographicLibLocalCartesian) {
  const GeoPoint origin{31.2304, 121.4737, 12.5};
  const EnuFrame frame(origin);
  const armap::EnuFrame reference(ToCore(origin));
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> d(-5000, 5000), h(-50, 300);
  for (int i = 0; i < 300; ++i) {
    const Eigen::Vector3d enu(d(rng), d(rng), h(rng));
    const GeoPoint g = frame.Wgs84FromEnu(enu);
    const armap::GeoPoint e = reference.Wgs84FromEnu(enu);
    EXPECT_LT(std::abs(g.lat_deg - e.lat_deg) * kDegreesAsMetres, kMetres);
    EXPECT_LT(std::abs(g.lon_deg - e.lon_deg) * kDegreesAsMetres, kMetres);
    EXPECT_LT(std::abs(g.alt_m - e.alt_m), kMetres);
    EXPECT_LT((frame.EnuFromWgs84(g) - reference.EnuFromWgs84(ToCore(g))).norm(), kMetres);
    EXPECT_LT((frame.EnuFromWgs84(g) - enu).norm(), 1e-6);
  }
  // Known values: 1 km east of (0, 0) on the ellipsoid is 0.0089832 deg of
  // longitude (a = 6378137 m) and 7.8 cm above the tangent plane.
  const EnuFrame equator(GeoPoint{0, 0, 0});
  const Eigen::Vector3d east = equator.EnuFromWgs84(GeoPoint{0, 1000.0 / 6378137.0 * 180 / M_PI, 0});
  EXPECT_NEAR(east.x(), 1000.0, 1e-3);
  EXPECT_NEAR(east.z(), -1000.0 * 1000.0 / (2 * 6378137.0), 1e-4);
}

TEST(GeodesyTest, PoseHelpers) {
  const Eigen::Quaterniond q(Eigen::AngleAxisd(0.7, Eigen::Vector3d(1, 2, 3).normalized()));
  const Rigid3 a_from_b{q.w(), q.x(), q.y(), q.z(), 1, -2, 3};
  const Rigid3 id = Compose(a_from_b, Inverse(a_from_b));
  EXPECT_NEAR(id.qw, 1, 1e-12);
  EXPECT_NEAR(std::hypot(id.tx, id.ty, id.tz), 0, 1e-12);
  // A camera looking north, level: heading 0, pitch 0, roll 0; looking east
  // and 10 deg up: heading 90, pitch 10.
  const EnuFrame frame(GeoPoint{30, 120, 0});
  auto camera = [](double heading_deg, double pitch_deg) {
    const double h = heading_deg * M_PI / 180, p = pitch_deg * M_PI / 180;
    const Eigen::Vector3d forward(std::sin(h) * std::cos(p), std::cos(h) * std::cos(p), std::sin(p));
    const Eigen::Vector3d right = Eigen::Vector3d(std::cos(h), -std::sin(h), 0);
    Eigen::Matrix3d r;
    r << right, forward.cross(right), forward;
    const Eigen::Quaterniond qr(r);
    return Rigid3{qr.w(), qr.x(), qr.y(), qr.z(), 10, 20, 1.5};
  };
  GeoPose g = GeoPoseFromMapFromCam(frame, camera(0, 0));
  EXPECT_NEAR(g.heading_deg, 0, 1e-9);
  EXPECT_NEAR(g.pitch_deg, 0, 1e-9);
  EXPECT_NEAR(g.roll_deg, 0, 1e-9);
  g = GeoPoseFromMapFromCam(frame, camera(90, 10));
  EXPECT_NEAR(g.heading_deg, 90, 1e-9);
  EXPECT_NEAR(g.pitch_deg, 10, 1e-9);
  EXPECT_NEAR(g.roll_deg, 0, 1e-9);
  EXPECT_LT((frame.EnuFromWgs84(g.position) - Eigen::Vector3d(10, 20, 1.5)).norm(), 1e-6);
}

}  // namespace
}  // namespace armap::sdk
