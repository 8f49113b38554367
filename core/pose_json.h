// The JSON form of a rigid transform used by every armap file that stores a
// pose (queries_gt.json, eval outputs, benchmark ground truth):
//   {"q": [w, x, y, z], "t": [x, y, z]}
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "core/json.h"
#include "core/rigid3.h"

namespace armap {

OrderedJson PoseToJson(const Rigid3d& target_from_source);

// InvalidArgument naming `where` for missing fields, wrong sizes or a
// quaternion whose norm is not 1 (to 1e-3).
absl::StatusOr<Rigid3d> PoseFromJson(const Json& json, const std::string& where);

}  // namespace armap
