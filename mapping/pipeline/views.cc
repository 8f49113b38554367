#include "mapping/pipeline/views.h"

#include <cmath>

#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace armap::mapping {

absl::Status ViewRigOptions::Validate() const {
  if (num_horizontal < 1 || num_horizontal > 36) {
    return absl::InvalidArgumentError(absl::StrCat("ViewRigOptions::num_horizontal = ", num_horizontal, "; must be 1..36"));
  }
  if (size_px < 64 || size_px > 4096) {
    return absl::InvalidArgumentError(absl::StrCat("ViewRigOptions::size_px = ", size_px, "; must be 64..4096"));
  }
  if (!(fov_deg >= 30 && fov_deg <= 120)) {
    return absl::InvalidArgumentError(absl::StrCat("ViewRigOptions::fov_deg = ", fov_deg, "; must be 30..120"));
  }
  return absl::OkStatus();
}

ViewRig::ViewRig(const ViewRigOptions& options, int pano_width_px, int pano_height_px) {
  const double f = 0.5 * options.size_px / std::tan(0.5 * options.fov_deg * M_PI / 180.0);
  const double c = 0.5 * options.size_px - 0.5;
  const Camera camera = Camera::Pinhole(options.size_px, options.size_px, f, f, c, c);
  for (int k = 0; k < options.num_horizontal; ++k) {
    const double yaw = 2.0 * M_PI * k / options.num_horizontal;
    // Yaw to the right about the rig's y (down) axis.
    const Eigen::Matrix3d rig_r_cam = Eigen::AngleAxisd(yaw, Eigen::Vector3d::UnitY()).toRotationMatrix();
    views_.push_back({absl::StrFormat("yaw%03d", static_cast<int>(std::lround(yaw * 180 / M_PI))), camera,
                      Rigid3d(Eigen::Quaterniond(rig_r_cam), Eigen::Vector3d::Zero()).Inverse()});
  }
  if (options.include_up) {
    // Optical axis up (-y of the rig), image down towards the heading (+z).
    Eigen::Matrix3d rig_r_cam;
    rig_r_cam << Eigen::Vector3d::UnitX(), Eigen::Vector3d::UnitZ(), -Eigen::Vector3d::UnitY();
    views_.push_back({"up", camera, Rigid3d(Eigen::Quaterniond(rig_r_cam), Eigen::Vector3d::Zero()).Inverse()});
  }
  // Pixels per radian: f at the views' centre, width / 2 pi on the panorama.
  pano_width_px_ = pano_width_px;
  pano_height_px_ = pano_height_px;
  const double pano_over_view = pano_width_px / (2.0 * M_PI) / f;
  while (pano_over_view / (1 << pyramid_levels_) >= 2.0 && (pano_width_px >> (pyramid_levels_ + 1)) >= 64 &&
         pano_height_px % (2 << pyramid_levels_) == 0) {
    ++pyramid_levels_;
  }
  const int scale = 1 << pyramid_levels_;
  const Camera pano = Camera::Equirectangular(pano_width_px / scale, pano_height_px / scale);
  for (const VirtualView& view : views_) {
    cv::Mat mx(camera.height, camera.width, CV_32F), my(camera.height, camera.width, CV_32F);
    const Eigen::Quaterniond rig_r_cam = view.cam_from_rig.rotation.conjugate();
    for (int r = 0; r < camera.height; ++r) {
      for (int col = 0; col < camera.width; ++col) {
        Eigen::Vector2d p;
        pano.Project(rig_r_cam * camera.Unproject(Eigen::Vector2d(col, r)), &p);
        mx.at<float>(r, col) = static_cast<float>(p.x());
        my.at<float>(r, col) = static_cast<float>(p.y());
      }
    }
    map_x_.push_back(mx);
    map_y_.push_back(my);
  }
}

cv::Mat ViewRig::Prefilter(const cv::Mat& panorama) const {
  CV_Assert(panorama.cols == pano_width_px_ && panorama.rows == pano_height_px_);
  if (pyramid_levels_ == 0) return panorama;
  // Box averaging keeps pixel centres where the smaller equirectangular
  // camera puts them (pyrDown would shift them by a quarter pixel, a rotation
  // bias in every view).
  const int scale = 1 << pyramid_levels_;
  cv::Mat reduced;
  cv::resize(panorama, reduced, cv::Size(panorama.cols / scale, panorama.rows / scale), 0, 0, cv::INTER_AREA);
  return reduced;
}

cv::Mat ViewRig::CutPrefiltered(const cv::Mat& prefiltered, size_t view_index) const {
  cv::Mat out;
  cv::remap(prefiltered, out, map_x_[view_index], map_y_[view_index], cv::INTER_LINEAR, cv::BORDER_WRAP);
  return out;
}

cv::Mat ViewRig::Cut(const cv::Mat& panorama, size_t view_index) const {
  return CutPrefiltered(Prefilter(panorama), view_index);
}

std::vector<cv::Mat> ViewRig::CutAll(const cv::Mat& panorama) const {
  const cv::Mat prefiltered = Prefilter(panorama);
  std::vector<cv::Mat> out;
  for (size_t v = 0; v < views_.size(); ++v) out.push_back(CutPrefiltered(prefiltered, v));
  return out;
}

}  // namespace armap::mapping
