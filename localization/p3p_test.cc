#include "localization/p3p.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include <opencv2/calib3d.hpp>
#include <opencv2/core/eigen.hpp>

#include "core/rigid3.h"

namespace armap::loc {
namespace {

double AngleDeg(const Eigen::Quaterniond& a, const Eigen::Quaterniond& b) { return a.angularDistance(b) * 180.0 / M_PI; }

struct Scene {
  Rigid3d cam_from_world;
  Eigen::Vector3d points[3];
  Eigen::Vector3d bearings[3];
};

// Three points 2-40 m in front of a random camera, spread over a 60 degree
// field of view, as a street photo's landmarks are.
Scene RandomScene(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::uniform_real_distribution<double> depth(2.0, 40.0);
  Scene s;
  s.cam_from_world = Rigid3d(Eigen::Quaterniond(u(rng), u(rng), u(rng), u(rng)).normalized(),
                             Eigen::Vector3d(20 * u(rng), 20 * u(rng), 5 * u(rng)));
  const Rigid3d world_from_cam = s.cam_from_world.Inverse();
  for (int i = 0; i < 3; ++i) {
    const Eigen::Vector3d ray(0.55 * u(rng), 0.45 * u(rng), 1.0);
    const Eigen::Vector3d in_cam = depth(rng) * ray;
    s.points[i] = world_from_cam * in_cam;
    s.bearings[i] = ray;  // SolveP3P normalises
  }
  return s;
}

double MaxRayErrorDeg(const Rigid3d& cam_from_world, const Scene& s) {
  double worst = 0;
  for (int i = 0; i < 3; ++i) {
    const Eigen::Vector3d p = cam_from_world * s.points[i];
    const Eigen::Vector3d b = s.bearings[i].normalized();
    worst = std::max(worst, std::atan2(p.cross(b).norm(), p.dot(b)) * 180.0 / M_PI);  // exact near 0, unlike acos
  }
  return worst;
}

// Every pose returned puts the three points on their rays in front of the
// camera; the true pose is among them; and so is every pose OpenCV's AP3P
// finds (the same set of solutions of the same equations).
TEST(P3PTest, SolutionsAreExactAndIncludeTheTruthAndOpenCvs) {
  std::mt19937_64 rng(11);
  int found_truth = 0, opencv_solutions = 0, opencv_matched = 0;
  constexpr int kTrials = 2000;
  for (int trial = 0; trial < kTrials; ++trial) {
    const Scene s = RandomScene(rng);
    std::vector<Rigid3d> poses;
    const int n = SolveP3P(s.bearings, s.points, &poses);
    ASSERT_EQ(n, static_cast<int>(poses.size()));
    ASSERT_LE(n, 4);
    bool truth = false;
    for (const Rigid3d& p : poses) {
      // 1e-6 deg on rays through points metres away: micrometres.
      EXPECT_LT(MaxRayErrorDeg(p, s), 1e-6) << "trial " << trial;
      for (int i = 0; i < 3; ++i) EXPECT_GT((p * s.points[i]).z(), 0) << "trial " << trial;
      truth = truth || (AngleDeg(p.rotation, s.cam_from_world.rotation) < 1e-6 &&
                        (p.translation - s.cam_from_world.translation).norm() < 1e-6);
    }
    found_truth += truth;

    cv::Mat object(3, 3, CV_64F), image(3, 2, CV_64F);
    for (int j = 0; j < 3; ++j) {
      for (int d = 0; d < 3; ++d) object.at<double>(j, d) = s.points[j][d];
      image.at<double>(j, 0) = s.bearings[j].x() / s.bearings[j].z();
      image.at<double>(j, 1) = s.bearings[j].y() / s.bearings[j].z();
    }
    std::vector<cv::Mat> rvecs, tvecs;
    const int m = cv::solveP3P(object, image, cv::Mat::eye(3, 3, CV_64F), cv::noArray(), rvecs, tvecs, cv::SOLVEPNP_AP3P);
    for (int k = 0; k < m; ++k) {
      cv::Mat r;
      cv::Rodrigues(rvecs[k], r);
      Eigen::Matrix3d rotation;
      cv::cv2eigen(r, rotation);
      const Rigid3d theirs = Rigid3d::FromMatrix(
          rotation, Eigen::Vector3d(tvecs[k].at<double>(0), tvecs[k].at<double>(1), tvecs[k].at<double>(2)));
      if (MaxRayErrorDeg(theirs, s) > 1e-4) continue;  // not a solution (AP3P's own numerical misses)
      ++opencv_solutions;
      bool matched = false;
      for (const Rigid3d& p : poses) {
        // Loose: at a (near-)double root both solvers' answers are only as
        // good as its conditioning (OpenCV reports it twice, 0.008 deg and
        // 3 mm from ours in one trial).
        if (AngleDeg(p.rotation, theirs.rotation) < 0.01 && (p.translation - theirs.translation).norm() < 0.01) {
          matched = true;
          break;
        }
      }
      opencv_matched += matched;
      if (!matched && getenv("P3P_DEBUG")) {
        std::printf("trial %d: opencv solution %d (ray error %g deg) missing; ours %d:", trial, k, MaxRayErrorDeg(theirs, s), n);
        for (const Rigid3d& p : poses) std::printf(" [%g deg, %g m]", AngleDeg(p.rotation, theirs.rotation), (p.translation - theirs.translation).norm());
        std::printf("\n");
      }
    }
  }
  // Random triples include near-degenerate ones where the ill-conditioned
  // equations lose a solution; the truth is found in all but a handful.
  EXPECT_GE(found_truth, kTrials - 5);
  EXPECT_GE(opencv_matched, opencv_solutions - 5);
  EXPECT_GT(opencv_solutions, kTrials);  // P3P often has more than one solution
}

// On the hypersurface det D1 = 0 (a12 sin^2 t23 = a23 sin^2 t12, t the
// angles between the rays) the cubic has the root g = 0, i.e. D0 = D1; the
// form restricted to D0's planes must then come from D2 (D1 vanishes there).
// The third point's depth is chosen to put each scene exactly on it.
TEST(P3PTest, SolvesScenesWhereD1IsSingular) {
  std::mt19937_64 rng(11);
  int tried = 0, found = 0;
  for (int trial = 0; trial < 400; ++trial) {
    Scene s = RandomScene(rng);
    const Rigid3d world_from_cam = s.cam_from_world.Inverse();
    const Eigen::Vector3d y[3] = {s.bearings[0].normalized(), s.bearings[1].normalized(), s.bearings[2].normalized()};
    const double l0 = (s.cam_from_world * s.points[0]).norm(), l1 = (s.cam_from_world * s.points[1]).norm();
    const double a12 = (l0 * y[0] - l1 * y[1]).squaredNorm();
    const double cos12 = y[0].dot(y[1]), cos23 = y[1].dot(y[2]);
    const double sin2_12 = 1 - cos12 * cos12, sin2_23 = 1 - cos23 * cos23;
    const double a23 = a12 * sin2_23 / sin2_12;  // det D1 = 0
    const double disc = a23 - l1 * l1 * sin2_23;
    if (!(disc > 0)) continue;
    const double l2 = l1 * cos23 + std::sqrt(disc);
    if (!(l2 > 1.0 && l2 < 100.0)) continue;
    s.points[2] = world_from_cam * (l2 * y[2]);
    ++tried;
    std::vector<Rigid3d> poses;
    SolveP3P(s.bearings, s.points, &poses);
    for (const Rigid3d& pose : poses) {
      if (AngleDeg(pose.rotation, s.cam_from_world.rotation) < 1e-5 &&
          (pose.translation - s.cam_from_world.translation).norm() < 1e-6 * (1 + s.cam_from_world.translation.norm())) {
        ++found;
        break;
      }
    }
  }
  ASSERT_GT(tried, 100);
  // Exactly on the hypersurface every solution is still exact; allow the
  // 0.25% the general test allows for triples near other degeneracies.
  EXPECT_GE(found, tried - tried / 400) << found << " of " << tried;
}

TEST(P3PTest, DegenerateInputGivesNoPose) {
  const Eigen::Vector3d rays[3] = {{0, 0, 1}, {0.1, 0, 1}, {0, 0.1, 1}};
  const Eigen::Vector3d same[3] = {{1, 2, 3}, {1, 2, 3}, {4, 5, 6}};
  std::vector<Rigid3d> poses;
  EXPECT_EQ(SolveP3P(rays, same, &poses), 0);
  EXPECT_TRUE(poses.empty());
}

}  // namespace
}  // namespace armap::loc
