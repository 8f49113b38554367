// Not a public API: lets RunColmapSfm put its COLMAP steps into the report
// and config of the package that BuildMapFromColmap writes.
#pragma once

#include "absl/status/statusor.h"
#include "core/json.h"
#include "mapping/colmap/from_colmap.h"

namespace armap::mapping::internal {

struct UpstreamInfo {
  // Merged into report.stages before the package's own stages.
  OrderedJson stages = OrderedJson::object();
  // report.colmap and config.colmap (omitted when null).
  OrderedJson report;
  OrderedJson config;
};

absl::StatusOr<OrderedJson> BuildMapFromColmap(const FromColmapRequest& request, const FromColmapOptions& options,
                                               const UpstreamInfo& upstream);

}  // namespace armap::mapping::internal
