// Route planning on a WalkGraph: A* with an admissible straight-line
// heuristic over the CSR adjacency, start and goal on edge interiors
// (virtual nodes), costs = length + crossing penalty, an avoid list, and
// alternatives by the penalty method. A plain Dijkstra shares the code for
// comparisons. The planner is const and thread-safe: search state lives in
// per-thread scratch.
#pragma once

#include <cstdint>
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

enum class SearchAlgorithm { kAStar, kDijkstra };

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
  // Keeps a reference: `graph` must outlive the planner.
  explicit Planner(const WalkGraph& graph);

  const WalkGraph& graph() const { return graph_; }

  // The cheapest route; NotFound when the goal is unreachable.
  absl::StatusOr<Route> Plan(const EdgePoint& start, const EdgePoint& goal, const PlanOptions& options,
                             SearchAlgorithm algorithm = SearchAlgorithm::kAStar) const;
  // The best route first, then up to options.num_alternatives others.
  absl::StatusOr<std::vector<Route>> PlanWithAlternatives(const EdgePoint& start, const EdgePoint& goal,
                                                          const PlanOptions& options) const;

  // Cost of an edge under `options` (before avoid/alternative factors).
  double EdgeCost(edge_t e, const PlanOptions& options) const;

 private:
  absl::StatusOr<Route> Search(const EdgePoint& start, const EdgePoint& goal, const PlanOptions& options,
                               SearchAlgorithm algorithm, const std::vector<float>* cost_factor) const;
  const WalkGraph& graph_;
  // Admissible heuristic scale: min over edges of cost per planar metre.
  double cost_per_metre_min_ = 1.0;
};

// Builds the route record (polyline, arc lengths, crossings) from steps.
void FinishRoute(const WalkGraph& graph, Route* route);

// Cost/length of a route part along the network between two edge points on
// the same edge.
double SameEdgeDistance(const EdgePoint& a, const EdgePoint& b);

}  // namespace armap::nav
