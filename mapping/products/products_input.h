// What the map-product stages (white models, pedestrian network, POIs) read
// besides the lidar map: the panoramas with their aligned poses, and the
// mapping route. Filled by the map builder from its workspace.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "core/camera.h"
#include "core/rigid3.h"

namespace armap::mapping {

struct PanoramaInput {
  std::string name;                 // e.g. "pano_0007"
  std::filesystem::path image;      // privacy-blurred equirectangular JPEG
  Camera camera;                    // Camera::Equirectangular(width, height)
  Rigid3d world_from_rig;           // aligned pose, map frame (ENU metres)
  double timestamp_s = 0.0;
};

struct ProductInputs {
  std::vector<PanoramaInput> panos;  // in capture (time) order
  // Rig positions along the route, map frame, in time order (the aligned
  // panorama positions: the vehicle drove on the carriageway).
  std::vector<Eigen::Vector3d> route_positions;
  int num_threads = 2;
};

}  // namespace armap::mapping
