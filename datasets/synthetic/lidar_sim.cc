#include "datasets/synthetic/lidar_sim.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/logging.h"
#include "core/random.h"
#include "core/status.h"

namespace armap::synth {

absl::Status LidarOptions::Validate() const {
  if (beams < 1 || beams > 256) return absl::InvalidArgumentError(absl::StrCat("LidarOptions::beams = ", beams, "; must be 1..256"));
  if (!(rotation_hz > 0 && rotation_hz <= 50)) return absl::InvalidArgumentError(absl::StrCat("LidarOptions::rotation_hz = ", rotation_hz, "; must be in (0, 50]"));
  if (!(azimuth_resolution_deg >= 0.05 && azimuth_resolution_deg <= 10)) {
    return absl::InvalidArgumentError(absl::StrCat("LidarOptions::azimuth_resolution_deg = ", azimuth_resolution_deg, "; must be in [0.05, 10]"));
  }
  if (!(min_elevation_deg < max_elevation_deg)) return absl::InvalidArgumentError("LidarOptions: min_elevation_deg must be < max_elevation_deg");
  if (!(range_noise_m >= 0 && max_range_m > min_range_m)) return absl::InvalidArgumentError("LidarOptions: bad range settings");
  if (!(chunk_seconds > 0)) return absl::InvalidArgumentError("LidarOptions::chunk_seconds must be > 0");
  return absl::OkStatus();
}

absl::Status SimulateLidar(const Scene& scene, const Appearance& appearance, const LidarOptions& options,
                           const RigTrajectory& world_from_rig, double duration_s, uint64_t seed,
                           const std::function<absl::Status(int chunk, PointCloud&& cloud)>& emit) {
  ARMAP_RETURN_IF_ERROR(options.Validate());
  const int columns = static_cast<int>(std::lround(360.0 / options.azimuth_resolution_deg));
  const double rotation_s = 1.0 / options.rotation_hz;
  const int rotations_per_chunk = std::max(1, static_cast<int>(std::lround(options.chunk_seconds * options.rotation_hz)));
  const int total_rotations = static_cast<int>(std::floor(duration_s * options.rotation_hz));
  std::vector<double> elevations(options.beams);
  for (int b = 0; b < options.beams; ++b) {
    elevations[b] = (options.min_elevation_deg +
                     (options.max_elevation_deg - options.min_elevation_deg) * b / std::max(1, options.beams - 1)) * M_PI / 180.0;
  }
  Progress progress("lidar", total_rotations);
  for (int chunk = 0; chunk * rotations_per_chunk < total_rotations; ++chunk) {
    const int first = chunk * rotations_per_chunk;
    const int last = std::min(total_rotations, first + rotations_per_chunk);
    std::vector<PointCloud> per_rotation(last - first);
#pragma omp parallel for schedule(dynamic, 1)
    for (int rot = first; rot < last; ++rot) {
      PointCloud& out = per_rotation[rot - first];
      out.Reserve(static_cast<size_t>(columns) * options.beams / 2);
      Rng rng(seed, 900, static_cast<uint64_t>(rot));
      for (int col = 0; col < columns; ++col) {
        const double t = (rot + static_cast<double>(col) / columns) * rotation_s;
        // The vehicle moves during a sweep: each firing uses its own pose.
        const Rigid3d pose = world_from_rig(t);
        const Eigen::Matrix3d r = pose.rotation.toRotationMatrix();
        // Rig frame: z forward, x right, y down. Sensor sits above the rig origin.
        const Eigen::Vector3d forward = r.col(2), right = r.col(0), up = -r.col(1);
        const Eigen::Vector3d sensor =
            pose.translation + forward * options.mount_forward_m + up * options.mount_up_m;
        const double azimuth = 2.0 * M_PI * col / columns;
        for (int b = 0; b < options.beams; ++b) {
          const double ce = std::cos(elevations[b]), se = std::sin(elevations[b]);
          const Eigen::Vector3d dir = (ce * (std::cos(azimuth) * forward + std::sin(azimuth) * right) + se * up).normalized();
          SceneHit hit;
          if (!scene.Trace(sensor, dir, options.max_range_m, &hit, nullptr)) continue;
          if (hit.t < options.min_range_m) continue;
          const SurfaceSample s = appearance.Evaluate(hit, 0.01 * hit.t, nullptr);
          if (s.glass) continue;  // glass transmits or mirrors the beam: no return
          const double range = hit.t + options.range_noise_m * rng.Normal();
          const Eigen::Vector3d p = sensor + dir * range;
          out.points.push_back(p.cast<float>());
          const double incidence = std::abs(dir.dot(hit.normal));
          out.intensity.push_back(static_cast<float>(
              std::clamp(255.0 * s.intensity * (0.3 + 0.7 * incidence) + 3.0 * rng.Normal(), 0.0, 255.0)));
          out.timestamp_s.push_back(t);
        }
      }
      progress.Add();
    }
    PointCloud merged;
    size_t total = 0;
    for (const PointCloud& c : per_rotation) total += c.size();
    merged.points.reserve(total);
    merged.intensity.reserve(total);
    merged.timestamp_s.reserve(total);
    for (PointCloud& c : per_rotation) {
      merged.points.insert(merged.points.end(), c.points.begin(), c.points.end());
      merged.intensity.insert(merged.intensity.end(), c.intensity.begin(), c.intensity.end());
      merged.timestamp_s.insert(merged.timestamp_s.end(), c.timestamp_s.begin(), c.timestamp_s.end());
      c = PointCloud();
    }
    ARMAP_RETURN_IF_ERROR(emit(chunk, std::move(merged)));
  }
  return absl::OkStatus();
}

}  // namespace armap::synth
