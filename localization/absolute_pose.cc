#include "localization/absolute_pose.h"

#include <algorithm>
#include <cmath>
#include <random>

#include <opencv2/calib3d.hpp>
#include <opencv2/core/eigen.hpp>

#include "absl/strings/str_cat.h"
#include "localization/p3p.h"

namespace armap::loc {
namespace {

constexpr double kDegToRad = M_PI / 180.0;

Rigid3d FromRvecTvec(const cv::Mat& rvec, const cv::Mat& tvec) {
  cv::Mat r;
  cv::Rodrigues(rvec, r);
  Eigen::Matrix3d rotation;
  cv::cv2eigen(r, rotation);
  return Rigid3d::FromMatrix(rotation, Eigen::Vector3d(tvec.at<double>(0), tvec.at<double>(1), tvec.at<double>(2)));
}

void ToRvecTvec(const Rigid3d& cam_from_world, cv::Mat* rvec, cv::Mat* tvec) {
  cv::Mat r;
  cv::eigen2cv(Eigen::Matrix3d(cam_from_world.rotation.toRotationMatrix()), r);
  cv::Rodrigues(r, *rvec);
  *tvec = (cv::Mat_<double>(3, 1) << cam_from_world.translation.x(), cam_from_world.translation.y(),
           cam_from_world.translation.z());
}

// Squared normalised reprojection error; +inf behind the camera.
inline double SquaredError(const Eigen::Matrix3d& r, const Eigen::Vector3d& t, const Eigen::Vector2d& observed,
                           const Eigen::Vector3d& point_in_world) {
  const Eigen::Vector3d p = r * point_in_world + t;
  if (p.z() <= 1e-6) return std::numeric_limits<double>::infinity();
  return (p.head<2>() / p.z() - observed).squaredNorm();
}

int Score(const PoseCorrespondences& c, const Rigid3d& cam_from_world, double max_error2, std::vector<char>* mask) {
  const Eigen::Matrix3d r = cam_from_world.rotation.toRotationMatrix();
  const Eigen::Vector3d& t = cam_from_world.translation;
  mask->assign(c.size(), 0);
  int count = 0;
  for (size_t i = 0; i < c.size(); ++i) {
    if (SquaredError(r, t, c.normalized[i], c.point_in_world[i]) <= max_error2) {
      (*mask)[i] = 1;
      ++count;
    }
  }
  return count;
}

bool GravityAgrees(const Rigid3d& cam_from_world, const AbsolutePoseOptions& o) {
  if (!o.has_gravity) return true;
  const Eigen::Vector3d down_in_cam = cam_from_world.rotation * Eigen::Vector3d(0, 0, -1);
  const double cos_angle = down_in_cam.dot(o.gravity_in_cam.normalized());
  return cos_angle >= std::cos(o.max_gravity_error_deg * kDegToRad);
}

// Iterative PnP (Levenberg-Marquardt in OpenCV) over the inliers, from the
// current pose: the "local optimisation" of LO-RANSAC.
bool RefitOnInliers(const PoseCorrespondences& c, const std::vector<char>& mask, Rigid3d* cam_from_world) {
  std::vector<cv::Point3d> object;
  std::vector<cv::Point2d> image;
  for (size_t i = 0; i < c.size(); ++i) {
    if (!mask[i]) continue;
    object.emplace_back(c.point_in_world[i].x(), c.point_in_world[i].y(), c.point_in_world[i].z());
    image.emplace_back(c.normalized[i].x(), c.normalized[i].y());
  }
  if (object.size() < 6) return false;
  cv::Mat rvec, tvec;
  ToRvecTvec(*cam_from_world, &rvec, &tvec);
  const cv::Mat k = cv::Mat::eye(3, 3, CV_64F);
  if (!cv::solvePnP(object, image, k, cv::noArray(), rvec, tvec, true, cv::SOLVEPNP_ITERATIVE)) return false;
  *cam_from_world = FromRvecTvec(rvec, tvec);
  return cam_from_world->translation.allFinite();
}

// Three world points that are (nearly) collinear or coincident give no
// usable P3P solution.
bool SampleIsDegenerate(const Eigen::Vector3d& a, const Eigen::Vector3d& b, const Eigen::Vector3d& c) {
  const Eigen::Vector3d ab = b - a, ac = c - a;
  const double area2 = ab.cross(ac).squaredNorm();
  const double scale = std::max(ab.squaredNorm(), ac.squaredNorm());
  return scale < 1e-6 || area2 < 1e-6 * scale * scale;
}

}  // namespace

absl::Status AbsolutePoseOptions::Validate() const {
  auto bad = [](const char* field, double value, const char* rule) {
    return absl::InvalidArgumentError(absl::StrCat("AbsolutePoseOptions::", field, " = ", value, "; must be ", rule));
  };
  if (!(focal_px > 0) || !std::isfinite(focal_px)) return bad("focal_px", focal_px, "> 0");
  if (!(max_error_px > 0)) return bad("max_error_px", max_error_px, "> 0");
  if (min_iterations < 1) return bad("min_iterations", min_iterations, ">= 1");
  if (max_iterations < min_iterations) return bad("max_iterations", max_iterations, ">= min_iterations");
  if (!(success_probability > 0 && success_probability < 1)) return bad("success_probability", success_probability, "in (0, 1)");
  if (min_inliers < 4) return bad("min_inliers", min_inliers, ">= 4");
  if (!(max_gravity_error_deg > 0)) return bad("max_gravity_error_deg", max_gravity_error_deg, "> 0");
  if (!(refine_loss_px > 0)) return bad("refine_loss_px", refine_loss_px, "> 0");
  if (!(gravity_sigma_deg > 0)) return bad("gravity_sigma_deg", gravity_sigma_deg, "> 0");
  if (has_gravity && !(gravity_in_cam.norm() > 1e-9 && gravity_in_cam.allFinite())) {
    return absl::InvalidArgumentError("AbsolutePoseOptions::gravity_in_cam must be a finite non-zero vector");
  }
  return absl::OkStatus();
}

AbsolutePoseResult EstimateAbsolutePose(const PoseCorrespondences& c, const AbsolutePoseOptions& o) {
  AbsolutePoseResult best;
  const int n = static_cast<int>(c.size());
  if (n < 4) return best;
  const double max_error = o.max_error_px / o.focal_px;
  const double max_error2 = max_error * max_error;
  std::mt19937_64 rng(o.seed);
  std::uniform_int_distribution<int> pick(0, n - 1);
  std::vector<Rigid3d> solutions;
  solutions.reserve(4);
  std::vector<char> mask;
  int best_count = 0;
  int needed = o.max_iterations;
  int it = 0;
  for (; it < o.max_iterations && (it < o.min_iterations || it < needed); ++it) {
    int s[3];
    s[0] = pick(rng);
    do s[1] = pick(rng); while (s[1] == s[0]);
    do s[2] = pick(rng); while (s[2] == s[0] || s[2] == s[1]);
    if (SampleIsDegenerate(c.point_in_world[s[0]], c.point_in_world[s[1]], c.point_in_world[s[2]])) continue;
    const Eigen::Vector3d points[3] = {c.point_in_world[s[0]], c.point_in_world[s[1]], c.point_in_world[s[2]]};
    const Eigen::Vector3d rays[3] = {c.normalized[s[0]].homogeneous(), c.normalized[s[1]].homogeneous(),
                                     c.normalized[s[2]].homogeneous()};
    solutions.clear();
    SolveP3P(rays, points, &solutions);
    for (Rigid3d& hypothesis : solutions) {
      if (!hypothesis.translation.allFinite() || !GravityAgrees(hypothesis, o)) continue;
      int count = Score(c, hypothesis, max_error2, &mask);
      if (count <= best_count) continue;
      // Local optimisation: refit on the inliers while that gains inliers.
      for (int lo = 0; lo < 3 && count >= o.min_inliers; ++lo) {
        Rigid3d refit = hypothesis;
        std::vector<char> refit_mask;
        if (!RefitOnInliers(c, mask, &refit) || !GravityAgrees(refit, o)) break;
        const int refit_count = Score(c, refit, max_error2, &refit_mask);
        if (refit_count <= count) break;
        hypothesis = refit;
        count = refit_count;
        mask.swap(refit_mask);
      }
      best_count = count;
      best.cam_from_world = hypothesis;
      best.inlier_mask = mask;
      // Adaptive stopping: iterations so that an all-inlier sample was drawn
      // with success_probability.
      const double w = static_cast<double>(count) / n;
      const double p_all = w * w * w;
      needed = p_all >= 1 ? o.min_iterations
                          : static_cast<int>(std::ceil(std::log(1 - o.success_probability) / std::log(1 - p_all)));
    }
  }
  best.iterations = it;
  best.num_inliers = best_count;
  best.found = best_count >= o.min_inliers;
  if (!best.found) return best;
  best.cam_from_world = RefineAbsolutePose(c, best.inlier_mask, best.cam_from_world, o, &best.rms_error_px);
  // Inliers of the refined pose, which is what the caller reports.
  best.num_inliers = Score(c, best.cam_from_world, max_error2, &best.inlier_mask);
  return best;
}

}  // namespace armap::loc
