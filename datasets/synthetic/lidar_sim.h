// A rotating multi-beam lidar on the mapping vehicle, driven along the route.
// Returns land in the map frame (the registered clouds scanner software
// exports), with range noise, surface-dependent intensity, per-point
// timestamps, and no returns from sky or glass.
#pragma once

#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "core/point_cloud.h"
#include "core/rigid3.h"
#include "datasets/synthetic/appearance.h"
#include "datasets/synthetic/scene.h"

namespace armap::synth {

struct LidarOptions {
  int beams = 32;
  double rotation_hz = 10.0;
  double azimuth_resolution_deg = 0.3;  // ~20 M points for the default city
  double min_elevation_deg = -25.0;
  double max_elevation_deg = 15.0;
  double range_noise_m = 0.02;   // 1 sigma
  double min_range_m = 1.0;
  double max_range_m = 100.0;
  // Sensor position in the rig frame (the rig origin is the panorama camera).
  double mount_forward_m = 0.6;
  double mount_up_m = -0.3;
  double chunk_seconds = 10.0;   // one registered cloud file per chunk
  absl::Status Validate() const;
};

// Pose of the vehicle (rig) at time t along the route: world_from_rig.
using RigTrajectory = std::function<Rigid3d(double t_s)>;

// Simulates the scan from t = 0 to duration_s; calls `emit` once per chunk,
// in time order. Rotations are traced in parallel; output is deterministic.
absl::Status SimulateLidar(const Scene& scene, const Appearance& appearance, const LidarOptions& options,
                           const RigTrajectory& world_from_rig, double duration_s, uint64_t seed,
                           const std::function<absl::Status(int chunk, PointCloud&& cloud)>& emit);

}  // namespace armap::synth
