// The pedestrian road network: walkable area from the lidar ground (minus
// carriageway and buildings), sidewalk centrelines and crossings as a graph
// with junctions, edge lengths and widths, simplified geometry; GeoJSON.
//
// How (roads.cc): the ground points go into a 2D raster (mean intensity,
// height, count). The carriageway is the dark surface the vehicle drove on
// (connected to the route); the intensity of the surface just beside it (the
// sidewalk) as a function of the distance from the route calibrates the
// range fall-off, so the sidewalk (brighter paving) is told from the lot
// behind it (duller) at any range; bays that parked cars hide from the
// lidar are filled beside the kerb. The walkable area is thinned to
// centrelines, turned into a graph (junctions: degree >= 3, and ends), spurs
// pruned, sidewalk vertices moved onto the ridge of the distance transform
// (width = 2 x that distance); corner nodes moved to the crossing point of
// their sidewalks' fitted centrelines (the medial axis rounds corners), and
// straight dead ends run on to the end of the walkable area. Zebra crossings are dense bright paint on the
// carriageway; each links the sidewalk graph across the road between the
// nearest centreline points beyond its ends (the corners).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/geo.h"
#include "core/json.h"
#include "core/point_cloud.h"
#include "mapping/lidar/lidar_map.h"
#include "mapping/products/products_input.h"
#include "mapping/products/whitemodel.h"

namespace armap::mapping {

struct RoadNetworkOptions {
  // Largest distance of a simplified centreline vertex from the raw one, metres.
  double simplify_tolerance_m = 0.3;
  // Raster cell edge, metres (sidewalks are 3-5 m wide: 12+ cells across).
  double cell_size_m = 0.25;
  // Carriageway: cells darker than this multiple of the asphalt seen right
  // under the route (the sidewalk paving is ~3.5x brighter than asphalt).
  double carriageway_intensity_ratio = 1.6;
  // Sidewalk vs lot: cells whose range-corrected intensity is at least this
  // fraction of the sidewalk level beside the kerb are sidewalk (lots,
  // lawns and courtyards are ~17% duller than the paving in the data).
  double sidewalk_intensity_ratio = 0.915;
  // Paint on the carriageway: range-corrected intensity above this multiple
  // of the sidewalk level. Asphalt is ~0.27, full paint ~2, so 0.7 takes
  // cells at least ~35% covered (0.5 m stripes straddle 0.25 m cells).
  double paint_intensity_ratio = 0.7;
  // A crossing is carriageway whose paint covers at least this fraction of
  // the known cells of a 2.25 m window (zebra stripes ~0.5; a lane line or
  // dash at most two columns of 9: 0.22).
  double crossing_paint_fraction = 0.3;
  double min_crossing_area_m2 = 6.0;
  // Spurs (edges to a dead end) shorter than max(min_spur_length_m,
  // spur_width_factor * the width at their junction) are pruned: the medial
  // axis sends a branch into every convex corner of the walkable area.
  double min_spur_length_m = 2.0;
  double spur_width_factor = 1.2;
  // Holes in the walkable area smaller than this are filled (tree pits,
  // poles, small occlusions), m^2.
  double max_hole_area_m2 = 6.0;
  // Unseen bays of the walkable area up to this wide (the shadow of a parked
  // car: ~5 m) are filled, metres.
  double max_occlusion_gap_m = 6.0;
  // Walkable pieces and network components smaller than these are dropped.
  double min_walkable_area_m2 = 15.0;
  double min_component_length_m = 6.0;
  // When not empty, intermediate rasters are written here as PNG (debugging).
  std::filesystem::path debug_dir;
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

// A polygon in the map frame: outer ring first (CCW), then its holes; rings
// are not closed.
using RoadPolygon = std::vector<std::vector<Eigen::Vector2d>>;

struct RoadNetwork {
  std::vector<WalkNetworkNode> nodes;
  std::vector<WalkNetworkEdge> edges;
  // The area the capture's ground lidar covers (the mapped area the eval
  // restricts the ground truth to). Written to coverage.geojson.
  std::vector<RoadPolygon> coverage;
  OrderedJson summary;  // counts and timings, goes into report.json "roads"
  double TotalLengthM() const;
};

// A lidar map without ground points (or without intensity, or a route that
// never passes over the ground) gives an empty network with a warning in
// summary["warnings"], not an error: the other products can still be built.
// InvalidArgument for bad options or an empty route.
absl::StatusOr<RoadNetwork> BuildRoadNetwork(const LidarMap& lidar, const ProductInputs& inputs,
                                             const WhiteModelLevel& buildings, const RoadNetworkOptions& options);

// The same from the ground points alone (map frame, with intensity), e.g.
// LidarMap::cloud() where ground_flags() is set.
absl::StatusOr<RoadNetwork> BuildRoadNetworkFromGround(const PointCloud& ground, const ProductInputs& inputs,
                                                       const WhiteModelLevel& buildings,
                                                       const RoadNetworkOptions& options);

// DIR/network.geojson (WGS84; nodes as Points with id/degree, edges as
// LineStrings with id/from/to/kind/length_m/width_m; coordinates carry the
// ellipsoidal height) and DIR/coverage.geojson (the mapped area, one
// MultiPolygon).
absl::Status WriteRoadNetwork(const RoadNetwork& network, const EnuFrame& frame, const std::filesystem::path& dir);
absl::StatusOr<RoadNetwork> ReadRoadNetwork(const std::filesystem::path& network_geojson, const EnuFrame& frame);
absl::StatusOr<std::vector<RoadPolygon>> ReadRoadCoverage(const std::filesystem::path& coverage_geojson,
                                                          const EnuFrame& frame);

// `armap eval roads`: MAP/roads/{network,coverage}.geojson against GT (the
// gt/ folder or gt/roads.geojson: its sidewalk and crossing LineStrings are
// the pedestrian network, walk_node Points its nodes). Contract keys:
// length_precision, length_recall (length fractions within 2 m, each way),
// junction_recall (GT walk nodes of degree >= 3, the degree counted over the
// GT sidewalk and crossing edges, with one of our nodes of degree >= 3
// within 3 m), mean_offset_m (mean distance of our matched length from the
// GT). At the top level over the GT restricted to the mapped area (GT
// length inside coverage.geojson), and the same under "whole_gt" over all
// of the GT.
absl::StatusOr<OrderedJson> EvaluateRoadNetwork(const std::filesystem::path& map_dir, const std::filesystem::path& gt);
// The markdown table `armap eval roads` prints.
std::string RoadEvaluationMarkdown(const OrderedJson& evaluation);

}  // namespace armap::mapping
