// What surfaces look like: albedo from real photograph patches mixed with
// procedural structure (window grids, paving, markings), shop-sign textures
// drawn with a real CJK font, and the sky.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <opencv2/core.hpp>

#include "absl/status/statusor.h"
#include "datasets/synthetic/scene.h"

namespace armap::synth {

// Smooth value noise and fractal sums, deterministic in (seed, x, y).
double ValueNoise(uint64_t seed, double x, double y);
double Fbm(uint64_t seed, double x, double y, int octaves);

// Texture detail taken from real photographs: each patch is a tileable
// (mirrored) multiplicative detail map around 1.0 with mip levels.
class PhotoPatchLibrary {
 public:
  // Loads up to `max_images` photos found under `photo_root` (chosen by seed)
  // and cuts `num_patches` patches. With no photos found, falls back to
  // procedural detail and says so in from_photos().
  static PhotoPatchLibrary Create(const std::filesystem::path& photo_root, uint64_t seed, int num_patches,
                                  int max_images);
  // A library of the given square CV_32FC3 detail maps (for tests).
  static PhotoPatchLibrary FromPatches(const std::vector<cv::Mat>& patches);
  // Detail multiplier (linear RGB, mean ~1) at texture coords in patch units
  // (1.0 = one patch); footprint is the pixel footprint in patch units.
  Eigen::Vector3d Sample(int patch, double u, double v, double footprint) const;
  // Like Sample, but every unit cell of (u, v) reads the patch at its own
  // random offset and the cells are blended smoothly ("texture bombing"), so
  // large surfaces show no repeating pattern. Contrast is preserved.
  Eigen::Vector3d SampleAperiodic(uint64_t seed, int patch, double u, double v, double footprint) const;
  int size() const { return static_cast<int>(levels_.size()); }
  bool from_photos() const { return from_photos_; }
  const std::vector<std::string>& sources() const { return sources_; }

 private:
  std::vector<std::vector<cv::Mat>> levels_;  // [patch][mip] CV_32FC3
  std::vector<std::string> sources_;
  bool from_photos_ = false;
};

struct SurfaceSample {
  Eigen::Vector3d albedo{0.5, 0.5, 0.5};  // linear
  bool glass = false;                     // lidar passes through; renders as reflective
  double reflectivity = 0.0;              // 0..1, share of the reflected sky
  double intensity = 0.3;                 // lidar reflectance 0..1
};

class Appearance {
 public:
  static absl::StatusOr<std::unique_ptr<Appearance>> Create(const Scene& scene, const std::filesystem::path& photo_root);

  // Surface properties at a hit. `footprint_m` is the ray footprint at the hit
  // (for texture filtering), `extra` the per-render geometry if any.
  SurfaceSample Evaluate(const SceneHit& hit, double footprint_m, const ExtraGeometry* extra) const;
  // Sky radiance in a direction (linear), including the sun's glow.
  Eigen::Vector3d Sky(const Eigen::Vector3d& direction) const;
  const PhotoPatchLibrary& patches() const { return patches_; }
  const cv::Mat& SignTexture(int sign_id) const { return sign_textures_[sign_id]; }

 private:
  Appearance(const Scene& scene) : scene_(scene) {}
  SurfaceSample Facade(const Building& b, const Surface& s, const Eigen::Vector3d& p, double footprint_m) const;
  SurfaceSample Ground(const Eigen::Vector3d& p, double footprint_m) const;

  const Scene& scene_;
  PhotoPatchLibrary patches_;
  std::vector<cv::Mat> sign_textures_;  // CV_32FC3 linear, per sign
};

// Renders a shop sign (Chinese name above, English below) to an 8-bit BGR image.
absl::StatusOr<cv::Mat> DrawSign(const Sign& sign, int pixels_per_m);

}  // namespace armap::synth
