#include "core/rigid3.h"

#include <gtest/gtest.h>

#include "core/random.h"

namespace armap {
namespace {

Rigid3d RandomRigid(Rng& rng) {
  Eigen::Quaterniond q(rng.Normal(), rng.Normal(), rng.Normal(), rng.Normal());
  return Rigid3d(q.normalized(), Eigen::Vector3d(rng.Normal(), rng.Normal(), rng.Normal()) * 10);
}

TEST(Rigid3Test, ComposeAndInverse) {
  Rng rng(3);
  for (int i = 0; i < 100; ++i) {
    const Rigid3d b_from_a = RandomRigid(rng), c_from_b = RandomRigid(rng);
    const Eigen::Vector3d p(rng.Normal(), rng.Normal(), rng.Normal());
    EXPECT_LT(((c_from_b * b_from_a) * p - c_from_b * (b_from_a * p)).norm(), 1e-12);
    EXPECT_LT((b_from_a.Inverse() * (b_from_a * p) - p).norm(), 1e-12);
  }
}

TEST(Rigid3Test, CameraCenter) {
  const Rigid3d world_from_cam(Eigen::Quaterniond(Eigen::AngleAxisd(0.3, Eigen::Vector3d::UnitY())), {1, 2, 3});
  EXPECT_LT((CameraCenter(world_from_cam.Inverse()) - Eigen::Vector3d(1, 2, 3)).norm(), 1e-12);
}

TEST(Rigid3Test, RotationErrorIsPreciseNearZero) {
  const Eigen::Quaterniond a(Eigen::AngleAxisd(1e-7, Eigen::Vector3d::UnitZ()));
  EXPECT_NEAR(RotationErrorDeg(a, Eigen::Quaterniond::Identity()), 1e-7 * 180 / M_PI, 1e-15);
  const Eigen::Quaterniond b(Eigen::AngleAxisd(M_PI / 2, Eigen::Vector3d::UnitX()));
  EXPECT_NEAR(RotationErrorDeg(b, Eigen::Quaterniond::Identity()), 90.0, 1e-9);
  // q and -q are the same rotation.
  EXPECT_NEAR(RotationErrorDeg(Eigen::Quaterniond(-b.coeffs()), b), 0.0, 1e-9);
}

TEST(Sim3Test, TransformCamFromWorldKeepsProjections) {
  Rng rng(5);
  const Sim3d new_from_old(2.5, Eigen::Quaterniond(Eigen::AngleAxisd(0.7, Eigen::Vector3d(1, 2, 3).normalized())),
                           {4, -1, 2});
  for (int i = 0; i < 20; ++i) {
    const Rigid3d cam_from_old = RandomRigid(rng);
    const Eigen::Vector3d p_old(rng.Normal(), rng.Normal(), rng.Normal());
    const Rigid3d cam_from_new = new_from_old.TransformCamFromWorld(cam_from_old);
    const Eigen::Vector3d a = cam_from_old * p_old, b = cam_from_new * (new_from_old * p_old);
    EXPECT_LT((b - new_from_old.scale * a).norm(), 1e-9);
  }
}

}  // namespace
}  // namespace armap
