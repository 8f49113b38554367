#include "navigation/synthetic_network.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "core/random.h"
#include "core/status.h"

namespace armap::nav {

absl::Status GridNetworkOptions::Validate() const {
  if (cols < 2 || rows < 2)
    return absl::InvalidArgumentError(absl::StrCat("GridNetworkOptions: cols = ", cols, ", rows = ", rows, "; both must be >= 2"));
  if (!(spacing_m > 0)) return absl::InvalidArgumentError(absl::StrCat("GridNetworkOptions::spacing_m = ", spacing_m, "; must be > 0"));
  if (!(jitter_m >= 0 && jitter_m < 0.4 * spacing_m))
    return absl::InvalidArgumentError(absl::StrCat("GridNetworkOptions::jitter_m = ", jitter_m, "; must be in [0, 0.4 * spacing_m)"));
  if (!(drop_fraction >= 0 && drop_fraction < 1))
    return absl::InvalidArgumentError(absl::StrCat("GridNetworkOptions::drop_fraction = ", drop_fraction, "; must be in [0, 1)"));
  if (!(crossing_fraction >= 0 && crossing_fraction <= 1))
    return absl::InvalidArgumentError(absl::StrCat("GridNetworkOptions::crossing_fraction = ", crossing_fraction, "; must be in [0, 1]"));
  const int64_t links = static_cast<int64_t>(cols - 1) * rows + static_cast<int64_t>(rows - 1) * cols;
  if (target_edges < 0 || target_edges > links)
    return absl::InvalidArgumentError(
        absl::StrCat("GridNetworkOptions::target_edges = ", target_edges, "; the ", cols, "x", rows, " grid has ", links, " links"));
  return absl::OkStatus();
}

absl::StatusOr<WalkGraph> MakeGridNetwork(const GridNetworkOptions& o) {
  ARMAP_RETURN_IF_ERROR(o.Validate());
  Rng rng(o.seed, 0x6e6176);
  std::vector<WalkNode> nodes;
  nodes.reserve(static_cast<size_t>(o.cols) * o.rows);
  for (int r = 0; r < o.rows; ++r)
    for (int c = 0; c < o.cols; ++c) {
      WalkNode n;
      n.id = static_cast<int64_t>(nodes.size());
      n.position_in_map = {c * o.spacing_m + rng.Uniform(-o.jitter_m, o.jitter_m),
                           r * o.spacing_m + rng.Uniform(-o.jitter_m, o.jitter_m), 0.0};
      nodes.push_back(n);
    }
  std::vector<std::pair<node_t, node_t>> links;
  for (int r = 0; r < o.rows; ++r)
    for (int c = 0; c < o.cols; ++c) {
      const node_t i = static_cast<node_t>(r * o.cols + c);
      if (c + 1 < o.cols) links.emplace_back(i, i + 1);
      if (r + 1 < o.rows) links.emplace_back(i, static_cast<node_t>(i + o.cols));
    }
  // Fisher-Yates with our portable RNG, then keep a prefix.
  for (size_t i = links.size(); i > 1; --i) std::swap(links[i - 1], links[rng.NextU64() % i]);
  size_t keep = o.target_edges > 0 ? static_cast<size_t>(o.target_edges)
                                   : static_cast<size_t>(std::lround(links.size() * (1.0 - o.drop_fraction)));
  links.resize(keep);
  std::vector<WalkEdge> edges;
  edges.reserve(links.size());
  for (const auto& [a, b] : links) {
    WalkEdge e;
    e.id = static_cast<int64_t>(edges.size());
    e.from = a;
    e.to = b;
    e.kind = rng.Bernoulli(o.crossing_fraction) ? EdgeKind::kCrossing : EdgeKind::kSidewalk;
    e.width_m = 3.0;
    const Eigen::Vector3d pa = nodes[a].position_in_map, pb = nodes[b].position_in_map;
    // A slight bend in the middle: lengths exceed the chord.
    const Eigen::Vector2d d = Xy(pb - pa);
    const Eigen::Vector2d normal(-d.y(), d.x());
    const Eigen::Vector3d mid = 0.5 * (pa + pb) + Eigen::Vector3d(normal.x(), normal.y(), 0) * rng.Uniform(-0.05, 0.05);
    e.polyline_in_map = {pa, mid, pb};
    e.length_m = (Xy(mid) - Xy(pa)).norm() + (Xy(pb) - Xy(mid)).norm();
    edges.push_back(std::move(e));
  }
  return WalkGraph::Create(std::move(nodes), std::move(edges), {}, "generated grid");
}

}  // namespace armap::nav
