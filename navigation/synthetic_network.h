// Seeded grid-like pedestrian networks for tests and the planning benchmark:
// jittered grid nodes, some links removed, some marked as crossings, edge
// geometry slightly bent so lengths exceed straight lines.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "navigation/walk_graph.h"

namespace armap::nav {

struct GridNetworkOptions {
  int cols = 10;
  int rows = 10;
  double spacing_m = 40.0;
  double jitter_m = 6.0;         // node position noise (uniform, each axis)
  double drop_fraction = 0.1;    // grid links removed at random
  double crossing_fraction = 0.2;
  // Exactly this many edges when > 0 (links removed at random down to it;
  // must not exceed the full grid's link count).
  int64_t target_edges = 0;
  uint64_t seed = 1;
  absl::Status Validate() const;
};

absl::StatusOr<WalkGraph> MakeGridNetwork(const GridNetworkOptions& options);

}  // namespace armap::nav
