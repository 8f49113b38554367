// `armap synth city`: generates a capture folder (ARCHITECTURE.md) for the
// synthetic city, with its ground truth in gt/.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "core/json.h"
#include "datasets/synthetic/city_model.h"
#include "datasets/synthetic/lidar_sim.h"

namespace armap::synth {

struct CaptureOptions {
  CityOptions city;
  std::filesystem::path out_dir;
  bool overwrite = false;
  int num_panos = 40;
  int num_queries = 100;
  int pano_width_px = 2048;            // height is width / 2
  int query_width_px = 1280;
  int query_height_px = 960;
  double rig_height_m = 2.5;           // panorama camera above the road
  double vehicle_speed_mps = 5.0;
  double unlocalizable_fraction = 0.05;
  // Measured-trajectory error model: white noise plus slow drift.
  double pose_noise_m = 0.05;
  double pose_noise_deg = 0.5;
  double drift_m = 0.15;
  double drift_deg = 0.15;
  LidarOptions lidar;
  bool preview = false;
  // Where real photographs for facade detail are looked for.
  std::filesystem::path photo_root;
  int jpeg_quality = 92;
  absl::Status Validate() const;
};

// Timings and counts of one generation. Kept out of the capture folder (which
// is byte-identical for a seed); the CLI writes it with --report.
struct CaptureSummary {
  uint64_t seed = 0;
  double size_m = 0;
  std::map<std::string, double> stage_seconds;
  int num_triangles = 0;
  std::vector<std::string> photo_sources;
  int pano_width_px = 0, pano_height_px = 0, query_width_px = 0, query_height_px = 0;
  int num_buildings = 0, num_signs = 0, num_panos = 0, num_queries = 0;
  long num_lidar_points = 0;
  double route_length_m = 0;
  double seconds_per_pano = 0, seconds_per_query = 0, total_seconds = 0;
};

absl::StatusOr<CaptureSummary> GenerateCapture(const CaptureOptions& options);
OrderedJson CaptureSummaryJson(const CaptureSummary& summary);

// Default location of the shared real-photo datasets (../shared/datasets
// beside the project), or $ARMAP_DATASETS when set.
std::filesystem::path DefaultPhotoRoot();

}  // namespace armap::synth
