#include "localization/evaluation.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/files.h"
#include "core/pose_json.h"
#include "core/status.h"

namespace armap::loc {
namespace {

struct Threshold {
  const char* key;
  double pos_m;
  double rot_deg;
};
constexpr Threshold kThresholds[] = {{"0.25m_2deg", 0.25, 2.0}, {"0.5m_5deg", 0.5, 5.0}, {"5m_10deg", 5.0, 10.0}};

}  // namespace

double Quantile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const double pos = std::clamp(q, 0.0, 1.0) * (values.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(values.size() - 1, lo + 1);
  return values[lo] + (pos - lo) * (values[hi] - values[lo]);
}

absl::StatusOr<std::vector<GroundTruthQuery>> ReadGroundTruthQueries(const std::string& path) {
  ARMAP_ASSIGN_OR_RETURN(Json json, ReadJsonFile(path));
  ARMAP_ASSIGN_OR_RETURN(Json list, GetJsonField<Json>(json, "queries", path));
  if (!list.is_array()) return absl::InvalidArgumentError(absl::StrCat(path, ": 'queries' must be an array"));
  std::vector<GroundTruthQuery> out;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string where = absl::StrCat(path, ": queries[", i, "]");
    GroundTruthQuery g;
    ARMAP_ASSIGN_OR_RETURN(g.name, GetJsonField<std::string>(list[i], "name", where));
    ARMAP_ASSIGN_OR_RETURN(Json pose, GetJsonField<Json>(list[i], "cam_from_world", where));
    ARMAP_ASSIGN_OR_RETURN(g.cam_from_world, PoseFromJson(pose, where + ".cam_from_world"));
    g.localizable = list[i].value("localizable", true);
    out.push_back(std::move(g));
  }
  return out;
}

absl::StatusOr<std::vector<NamedQuery>> ReadQueriesFile(const std::string& path) {
  ARMAP_ASSIGN_OR_RETURN(Json json, ReadJsonFile(path));
  ARMAP_ASSIGN_OR_RETURN(Json list, GetJsonField<Json>(json, "queries", path));
  if (!list.is_array()) return absl::InvalidArgumentError(absl::StrCat(path, ": 'queries' must be an array"));
  const std::filesystem::path base = std::filesystem::path(path).parent_path();
  std::vector<NamedQuery> out;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string where = absl::StrCat(path, ": queries[", i, "]");
    NamedQuery nq;
    ARMAP_ASSIGN_OR_RETURN(nq.name, GetJsonField<std::string>(list[i], "name", where));
    ARMAP_ASSIGN_OR_RETURN(std::string image, GetJsonField<std::string>(list[i], "image", where));
    ARMAP_ASSIGN_OR_RETURN(Json camera, GetJsonField<Json>(list[i], "camera", where));
    ARMAP_ASSIGN_OR_RETURN(std::string model, GetJsonField<std::string>(camera, "model", where + ".camera"));
    ARMAP_ASSIGN_OR_RETURN(int width, GetJsonField<int>(camera, "width", where + ".camera"));
    ARMAP_ASSIGN_OR_RETURN(int height, GetJsonField<int>(camera, "height", where + ".camera"));
    ARMAP_ASSIGN_OR_RETURN(std::vector<double> params, GetJsonField<std::vector<double>>(camera, "params", where + ".camera"));
    ARMAP_ASSIGN_OR_RETURN(nq.query.camera, Camera::Create(model, width, height, params));
    ARMAP_ASSIGN_OR_RETURN(nq.query.image_bytes, ReadFileToString(base / image));
    if (list[i].contains("prior")) {
      const Json& p = list[i]["prior"];
      const std::string pw = where + ".prior";
      if (p.contains("lat")) {
        QueryPrior& prior = nq.query.prior;
        prior.has_position = true;
        ARMAP_ASSIGN_OR_RETURN(prior.position.lat_deg, GetJsonField<double>(p, "lat", pw));
        ARMAP_ASSIGN_OR_RETURN(prior.position.lon_deg, GetJsonField<double>(p, "lon", pw));
        prior.position.alt_m = p.value("alt", 0.0);
        prior.accuracy_m = p.value("accuracy_m", 10.0);
      }
      if (p.contains("gravity")) {
        ARMAP_ASSIGN_OR_RETURN(std::vector<double> g, GetJsonField<std::vector<double>>(p, "gravity", pw));
        if (g.size() != 3) return absl::InvalidArgumentError(absl::StrCat(pw, ".gravity needs 3 numbers"));
        nq.query.prior.has_gravity = true;
        nq.query.prior.gravity_in_cam = Eigen::Vector3d(g[0], g[1], g[2]);
      }
    }
    out.push_back(std::move(nq));
  }
  return out;
}

void LocalizationEvaluation::Add(const GroundTruthQuery& truth, const EvalAnswer& answer) {
  Row row{truth, answer};
  row.pos_err_m = (CameraCenter(answer.cam_from_world) - CameraCenter(truth.cam_from_world)).norm();
  row.rot_err_deg = RotationErrorDeg(answer.cam_from_world.rotation, truth.cam_from_world.rotation);
  rows_.push_back(std::move(row));
}

OrderedJson LocalizationEvaluation::ToJson() const {
  int localizable = 0, unlocalizable = 0, rejected = 0, localized = 0, false_confident = 0;
  int hits[3] = {0, 0, 0};
  std::vector<double> pos_errs, rot_errs, latencies, client_latencies;
  std::map<std::string, std::vector<double>> stages;
  for (const Row& r : rows_) {
    if (r.answer.success) ++localized;
    latencies.push_back(r.answer.latency_ms);
    if (r.answer.client_ms > 0) client_latencies.push_back(r.answer.client_ms);
    for (const auto& [stage, ms] : r.answer.stage_ms) stages[stage].push_back(ms);
    const bool wrong = r.pos_err_m > kWrongPositionM || r.rot_err_deg > kWrongRotationDeg;
    if (r.answer.success && (wrong || !r.truth.localizable)) ++false_confident;
    if (!r.truth.localizable) {
      ++unlocalizable;
      if (!r.answer.success) ++rejected;
      continue;
    }
    ++localizable;
    if (!r.answer.success) continue;
    pos_errs.push_back(r.pos_err_m);
    rot_errs.push_back(r.rot_err_deg);
    for (int k = 0; k < 3; ++k) {
      if (r.pos_err_m <= kThresholds[k].pos_m && r.rot_err_deg <= kThresholds[k].rot_deg) ++hits[k];
    }
  }
  OrderedJson j;
  j["num_queries"] = rows_.size();
  j["num_localizable"] = localizable;
  j["num_localized"] = localized;
  for (int k = 0; k < 3; ++k) j["recall"][kThresholds[k].key] = localizable ? static_cast<double>(hits[k]) / localizable : 0.0;
  j["median_pos_err_m"] = Quantile(pos_errs, 0.5);
  j["median_rot_err_deg"] = Quantile(rot_errs, 0.5);
  j["false_confident"] = false_confident;
  // With no deliberately unlocalizable query there is nothing to reject:
  // report 1 (nothing was wrongly accepted) and say so in the count.
  j["unlocalizable_rejected"] = unlocalizable ? static_cast<double>(rejected) / unlocalizable : 1.0;
  j["num_unlocalizable"] = unlocalizable;
  j["latency_ms"] = {{"p50", Quantile(latencies, 0.5)}, {"p90", Quantile(latencies, 0.9)}, {"p99", Quantile(latencies, 0.99)}};
  if (!client_latencies.empty()) {
    j["client_latency_ms"] = {{"p50", Quantile(client_latencies, 0.5)},
                              {"p90", Quantile(client_latencies, 0.9)},
                              {"p99", Quantile(client_latencies, 0.99)}};
  }
  j["stages_ms"] = OrderedJson::object();
  for (const auto& [stage, values] : stages) {
    j["stages_ms"][stage] = {{"p50", Quantile(values, 0.5)}, {"p90", Quantile(values, 0.9)}};
  }
  OrderedJson per_query = OrderedJson::array();
  for (const Row& r : rows_) {
    per_query.push_back({{"name", r.truth.name}, {"localizable", r.truth.localizable}, {"success", r.answer.success},
                         {"failure_reason", r.answer.failure_reason}, {"confidence", r.answer.confidence},
                         {"inliers", r.answer.num_inliers}, {"pos_err_m", r.pos_err_m}, {"rot_err_deg", r.rot_err_deg},
                         {"latency_ms", r.answer.latency_ms}});
  }
  j["queries"] = per_query;
  return j;
}

std::string LocalizationEvaluation::ToMarkdown() const {
  const OrderedJson j = ToJson();
  std::ostringstream out;
  out << "| metric | value |\n|---|---|\n";
  out << "| queries (localizable / unlocalizable) | " << j["num_queries"].get<int>() << " ("
      << j["num_localizable"].get<int>() << " / " << j["num_unlocalizable"].get<int>() << ") |\n";
  out << "| localized | " << j["num_localized"].get<int>() << " |\n";
  for (const Threshold& t : kThresholds) {
    out << absl::StrFormat("| recall (%.2g m, %.0f deg) | %.1f%% |\n", t.pos_m, t.rot_deg,
                           100 * j["recall"][t.key].get<double>());
  }
  out << absl::StrFormat("| median position error | %.3f m |\n", j["median_pos_err_m"].get<double>());
  out << absl::StrFormat("| median rotation error | %.3f deg |\n", j["median_rot_err_deg"].get<double>());
  out << "| confident but wrong (> 5 m or 10 deg) | " << j["false_confident"].get<int>() << " |\n";
  out << absl::StrFormat("| unlocalizable rejected | %.0f%% |\n", 100 * j["unlocalizable_rejected"].get<double>());
  out << absl::StrFormat("| server latency p50 / p90 / p99 | %.0f / %.0f / %.0f ms |\n", j["latency_ms"]["p50"].get<double>(),
                         j["latency_ms"]["p90"].get<double>(), j["latency_ms"]["p99"].get<double>());
  if (j.contains("client_latency_ms")) {
    out << absl::StrFormat("| client round trip p50 / p90 / p99 | %.0f / %.0f / %.0f ms |\n",
                           j["client_latency_ms"]["p50"].get<double>(), j["client_latency_ms"]["p90"].get<double>(),
                           j["client_latency_ms"]["p99"].get<double>());
  }
  for (const auto& [stage, v] : j["stages_ms"].items()) {
    out << absl::StrFormat("| stage %s p50 | %.1f ms |\n", stage, v["p50"].get<double>());
  }
  return out.str();
}

}  // namespace armap::loc
