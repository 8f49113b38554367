// The pedestrian network of a map package as a routable graph in the map
// frame (ENU metres about the package origin), with the POIs as destinations.
//
// Inputs (GeoJSON, WGS84 [lon, lat(, alt)]):
//   roads/network.geojson  Point {"kind":"walk_node","id"} and LineString
//                          {"kind":"sidewalk"|"crossing","id","from","to",
//                          "length_m","width_m"}; other kinds are ignored.
//   pois/pois.geojson      Point {"id","name","name_en","category",
//                          "confidence","position_enu":[x,y,z]}.
// The graph is immutable once built and all its methods are const, so one
// instance is shared by every planner and guidance session.
#pragma once

#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/geo.h"

namespace armap::nav {

using node_t = uint32_t;
using edge_t = uint32_t;
constexpr node_t kInvalidNode = std::numeric_limits<node_t>::max();
constexpr edge_t kInvalidEdge = std::numeric_limits<edge_t>::max();

enum class EdgeKind { kSidewalk, kCrossing };
const char* EdgeKindName(EdgeKind kind);

struct WalkNode {
  int64_t id = -1;  // the file's id
  Eigen::Vector3d position_in_map = Eigen::Vector3d::Zero();
};

struct WalkEdge {
  int64_t id = -1;  // the file's id (what an avoid list names)
  node_t from = kInvalidNode;  // indices into WalkGraph::nodes()
  node_t to = kInvalidNode;
  EdgeKind kind = EdgeKind::kSidewalk;
  double length_m = 0;  // the file's length: the routing cost base
  double width_m = 0;
  // Geometry from `from` to `to`; first/last points are the nodes'.
  std::vector<Eigen::Vector3d> polyline_in_map;
  // Planar arc length of the polyline: offsets along the edge use it.
  double polyline_length_m = 0;
};

struct Poi {
  int64_t id = -1;
  std::string name;     // UTF-8, may be Chinese
  std::string name_en;
  std::string category;
  double confidence = 1.0;
  Eigen::Vector3d position_in_map = Eigen::Vector3d::Zero();
};

// A point on the network: `offset_m` is the planar arc length from the edge's
// `from` node along its polyline.
struct EdgePoint {
  edge_t edge = kInvalidEdge;
  double offset_m = 0;
  Eigen::Vector3d point_in_map = Eigen::Vector3d::Zero();
  double distance_m = 0;  // from the query position (planar)
};

struct SnapOptions {
  // Starts/goals farther than this from every edge are refused.
  double max_snap_distance_m = 50.0;
  // Candidates within this much of the nearest edge compete on heading.
  double heading_window_m = 4.0;
  // Metres-equivalent added per unit |sin(heading - edge direction)|.
  double heading_weight_m = 6.0;
  absl::Status Validate() const;
};

class WalkGraph {
 public:
  // Builds and validates a graph; `where` names the source in errors.
  // Node and edge ids must be unique; edge endpoints must exist.
  static absl::StatusOr<WalkGraph> Create(std::vector<WalkNode> nodes, std::vector<WalkEdge> edges,
                                          std::vector<Poi> pois = {}, const std::string& where = "graph");

  const std::vector<WalkNode>& nodes() const { return nodes_; }
  const std::vector<WalkEdge>& edges() const { return edges_; }
  const std::vector<Poi>& pois() const { return pois_; }
  size_t num_nodes() const { return nodes_.size(); }
  size_t num_edges() const { return edges_.size(); }

  // CSR adjacency: the incident edges of node n are
  // incident_edges()[incident_offsets()[n] .. incident_offsets()[n+1]).
  const std::vector<uint32_t>& incident_offsets() const { return incident_offsets_; }
  const std::vector<edge_t>& incident_edges() const { return incident_edges_; }
  node_t OtherEnd(edge_t e, node_t n) const { return edges_[e].from == n ? edges_[e].to : edges_[e].from; }
  int Degree(node_t n) const { return static_cast<int>(incident_offsets_[n + 1] - incident_offsets_[n]); }

  // Index of the edge with file id `id`, if any.
  std::optional<edge_t> EdgeIndexById(int64_t id) const;

  // The point on the edge at `offset_m` (clamped) and the unit planar
  // direction of travel from `from` to `to` there.
  Eigen::Vector3d PointAt(edge_t e, double offset_m) const;
  Eigen::Vector2d DirectionAt(edge_t e, double offset_m) const;

  // Nearest point of the network to `position_in_map` (planar). With a
  // heading (degrees clockwise from north), edges whose direction matches it
  // win among those nearly as close. `what` names the point in the error:
  // FailedPrecondition "start is 5012 m from the pedestrian network".
  absl::StatusOr<EdgePoint> Snap(const Eigen::Vector3d& position_in_map, std::optional<double> heading_deg,
                                 const SnapOptions& options, const std::string& what = "point") const;
  // The nearest point without a distance limit (always succeeds on a
  // non-empty graph).
  EdgePoint Nearest(const Eigen::Vector2d& position_in_map) const;

  // POI by name or name_en (Latin compared case-insensitively). NotFound
  // lists the closest names.
  absl::StatusOr<const Poi*> FindPoi(const std::string& name) const;

  // Planar bounding box of the nodes.
  Eigen::Vector2d bbox_min() const { return bbox_min_; }
  Eigen::Vector2d bbox_max() const { return bbox_max_; }

 private:
  struct Segment {
    edge_t edge;
    uint32_t index;        // polyline segment index
    double start_offset_m; // arc length at the segment's first point
  };
  void BuildIndex();
  // Calls fn(segment) for the segments in grid cells touching the disc.
  template <typename Fn>
  void ForSegmentsNear(const Eigen::Vector2d& p, double radius_m, Fn&& fn) const;

  std::vector<WalkNode> nodes_;
  std::vector<WalkEdge> edges_;
  std::vector<Poi> pois_;
  std::vector<uint32_t> incident_offsets_;
  std::vector<edge_t> incident_edges_;
  std::vector<std::pair<int64_t, edge_t>> edge_by_id_;  // sorted
  Eigen::Vector2d bbox_min_ = Eigen::Vector2d::Zero();
  Eigen::Vector2d bbox_max_ = Eigen::Vector2d::Zero();
  // Uniform grid over segments for snapping.
  double cell_m_ = 25.0;
  Eigen::Vector2d grid_origin_ = Eigen::Vector2d::Zero();
  int grid_w_ = 0, grid_h_ = 0;
  std::vector<uint32_t> cell_offsets_;
  std::vector<Segment> cell_segments_;
};

// Reads a network GeoJSON (and optionally a POI GeoJSON) into the map frame
// of `map_from_wgs84`. A node without altitude is put at the origin's
// altitude (z = 0). Errors name the file and the feature index.
absl::StatusOr<WalkGraph> LoadWalkGraph(const std::filesystem::path& network_geojson,
                                        const std::filesystem::path& pois_geojson, const EnuFrame& map_from_wgs84);

// Planar helpers.
inline Eigen::Vector2d Xy(const Eigen::Vector3d& p) { return p.head<2>(); }
// Unit vector of a compass heading (degrees clockwise from north) in ENU.
Eigen::Vector2d HeadingVector(double heading_deg);
// Compass heading of a planar direction.
double HeadingDegOf(const Eigen::Vector2d& direction);

}  // namespace armap::nav
