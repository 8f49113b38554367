// A contraction hierarchy over a WalkGraph for one fixed edge-cost metric:
// nodes are contracted in edge-difference order, shortcuts added where no
// witness path exists, and a query is a bidirectional upward Dijkstra.
// Exact for the metric it was built with; the Planner uses it only for
// queries with that metric (no avoid list, no alternative factors).
// Immutable after Build(); Query() is const and thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include "navigation/walk_graph.h"

namespace armap::nav::internal {

class ContractionHierarchy {
 public:
  // edge_cost[e] > 0 for every edge of `graph`.
  static ContractionHierarchy Build(const WalkGraph& graph, const std::vector<double>& edge_cost);

  struct Seed {
    node_t node = kInvalidNode;
    double cost = 0;
  };
  struct Path {
    double cost = 0;
    node_t source = kInvalidNode;  // the seed node the path leaves from
    node_t target = kInvalidNode;  // the seed node it reaches
    // Original edges in travel order, each with the node it is entered from.
    std::vector<std::pair<edge_t, node_t>> edges;
    int64_t settled = 0;
  };
  // Cheapest path from any source seed to any target seed (seed costs
  // included); false when none costs less than `bound`.
  bool Query(const std::array<Seed, 2>& sources, const std::array<Seed, 2>& targets, double bound, Path* path) const;

  size_t num_shortcuts() const { return links_.size() - num_original_links_; }

 private:
  struct Link {
    node_t a, b;
    double cost;
    edge_t original;      // kInvalidEdge for a shortcut
    uint32_t child_a, child_b;  // shortcut = (a..mid) + (mid..b)
    node_t mid;
  };
  std::vector<Link> links_;
  size_t num_original_links_ = 0;
  // Upward CSR: links from a node to higher-ranked neighbours.
  std::vector<uint32_t> up_offsets_;
  std::vector<std::pair<node_t, uint32_t>> up_;  // (neighbour, link)
};

}  // namespace armap::nav::internal
