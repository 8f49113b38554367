// `armap eval whitemodel`: the package's white models against
// gt/buildings.geojson.
#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

#include <Eigen/Geometry>

#include "absl/strings/str_cat.h"
#include "core/json.h"
#include "core/status.h"
#include "mapping/products/whitemodel.h"
#include "mapping/products/whitemodel_geometry.h"

namespace armap::mapping {

namespace {

using internal::Polygon2;

// A gt building counts as found when a model overlaps it with IoU >= 0.5.
constexpr double kFoundIoU = 0.5;
// "Observed": at least this fraction of the gt outline is in plan line of
// sight (other gt footprints occlude) within the lidar's range of a capture
// position (the panoramas' centres in views.json).
constexpr double kObservedOutlineFraction = 0.25;
constexpr double kLidarRangeM = 100.0;

double QuantileOf(std::vector<double> v, double q) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const double pos = q * (v.size() - 1);
  const size_t i = static_cast<size_t>(pos);
  const double f = pos - i;
  return i + 1 < v.size() ? v[i] * (1 - f) + v[i + 1] * f : v[i];
}

absl::StatusOr<std::vector<Eigen::Vector2d>> CapturePositions(const std::filesystem::path& views_json) {
  ARMAP_ASSIGN_OR_RETURN(const Json doc, ReadJsonFile(views_json));
  const std::string where = views_json.string();
  if (!doc.contains("views") || !doc["views"].is_array())
    return absl::InvalidArgumentError(absl::StrCat(where, ": missing array 'views'"));
  std::vector<Eigen::Vector2d> centres;
  std::set<std::string> seen;
  for (size_t i = 0; i < doc["views"].size(); ++i) {
    const Json& v = doc["views"][i];
    const std::string vw = absl::StrCat(where, ": views[", i, "]");
    const std::string source = v.value("source", absl::StrCat(i));
    if (!seen.insert(source).second) continue;
    if (!v.contains("cam_from_world") || !v["cam_from_world"].contains("q") || !v["cam_from_world"].contains("t"))
      return absl::InvalidArgumentError(absl::StrCat(vw, ": missing cam_from_world {q, t}"));
    ARMAP_ASSIGN_OR_RETURN(const std::vector<double> q, GetJsonField<std::vector<double>>(v["cam_from_world"], "q", vw));
    ARMAP_ASSIGN_OR_RETURN(const std::vector<double> t, GetJsonField<std::vector<double>>(v["cam_from_world"], "t", vw));
    if (q.size() != 4 || t.size() != 3) return absl::InvalidArgumentError(absl::StrCat(vw, ": q needs 4 values, t 3"));
    const Eigen::Quaterniond rot(q[0], q[1], q[2], q[3]);
    const Eigen::Vector3d centre = -(rot.normalized().conjugate() * Eigen::Vector3d(t[0], t[1], t[2]));
    centres.push_back(centre.head<2>());
  }
  return centres;
}

double ObservedFraction(size_t k, const std::vector<Polygon2>& gts, const std::vector<Eigen::Vector2d>& capture) {
  const Polygon2& o = gts[k];
  double total = 0, visible = 0;
  for (size_t i = 0; i < o.size(); ++i) {
    const Eigen::Vector2d a = o[i], b = o[(i + 1) % o.size()];
    const double len = (b - a).norm();
    if (len < 1e-6) continue;
    const Eigen::Vector2d dir = (b - a) / len, out(dir.y(), -dir.x());  // CCW: outside on the right
    for (double s = 0.5; s < len; s += 1.0) {
      const Eigen::Vector2d x = a + dir * s + out * 0.2;
      total += 1;
      for (const Eigen::Vector2d& c : capture) {
        if ((c - x).norm() > kLidarRangeM || out.dot(c - x) <= 0) continue;
        if (!internal::SegmentHitsAnyOutline(x, c, gts, -1)) { visible += 1; break; }
      }
    }
  }
  return total > 0 ? visible / total : 0.0;
}

struct Figures {
  int gt = 0, found = 0;
  std::vector<double> ious, height_errors;
  OrderedJson ToJson() const {
    OrderedJson j;
    j["buildings_gt"] = gt;
    j["buildings_found"] = found;
    j["found_fraction"] = gt ? static_cast<double>(found) / gt : 0.0;
    j["footprint_iou_median"] = ious.empty() ? 0.0 : QuantileOf(ious, 0.5);
    j["footprint_iou_p10"] = ious.empty() ? 0.0 : QuantileOf(ious, 0.1);
    j["height_err_median_m"] = height_errors.empty() ? OrderedJson(nullptr) : OrderedJson(QuantileOf(height_errors, 0.5));
    return j;
  }
};

}  // namespace

absl::StatusOr<OrderedJson> EvaluateWhiteModels(const std::filesystem::path& map_dir, const std::filesystem::path& gt) {
  const std::filesystem::path gt_file = std::filesystem::is_directory(gt) ? gt / "buildings.geojson" : gt;
  if (!std::filesystem::exists(gt_file)) return absl::NotFoundError(absl::StrCat("ground truth ", gt_file.string(), " not found"));
  ARMAP_ASSIGN_OR_RETURN(const Json manifest, ReadJsonFile(map_dir / "manifest.json"));
  const std::string mwhere = (map_dir / "manifest.json").string();
  if (!manifest.contains("origin") || !manifest["origin"].is_object())
    return absl::InvalidArgumentError(absl::StrCat(mwhere, ": missing object 'origin'"));
  GeoPoint origin;
  ARMAP_ASSIGN_OR_RETURN(origin.lat_deg, GetJsonField<double>(manifest["origin"], "lat", mwhere + ".origin"));
  ARMAP_ASSIGN_OR_RETURN(origin.lon_deg, GetJsonField<double>(manifest["origin"], "lon", mwhere + ".origin"));
  ARMAP_ASSIGN_OR_RETURN(origin.alt_m, GetJsonField<double>(manifest["origin"], "alt", mwhere + ".origin"));
  const EnuFrame frame(origin);

  const std::filesystem::path models_dir = map_dir / "whitemodel";
  ARMAP_ASSIGN_OR_RETURN(const WhiteModelLevel full, ReadWhiteModelGeoJson(models_dir / "full.geojson", frame));
  ARMAP_ASSIGN_OR_RETURN(const WhiteModelLevel simplified, ReadWhiteModelGeoJson(models_dir / "simplified.geojson", frame));
  ARMAP_ASSIGN_OR_RETURN(const WhiteModelLevel truth, ReadWhiteModelGeoJson(gt_file, frame));

  std::vector<Eigen::Vector2d> capture;
  if (std::filesystem::exists(map_dir / "views.json")) {
    ARMAP_ASSIGN_OR_RETURN(capture, CapturePositions(map_dir / "views.json"));
  }
  std::vector<Polygon2> gt_outlines;
  for (const BuildingModel& b : truth.buildings) gt_outlines.push_back(b.footprint);

  Figures all, observed;
  all.gt = static_cast<int>(truth.buildings.size());
  OrderedJson per_building = OrderedJson::array();
  std::vector<double> simplified_ious;
  for (size_t k = 0; k < truth.buildings.size(); ++k) {
    const BuildingModel& g = truth.buildings[k];
    double best = 0;
    int best_model = -1;
    for (size_t m = 0; m < full.buildings.size(); ++m) {
      const double iou = internal::PolygonIoU(g.footprint, full.buildings[m].footprint);
      if (iou > best) { best = iou; best_model = static_cast<int>(m); }
    }
    double best_s = 0;
    for (const BuildingModel& s : simplified.buildings) best_s = std::max(best_s, internal::PolygonIoU(g.footprint, s.footprint));
    simplified_ious.push_back(best_s);
    const double seen = capture.empty() ? 1.0 : ObservedFraction(k, gt_outlines, capture);
    const bool is_observed = seen >= kObservedOutlineFraction;
    const bool found = best >= kFoundIoU;
    OrderedJson row;
    row["gt_id"] = g.id;
    row["observed_outline_fraction"] = seen;
    row["iou"] = best;
    row["gt_height_m"] = g.height_m;
    row["gt_lod"] = g.lod;
    if (best_model >= 0) {
      row["model_id"] = full.buildings[best_model].id;
      row["model_height_m"] = full.buildings[best_model].height_m;
      row["model_lod"] = full.buildings[best_model].lod;
    }
    row["found"] = found;
    per_building.push_back(row);
    for (Figures* f : {&all, &observed}) {
      if (f == &observed && !is_observed) continue;
      if (f == &observed) ++f->gt;
      f->ious.push_back(best);
      if (found) {
        ++f->found;
        f->height_errors.push_back(std::abs(full.buildings[best_model].height_m - g.height_m));
      }
    }
  }
  OrderedJson report = all.ToJson();
  const int vf = full.NumVertices(), vs = simplified.NumVertices();
  report["vertex_reduction_ratio"] = vf > 0 ? static_cast<double>(vs) / vf : 0.0;
  report["models_full"] = full.buildings.size();
  report["vertices_full"] = vf;
  report["vertices_simplified"] = vs;
  report["simplified_tolerance_m"] = simplified.tolerance_m;
  report["simplified_height_tolerance_m"] = simplified.height_tolerance_m;
  report["simplified_footprint_iou_median"] = simplified_ious.empty() ? 0.0 : QuantileOf(simplified_ious, 0.5);
  report["rules"] = {
      {"found", "a gt building is found when a full-level model overlaps it with footprint IoU >= 0.5"},
      {"footprint_iou", "per gt building, the best IoU of any full-level model (0 when none overlaps), over all gt buildings"},
      {"height_err", "|model height_m - gt height_m| over found buildings"},
      {"observed", "a gt building is observed when >= 25% of its outline is in plan line of sight (gt footprints "
                   "occlude) within 100 m (lidar range) of a capture position (views.json panorama centres)"}};
  report["observed"] = observed.ToJson();
  report["buildings"] = per_building;
  return report;
}

}  // namespace armap::mapping
