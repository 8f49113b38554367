#include "localization/absolute_pose.h"

#include <gtest/gtest.h>

#include <random>

namespace armap::loc {
namespace {

// A camera 1.6 m above the ground looking north-east at points 5-40 m away;
// `outlier_fraction` of the correspondences get random 3D points.
struct Scene {
  Rigid3d cam_from_world;
  PoseCorrespondences c;
};

Scene MakeScene(int n, double noise_px, double outlier_fraction, double focal_px, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  std::normal_distribution<double> noise(0, noise_px / focal_px);
  Scene s;
  // Camera: z forward = north-east, y down.
  const Eigen::Vector3d forward = Eigen::Vector3d(1, 1, 0.1).normalized();
  const Eigen::Vector3d down(0, 0, -1);
  const Eigen::Vector3d right = down.cross(forward).normalized();
  Eigen::Matrix3d world_from_cam_r;
  world_from_cam_r.col(0) = right;
  world_from_cam_r.col(1) = forward.cross(right);
  world_from_cam_r.col(2) = forward;
  const Rigid3d world_from_cam = Rigid3d::FromMatrix(world_from_cam_r, Eigen::Vector3d(3, -2, 1.6));
  s.cam_from_world = world_from_cam.Inverse();
  for (int i = 0; i < n; ++i) {
    const double depth = 5 + 35 * (0.5 + 0.5 * u(rng));
    const Eigen::Vector3d in_cam(u(rng) * 0.6 * depth, u(rng) * 0.45 * depth, depth);
    Eigen::Vector3d in_world = world_from_cam * in_cam;
    const Eigen::Vector2d observed = in_cam.head<2>() / in_cam.z() + Eigen::Vector2d(noise(rng), noise(rng));
    if ((0.5 + 0.5 * u(rng)) < outlier_fraction) in_world += Eigen::Vector3d(u(rng), u(rng), u(rng)) * 20;
    s.c.normalized.push_back(observed);
    s.c.point_in_world.push_back(in_world);
  }
  return s;
}

double PositionError(const Rigid3d& a, const Rigid3d& b) { return (CameraCenter(a) - CameraCenter(b)).norm(); }

TEST(AbsolutePoseTest, RecoversThePoseThroughNoiseAndOutliers) {
  const Scene s = MakeScene(400, 0.7, 0.5, 600, 3);
  AbsolutePoseOptions o;
  o.focal_px = 600;
  ASSERT_TRUE(o.Validate().ok());
  const AbsolutePoseResult r = EstimateAbsolutePose(s.c, o);
  ASSERT_TRUE(r.found);
  // 200 inliers with 0.7 px noise at f = 600 over a 40 m deep scene: the
  // centre is determined to a few centimetres, the rotation to ~0.05 deg.
  EXPECT_LT(PositionError(r.cam_from_world, s.cam_from_world), 0.05);
  EXPECT_LT(RotationErrorDeg(r.cam_from_world.rotation, s.cam_from_world.rotation), 0.1);
  EXPECT_GT(r.num_inliers, 170);
  EXPECT_LT(r.num_inliers, 240);
  EXPECT_LT(r.rms_error_px, 1.5);
}

TEST(AbsolutePoseTest, GravityRejectsHypothesesThatDisagree) {
  const Scene s = MakeScene(200, 0.5, 0.3, 600, 5);
  AbsolutePoseOptions o;
  o.focal_px = 600;
  o.has_gravity = true;
  o.gravity_in_cam = s.cam_from_world.rotation * Eigen::Vector3d(0, 0, -1);
  const AbsolutePoseResult right = EstimateAbsolutePose(s.c, o);
  ASSERT_TRUE(right.found);
  EXPECT_LT(PositionError(right.cam_from_world, s.cam_from_world), 0.05);
  // Gravity 20 degrees off: no hypothesis passes the 5 degree check.
  o.gravity_in_cam = Eigen::AngleAxisd(20 * M_PI / 180, Eigen::Vector3d::UnitZ()) * o.gravity_in_cam;
  EXPECT_FALSE(EstimateAbsolutePose(s.c, o).found);
}

TEST(AbsolutePoseTest, PureOutliersAndTooFewPointsFindNothing) {
  AbsolutePoseOptions o;
  o.focal_px = 600;
  const Scene noise = MakeScene(300, 0.5, 1.1, 600, 9);  // every point displaced
  EXPECT_FALSE(EstimateAbsolutePose(noise.c, o).found);
  Scene few = MakeScene(3, 0.0, 0.0, 600, 1);
  EXPECT_FALSE(EstimateAbsolutePose(few.c, o).found);
}

TEST(AbsolutePoseTest, OptionsNameTheBadField) {
  AbsolutePoseOptions o;
  o.max_error_px = 0;
  EXPECT_NE(o.Validate().message().find("max_error_px"), std::string::npos);
  o = AbsolutePoseOptions();
  o.min_inliers = 2;
  EXPECT_NE(o.Validate().message().find("min_inliers"), std::string::npos);
}

}  // namespace
}  // namespace armap::loc
