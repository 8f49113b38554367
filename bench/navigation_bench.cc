// Planning benchmark (not a test): a seeded 100,000-edge grid-like
// pedestrian network, random start/goal points on edge interiors; the
// default planner (contraction hierarchy), A* (landmarks, straight line) and
// a plain Dijkstra on the same queries side by side. All must return the
// same cost (all are exact); prints a markdown table (wall and thread-CPU
// times: the machine is shared) and writes JSON.
//
// Usage: navigation_bench [--edges N] [--queries N] [--seed S] [--json OUT]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <time.h>

#include <CLI/CLI.hpp>

#include "absl/strings/str_format.h"
#include "core/json.h"
#include "core/random.h"
#include "navigation/evaluation.h"
#include "navigation/planner.h"
#include "navigation/synthetic_network.h"

namespace {

using namespace armap;        // NOLINT
using namespace armap::nav;   // NOLINT

// This thread's CPU time: on a shared machine wall time also counts the
// time other processes held the core.
double ThreadCpuMs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

struct Series {
  std::vector<double> ms;
  std::vector<double> cpu_ms;
  std::vector<double> settled;
  double P(double q) const { return NavQuantile(ms, q); }
  double Cpu(double q) const { return NavQuantile(cpu_ms, q); }
  double MeanSettled() const {
    double s = 0;
    for (double v : settled) s += v;
    return settled.empty() ? 0 : s / settled.size();
  }
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"A* vs Dijkstra on a generated pedestrian network"};
  int64_t num_edges = 100000;
  int num_queries = 1000;
  uint64_t seed = 1;
  double crossing_penalty_m = 10.0;
  int num_landmarks = 16;
  std::string json_out;
  app.add_option("--edges", num_edges, "Edges in the generated network")->capture_default_str();
  app.add_option("--queries", num_queries, "Random start/goal pairs")->capture_default_str();
  app.add_option("--seed", seed, "Seed of the network and the queries")->capture_default_str();
  app.add_option("--crossing-penalty-m", crossing_penalty_m, "Crossing penalty, metres-equivalent")->capture_default_str();
  app.add_option("--landmarks", num_landmarks, "ALT landmarks (0: straight-line heuristic only)")->capture_default_str();
  app.add_option("--json", json_out, "Write the figures as JSON here");
  CLI11_PARSE(app, argc, argv);

  // A square grid with ~10% of its links removed down to exactly num_edges.
  GridNetworkOptions go;
  go.cols = go.rows = static_cast<int>(std::ceil(std::sqrt(num_edges / 2.0 / 0.9))) + 1;
  go.target_edges = num_edges;
  go.seed = seed;
  const auto t_build = std::chrono::steady_clock::now();
  auto graph = MakeGridNetwork(go);
  if (!graph.ok()) {
    std::fprintf(stderr, "navigation_bench: %s\n", std::string(graph.status().message()).c_str());
    return 1;
  }
  const double build_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_build).count();
  const auto t_pre = std::chrono::steady_clock::now();
  const Planner planner(*graph, num_landmarks);
  const double landmarks_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_pre).count();
  PlanOptions options;
  options.crossing_penalty_m = crossing_penalty_m;

  Rng rng(seed, 0x7175657279);
  auto random_point = [&]() {
    EdgePoint p;
    p.edge = static_cast<edge_t>(rng.NextU64() % graph->num_edges());
    p.offset_m = rng.Uniform() * graph->edges()[p.edge].polyline_length_m;
    p.point_in_map = graph->PointAt(p.edge, p.offset_m);
    return p;
  };
  // Warm the per-thread scratch and caches.
  for (int i = 0; i < 10; ++i) (void)planner.Plan(random_point(), random_point(), options);

  Series hierarchy, astar, euclid, dijkstra;
  std::vector<double> lengths;
  int unreachable = 0, mismatches = 0;
  for (int q = 0; q < num_queries; ++q) {
    const EdgePoint s = random_point(), t = random_point();
    const double ch0 = ThreadCpuMs();
    auto h = planner.Plan(s, t, options, SearchAlgorithm::kContractionHierarchy);
    double c0 = ThreadCpuMs();
    auto a = planner.Plan(s, t, options, SearchAlgorithm::kAStar);
    double c1 = ThreadCpuMs();
    auto d = planner.Plan(s, t, options, SearchAlgorithm::kDijkstra);
    double c2 = ThreadCpuMs();
    auto e = planner.Plan(s, t, options, SearchAlgorithm::kAStarEuclidean);
    double c3 = ThreadCpuMs();
    if (!a.ok() || !d.ok() || !e.ok() || !h.ok()) {
      if (a.ok() != d.ok() || e.ok() != d.ok() || h.ok() != d.ok()) ++mismatches;
      ++unreachable;
      continue;
    }
    if (std::abs(a->cost - d->cost) > 1e-6 * (1 + d->cost) || std::abs(e->cost - d->cost) > 1e-6 * (1 + d->cost)) ++mismatches;
    if (std::abs(h->cost - d->cost) > 1e-6 * (1 + d->cost)) ++mismatches;
    hierarchy.ms.push_back(h->plan_ms);
    hierarchy.cpu_ms.push_back(c0 - ch0);
    hierarchy.settled.push_back(static_cast<double>(h->nodes_settled));
    astar.cpu_ms.push_back(c1 - c0);
    dijkstra.cpu_ms.push_back(c2 - c1);
    euclid.cpu_ms.push_back(c3 - c2);
    euclid.ms.push_back(e->plan_ms);
    euclid.settled.push_back(static_cast<double>(e->nodes_settled));
    astar.ms.push_back(a->plan_ms);
    astar.settled.push_back(static_cast<double>(a->nodes_settled));
    dijkstra.ms.push_back(d->plan_ms);
    dijkstra.settled.push_back(static_cast<double>(d->nodes_settled));
    lengths.push_back(a->length_m);
  }

  std::printf("\nnetwork: %zu nodes, %zu edges (%dx%d grid, seed %llu), built in %.0f ms; %d landmarks + contraction hierarchy built in %.0f ms; %d queries, %d unreachable\n\n",
              graph->num_nodes(), graph->num_edges(), go.cols, go.rows, static_cast<unsigned long long>(seed), build_ms,
              planner.num_landmarks(), landmarks_ms, num_queries, unreachable);
  std::printf("| planner | p50 ms | p99 ms | max ms | CPU p50 ms | CPU p99 ms | nodes settled (mean) |\n|---|---|---|---|---|---|---|\n");
  for (const auto& [name, s] : {std::pair<const char*, const Series*>{"contraction hierarchy (default)", &hierarchy},
                              {"A* (landmarks + straight line)", &astar},
                              {"A* (straight line only)", &euclid}, {"Dijkstra", &dijkstra}})
    std::printf("| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.0f |\n", name, s->P(0.5), s->P(0.99), s->P(1.0), s->Cpu(0.5),
                s->Cpu(0.99), s->MeanSettled());
  std::printf("| Dijkstra / hierarchy | %.2fx | %.2fx | | %.2fx | %.2fx | %.2fx |\n", dijkstra.P(0.5) / hierarchy.P(0.5),
              dijkstra.P(0.99) / hierarchy.P(0.99), dijkstra.Cpu(0.5) / hierarchy.Cpu(0.5), dijkstra.Cpu(0.99) / hierarchy.Cpu(0.99),
              dijkstra.MeanSettled() / std::max(1.0, hierarchy.MeanSettled()));
  std::printf("| Dijkstra / A* | %.2fx | %.2fx | | %.2fx | %.2fx | %.2fx |\n", dijkstra.P(0.5) / astar.P(0.5),
              dijkstra.P(0.99) / astar.P(0.99), dijkstra.Cpu(0.5) / astar.Cpu(0.5), dijkstra.Cpu(0.99) / astar.Cpu(0.99),
              dijkstra.MeanSettled() / std::max(1.0, astar.MeanSettled()));
  std::printf("\nroute length p50 %.0f m; cost mismatches A* vs Dijkstra: %d; goal planning p99 <= 5 ms (default planner): wall %s, CPU %s\n",
              NavQuantile(lengths, 0.5), mismatches, hierarchy.P(0.99) <= 5.0 ? "met" : "NOT met",
              hierarchy.Cpu(0.99) <= 5.0 ? "met" : "NOT met");

  if (!json_out.empty()) {
    OrderedJson j;
    j["network"] = {{"nodes", graph->num_nodes()}, {"edges", graph->num_edges()}, {"grid", {go.cols, go.rows}}, {"seed", seed}};
    j["landmarks"] = planner.num_landmarks();
    j["preprocessing_ms"] = landmarks_ms;
    j["queries"] = num_queries;
    j["unreachable"] = unreachable;
    j["cost_mismatches"] = mismatches;
    j["crossing_penalty_m"] = crossing_penalty_m;
    j["route_length_m_p50"] = NavQuantile(lengths, 0.5);
    for (const auto& [name, s] : {std::pair<const char*, const Series*>{"hierarchy", &hierarchy}, {"astar", &astar}, {"astar_euclidean", &euclid}, {"dijkstra", &dijkstra}})
      j[name] = {{"plan_ms", {{"p50", s->P(0.5)}, {"p99", s->P(0.99)}, {"max", s->P(1.0)}}},
                 {"plan_cpu_ms", {{"p50", s->Cpu(0.5)}, {"p99", s->Cpu(0.99)}}},
                 {"nodes_settled_mean", s->MeanSettled()}};
    j["dijkstra_over_astar"] = {{"p50", dijkstra.P(0.5) / astar.P(0.5)}, {"p99", dijkstra.P(0.99) / astar.P(0.99)}};
    j["goal_p99_ms"] = 5.0;
    j["goal_met"] = hierarchy.P(0.99) <= 5.0;
    j["goal_met_cpu"] = hierarchy.Cpu(0.99) <= 5.0;
    j["dijkstra_over_hierarchy"] = {{"p50", dijkstra.P(0.5) / hierarchy.P(0.5)}, {"p99", dijkstra.P(0.99) / hierarchy.P(0.99)}};
    const absl::Status st = WriteJsonFile(json_out, j);
    if (!st.ok()) {
      std::fprintf(stderr, "navigation_bench: %s\n", std::string(st.message()).c_str());
      return 1;
    }
  }
  return mismatches == 0 ? 0 : 2;
}
