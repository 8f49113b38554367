#include "navigation/contraction_hierarchy.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <queue>

namespace armap::nav::internal {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr uint32_t kNoLink = std::numeric_limits<uint32_t>::max();
// Witness searches settle at most this many nodes; past it a shortcut is
// added anyway (always correct, only less sparse).
constexpr int kWitnessSettleLimit = 120;
// Priority estimates use a cheaper search.
constexpr int kSimulationSettleLimit = 40;

using HeapItem = std::pair<double, node_t>;
struct MinFirst {
  bool operator()(const HeapItem& a, const HeapItem& b) const { return a.first > b.first; }
};

// Per-thread query state, kept between queries so that a query allocates
// nothing once warm (allocation and page faults were the p99 tail).
struct QueryScratch {
  std::vector<double> dist[2];
  std::vector<uint32_t> parent[2];  // link into the node
  std::vector<uint32_t> stamp[2];
  std::vector<HeapItem> heap[2];
  std::vector<std::pair<uint32_t, node_t>> chain, up_part, stack;
  uint32_t current = 0;
  void Prepare(size_t n) {
    for (int d = 0; d < 2; ++d) heap[d].clear();
    chain.clear();
    up_part.clear();
    stack.clear();
    for (int d = 0; d < 2; ++d)
      if (dist[d].size() < n) {
        dist[d].resize(n);
        parent[d].resize(n);
        stamp[d].resize(n, 0);
      }
    if (++current == 0) {
      for (int d = 0; d < 2; ++d) std::fill(stamp[d].begin(), stamp[d].end(), 0);
      current = 1;
    }
  }
  double Dist(int d, node_t v) const { return stamp[d][v] == current ? dist[d][v] : kInf; }
};

}  // namespace

ContractionHierarchy ContractionHierarchy::Build(const WalkGraph& graph, const std::vector<double>& edge_cost) {
  ContractionHierarchy ch;
  const size_t n = graph.num_nodes();
  // One link per node pair (the cheapest edge); self-loops never help.
  std::map<std::pair<node_t, node_t>, uint32_t> pair_link;
  for (edge_t e = 0; e < graph.num_edges(); ++e) {
    node_t a = graph.edges()[e].from, b = graph.edges()[e].to;
    if (a == b) continue;
    const auto key = std::minmax(a, b);
    auto it = pair_link.find(key);
    if (it == pair_link.end()) {
      pair_link.emplace(key, static_cast<uint32_t>(ch.links_.size()));
      ch.links_.push_back({a, b, edge_cost[e], e, kNoLink, kNoLink, kInvalidNode});
    } else if (edge_cost[e] < ch.links_[it->second].cost) {
      ch.links_[it->second] = {a, b, edge_cost[e], e, kNoLink, kNoLink, kInvalidNode};
    }
  }
  ch.num_original_links_ = ch.links_.size();
  std::vector<std::vector<std::pair<node_t, uint32_t>>> adj(n);
  for (uint32_t l = 0; l < ch.links_.size(); ++l) {
    adj[ch.links_[l].a].emplace_back(ch.links_[l].b, l);
    adj[ch.links_[l].b].emplace_back(ch.links_[l].a, l);
  }
  std::vector<uint8_t> contracted(n, 0);
  std::vector<int> deleted_neighbours(n, 0);
  std::vector<uint32_t> rank(n, 0);

  // Witness search scratch.
  std::vector<double> wdist(n, kInf);
  std::vector<uint32_t> wstamp(n, 0);
  uint32_t wcur = 0;
  auto witness = [&](node_t source, node_t skip, double max_cost, int settle_limit) {
    ++wcur;
    std::priority_queue<HeapItem, std::vector<HeapItem>, MinFirst> heap;
    wdist[source] = 0;
    wstamp[source] = wcur;
    heap.emplace(0.0, source);
    int settled = 0;
    while (!heap.empty() && settled < settle_limit) {
      const auto [d, u] = heap.top();
      heap.pop();
      if (d > wdist[u]) continue;
      if (d > max_cost) break;
      ++settled;
      for (const auto& [v, l] : adj[u]) {
        if (v == skip || contracted[v]) continue;
        const double dv = d + ch.links_[l].cost;
        if (wstamp[v] != wcur || dv < wdist[v]) {
          wstamp[v] = wcur;
          wdist[v] = dv;
          heap.emplace(dv, v);
        }
      }
    }
  };
  auto wd = [&](node_t v) { return wstamp[v] == wcur ? wdist[v] : kInf; };

  // Contracting v: the shortcuts it needs (applied or only counted).
  auto contract = [&](node_t v, bool apply) {
    std::vector<std::pair<node_t, uint32_t>> nbrs;
    for (const auto& [u, l] : adj[v])
      if (!contracted[u]) nbrs.emplace_back(u, l);
    // Cheapest link per neighbour.
    std::sort(nbrs.begin(), nbrs.end(), [&](const auto& x, const auto& y) {
      return x.first != y.first ? x.first < y.first : ch.links_[x.second].cost < ch.links_[y.second].cost;
    });
    nbrs.erase(std::unique(nbrs.begin(), nbrs.end(), [](const auto& x, const auto& y) { return x.first == y.first; }), nbrs.end());
    int shortcuts = 0;
    for (size_t i = 0; i < nbrs.size(); ++i) {
      const double ci = ch.links_[nbrs[i].second].cost;
      double max_out = 0;
      for (size_t j = i + 1; j < nbrs.size(); ++j) max_out = std::max(max_out, ch.links_[nbrs[j].second].cost);
      if (i + 1 >= nbrs.size()) break;
      witness(nbrs[i].first, v, ci + max_out, apply ? kWitnessSettleLimit : kSimulationSettleLimit);
      for (size_t j = i + 1; j < nbrs.size(); ++j) {
        const double via = ci + ch.links_[nbrs[j].second].cost;
        if (wd(nbrs[j].first) <= via) continue;
        ++shortcuts;
        if (apply) {
          const node_t a = nbrs[i].first, b = nbrs[j].first;
          const uint32_t l = static_cast<uint32_t>(ch.links_.size());
          ch.links_.push_back({a, b, via, kInvalidEdge, nbrs[i].second, nbrs[j].second, v});
          adj[a].emplace_back(b, l);
          adj[b].emplace_back(a, l);
        }
      }
    }
    return std::make_pair(shortcuts, static_cast<int>(nbrs.size()));
  };
  auto priority = [&](node_t v) {
    const auto [shortcuts, degree] = contract(v, false);
    return 2.0 * (shortcuts - degree) + deleted_neighbours[v];
  };

  // Contraction order: smallest priority first, re-evaluated lazily when a
  // node reaches the top (contracting only if it is still the smallest).
  std::priority_queue<HeapItem, std::vector<HeapItem>, MinFirst> order;
  for (node_t v = 0; v < n; ++v) order.emplace(priority(v), v);
  uint32_t next_rank = 0;
  while (!order.empty()) {
    const node_t v = order.top().second;
    order.pop();
    if (contracted[v]) continue;
    const double now = priority(v);
    if (!order.empty() && now > order.top().first) {
      order.emplace(now, v);
      continue;
    }
    contract(v, true);
    contracted[v] = 1;
    rank[v] = next_rank++;
    for (const auto& [u, l] : adj[v])
      if (!contracted[u]) ++deleted_neighbours[u];
  }

  ch.up_offsets_.assign(n + 1, 0);
  for (const Link& l : ch.links_) ++ch.up_offsets_[(rank[l.a] < rank[l.b] ? l.a : l.b) + 1];
  for (size_t i = 0; i < n; ++i) ch.up_offsets_[i + 1] += ch.up_offsets_[i];
  ch.up_.resize(ch.links_.size());
  std::vector<uint32_t> fill(ch.up_offsets_.begin(), ch.up_offsets_.end() - 1);
  for (uint32_t i = 0; i < ch.links_.size(); ++i) {
    const Link& l = ch.links_[i];
    const bool a_low = rank[l.a] < rank[l.b];
    ch.up_[fill[a_low ? l.a : l.b]++] = {a_low ? l.b : l.a, i};
  }
  return ch;
}

bool ContractionHierarchy::Query(const std::array<Seed, 2>& sources, const std::array<Seed, 2>& targets, double bound,
                                 Path* path) const {
  thread_local QueryScratch s;
  const size_t n = up_offsets_.size() - 1;
  s.Prepare(n);
  auto& heap = s.heap;
  const MinFirst cmp;
  auto relax = [&](int d, node_t v, double c, uint32_t via) {
    if (c < s.Dist(d, v)) {
      s.stamp[d][v] = s.current;
      s.dist[d][v] = c;
      s.parent[d][v] = via;
      heap[d].emplace_back(c, v);
      std::push_heap(heap[d].begin(), heap[d].end(), cmp);
    }
  };
  for (const Seed& x : sources)
    if (x.node != kInvalidNode && std::isfinite(x.cost)) relax(0, x.node, x.cost, kNoLink);
  for (const Seed& x : targets)
    if (x.node != kInvalidNode && std::isfinite(x.cost)) relax(1, x.node, x.cost, kNoLink);
  double best = bound;
  node_t meet = kInvalidNode;
  int64_t settled = 0;
  while (true) {
    const double k0 = heap[0].empty() ? kInf : heap[0].front().first;
    const double k1 = heap[1].empty() ? kInf : heap[1].front().first;
    // Each direction stops once its smallest key reaches the best meeting.
    if (std::min(k0, k1) >= best) break;
    const int d = k0 <= k1 ? 0 : 1;
    std::pop_heap(heap[d].begin(), heap[d].end(), cmp);
    const auto [c, u] = heap[d].back();
    heap[d].pop_back();
    if (c > s.Dist(d, u)) continue;
    ++settled;
    const double other = s.Dist(1 - d, u);
    if (c + other < best) {
      best = c + other;
      meet = u;
    }
    // Stall-on-demand: a higher neighbour already reached more cheaply
    // proves u's label is not on a shortest up-path; do not expand it.
    bool stalled = false;
    for (uint32_t i = up_offsets_[u]; i < up_offsets_[u + 1] && !stalled; ++i)
      if (s.Dist(d, up_[i].first) + links_[up_[i].second].cost < c) stalled = true;
    if (stalled) continue;
    for (uint32_t i = up_offsets_[u]; i < up_offsets_[u + 1]; ++i) {
      const auto& [v, l] = up_[i];
      relax(d, v, c + links_[l].cost, l);
    }
  }
  if (meet == kInvalidNode) return false;

  // Link chains: source seed .. meet, and meet .. target seed.
  auto& chain = s.chain;  // (link, entered from)
  auto& up_part = s.up_part;
  node_t v = meet;
  while (s.parent[0][v] != kNoLink) {
    const Link& l = links_[s.parent[0][v]];
    const node_t from = l.a == v ? l.b : l.a;
    up_part.emplace_back(s.parent[0][v], from);
    v = from;
  }
  path->source = v;
  chain.assign(up_part.rbegin(), up_part.rend());  // capacity kept
  v = meet;
  while (s.parent[1][v] != kNoLink) {
    const Link& l = links_[s.parent[1][v]];
    chain.emplace_back(s.parent[1][v], v);
    v = l.a == v ? l.b : l.a;
  }
  path->target = v;
  path->cost = best;
  path->settled = settled;
  path->edges.clear();
  // Unpack shortcuts (iteratively: hierarchies can nest deeply).
  for (const auto& [link, from] : chain) {
    auto& stack = s.stack;
    stack.assign(1, {link, from});
    while (!stack.empty()) {
      const auto [li, x] = stack.back();
      stack.pop_back();
      const Link& l = links_[li];
      if (l.original != kInvalidEdge) {
        path->edges.emplace_back(l.original, x);
        continue;
      }
      // Child a joins l.a and mid; child b joins mid and l.b.
      if (x == l.a) {
        stack.emplace_back(l.child_b, l.mid);
        stack.emplace_back(l.child_a, l.a);
      } else {
        stack.emplace_back(l.child_a, l.mid);
        stack.emplace_back(l.child_b, l.b);
      }
    }
  }
  return true;
}

}  // namespace armap::nav::internal
