// `armap eval pois`: the package's POIs against the synthetic city's
// gt/pois.geojson (sign centres with their zh and en names).
#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/status.h"
#include "mapping/products/pois.h"
#include "mapping/products/pois_text.h"

namespace armap::mapping {
namespace {

namespace fs = std::filesystem;
using internal::CharacterErrorRate;

struct GtPoi {
  std::string name, name_en, category;
  Eigen::Vector3d position = Eigen::Vector3d::Zero();
  int building_id = -1;
  bool observable = true;
};

double Median(std::vector<double> v) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

absl::StatusOr<GeoPoint> ReadOrigin(const fs::path& map_dir) {
  const fs::path path = map_dir / "manifest.json";
  ARMAP_ASSIGN_OR_RETURN(Json m, ReadJsonFile(path));
  ARMAP_ASSIGN_OR_RETURN(Json origin, GetJsonField<Json>(m, "origin", path.string()));
  GeoPoint g;
  ARMAP_ASSIGN_OR_RETURN(g.lat_deg, GetJsonField<double>(origin, "lat", path.string() + ": origin"));
  ARMAP_ASSIGN_OR_RETURN(g.lon_deg, GetJsonField<double>(origin, "lon", path.string() + ": origin"));
  ARMAP_ASSIGN_OR_RETURN(g.alt_m, GetJsonField<double>(origin, "alt", path.string() + ": origin"));
  return g;
}

// Panorama centres from views.json (each view's camera centre; views of one
// panorama share it).
absl::StatusOr<std::vector<Eigen::Vector3d>> ReadPanoCentres(const fs::path& map_dir) {
  const fs::path path = map_dir / "views.json";
  ARMAP_ASSIGN_OR_RETURN(Json doc, ReadJsonFile(path));
  ARMAP_ASSIGN_OR_RETURN(Json views, GetJsonField<Json>(doc, "views", path.string()));
  std::map<std::string, Eigen::Vector3d> by_source;
  for (size_t i = 0; i < views.size(); ++i) {
    const std::string w = absl::StrCat(path.string(), ": views[", i, "]");
    ARMAP_ASSIGN_OR_RETURN(std::string source, GetJsonField<std::string>(views[i], "source", w));
    ARMAP_ASSIGN_OR_RETURN(Json pose, GetJsonField<Json>(views[i], "cam_from_world", w));
    ARMAP_ASSIGN_OR_RETURN(std::vector<double> q, GetJsonField<std::vector<double>>(pose, "q", w + ".cam_from_world"));
    ARMAP_ASSIGN_OR_RETURN(std::vector<double> t, GetJsonField<std::vector<double>>(pose, "t", w + ".cam_from_world"));
    if (q.size() != 4 || t.size() != 3) return absl::InvalidArgumentError(w + ".cam_from_world: expected q[4], t[3]");
    const Eigen::Quaterniond rot(q[0], q[1], q[2], q[3]);
    by_source[source] = -(rot.normalized().inverse() * Eigen::Vector3d(t[0], t[1], t[2]));
  }
  std::vector<Eigen::Vector3d> out;
  for (const auto& [name, c] : by_source) out.push_back(c);
  return out;
}

// Outward normal of the footprint edge nearest to p, per building id.
absl::StatusOr<std::map<int, std::vector<std::vector<Eigen::Vector2d>>>> ReadFootprints(const fs::path& path,
                                                                                         const EnuFrame& frame) {
  ARMAP_ASSIGN_OR_RETURN(Json doc, ReadJsonFile(path));
  ARMAP_ASSIGN_OR_RETURN(Json features, GetJsonField<Json>(doc, "features", path.string()));
  std::map<int, std::vector<std::vector<Eigen::Vector2d>>> out;
  for (size_t i = 0; i < features.size(); ++i) {
    const std::string w = absl::StrCat(path.string(), ": features[", i, "]");
    ARMAP_ASSIGN_OR_RETURN(Json props, GetJsonField<Json>(features[i], "properties", w));
    if (!props.contains("id")) continue;
    ARMAP_ASSIGN_OR_RETURN(int id, GetJsonField<int>(props, "id", w + ".properties"));
    ARMAP_ASSIGN_OR_RETURN(Json geometry, GetJsonField<Json>(features[i], "geometry", w));
    ARMAP_ASSIGN_OR_RETURN(std::string type, GetJsonField<std::string>(geometry, "type", w + ".geometry"));
    if (type != "Polygon") continue;
    ARMAP_ASSIGN_OR_RETURN(auto rings, (GetJsonField<std::vector<std::vector<std::vector<double>>>>(
                                           geometry, "coordinates", w + ".geometry")));
    if (rings.empty()) continue;
    std::vector<Eigen::Vector2d> ring;
    for (const auto& c : rings[0]) {
      if (c.size() < 2) return absl::InvalidArgumentError(w + ".geometry.coordinates: a position needs lon, lat");
      ring.push_back(frame.EnuFromWgs84({c[1], c[0], 0.0}).head<2>());
    }
    out[id].push_back(ring);
  }
  return out;
}

std::optional<Eigen::Vector2d> OutwardNormal(const std::vector<std::vector<Eigen::Vector2d>>& rings,
                                             const Eigen::Vector2d& p) {
  double best = std::numeric_limits<double>::infinity();
  std::optional<Eigen::Vector2d> normal;
  for (const auto& ring : rings) {
    double area2 = 0;
    for (size_t i = 0; i + 1 < ring.size(); ++i) area2 += ring[i].x() * ring[i + 1].y() - ring[i + 1].x() * ring[i].y();
    for (size_t i = 0; i + 1 < ring.size(); ++i) {
      const Eigen::Vector2d a = ring[i], b = ring[i + 1];
      const double len = (b - a).norm();
      if (len < 1e-6) continue;
      const double t = std::clamp((p - a).dot(b - a) / (len * len), 0.0, 1.0);
      const double dist = (a + t * (b - a) - p).norm();
      if (dist < best) {
        best = dist;
        const Eigen::Vector2d d = (b - a) / len;
        // CCW ring: the outside is right of the edge.
        normal = area2 > 0 ? Eigen::Vector2d(d.y(), -d.x()) : Eigen::Vector2d(-d.y(), d.x());
      }
    }
  }
  return normal;
}

std::optional<fs::path> FindPoisFile(const fs::path& map_dir) {
  for (const fs::path& p : {map_dir / "pois" / "pois.geojson", map_dir / "pois.geojson",
                            map_dir / "products" / "pois" / "pois.geojson", map_dir / "products" / "pois.geojson"}) {
    if (fs::exists(p)) return p;
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<OrderedJson> EvaluatePois(const fs::path& map_dir, const fs::path& gt) {
  constexpr double kMatchDistanceM = 2.0, kMaxCer = 0.2, kObservableRangeM = 40.0, kObservableAngleDeg = 75.0;
  const fs::path gt_file = fs::is_directory(gt) ? gt / "pois.geojson" : gt;
  if (!fs::exists(gt_file)) return absl::NotFoundError(absl::StrCat("ground truth ", gt_file.string(), " not found"));
  ARMAP_ASSIGN_OR_RETURN(GeoPoint origin, ReadOrigin(map_dir));
  const EnuFrame frame(origin);
  const std::optional<fs::path> ours_file = FindPoisFile(map_dir);
  if (!ours_file) {
    return absl::NotFoundError(
        absl::StrCat(map_dir.string(), " has no pois.geojson (looked in pois/, the package root and products/)"));
  }
  ARMAP_ASSIGN_OR_RETURN(PoiSet ours, ReadPois(*ours_file, frame));

  // Ground truth.
  ARMAP_ASSIGN_OR_RETURN(Json doc, ReadJsonFile(gt_file));
  ARMAP_ASSIGN_OR_RETURN(Json features, GetJsonField<Json>(doc, "features", gt_file.string()));
  std::vector<GtPoi> truth;
  for (size_t i = 0; i < features.size(); ++i) {
    const std::string w = absl::StrCat(gt_file.string(), ": features[", i, "].properties");
    ARMAP_ASSIGN_OR_RETURN(Json props, GetJsonField<Json>(features[i], "properties", w));
    GtPoi g;
    ARMAP_ASSIGN_OR_RETURN(g.name, GetJsonField<std::string>(props, "name", w));
    if (props.contains("name_en")) {
      ARMAP_ASSIGN_OR_RETURN(g.name_en, GetJsonField<std::string>(props, "name_en", w));
    }
    if (props.contains("category")) {
      ARMAP_ASSIGN_OR_RETURN(g.category, GetJsonField<std::string>(props, "category", w));
    }
    if (props.contains("building_id")) {
      ARMAP_ASSIGN_OR_RETURN(g.building_id, GetJsonField<int>(props, "building_id", w));
    }
    if (props.contains("position_enu")) {
      ARMAP_ASSIGN_OR_RETURN(std::vector<double> e, GetJsonField<std::vector<double>>(props, "position_enu", w));
      if (e.size() != 3) return absl::InvalidArgumentError(w + ".position_enu: expected [x, y, z]");
      g.position = Eigen::Vector3d(e[0], e[1], e[2]);
    } else {
      const std::string wg = absl::StrCat(gt_file.string(), ": features[", i, "].geometry");
      ARMAP_ASSIGN_OR_RETURN(Json geometry, GetJsonField<Json>(features[i], "geometry", wg));
      ARMAP_ASSIGN_OR_RETURN(std::vector<double> c, GetJsonField<std::vector<double>>(geometry, "coordinates", wg));
      if (c.size() < 2) return absl::InvalidArgumentError(wg + ".coordinates: expected [lon, lat(, alt)]");
      g.position = frame.EnuFromWgs84({c[1], c[0], c.size() > 2 ? c[2] : 0.0});
    }
    truth.push_back(std::move(g));
  }

  // Observable: a panorama of the package within 40 m sees the sign's front
  // (within 75 deg of its facade normal, from gt/buildings.geojson beside
  // the POIs; without that file, distance alone). Occlusion is not modelled.
  ARMAP_ASSIGN_OR_RETURN(std::vector<Eigen::Vector3d> panos, ReadPanoCentres(map_dir));
  const fs::path buildings_file = gt_file.parent_path() / "buildings.geojson";
  std::map<int, std::vector<std::vector<Eigen::Vector2d>>> footprints;
  const bool have_buildings = fs::exists(buildings_file);
  if (have_buildings) {
      ARMAP_ASSIGN_OR_RETURN(footprints, ReadFootprints(buildings_file, frame));
    }
  int num_observable = 0;
  for (GtPoi& g : truth) {
    std::optional<Eigen::Vector2d> normal;
    auto it = footprints.find(g.building_id);
    if (it != footprints.end()) normal = OutwardNormal(it->second, g.position.head<2>());
    g.observable = false;
    for (const Eigen::Vector3d& c : panos) {
      const Eigen::Vector2d v = (c - g.position).head<2>();
      if (v.norm() > kObservableRangeM) continue;
      if (normal && v.normalized().dot(*normal) < std::cos(kObservableAngleDeg * M_PI / 180.0)) continue;
      g.observable = true;
      break;
    }
    num_observable += g.observable;
  }

  // Name error of a pair: the better of our name against the gt zh and en
  // names (and our English name against the gt en name).
  auto pair_cer = [](const Poi& p, const GtPoi& g) {
    double cer = CharacterErrorRate(p.name, g.name);
    if (!g.name_en.empty()) {
      cer = std::min(cer, CharacterErrorRate(p.name, g.name_en));
      if (!p.name_en.empty()) cer = std::min(cer, CharacterErrorRate(p.name_en, g.name_en));
    }
    return cer;
  };
  struct Pair { size_t ours, gt; double cer, dist; };
  std::vector<Pair> pairs;
  std::vector<double> nearest_cer;
  for (size_t i = 0; i < ours.pois.size(); ++i) {
    double best_d = std::numeric_limits<double>::infinity();
    double best_cer = 1.0;
    for (size_t j = 0; j < truth.size(); ++j) {
      const double d = (ours.pois[i].position - truth[j].position).norm();
      if (d > kMatchDistanceM) continue;
      const double cer = pair_cer(ours.pois[i], truth[j]);
      if (d < best_d) best_d = d, best_cer = cer;
      if (cer <= kMaxCer) pairs.push_back({i, j, cer, d});
    }
    if (std::isfinite(best_d)) nearest_cer.push_back(best_cer);
  }
  // One-to-one: best names first, then nearest.
  std::sort(pairs.begin(), pairs.end(),
            [](const Pair& a, const Pair& b) { return a.cer != b.cer ? a.cer < b.cer : a.dist < b.dist; });
  std::vector<int> match_of_gt(truth.size(), -1);
  std::vector<char> used_ours(ours.pois.size(), 0), used_gt(truth.size(), 0);
  std::vector<double> cers, dists;
  int matched_observable = 0, category_correct = 0;
  for (const Pair& p : pairs) {
    if (used_ours[p.ours] || used_gt[p.gt]) continue;
    used_ours[p.ours] = used_gt[p.gt] = 1;
    match_of_gt[p.gt] = static_cast<int>(p.ours);
    cers.push_back(p.cer);
    dists.push_back(p.dist);
    matched_observable += truth[p.gt].observable;
    category_correct += ours.pois[p.ours].category == truth[p.gt].category;
  }
  const int matched = static_cast<int>(cers.size());
  const int num_ours = static_cast<int>(ours.pois.size());
  const double precision = num_ours ? matched / double(num_ours) : 0.0;
  auto num = [](double v) { return std::isfinite(v) ? OrderedJson(v) : OrderedJson(nullptr); };
  OrderedJson report;
  report["precision"] = precision;
  report["recall"] = num_observable ? matched_observable / double(num_observable) : 0.0;
  report["name_cer_median"] = num(Median(cers));
  report["position_err_median_m"] = num(Median(dists));
  report["pois_found"] = num_ours;
  report["pois_matched"] = matched;
  report["gt_observable"] = num_observable;
  report["gt_matched_observable"] = matched_observable;
  report["name_cer_median_nearest_2m"] = num(Median(nearest_cer));
  report["category_accuracy"] = matched ? category_correct / double(matched) : 0.0;
  report["all_gt"] = {{"precision", precision},
                      {"recall", truth.empty() ? 0.0 : matched / double(truth.size())},
                      {"name_cer_median", num(Median(cers))},
                      {"position_err_median_m", num(Median(dists))},
                      {"gt", truth.size()}};
  report["rules"] = {
      {"match", "within 2 m (3D) and CER <= 0.2; one-to-one, lowest CER first"},
      {"cer", "Levenshtein on Unicode code points, spaces ignored, ASCII case ignored, over the gt length; the better "
              "of our name vs gt name (zh) and vs gt name_en, and our name_en vs gt name_en"},
      {"name_cer_median", "over matched POIs (name_cer_median_nearest_2m: over each POI's nearest gt within 2 m)"},
      {"observable", have_buildings ? "a package panorama within 40 m, within 75 deg of the sign's facade normal "
                                      "(gt buildings.geojson); occlusion not modelled"
                                    : "a package panorama within 40 m (no buildings.geojson beside the gt)"},
      {"recall", "matched observable gt / observable gt; all_gt.recall: matched / all gt"}};
  // Per gt sign: observable or not, and the POI matched to it (for the
  // per-sign diagnosis of a run).
  OrderedJson per_gt = OrderedJson::array();
  for (size_t j = 0; j < truth.size(); ++j) {
    OrderedJson e{{"name", truth[j].name}, {"observable", truth[j].observable}};
    if (match_of_gt[j] >= 0) {
      const Poi& p = ours.pois[match_of_gt[j]];
      e["matched"] = {{"id", p.id}, {"name", p.name}, {"distance_m", (p.position - truth[j].position).norm()}};
    }
    per_gt.push_back(std::move(e));
  }
  report["per_gt"] = std::move(per_gt);
  report["pois_file"] = ours_file->string();
  report["gt_file"] = gt_file.string();
  return report;
}

std::string PoiEvalMarkdown(const OrderedJson& r) {
  auto f = [](const OrderedJson& v, const char* fmt) {
    return v.is_number() ? absl::StrFormat(fmt, v.get<double>()) : std::string("n/a");
  };
  std::string s = "| POIs | observable gt | all gt |\n|---|---|---|\n";
  s += absl::StrCat("| precision | ", f(r["precision"], "%.3f"), " | ", f(r["all_gt"]["precision"], "%.3f"), " |\n");
  s += absl::StrCat("| recall | ", f(r["recall"], "%.3f"), " (", r["gt_matched_observable"].get<int>(), "/",
                    r["gt_observable"].get<int>(), ") | ", f(r["all_gt"]["recall"], "%.3f"), " (",
                    r["pois_matched"].get<int>(), "/", r["all_gt"]["gt"].get<int>(), ") |\n");
  s += absl::StrCat("| name CER median (matched) | ", f(r["name_cer_median"], "%.3f"), " | ",
                    f(r["all_gt"]["name_cer_median"], "%.3f"), " |\n");
  s += absl::StrCat("| position error median | ", f(r["position_err_median_m"], "%.2f m"), " | ",
                    f(r["all_gt"]["position_err_median_m"], "%.2f m"), " |\n");
  s += absl::StrCat("| POIs found / matched | ", r["pois_found"].get<int>(), " / ", r["pois_matched"].get<int>(),
                    " | |\n");
  s += absl::StrCat("| category accuracy (matched) | ", f(r["category_accuracy"], "%.3f"), " | |\n");
  return s;
}

}  // namespace armap::mapping
