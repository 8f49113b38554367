// Virtual perspective views cut from equirectangular panoramas: a fixed rig
// of directions (8 around the horizon plus one up) whose remap tables are
// computed once and reused for every panorama.
#pragma once

#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "absl/status/status.h"
#include "core/camera.h"
#include "core/rigid3.h"

namespace armap::mapping {

struct ViewRigOptions {
  int num_horizontal = 8;       // evenly spaced yaw around the horizon
  bool include_up = true;       // one view straight up (tall facades in street canyons)
  int size_px = 640;            // square views
  double fov_deg = 90.0;        // horizontal = vertical field of view
  absl::Status Validate() const;
};

struct VirtualView {
  std::string suffix;           // e.g. "yaw045", "up"
  Camera camera;                // PINHOLE
  Rigid3d cam_from_rig;         // rig = panorama camera frame
};

class ViewRig {
 public:
  ViewRig(const ViewRigOptions& options, int pano_width_px, int pano_height_px);
  const std::vector<VirtualView>& views() const { return views_; }
  // Resamples one view from a full-resolution panorama (bilinear, wrapping
  // at the seam).
  cv::Mat Cut(const cv::Mat& panorama, size_t view_index) const;
  // Every view of one panorama, prefiltering it once.
  std::vector<cv::Mat> CutAll(const cv::Mat& panorama) const;
  // Halvings applied to a panorama before resampling: a panorama finer than
  // twice the views' sampling would alias under bilinear resampling (an 8K
  // rig's panorama cut into 640 px views), so it is first reduced to the
  // views' resolution.
  int pyramid_levels() const { return pyramid_levels_; }

 private:
  cv::Mat Prefilter(const cv::Mat& panorama) const;
  cv::Mat CutPrefiltered(const cv::Mat& prefiltered, size_t view_index) const;

  std::vector<VirtualView> views_;
  int pano_width_px_ = 0, pano_height_px_ = 0;
  int pyramid_levels_ = 0;
  std::vector<cv::Mat> map_x_, map_y_;  // CV_32F remap tables per view, prefiltered pixels
};

}  // namespace armap::mapping
