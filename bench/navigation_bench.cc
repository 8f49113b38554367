// Planning benchmark (not a test): a seeded 100,000-edge grid-like
// pedestrian network, random start/goal points on edge interiors; the
// default planner (contraction hierarchy), A* (landmarks, straight line) and
// a plain Dijkstra on the same queries side by side. All must return the
// same cost (all are exact); prints a markdown table and writes JSON.
//
// Honest timing on a shared machine: every query is timed around Plan()
// (route building included) by the wall clock and by this thread's CPU
// clock, and the involuntary context switches during it are counted
// (getrusage RUSAGE_THREAD): a query the scheduler preempted has a wall
// time that includes another process's slice. The goal (p99 <= 5 ms) is
// judged on CPU time and on the wall time of the queries not preempted;
// the raw wall p99 over all queries is printed beside them, with the load
// average. (The queries not preempted lean towards the shorter ones, so CPU
// time is the primary figure.) The planner
// reuses per-thread scratch, so after the warm-up queries a query
// allocates only its returned Route.
//
// Usage: navigation_bench [--edges N] [--queries N] [--seed S] [--json OUT]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
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

// Involuntary context switches of this thread so far.
long InvoluntarySwitches() {
  rusage u;
  getrusage(RUSAGE_THREAD, &u);
  return u.ru_nivcsw;
}

struct Series {
  std::vector<double> ms;       // wall, around Plan()
  std::vector<double> cpu_ms;   // this thread's CPU
  std::vector<double> quiet_ms; // wall of the queries not preempted
  std::vector<double> settled;
  int preempted = 0;
  double P(double q) const { return NavQuantile(ms, q); }
  double Cpu(double q) const { return NavQuantile(cpu_ms, q); }
  double Quiet(double q) const { return NavQuantile(quiet_ms, q); }
  void Add(double wall, double cpu, long switches, int64_t nodes) {
    ms.push_back(wall);
    cpu_ms.push_back(cpu);
    if (switches == 0) {
      quiet_ms.push_back(wall);
    } else {
      ++preempted;
    }
    settled.push_back(static_cast<double>(nodes));
  }
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
  int warmup = 50;
  std::string json_out;
  app.add_option("--edges", num_edges, "Edges in the generated network")->capture_default_str();
  app.add_option("--queries", num_queries, "Random start/goal pairs")->capture_default_str();
  app.add_option("--seed", seed, "Seed of the network and the queries")->capture_default_str();
  app.add_option("--crossing-penalty-m", crossing_penalty_m, "Crossing penalty, metres-equivalent")->capture_default_str();
  app.add_option("--landmarks", num_landmarks, "ALT landmarks (0: straight-line heuristic only)")->capture_default_str();
  app.add_option("--warmup", warmup, "Untimed queries per planner before timing")->capture_default_str();
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
  // Warm-up: the per-thread scratch grows to the graph's size and the
  // hierarchy and graph arrays come into the caches.
  for (int i = 0; i < warmup; ++i)
    for (SearchAlgorithm alg : {SearchAlgorithm::kContractionHierarchy, SearchAlgorithm::kAStar}) (void)planner.Plan(random_point(), random_point(), options, alg);

  Series hierarchy, astar, euclid, dijkstra;
  std::vector<double> lengths;
  int unreachable = 0, mismatches = 0;
  // One timed call: wall, CPU and preemption around Plan().
  auto timed = [&](const EdgePoint& s, const EdgePoint& t, SearchAlgorithm alg, double* wall, double* cpu, long* switches) {
    const long n0 = InvoluntarySwitches();
    const double c0 = ThreadCpuMs();
    const auto w0 = std::chrono::steady_clock::now();
    auto r = planner.Plan(s, t, options, alg);
    *wall = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - w0).count();
    *cpu = ThreadCpuMs() - c0;
    *switches = InvoluntarySwitches() - n0;
    return r;
  };
  for (int q = 0; q < num_queries; ++q) {
    const EdgePoint s = random_point(), t = random_point();
    double w[4], c[4];
    long n[4];
    auto h = timed(s, t, SearchAlgorithm::kContractionHierarchy, &w[0], &c[0], &n[0]);
    auto a = timed(s, t, SearchAlgorithm::kAStar, &w[1], &c[1], &n[1]);
    auto d = timed(s, t, SearchAlgorithm::kDijkstra, &w[2], &c[2], &n[2]);
    auto e = timed(s, t, SearchAlgorithm::kAStarEuclidean, &w[3], &c[3], &n[3]);
    if (!a.ok() || !d.ok() || !e.ok() || !h.ok()) {
      if (a.ok() != d.ok() || e.ok() != d.ok() || h.ok() != d.ok()) ++mismatches;
      ++unreachable;
      continue;
    }
    if (std::abs(a->cost - d->cost) > 1e-6 * (1 + d->cost) || std::abs(e->cost - d->cost) > 1e-6 * (1 + d->cost)) ++mismatches;
    if (std::abs(h->cost - d->cost) > 1e-6 * (1 + d->cost)) ++mismatches;
    hierarchy.Add(w[0], c[0], n[0], h->nodes_settled);
    astar.Add(w[1], c[1], n[1], a->nodes_settled);
    dijkstra.Add(w[2], c[2], n[2], d->nodes_settled);
    euclid.Add(w[3], c[3], n[3], e->nodes_settled);
    lengths.push_back(a->length_m);
  }

  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) < 1) load[0] = -1;
  std::printf("\nload average (1 min) %.2f on %ld cores while timing\n", load[0], sysconf(_SC_NPROCESSORS_ONLN));
  std::printf("\nnetwork: %zu nodes, %zu edges (%dx%d grid, seed %llu), built in %.0f ms; %d landmarks + contraction hierarchy built in %.0f ms; %d queries, %d unreachable\n\n",
              graph->num_nodes(), graph->num_edges(), go.cols, go.rows, static_cast<unsigned long long>(seed), build_ms,
              planner.num_landmarks(), landmarks_ms, num_queries, unreachable);
  std::printf("| planner | wall p50 ms | wall p99 ms | wall max ms | CPU p50 ms | CPU p99 ms | wall p99 ms, not preempted (queries) | nodes settled (mean) |\n|---|---|---|---|---|---|---|---|\n");
  for (const auto& [name, s] : {std::pair<const char*, const Series*>{"contraction hierarchy (default)", &hierarchy},
                              {"A* (landmarks + straight line)", &astar},
                              {"A* (straight line only)", &euclid}, {"Dijkstra", &dijkstra}})
    std::printf("| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f (%zu) | %.0f |\n", name, s->P(0.5), s->P(0.99), s->P(1.0), s->Cpu(0.5),
                s->Cpu(0.99), s->Quiet(0.99), s->quiet_ms.size(), s->MeanSettled());
  std::printf("| Dijkstra / hierarchy | %.2fx | %.2fx | | %.2fx | %.2fx | | %.2fx |\n", dijkstra.P(0.5) / hierarchy.P(0.5),
              dijkstra.P(0.99) / hierarchy.P(0.99), dijkstra.Cpu(0.5) / hierarchy.Cpu(0.5), dijkstra.Cpu(0.99) / hierarchy.Cpu(0.99),
              dijkstra.MeanSettled() / std::max(1.0, hierarchy.MeanSettled()));
  std::printf("| Dijkstra / A* | %.2fx | %.2fx | | %.2fx | %.2fx | | %.2fx |\n", dijkstra.P(0.5) / astar.P(0.5),
              dijkstra.P(0.99) / astar.P(0.99), dijkstra.Cpu(0.5) / astar.Cpu(0.5), dijkstra.Cpu(0.99) / astar.Cpu(0.99),
              dijkstra.MeanSettled() / std::max(1.0, astar.MeanSettled()));
  const bool goal_met = hierarchy.Cpu(0.99) <= 5.0 && hierarchy.Quiet(0.99) <= 5.0;
  std::printf("\nroute length p50 %.0f m; cost mismatches vs Dijkstra: %d; %d warm-up queries per planner\n"
              "goal planning p99 <= 5 ms (default planner): %s (CPU p99 %.3f ms, wall p99 %.3f ms over the %zu queries not "
              "preempted); raw wall p99 %.3f ms includes %d preempted queries\n",
              NavQuantile(lengths, 0.5), mismatches, warmup, goal_met ? "met" : "NOT met", hierarchy.Cpu(0.99),
              hierarchy.Quiet(0.99), hierarchy.quiet_ms.size(), hierarchy.P(0.99), hierarchy.preempted);

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
                 {"plan_ms_not_preempted", {{"p50", s->Quiet(0.5)}, {"p99", s->Quiet(0.99)}, {"queries", s->quiet_ms.size()}}},
                 {"preempted_queries", s->preempted},
                 {"nodes_settled_mean", s->MeanSettled()}};
    j["dijkstra_over_astar"] = {{"p50", dijkstra.P(0.5) / astar.P(0.5)}, {"p99", dijkstra.P(0.99) / astar.P(0.99)}};
    j["goal_p99_ms"] = 5.0;
    j["warmup_queries"] = warmup;
    j["load_average_1min"] = load[0];
    j["timing"] = "around Plan() incl. route building; plan_ms wall, plan_cpu_ms thread CPU, plan_ms_not_preempted wall of the queries without an involuntary context switch";
    j["goal_met"] = goal_met;
    j["goal_met_cpu"] = hierarchy.Cpu(0.99) <= 5.0;
    j["goal_met_wall_all_queries"] = hierarchy.P(0.99) <= 5.0;
    j["dijkstra_over_hierarchy"] = {{"p50", dijkstra.P(0.5) / hierarchy.P(0.5)}, {"p99", dijkstra.P(0.99) / hierarchy.P(0.99)}};
    const absl::Status st = WriteJsonFile(json_out, j);
    if (!st.ok()) {
      std::fprintf(stderr, "navigation_bench: %s\n", std::string(st.message()).c_str());
      return 1;
    }
  }
  return mismatches == 0 ? 0 : 2;
}
