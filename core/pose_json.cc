#include "core/pose_json.h"

#include <cmath>
#include <vector>

#include "core/status.h"

namespace armap {

OrderedJson PoseToJson(const Rigid3d& target_from_source) {
  const Eigen::Quaterniond& q = target_from_source.rotation;
  const Eigen::Vector3d& t = target_from_source.translation;
  return OrderedJson{{"q", {q.w(), q.x(), q.y(), q.z()}}, {"t", {t.x(), t.y(), t.z()}}};
}

absl::StatusOr<Rigid3d> PoseFromJson(const Json& json, const std::string& where) {
  ARMAP_ASSIGN_OR_RETURN(std::vector<double> q, GetJsonField<std::vector<double>>(json, "q", where));
  ARMAP_ASSIGN_OR_RETURN(std::vector<double> t, GetJsonField<std::vector<double>>(json, "t", where));
  if (q.size() != 4 || t.size() != 3) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": q needs 4 and t 3 numbers"));
  }
  const Eigen::Quaterniond rotation(q[0], q[1], q[2], q[3]);
  if (!(std::abs(rotation.norm() - 1) <= 1e-3)) {
    return absl::InvalidArgumentError(absl::StrCat(where, ".q is not a unit quaternion"));
  }
  return Rigid3d(rotation, Eigen::Vector3d(t[0], t[1], t[2]));
}

}  // namespace armap
