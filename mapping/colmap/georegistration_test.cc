#include "mapping/colmap/georegistration.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/geo.h"

namespace armap::mapping {
namespace {

using ::testing::HasSubstr;

// Cameras on a non-collinear path in ENU, looking north and upright
// (camera x = east, y = down, z = north), then expressed in a "model" frame
// related to ENU at `truth_origin` by model_from_enu.
struct Scene {
  GeoPoint truth_origin{48.1372, 11.5756, 520.0};
  Sim3d model_from_enu{0.37, Eigen::Quaterniond(Eigen::AngleAxisd(0.8, Eigen::Vector3d(0.3, -0.5, 0.8).normalized())),
                       Eigen::Vector3d(4, -2, 7)};
  std::vector<GpsCorrespondence> gps;
  std::vector<bool> has_altitude;
  std::vector<Rigid3d> cams_from_model;
};

Scene MakeScene(const std::vector<Eigen::Vector3d>& centres_enu, double gps_noise_m = 0) {
  Scene s;
  const EnuFrame enu(s.truth_origin);
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0, gps_noise_m > 0 ? gps_noise_m : 1);
  Eigen::Matrix3d cam_from_enu_r;
  cam_from_enu_r << 1, 0, 0, 0, 0, -1, 0, 1, 0;  // rows: x=east, y=down, z=north
  for (size_t i = 0; i < centres_enu.size(); ++i) {
    Eigen::Vector3d measured = centres_enu[i];
    if (gps_noise_m > 0) measured += Eigen::Vector3d(noise(rng), noise(rng), noise(rng));
    const Eigen::Vector3d c_model = s.model_from_enu * centres_enu[i];
    s.gps.push_back({"p" + std::to_string(i), c_model, enu.Wgs84FromEnu(measured)});
    s.has_altitude.push_back(true);
    const Rigid3d cam_from_enu = Rigid3d::FromMatrix(cam_from_enu_r, -(cam_from_enu_r * centres_enu[i]));
    s.cams_from_model.push_back(s.model_from_enu.TransformCamFromWorld(cam_from_enu));
  }
  return s;
}

const std::vector<Eigen::Vector3d> kPath = {{0, 0, 0}, {12, 3, 0.5}, {25, 10, 1}, {30, 25, 0.2}, {18, 40, -0.4}};

TEST(GeoRegistrationTest, RecoversAnExactSimilarity) {
  const Scene s = MakeScene(kPath);
  const GeoRegistration geo = EstimateGeoRegistration(s.gps, s.has_altitude, s.cams_from_model, {});
  ASSERT_TRUE(geo.registered) << geo.reason;
  EXPECT_EQ(geo.images_with_gps, 5);
  // The similarity's scale does not depend on where the ENU origin is.
  EXPECT_NEAR(geo.map_from_model.scale, 1.0 / 0.37, 1e-6);
  EXPECT_LT(geo.rms_residual_m, 1e-4);
  // Cameras were built upright: their "up" is the map's +z.
  EXPECT_LT(geo.camera_up_tilt_deg, 1e-3);
  // The map frame is ENU at the mean of the GPS positions.
  const EnuFrame truth(s.truth_origin);
  Eigen::Vector3d mean = Eigen::Vector3d::Zero();
  for (const auto& c : kPath) mean += c;
  mean /= kPath.size();
  const Eigen::Vector3d origin_in_truth = truth.EnuFromWgs84(geo.origin);
  EXPECT_LT((origin_in_truth - mean).norm(), 1e-3);
  const EnuFrame map(geo.origin);
  for (const GpsCorrespondence& c : s.gps) {
    EXPECT_LT((geo.map_from_model * c.point_in_model - map.EnuFromWgs84(c.gps)).norm(), 1e-4) << c.name;
  }
  EXPECT_EQ(geo.ToJson()["method"], "exif_gps_sim3");
}

TEST(GeoRegistrationTest, NoisyGpsGivesAResidualOfTheNoiseLevel) {
  const Scene s = MakeScene(kPath, /*gps_noise_m=*/2.0);
  const GeoRegistration geo = EstimateGeoRegistration(s.gps, s.has_altitude, s.cams_from_model, {});
  ASSERT_TRUE(geo.registered) << geo.reason;
  // 5 points, 7 dof fitted: rms ~ 2 m * sqrt(8/15); allow generous bounds.
  EXPECT_GT(geo.rms_residual_m, 0.3);
  EXPECT_LT(geo.rms_residual_m, 4.0);
  EXPECT_NEAR(geo.map_from_model.scale, 1.0 / 0.37, 0.15 / 0.37);
}

TEST(GeoRegistrationTest, DeclinesWhatItCannotDetermine) {
  GeoRegistrationOptions options;
  {
    Scene s = MakeScene({kPath[0], kPath[1]});
    const GeoRegistration geo = EstimateGeoRegistration(s.gps, s.has_altitude, s.cams_from_model, options);
    EXPECT_FALSE(geo.registered);
    EXPECT_THAT(geo.reason, HasSubstr("3 are needed"));
    EXPECT_EQ(geo.ToJson()["method"], "none");
  }
  {
    Scene s = MakeScene({{0, 0, 0}, {10, 10, 0}, {20, 20, 0}, {35, 35.05, 0}});
    const GeoRegistration geo = EstimateGeoRegistration(s.gps, s.has_altitude, s.cams_from_model, options);
    EXPECT_FALSE(geo.registered);
    EXPECT_THAT(geo.reason, HasSubstr("collinear"));
  }
  {
    Scene s = MakeScene({{0, 0, 0}, {1, 0, 0}, {0, 1, 0.5}});
    const GeoRegistration geo = EstimateGeoRegistration(s.gps, s.has_altitude, s.cams_from_model, options);
    EXPECT_FALSE(geo.registered);
    EXPECT_THAT(geo.reason, HasSubstr("spread only"));
  }
  {
    Scene s = MakeScene(kPath, /*gps_noise_m=*/60.0);
    const GeoRegistration geo = EstimateGeoRegistration(s.gps, s.has_altitude, s.cams_from_model, options);
    EXPECT_FALSE(geo.registered);
    EXPECT_THAT(geo.reason, HasSubstr("rms residual"));
  }
  {
    options.enabled = false;
    Scene s = MakeScene(kPath);
    EXPECT_FALSE(EstimateGeoRegistration(s.gps, s.has_altitude, s.cams_from_model, options).registered);
  }
  GeoRegistrationOptions bad;
  bad.min_images = 2;
  EXPECT_THAT(std::string(bad.Validate().message()), HasSubstr("min_images"));
}

}  // namespace
}  // namespace armap::mapping
