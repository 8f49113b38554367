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
  // Resamples one view from a panorama (bilinear, wrapping at the seam).
  cv::Mat Cut(const cv::Mat& panorama, size_t view_index) const;

 private:
  std::vector<VirtualView> views_;
  std::vector<cv::Mat> map_x_, map_y_;  // CV_32F remap tables per view
};

}  // namespace armap::mapping
