#include "navigation/planner.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <queue>

#include "absl/strings/str_cat.h"
#include "core/status.h"

namespace armap::nav {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Per-thread search state, reused across queries: a stamp marks the entries
// that belong to the current search, so nothing is cleared between queries.
struct Scratch {
  std::vector<double> dist;
  std::vector<edge_t> parent_edge;
  std::vector<uint32_t> stamp;
  std::vector<uint32_t> settled;
  std::vector<std::pair<double, node_t>> heap;
  uint32_t current = 0;
  void Prepare(size_t n) {
    if (dist.size() < n) {
      dist.resize(n);
      parent_edge.resize(n);
      stamp.resize(n, 0);
      settled.resize(n, 0);
    }
    if (++current == 0) {  // wrapped: clear once every 4 billion searches
      std::fill(stamp.begin(), stamp.end(), 0);
      std::fill(settled.begin(), settled.end(), 0);
      current = 1;
    }
    heap.clear();
  }
  double Dist(node_t n) const { return stamp[n] == current ? dist[n] : kInf; }
};

Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

double Ms(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// Points of edge e's polyline from offset a to offset b (either direction).
void AppendSubPolyline(const WalkGraph& g, edge_t e, double a, double b, std::vector<Eigen::Vector3d>* out) {
  const auto& line = g.edges()[e].polyline_in_map;
  std::vector<double> arc(line.size(), 0.0);
  for (size_t i = 1; i < line.size(); ++i) arc[i] = arc[i - 1] + (Xy(line[i]) - Xy(line[i - 1])).norm();
  auto push = [&](const Eigen::Vector3d& p) {
    if (out->empty() || (Xy(out->back()) - Xy(p)).norm() > 1e-9) out->push_back(p);
  };
  push(g.PointAt(e, a));
  if (a <= b) {
    for (size_t i = 0; i < line.size(); ++i)
      if (arc[i] > a && arc[i] < b) push(line[i]);
  } else {
    for (size_t i = line.size(); i-- > 0;)
      if (arc[i] < a && arc[i] > b) push(line[i]);
  }
  push(g.PointAt(e, b));
}

}  // namespace

absl::Status PlanOptions::Validate() const {
  if (!(crossing_penalty_m >= 0) || !std::isfinite(crossing_penalty_m))
    return absl::InvalidArgumentError(absl::StrCat("PlanOptions::crossing_penalty_m = ", crossing_penalty_m, "; must be >= 0"));
  if (num_alternatives < 0 || num_alternatives > 10)
    return absl::InvalidArgumentError(absl::StrCat("PlanOptions::num_alternatives = ", num_alternatives, "; must be in [0, 10]"));
  if (!(alternative_penalty_factor > 1))
    return absl::InvalidArgumentError(
        absl::StrCat("PlanOptions::alternative_penalty_factor = ", alternative_penalty_factor, "; must be > 1"));
  if (!(max_alternative_stretch >= 1))
    return absl::InvalidArgumentError(
        absl::StrCat("PlanOptions::max_alternative_stretch = ", max_alternative_stretch, "; must be >= 1"));
  if (!(max_alternative_overlap > 0 && max_alternative_overlap <= 1))
    return absl::InvalidArgumentError(
        absl::StrCat("PlanOptions::max_alternative_overlap = ", max_alternative_overlap, "; must be in (0, 1]"));
  return absl::OkStatus();
}

double SameEdgeDistance(const EdgePoint& a, const EdgePoint& b) { return std::abs(a.offset_m - b.offset_m); }

Planner::Planner(const WalkGraph& graph) : graph_(graph) {
  // The crossing penalty only adds cost, so length per planar metre bounds
  // every edge's cost from below: h = that ratio * straight-line distance.
  double ratio = kInf;
  for (const WalkEdge& e : graph_.edges()) ratio = std::min(ratio, e.length_m / e.polyline_length_m);
  cost_per_metre_min_ = std::isfinite(ratio) ? ratio : 1.0;
}

double Planner::EdgeCost(edge_t e, const PlanOptions& options) const {
  const WalkEdge& edge = graph_.edges()[e];
  return edge.length_m + (edge.kind == EdgeKind::kCrossing ? options.crossing_penalty_m : 0.0);
}

absl::StatusOr<Route> Planner::Plan(const EdgePoint& start, const EdgePoint& goal, const PlanOptions& options,
                                    SearchAlgorithm algorithm) const {
  ARMAP_RETURN_IF_ERROR(options.Validate());
  return Search(start, goal, options, algorithm, nullptr);
}

absl::StatusOr<Route> Planner::Search(const EdgePoint& start, const EdgePoint& goal, const PlanOptions& options,
                                      SearchAlgorithm algorithm, const std::vector<float>* cost_factor) const {
  const auto t0 = std::chrono::steady_clock::now();
  const size_t n = graph_.num_nodes();
  if (start.edge >= graph_.num_edges() || goal.edge >= graph_.num_edges())
    return absl::InvalidArgumentError("start or goal is not on this graph (snap it first)");
  const auto& edges = graph_.edges();
  const auto& offsets = graph_.incident_offsets();
  const auto& incident = graph_.incident_edges();
  const auto& nodes = graph_.nodes();

  // Avoided edges get an infinite factor; the start/goal edges stay usable.
  std::vector<uint8_t> avoided;
  if (!options.avoid_edge_ids.empty()) {
    avoided.assign(graph_.num_edges(), 0);
    for (int64_t id : options.avoid_edge_ids)
      if (auto e = graph_.EdgeIndexById(id)) avoided[*e] = 1;
  }
  auto cost_of = [&](edge_t e) {
    if (!avoided.empty() && avoided[e] && e != start.edge && e != goal.edge) return kInf;
    const double c = EdgeCost(e, options);
    return cost_factor ? c * (*cost_factor)[e] : c;
  };

  Scratch& s = ThreadScratch();
  s.Prepare(n);
  const double h_scale = algorithm == SearchAlgorithm::kAStar ? cost_per_metre_min_ : 0.0;
  const Eigen::Vector2d goal_xy = Xy(goal.point_in_map);
  auto h = [&](node_t v) { return h_scale * (Xy(nodes[v].position_in_map) - goal_xy).norm(); };
  auto cmp = [](const std::pair<double, node_t>& a, const std::pair<double, node_t>& b) { return a.first > b.first; };
  auto relax = [&](node_t v, double d, edge_t via) {
    if (d < s.Dist(v)) {
      s.stamp[v] = s.current;
      s.dist[v] = d;
      s.parent_edge[v] = via;
      s.heap.emplace_back(d + h(v), v);
      std::push_heap(s.heap.begin(), s.heap.end(), cmp);
    }
  };

  const WalkEdge& es = edges[start.edge];
  const WalkEdge& eg = edges[goal.edge];
  const double cs = cost_of(start.edge), cg = cost_of(goal.edge);
  const double fs = start.offset_m / es.polyline_length_m;
  const double fg = goal.offset_m / eg.polyline_length_m;
  // kInvalidEdge as parent marks "reached directly from the start point".
  relax(es.from, fs * cs, kInvalidEdge);
  relax(es.to, (1 - fs) * cs, kInvalidEdge);

  double best = kInf;
  node_t best_via = kInvalidNode;  // goal reached from this endpoint (kInvalidNode: along the start edge)
  if (start.edge == goal.edge) best = std::abs(fg - fs) * cs;

  int64_t settled_count = 0;
  while (!s.heap.empty()) {
    std::pop_heap(s.heap.begin(), s.heap.end(), cmp);
    const auto [f, u] = s.heap.back();
    s.heap.pop_back();
    if (f >= best) break;
    if (s.settled[u] == s.current) continue;
    s.settled[u] = s.current;
    ++settled_count;
    const double du = s.dist[u];
    if (u == eg.from && du + fg * cg < best) {
      best = du + fg * cg;
      best_via = u;
    }
    if (u == eg.to && du + (1 - fg) * cg < best) {
      best = du + (1 - fg) * cg;
      best_via = u;
    }
    for (uint32_t i = offsets[u]; i < offsets[u + 1]; ++i) {
      const edge_t e = incident[i];
      const double c = cost_of(e);
      if (!std::isfinite(c)) continue;
      const node_t v = edges[e].from == u ? edges[e].to : edges[e].from;
      if (s.settled[v] == s.current) continue;
      relax(v, du + c, e);
    }
  }
  if (!std::isfinite(best))
    return absl::NotFoundError("the goal cannot be reached from the start on the pedestrian network");

  Route route;
  route.start = start;
  route.goal = goal;
  route.cost = best;
  route.nodes_settled = settled_count;
  if (best_via == kInvalidNode) {
    route.steps.push_back({start.edge, goal.offset_m >= start.offset_m, start.offset_m, goal.offset_m,
                           std::abs(goal.offset_m - start.offset_m)});
  } else {
    // Last step: from the goal edge's endpoint to the goal point.
    std::vector<RouteStep> reversed;
    const bool last_forward = best_via == eg.from;
    reversed.push_back({goal.edge, last_forward, last_forward ? 0.0 : eg.polyline_length_m, goal.offset_m,
                        last_forward ? goal.offset_m : eg.polyline_length_m - goal.offset_m});
    node_t v = best_via;
    while (s.parent_edge[v] != kInvalidEdge) {
      const edge_t e = s.parent_edge[v];
      const bool forward = edges[e].to == v;
      reversed.push_back({e, forward, forward ? 0.0 : edges[e].polyline_length_m,
                          forward ? edges[e].polyline_length_m : 0.0, edges[e].polyline_length_m});
      v = graph_.OtherEnd(e, v);
    }
    // First step: from the start point to the start edge's endpoint v.
    const bool first_forward = v == es.to;
    reversed.push_back({start.edge, first_forward, start.offset_m, first_forward ? es.polyline_length_m : 0.0,
                        first_forward ? es.polyline_length_m - start.offset_m : start.offset_m});
    for (auto it = reversed.rbegin(); it != reversed.rend(); ++it)
      if (it->length_m > 1e-9) route.steps.push_back(*it);
    if (route.steps.empty()) route.steps.push_back(reversed.front());
  }
  FinishRoute(graph_, &route);
  route.plan_ms = Ms(t0);
  return route;
}

void FinishRoute(const WalkGraph& graph, Route* route) {
  route->polyline_in_map.clear();
  route->num_crossings = 0;
  for (const RouteStep& step : route->steps) {
    AppendSubPolyline(graph, step.edge, step.enter_offset_m, step.exit_offset_m, &route->polyline_in_map);
    if (graph.edges()[step.edge].kind == EdgeKind::kCrossing && step.length_m > 1.0) ++route->num_crossings;
  }
  if (route->polyline_in_map.size() == 1) route->polyline_in_map.push_back(route->polyline_in_map.front());
  route->arc_m.assign(route->polyline_in_map.size(), 0.0);
  for (size_t i = 1; i < route->polyline_in_map.size(); ++i)
    route->arc_m[i] = route->arc_m[i - 1] + (Xy(route->polyline_in_map[i]) - Xy(route->polyline_in_map[i - 1])).norm();
  route->length_m = route->arc_m.back();
}

absl::StatusOr<std::vector<Route>> Planner::PlanWithAlternatives(const EdgePoint& start, const EdgePoint& goal,
                                                                 const PlanOptions& options) const {
  ARMAP_RETURN_IF_ERROR(options.Validate());
  std::vector<Route> routes;
  ARMAP_ASSIGN_OR_RETURN(Route best, Search(start, goal, options, SearchAlgorithm::kAStar, nullptr));
  routes.push_back(std::move(best));
  if (options.num_alternatives == 0) return routes;
  std::vector<float> factor(graph_.num_edges(), 1.0f);
  auto true_cost = [&](const Route& r) {
    double c = 0;
    for (const RouteStep& st : r.steps) c += EdgeCost(st.edge, options) * st.length_m / graph_.edges()[st.edge].polyline_length_m;
    return c;
  };
  auto shared_length = [&](const Route& a, const Route& b) {
    double shared = 0;
    for (const RouteStep& x : a.steps)
      for (const RouteStep& y : b.steps)
        if (x.edge == y.edge) {
          const double lo = std::max(std::min(x.enter_offset_m, x.exit_offset_m), std::min(y.enter_offset_m, y.exit_offset_m));
          const double hi = std::min(std::max(x.enter_offset_m, x.exit_offset_m), std::max(y.enter_offset_m, y.exit_offset_m));
          shared += std::max(0.0, hi - lo);
        }
    return shared;
  };
  for (int attempt = 0; attempt < options.num_alternatives * 3 && static_cast<int>(routes.size()) <= options.num_alternatives;
       ++attempt) {
    for (const RouteStep& st : routes.back().steps) factor[st.edge] *= static_cast<float>(options.alternative_penalty_factor);
    auto candidate = Search(start, goal, options, SearchAlgorithm::kAStar, &factor);
    if (!candidate.ok()) break;
    candidate->cost = true_cost(*candidate);
    if (candidate->cost > options.max_alternative_stretch * routes.front().cost) break;
    bool distinct = true;
    for (const Route& r : routes)
      if (shared_length(*candidate, r) > options.max_alternative_overlap * std::min(candidate->length_m, r.length_m)) distinct = false;
    if (distinct) {
      routes.push_back(std::move(*candidate));
    } else {
      // Penalise the near-duplicate too so the next search moves away.
      for (const RouteStep& st : candidate->steps) factor[st.edge] *= static_cast<float>(options.alternative_penalty_factor);
    }
  }
  return routes;
}

}  // namespace armap::nav
