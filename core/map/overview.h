// The overview PNG of a map package: what a mapping crew looks at first.
// Lidar ground as a grey-scale base, building footprints, the pedestrian
// network, POIs and (optionally) a planned route, with a scale bar and a
// north arrow. Map frame: ENU metres, x east (right), y north (up).
#pragma once

#include <array>
#include <filesystem>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/json.h"

namespace armap::map {

struct OverviewOptions {
  double metres_per_pixel = 0.25;
  double margin_m = 10.0;
  int max_side_px = 4096;  // larger areas get a coarser scale
  absl::Status Validate() const;
};

struct OverviewLayers {
  // Base: points seen from above (ground lidar), with a 0..1 brightness each.
  std::vector<Eigen::Vector2f> ground_points;
  std::vector<float> ground_brightness;
  std::vector<std::vector<Eigen::Vector2d>> footprints;  // closed implicitly
  struct Line {
    std::vector<Eigen::Vector2d> points;
    std::array<uint8_t, 3> rgb{40, 160, 60};
    int width_px = 2;
  };
  std::vector<Line> lines;  // network edges, route, ...
  struct Marker {
    Eigen::Vector2d position;
    std::string label;      // ASCII drawn next to it (empty: none)
    std::array<uint8_t, 3> rgb{220, 30, 30};
  };
  std::vector<Marker> markers;
  std::string title;
};

// Where an overview image sits in the map frame: pixel (0, 0)'s corner is
// (min_x_m, max_y_m); x grows east (right), y north (up). Written beside the
// PNG as JSON (overview.json in a package) so later drawings (a planned
// route) land on the same pixels.
struct OverviewFrame {
  double min_x_m = 0.0, max_y_m = 0.0;
  double metres_per_pixel = 1.0;
  int width_px = 0, height_px = 0;
  OrderedJson ToJson() const;
  static absl::StatusOr<OverviewFrame> FromJson(const Json& json, const std::string& where);
};

// Writes `path` (PNG). InvalidArgument when the layers are empty (nothing
// to frame); the image covers every layer plus the margin. `frame` (may be
// null) receives the image's placement.
absl::Status WriteOverviewPng(const OverviewLayers& layers, const OverviewOptions& options,
                              const std::filesystem::path& path, OverviewFrame* frame = nullptr);

// Draws the lines and markers of `layers` (its other layers are ignored)
// over an overview written before, whose placement is `frame`, into `out`.
absl::Status DrawOnOverviewPng(const std::filesystem::path& overview_png, const OverviewFrame& frame,
                               const OverviewLayers& layers, const std::filesystem::path& out);

}  // namespace armap::map
