// Route planning on a WalkGraph: A* over the CSR adjacency with an
// admissible heuristic, the larger of the straight-line bound and a landmark
// (ALT) bound: d(v, t) >= |d(L, t) - d(L, v)| for length-only distances from
// a few landmarks L, precomputed once. Every cost option only adds to the
// length (penalties >= 0, factors >= 1, avoided edges infinite), so both
// bounds stay admissible and consistent under any PlanOptions; start and goal on edge interiors
// (virtual nodes), costs = length + crossing penalty, an avoid list, and
// alternatives by the penalty method. A plain Dijkstra shares the code for
// comparisons. The planner is const and thread-safe: search state lives in
// per-thread scratch.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include <Eigen/Core>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "navigation/walk_graph.h"

namespace armap::nav {

struct PlanOptions {
  // Metres-equivalent added for a whole crossing (prorated for part of one).
  double crossing_penalty_m = 10.0;
  // Edge ids (the file's) never used, except the start/goal edges themselves.
  std::vector<int64_t> avoid_edge_ids;
  // Extra routes besides the best (0: none).
  int num_alternatives = 0;
  // Penalty method: cost factor on edges of routes found so far.
  double alternative_penalty_factor = 1.4;
  // Alternatives costing more than this times the best are dropped.
  double max_alternative_stretch = 1.5;
  // Alternatives sharing more than this fraction of their length with an
  // earlier route are dropped.
  double max_alternative_overlap = 0.8;
  absl::Status Validate() const;
};

namespace internal {
class ContractionHierarchy;
}

enum class SearchAlgorithm {
  kAuto,            // the hierarchy when the options match its metric, else kAStar
  kContractionHierarchy,  // FailedPrecondition when the options do not match it
  kAStar,           // landmarks + straight line
  kAStarEuclidean,  // straight line only
  kDijkstra,        // no heuristic
};

// One edge (or part of one) of a route, in travel order.
struct RouteStep {
  edge_t edge = kInvalidEdge;
  bool forward = true;     // travelling from the edge's `from` to its `to`
  double enter_offset_m = 0;  // offsets along the edge (edge's own direction)
  double exit_offset_m = 0;
  double length_m = 0;     // planar length travelled on this edge
};

struct Route {
  std::vector<RouteStep> steps;
  // Travel polyline in the map frame (network geometry, start to goal).
  std::vector<Eigen::Vector3d> polyline_in_map;
  // Planar arc length at each polyline point.
  std::vector<double> arc_m;
  double length_m = 0;  // planar, along the network
  double cost = 0;      // what the search minimised
  int num_crossings = 0;
  EdgePoint start, goal;
  // Search statistics.
  double plan_ms = 0;
  int64_t nodes_settled = 0;
};

class Planner {
 public:
  // Keeps a reference: `graph` must outlive the planner. Precomputes
  // `num_landmarks` length-only shortest-path trees (farthest-point
  // selection; 0 disables landmarks), num_landmarks * nodes doubles, and,
  // unless hierarchy_crossing_penalty_m is nullopt, a contraction hierarchy
  // for the metric length + that crossing penalty (queries with exactly that
  // penalty and no avoid list use it).
  explicit Planner(const WalkGraph& graph, int num_landmarks = 16,
                   std::optional<double> hierarchy_crossing_penalty_m = PlanOptions().crossing_penalty_m);

  const WalkGraph& graph() const { return graph_; }
  int num_landmarks() const { return num_landmarks_; }
  bool has_hierarchy() const { return hierarchy_ != nullptr; }

  // The cheapest route; NotFound when the goal is unreachable.
  absl::StatusOr<Route> Plan(const EdgePoint& start, const EdgePoint& goal, const PlanOptions& options,
                             SearchAlgorithm algorithm = SearchAlgorithm::kAuto) const;
  // The best route first, then up to options.num_alternatives others.
  absl::StatusOr<std::vector<Route>> PlanWithAlternatives(const EdgePoint& start, const EdgePoint& goal,
                                                          const PlanOptions& options) const;

  // Cost of an edge under `options` (before avoid/alternative factors).
  double EdgeCost(edge_t e, const PlanOptions& options) const;

 private:
  absl::StatusOr<Route> Search(const EdgePoint& start, const EdgePoint& goal, const PlanOptions& options,
                               SearchAlgorithm algorithm, const std::vector<float>* cost_factor) const;
  void BuildLandmarks(int num_landmarks);
  bool HierarchyApplies(const PlanOptions& options) const;
  absl::StatusOr<Route> SearchHierarchy(const EdgePoint& start, const EdgePoint& goal, const PlanOptions& options) const;

  const WalkGraph& graph_;
  // Admissible heuristic scale: min over edges of cost per planar metre.
  double cost_per_metre_min_ = 1.0;
  // Compact copies for the search loop (WalkEdge is large).
  std::vector<Eigen::Vector2d> node_xy_;
  std::vector<node_t> adj_node_;  // per CSR slot: the neighbour
  std::vector<double> edge_length_;
  std::vector<uint8_t> edge_is_crossing_;
  // Landmark distances, node-major: landmark_dist_[v * num_landmarks_ + k].
  int num_landmarks_ = 0;
  std::vector<double> landmark_dist_;
  std::vector<node_t> landmarks_;
  std::shared_ptr<const internal::ContractionHierarchy> hierarchy_;
  double hierarchy_crossing_penalty_m_ = 0;
};

// Builds the route record (polyline, arc lengths, crossings) from steps.
void FinishRoute(const WalkGraph& graph, Route* route);

// Cost/length of a route part along the network between two edge points on
// the same edge.
double SameEdgeDistance(const EdgePoint& a, const EdgePoint& b);

}  // namespace armap::nav
