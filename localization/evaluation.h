// Accuracy and latency of visual positioning against ground truth, with the
// field's metrics (EVALUATION.md): recall at (0.25 m, 2 deg), (0.5 m, 5 deg),
// (5 m, 10 deg) over the localizable queries (failures count as misses),
// confident-wrong answers, rejection of deliberately unlocalizable queries,
// and latency percentiles per stage.
//
// The keys of ToJson() are a contract (the visual positioning issue):
// num_queries, num_localized, recall.{"0.25m_2deg","0.5m_5deg","5m_10deg"},
// median_pos_err_m, median_rot_err_deg, false_confident,
// unlocalizable_rejected, latency_ms.{p50,p90,p99}, stages_ms.<stage>.p50.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/json.h"
#include "core/rigid3.h"
#include "localization/localizer.h"

namespace armap::loc {

struct GroundTruthQuery {
  std::string name;
  Rigid3d cam_from_world;
  bool localizable = true;
};

// Reads gt/queries_gt.json ({"queries": [{name, cam_from_world {q, t},
// localizable}]}). Errors name the file and the entry.
[[nodiscard]] absl::StatusOr<std::vector<GroundTruthQuery>> ReadGroundTruthQueries(const std::string& path);

struct NamedQuery {
  std::string name;
  Query query;
};

// Reads a capture's queries.json ({"queries": [{name, image, camera {model,
// width, height, params}, prior {lat, lon, alt, accuracy_m, gravity}}]});
// images are read relative to the file's folder. Errors name the file and
// the entry.
[[nodiscard]] absl::StatusOr<std::vector<NamedQuery>> ReadQueriesFile(const std::string& path);

struct EvalAnswer {
  bool success = false;
  double confidence = 0;
  Rigid3d cam_from_world;
  std::string failure_reason;
  int num_inliers = 0;
  // Server-side wall time from the decoded request to the response.
  double latency_ms = 0;
  // Round trip seen by the client (0 when evaluated in-process).
  double client_ms = 0;
  std::vector<std::pair<std::string, double>> stage_ms;
};

class LocalizationEvaluation {
 public:
  // Thresholds for "confident but wrong" (EVALUATION.md).
  static constexpr double kWrongPositionM = 5.0;
  static constexpr double kWrongRotationDeg = 10.0;

  void Add(const GroundTruthQuery& truth, const EvalAnswer& answer);

  OrderedJson ToJson() const;
  // A markdown table of the headline figures.
  std::string ToMarkdown() const;

 private:
  struct Row {
    GroundTruthQuery truth;
    EvalAnswer answer;
    double pos_err_m = 0;
    double rot_err_deg = 0;
  };
  std::vector<Row> rows_;
};

// The q-quantile (0..1) of `values` by linear interpolation; 0 when empty.
double Quantile(std::vector<double> values, double q);

}  // namespace armap::loc
