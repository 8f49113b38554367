// The pedestrian road network: walkable area from the lidar ground (minus
// carriageway and buildings), sidewalk centrelines and crossings as a graph
// with junctions, edge lengths and widths, simplified geometry; GeoJSON.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/geo.h"
#include "core/json.h"
#include "mapping/lidar/lidar_map.h"
#include "mapping/products/products_input.h"
#include "mapping/products/whitemodel.h"

namespace armap::mapping {

struct RoadNetworkOptions {
  // Largest distance of a simplified centreline vertex from the raw one, metres.
  double simplify_tolerance_m = 0.3;
  absl::Status Validate() const;
};

struct WalkNetworkNode {
  int id = 0;
  Eigen::Vector3d position = Eigen::Vector3d::Zero();  // map frame, on the ground
  int degree = 0;
};

struct WalkNetworkEdge {
  int id = 0;
  int from = 0, to = 0;                     // node ids
  std::string kind;                         // "sidewalk" | "crossing"
  std::vector<Eigen::Vector3d> polyline;    // from -> to, map frame, simplified
  double length_m = 0.0;
  double width_m = 0.0;
};

struct RoadNetwork {
  std::vector<WalkNetworkNode> nodes;
  std::vector<WalkNetworkEdge> edges;
  OrderedJson summary;  // counts and timings, goes into report.json "roads"
  double TotalLengthM() const;
};

absl::StatusOr<RoadNetwork> BuildRoadNetwork(const LidarMap& lidar, const ProductInputs& inputs,
                                             const WhiteModelLevel& buildings, const RoadNetworkOptions& options);

// DIR/network.geojson (WGS84; nodes as Points, edges as LineStrings with
// id/from/to/kind/length_m/width_m), plus whatever else the stage writes.
absl::Status WriteRoadNetwork(const RoadNetwork& network, const EnuFrame& frame, const std::filesystem::path& dir);
absl::StatusOr<RoadNetwork> ReadRoadNetwork(const std::filesystem::path& network_geojson, const EnuFrame& frame);

// `armap eval roads`. Contract keys: length_precision, length_recall,
// junction_recall, mean_offset_m.
absl::StatusOr<OrderedJson> EvaluateRoadNetwork(const std::filesystem::path& map_dir, const std::filesystem::path& gt);

}  // namespace armap::mapping
