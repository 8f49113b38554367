// The feature map's content: virtual views (poses, intrinsics) and 3D
// landmarks with descriptors and the views that observe them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/camera.h"
#include "core/rigid3.h"

namespace armap::map {

using view_t = uint32_t;
inline constexpr view_t kInvalidViewId = std::numeric_limits<view_t>::max();

struct MapView {
  view_t id = kInvalidViewId;
  std::string name;    // e.g. "pano_0003/yaw045"
  std::string source;  // the panorama (or photo) it was cut from
  Camera camera;       // perspective
  Rigid3d cam_from_world;
};

// Landmarks in structure-of-arrays form (compact, loads with a few reads).
// Observations are in CSR form: landmark i is seen in
// obs_view[obs_begin[i] .. obs_begin[i + 1]) at obs_pixel[...].
struct Landmarks {
  int descriptor_dim = 128;
  std::vector<Eigen::Vector3d> positions;  // map frame, metres
  std::vector<uint8_t> descriptors;        // size() x descriptor_dim (RootSIFT, uint8)
  std::vector<uint32_t> obs_begin{0};
  std::vector<view_t> obs_view;
  std::vector<Eigen::Vector2f> obs_pixel;

  size_t size() const { return positions.size(); }
  size_t num_observations() const { return obs_view.size(); }
  const uint8_t* descriptor(size_t i) const { return descriptors.data() + i * descriptor_dim; }
  // Appends one landmark with its observations.
  void Add(const Eigen::Vector3d& position, const uint8_t* descriptor, const std::vector<view_t>& views,
           const std::vector<Eigen::Vector2f>& pixels);
  // Structural consistency (sizes, CSR offsets, view ids < num_views).
  absl::Status Validate(size_t num_views) const;
};

absl::Status WriteViews(const std::filesystem::path& path, const std::vector<MapView>& views);
absl::StatusOr<std::vector<MapView>> ReadViews(const std::filesystem::path& path);

// Binary format: magic "ARMAPLM1", uint32 version, uint32 dim, uint64 counts,
// then the arrays, little endian. Errors name the file.
absl::Status WriteLandmarks(const std::filesystem::path& path, const Landmarks& landmarks);
absl::StatusOr<Landmarks> ReadLandmarks(const std::filesystem::path& path);

}  // namespace armap::map
