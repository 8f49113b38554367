// A ray caster for the synthetic city: any camera model, sun light with hard
// shadows, sky light, edge-adaptive antialiasing, and camera effects
// (exposure, white balance, vignetting, motion blur, sensor noise).
#pragma once

#include <cstdint>

#include <Eigen/Core>
#include <opencv2/core.hpp>

#include "core/camera.h"
#include "core/rigid3.h"
#include "datasets/synthetic/appearance.h"
#include "datasets/synthetic/scene.h"

namespace armap::synth {

struct RenderOptions {
  double exposure = 1.0;                              // linear gain before tone mapping
  Eigen::Vector3d white_balance{1.0, 1.0, 1.0};       // per-channel gains (RGB)
  bool antialias = true;                              // 4 extra samples on geometric edges
  double vignetting = 0.25;                           // corner darkening, 0 = none
  double motion_blur_px = 0.0;                        // linear blur length
  double motion_blur_angle_rad = 0.0;
  double noise_sigma = 0.0;                           // sensor noise, 8-bit units / 255
  double lens_blur_sigma_px = 0.0;                    // optics softness
  uint64_t noise_seed = 0;
};

class Renderer {
 public:
  Renderer(const Scene& scene, const Appearance& appearance) : scene_(scene), appearance_(appearance) {}

  // Renders an 8-bit BGR image of `camera` at cam_from_world.
  cv::Mat Render(const Camera& camera, const Rigid3d& cam_from_world, const RenderOptions& options,
                 const ExtraGeometry* extra = nullptr) const;

  // Linear radiance along one ray (exposed for tests and the lidar).
  Eigen::Vector3d Radiance(const Eigen::Vector3d& origin, const Eigen::Vector3d& direction, double pixel_angle_rad,
                           const ExtraGeometry* extra, SceneHit* hit) const;

 private:
  const Scene& scene_;
  const Appearance& appearance_;
};

}  // namespace armap::synth
