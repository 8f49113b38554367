#include "mapping/pipeline/alignment.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "core/random.h"
#include "core/testing/status_matchers.h"
#include "mapping/pipeline/views.h"

namespace armap::mapping {
namespace {

using ::armap::testing::IsOk;
using ::armap::testing::StatusIs;

double Median(std::vector<double> v) {
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

// A street canyon: two facades (x = +-10), the ground (z = 0) and a cross
// wall (y = 60), seen from panoramas driving along y. Landmarks lie exactly
// on these planes, which the "lidar" reports.
struct Street {
  std::vector<Rigid3d> truth;          // world_from_rig
  std::vector<Eigen::Vector3d> points;
  static bool Plane(const Eigen::Vector3d& x, SurfacePlane* plane) {
    if (std::abs(std::abs(x.x()) - 10) < 0.05) *plane = {Eigen::Vector3d(x.x() > 0 ? 10 : -10, 0, 0), Eigen::Vector3d::UnitX(), 0.01};
    else if (std::abs(x.z()) < 0.05) *plane = {Eigen::Vector3d::Zero(), Eigen::Vector3d::UnitZ(), 0.01};
    else if (std::abs(x.y() - 60) < 0.05) *plane = {Eigen::Vector3d(0, 60, 0), Eigen::Vector3d::UnitY(), 0.01};
    else return false;
    return true;
  }
};

Street MakeStreet(Rng& rng, int num_panos) {
  Street s;
  for (int i = 0; i < num_panos; ++i) {
    Eigen::Matrix3d world_r_rig;  // heading +y: rig z = +y, x = +x (right), y = -z (down)
    world_r_rig << Eigen::Vector3d::UnitX(), -Eigen::Vector3d::UnitZ(), Eigen::Vector3d::UnitY();
    s.truth.emplace_back(Eigen::Quaterniond(world_r_rig), Eigen::Vector3d(0, 8.0 * i, 2.5));
  }
  for (int k = 0; k < 3000; ++k) {
    const double u = rng.Uniform();
    if (u < 0.35) s.points.emplace_back(rng.Bernoulli(0.5) ? 10 : -10, rng.Uniform(-10, 60), rng.Uniform(0.5, 20));
    else if (u < 0.7) s.points.emplace_back(rng.Uniform(-9, 9), rng.Uniform(-5, 55), 0.0);
    else s.points.emplace_back(rng.Uniform(-9, 9), 60, rng.Uniform(0.5, 15));
  }
  return s;
}

TEST(AlignmentTest, RecoversPosesFromNoisyTrajectoryToCentimetres) {
  Rng rng(17);
  const int num_panos = 8;
  Street street = MakeStreet(rng, num_panos);
  const ViewRig rig(ViewRigOptions{}, 2048, 1024);
  AlignmentInput input;
  for (const VirtualView& v : rig.views()) {
    input.view_cameras.push_back(v.camera);
    input.view_cam_from_rig.push_back(v.cam_from_rig);
  }
  // Measured poses: 5 cm and 0.5 deg of noise, as the synthetic capture has.
  for (const Rigid3d& t : street.truth) {
    const Eigen::Vector3d dr = Eigen::Vector3d(rng.Normal(), rng.Normal(), rng.Normal()) * (0.5 / std::sqrt(3.0) * M_PI / 180);
    const Eigen::Vector3d dt = Eigen::Vector3d(rng.Normal(), rng.Normal(), rng.Normal()) * (0.05 / std::sqrt(3.0));
    input.world_from_rig.emplace_back(Eigen::Quaterniond(Eigen::AngleAxisd(dr.norm(), dr.normalized())) * t.rotation,
                                      t.translation + dt);
  }
  // Observations: project each point into every view that sees it within
  // 30 m, with 0.3 px keypoint noise; the initial point is perturbed like a
  // lidar-depth lookup with the wrong pose would be.
  for (const Eigen::Vector3d& x : street.points) {
    AlignmentTrack track;
    for (int p = 0; p < num_panos; ++p) {
      if ((x - street.truth[p].translation).norm() > 30) continue;
      for (size_t v = 0; v < rig.views().size(); ++v) {
        const Eigen::Vector3d in_cam = rig.views()[v].cam_from_rig * (street.truth[p].Inverse() * x);
        Eigen::Vector2d pixel;
        if (!rig.views()[v].camera.Project(in_cam, &pixel) || !rig.views()[v].camera.InImage(pixel)) continue;
        pixel += Eigen::Vector2d(rng.Normal(), rng.Normal()) * 0.3;
        track.observations.push_back({static_cast<uint32_t>(p), static_cast<uint32_t>(v), pixel});
        break;  // one view per panorama
      }
    }
    if (track.observations.size() < 2) continue;
    track.initial_point = x + Eigen::Vector3d(rng.Normal(), rng.Normal(), rng.Normal()) * 0.1;
    input.tracks.push_back(track);
  }
  input.lidar_plane = Street::Plane;
  std::vector<Eigen::Vector3d> points;
  AlignmentSummary summary;
  auto refined = AlignPanoramas(input, AlignmentOptions{}, &points, &summary);
  ASSERT_THAT(refined.status(), IsOk());
  std::vector<double> pos_before, pos_after, rot_before, rot_after;
  for (int p = 0; p < num_panos; ++p) {
    pos_before.push_back((input.world_from_rig[p].translation - street.truth[p].translation).norm());
    pos_after.push_back(((*refined)[p].translation - street.truth[p].translation).norm());
    rot_before.push_back(RotationErrorDeg(input.world_from_rig[p].rotation, street.truth[p].rotation));
    rot_after.push_back(RotationErrorDeg((*refined)[p].rotation, street.truth[p].rotation));
  }
  // The mapping issue's goal: <= 1 cm and <= 0.05 deg median.
  EXPECT_LT(Median(pos_after), 0.01) << summary.BriefReport();
  EXPECT_LT(Median(rot_after), 0.05) << summary.BriefReport();
  EXPECT_GT(Median(pos_before), 0.02);  // the test starts from a real error
  EXPECT_LT(summary.final_rms_px, 0.6);
  EXPECT_GT(summary.num_anchored, 1000);
  // The ground is what fixes height and roll; its anchors are counted apart.
  EXPECT_GT(summary.num_anchored_level, 300);
  EXPECT_LT(summary.num_anchored_level, summary.num_anchored);
}

TEST(AlignmentTest, WithoutSharedLandmarksKeepsTheMeasuredPoses) {
  AlignmentInput input;
  input.world_from_rig = {Rigid3d(), Rigid3d(Eigen::Quaterniond::Identity(), Eigen::Vector3d(1, 0, 0))};
  input.view_cameras = {Camera::Pinhole(100, 100, 50, 50, 49.5, 49.5)};
  input.view_cam_from_rig = {Rigid3d()};
  std::vector<Eigen::Vector3d> points;
  AlignmentSummary summary;
  auto refined = AlignPanoramas(input, AlignmentOptions{}, &points, &summary);
  ASSERT_THAT(refined.status(), IsOk());
  EXPECT_LT(((*refined)[1].translation - Eigen::Vector3d(1, 0, 0)).norm(), 1e-12);
  AlignmentOptions bad;
  bad.plane_sigma_m = 0;
  EXPECT_THAT(AlignPanoramas(input, bad, &points, &summary), StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("plane_sigma_m")));
}

}  // namespace
}  // namespace armap::mapping
