#include "navigation/planner.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <cmath>
#include <limits>
#include <queue>

#include "absl/strings/str_cat.h"
#include "core/status.h"
#include "navigation/contraction_hierarchy.h"

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
  std::vector<double> h;  // heuristic cache
  std::vector<uint32_t> h_stamp;
  std::vector<std::pair<double, node_t>> heap;
  uint32_t current = 0;
  void Prepare(size_t n) {
    if (dist.size() < n) {
      dist.resize(n);
      parent_edge.resize(n);
      stamp.resize(n, 0);
      settled.resize(n, 0);
      h.resize(n);
      h_stamp.resize(n, 0);
    }
    if (++current == 0) {  // wrapped: clear once every 4 billion searches
      std::fill(stamp.begin(), stamp.end(), 0);
      std::fill(settled.begin(), settled.end(), 0);
      std::fill(h_stamp.begin(), h_stamp.end(), 0);
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
// Whole edges (the bulk of a long route) copy their points; no allocation.
void AppendSubPolyline(const WalkGraph& g, edge_t e, double a, double b, std::vector<Eigen::Vector3d>* out) {
  const WalkEdge& edge = g.edges()[e];
  const auto& line = edge.polyline_in_map;
  auto push = [&](const Eigen::Vector3d& p) {
    if (out->empty() || (Xy(out->back()) - Xy(p)).norm() > 1e-9) out->push_back(p);
  };
  const double len = edge.polyline_length_m;
  if (std::min(a, b) <= 0 && std::max(a, b) >= len) {
    if (a <= b)
      for (const Eigen::Vector3d& p : line) push(p);
    else
      for (size_t i = line.size(); i-- > 0;) push(line[i]);
    return;
  }
  push(g.PointAt(e, a));
  const size_t first = out->size();
  double arc = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    if (i > 0) arc += (Xy(line[i]) - Xy(line[i - 1])).norm();
    if (arc > std::min(a, b) && arc < std::max(a, b)) push(line[i]);
  }
  // Collected in the edge's direction: reverse for travel against it.
  if (a > b) std::reverse(out->begin() + first, out->end());
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

Planner::Planner(const WalkGraph& graph, int num_landmarks, std::optional<double> hierarchy_crossing_penalty_m)
    : graph_(graph) {
  // The crossing penalty only adds cost, so length per planar metre bounds
  // every edge's cost from below: h = that ratio * straight-line distance.
  double ratio = kInf;
  for (const WalkEdge& e : graph_.edges()) ratio = std::min(ratio, e.length_m / e.polyline_length_m);
  cost_per_metre_min_ = std::isfinite(ratio) ? ratio : 1.0;
  node_xy_.reserve(graph_.num_nodes());
  for (const WalkNode& n : graph_.nodes()) node_xy_.push_back(Xy(n.position_in_map));
  adj_node_.resize(graph_.incident_edges().size());
  for (node_t v = 0; v < graph_.num_nodes(); ++v)
    for (uint32_t i = graph_.incident_offsets()[v]; i < graph_.incident_offsets()[v + 1]; ++i)
      adj_node_[i] = graph_.OtherEnd(graph_.incident_edges()[i], v);
  for (const WalkEdge& e : graph_.edges()) {
    edge_length_.push_back(e.length_m);
    edge_is_crossing_.push_back(e.kind == EdgeKind::kCrossing ? 1 : 0);
  }
  BuildLandmarks(std::clamp(num_landmarks, 0, static_cast<int>(graph_.num_nodes())));
  if (hierarchy_crossing_penalty_m && *hierarchy_crossing_penalty_m >= 0) {
    hierarchy_crossing_penalty_m_ = *hierarchy_crossing_penalty_m;
    std::vector<double> cost(graph_.num_edges());
    for (edge_t e = 0; e < graph_.num_edges(); ++e)
      cost[e] = edge_length_[e] + (edge_is_crossing_[e] ? hierarchy_crossing_penalty_m_ : 0.0);
    hierarchy_ = std::make_shared<const internal::ContractionHierarchy>(internal::ContractionHierarchy::Build(graph_, cost));
  }
}

bool Planner::HierarchyApplies(const PlanOptions& options) const {
  return hierarchy_ && options.avoid_edge_ids.empty() && options.crossing_penalty_m == hierarchy_crossing_penalty_m_;
}

absl::StatusOr<Route> Planner::SearchHierarchy(const EdgePoint& start, const EdgePoint& goal, const PlanOptions& options) const {
  const auto t0 = std::chrono::steady_clock::now();
  const auto& edges = graph_.edges();
  const WalkEdge& es = edges[start.edge];
  const WalkEdge& eg = edges[goal.edge];
  const double cs = EdgeCost(start.edge, options), cg = EdgeCost(goal.edge, options);
  const double fs = start.offset_m / es.polyline_length_m, fg = goal.offset_m / eg.polyline_length_m;
  const double direct = start.edge == goal.edge ? std::abs(fg - fs) * cs : kInf;
  internal::ContractionHierarchy::Path path;
  const bool found = hierarchy_->Query({{{es.from, fs * cs}, {es.to, (1 - fs) * cs}}},
                                       {{{eg.from, fg * cg}, {eg.to, (1 - fg) * cg}}}, direct, &path);
  Route route;
  route.start = start;
  route.goal = goal;
  if (!found) {
    if (!std::isfinite(direct))
      return absl::NotFoundError("the goal cannot be reached from the start on the pedestrian network");
    route.cost = direct;
    route.steps.push_back({start.edge, goal.offset_m >= start.offset_m, start.offset_m, goal.offset_m,
                           std::abs(goal.offset_m - start.offset_m)});
  } else {
    route.cost = path.cost;
    route.nodes_settled = path.settled;
    std::vector<RouteStep> steps;
    const bool first_forward = path.source == es.to;
    steps.push_back({start.edge, first_forward, start.offset_m, first_forward ? es.polyline_length_m : 0.0,
                     first_forward ? es.polyline_length_m - start.offset_m : start.offset_m});
    for (const auto& [e, from] : path.edges) {
      const bool forward = edges[e].from == from;
      const double len = edges[e].polyline_length_m;
      steps.push_back({e, forward, forward ? 0.0 : len, forward ? len : 0.0, len});
    }
    const bool last_forward = path.target == eg.from;
    steps.push_back({goal.edge, last_forward, last_forward ? 0.0 : eg.polyline_length_m, goal.offset_m,
                     last_forward ? goal.offset_m : eg.polyline_length_m - goal.offset_m});
    for (const RouteStep& st : steps)
      if (st.length_m > 1e-9) route.steps.push_back(st);
    if (route.steps.empty()) route.steps.push_back(steps.front());
  }
  FinishRoute(graph_, &route);
  route.plan_ms = Ms(t0);
  return route;
}

void Planner::BuildLandmarks(int k) {
  const size_t n = graph_.num_nodes();
  const auto& offsets = graph_.incident_offsets();
  const auto& incident = graph_.incident_edges();
  // Length-only single-source distances.
  auto tree = [&](node_t source, std::vector<double>* dist) {
    dist->assign(n, kInf);
    std::vector<std::pair<double, node_t>> heap{{0.0, source}};
    (*dist)[source] = 0;
    auto cmp = [](const auto& a, const auto& b) { return a.first > b.first; };
    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end(), cmp);
      const auto [d, u] = heap.back();
      heap.pop_back();
      if (d > (*dist)[u]) continue;
      for (uint32_t i = offsets[u]; i < offsets[u + 1]; ++i) {
        const node_t v = adj_node_[i];
        const double dv = d + edge_length_[incident[i]];
        if (dv < (*dist)[v]) {
          (*dist)[v] = dv;
          heap.emplace_back(dv, v);
          std::push_heap(heap.begin(), heap.end(), cmp);
        }
      }
    }
  };
  num_landmarks_ = k;
  landmarks_.clear();
  if (k == 0) return;
  landmark_dist_.assign(n * k, kInf);
  // Farthest-point selection: each landmark is the node farthest from the
  // ones chosen so far (the first: farthest from node 0).
  std::vector<double> dist, nearest(n, kInf);
  tree(0, &nearest);
  for (int j = 0; j < k; ++j) {
    node_t pick = 0;
    double far = -1;
    for (node_t v = 0; v < n; ++v)
      if (std::isfinite(nearest[v]) && nearest[v] > far) far = nearest[v], pick = v;
    landmarks_.push_back(pick);
    tree(pick, &dist);
    for (node_t v = 0; v < n; ++v) {
      landmark_dist_[static_cast<size_t>(v) * k + j] = dist[v];
      nearest[v] = j == 0 ? dist[v] : std::min(nearest[v], dist[v]);
    }
  }
}

double Planner::EdgeCost(edge_t e, const PlanOptions& options) const {
  const WalkEdge& edge = graph_.edges()[e];
  return edge.length_m + (edge.kind == EdgeKind::kCrossing ? options.crossing_penalty_m : 0.0);
}

absl::StatusOr<Route> Planner::Plan(const EdgePoint& start, const EdgePoint& goal, const PlanOptions& options,
                                    SearchAlgorithm algorithm) const {
  ARMAP_RETURN_IF_ERROR(options.Validate());
  if (start.edge >= graph_.num_edges() || goal.edge >= graph_.num_edges())
    return absl::InvalidArgumentError("start or goal is not on this graph (snap it first)");
  if (algorithm == SearchAlgorithm::kContractionHierarchy && !HierarchyApplies(options))
    return absl::FailedPreconditionError(absl::StrCat(
        "the contraction hierarchy serves only crossing_penalty_m = ", hierarchy_crossing_penalty_m_, " without an avoid list",
        hierarchy_ ? "" : " (and none was built)"));
  if (algorithm == SearchAlgorithm::kContractionHierarchy || (algorithm == SearchAlgorithm::kAuto && HierarchyApplies(options)))
    return SearchHierarchy(start, goal, options);
  if (algorithm == SearchAlgorithm::kAuto) algorithm = SearchAlgorithm::kAStar;
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

  // Avoided edges get an infinite factor; the start/goal edges stay usable.
  std::vector<uint8_t> avoided;
  if (!options.avoid_edge_ids.empty()) {
    avoided.assign(graph_.num_edges(), 0);
    for (int64_t id : options.avoid_edge_ids)
      if (auto e = graph_.EdgeIndexById(id)) avoided[*e] = 1;
  }
  const double crossing_penalty = options.crossing_penalty_m;
  auto cost_of = [&](edge_t e) {
    if (!avoided.empty() && avoided[e] && e != start.edge && e != goal.edge) return kInf;
    const double c = edge_length_[e] + (edge_is_crossing_[e] ? crossing_penalty : 0.0);
    return cost_factor ? c * (*cost_factor)[e] : c;
  };

  Scratch& s = ThreadScratch();
  s.Prepare(n);
  const double h_scale = algorithm == SearchAlgorithm::kDijkstra ? 0.0 : cost_per_metre_min_;
  const Eigen::Vector2d goal_xy = Xy(goal.point_in_map);
  // Landmark distances to the goal point (a virtual node on its edge).
  const int k = algorithm == SearchAlgorithm::kAStar ? num_landmarks_ : 0;
  std::vector<double> to_goal(k);
  const node_t es_from_for_h = edges[start.edge].from;
  {
    const double fg0 = goal.offset_m / edges[goal.edge].polyline_length_m, len = edge_length_[goal.edge];
    const size_t a = static_cast<size_t>(edges[goal.edge].from) * k, b = static_cast<size_t>(edges[goal.edge].to) * k;
    for (int j = 0; j < k; ++j)
      to_goal[j] = std::min(landmark_dist_[a + j] + fg0 * len, landmark_dist_[b + j] + (1 - fg0) * len);
  }
  // Active landmarks: the few with the best bound at the start, which
  // keeps each evaluation cheap (any subset stays admissible and consistent).
  constexpr int kActive = 6;
  std::vector<int> active;
  if (k > 0) {
    std::vector<std::pair<double, int>> bound;
    const double* ls = &landmark_dist_[static_cast<size_t>(es_from_for_h) * k];
    for (int j = 0; j < k; ++j)
      if (std::isfinite(ls[j]) && std::isfinite(to_goal[j])) bound.emplace_back(std::abs(to_goal[j] - ls[j]), j);
    std::sort(bound.begin(), bound.end(), std::greater<>());
    for (size_t i = 0; i < bound.size() && i < kActive; ++i) active.push_back(bound[i].second);
  }
  auto h = [&](node_t v) {
    if (s.h_stamp[v] == s.current) return s.h[v];
    double best_h = h_scale * (node_xy_[v] - goal_xy).norm();
    if (k > 0) {
      const double* lv = &landmark_dist_[static_cast<size_t>(v) * k];
      // Landmark 0 tells components apart: reachable from it or not.
      if (std::isfinite(lv[0]) != std::isfinite(to_goal[0])) best_h = kInf;
      else
        for (int j : active) best_h = std::max(best_h, std::abs(to_goal[j] - lv[j]));
    }
    s.h_stamp[v] = s.current;
    s.h[v] = best_h;
    return best_h;
  };
  auto cmp = [](const std::pair<double, node_t>& a, const std::pair<double, node_t>& b) { return a.first > b.first; };
  auto relax = [&](node_t v, double d, edge_t via) {
    if (d < s.Dist(v)) {
      const double hv = h(v);
      if (!std::isfinite(hv)) return;
      s.stamp[v] = s.current;
      s.dist[v] = d;
      s.parent_edge[v] = via;
      s.heap.emplace_back(d + hv, v);
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
      const node_t v = adj_node_[i];
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
  ARMAP_ASSIGN_OR_RETURN(Route best, Plan(start, goal, options));
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
