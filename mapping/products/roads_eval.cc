// The road network's files (GeoJSON in WGS84) and `armap eval roads`.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/map/package.h"
#include "core/status.h"
#include "mapping/products/roads.h"

namespace armap::mapping {
namespace {

namespace fs = std::filesystem;
using Vec2 = Eigen::Vector2d;
using Vec3 = Eigen::Vector3d;

Json Coordinate(const EnuFrame& frame, const Vec3& p) {
  const GeoPoint g = frame.Wgs84FromEnu(p);
  return Json::array({g.lon_deg, g.lat_deg, g.alt_m});
}

// [lon, lat(, alt)] -> map frame; a missing altitude is the origin's.
absl::StatusOr<Vec3> FromCoordinate(const EnuFrame& frame, const Json& c, const std::string& where) {
  if (!c.is_array() || c.size() < 2 || !c[0].is_number() || !c[1].is_number()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": a coordinate must be [lon, lat] or [lon, lat, alt]"));
  }
  GeoPoint g;
  g.lon_deg = c[0].get<double>();
  g.lat_deg = c[1].get<double>();
  g.alt_m = c.size() >= 3 && c[2].is_number() ? c[2].get<double>() : frame.origin().alt_m;
  if (!std::isfinite(g.lon_deg) || !std::isfinite(g.lat_deg) || std::abs(g.lat_deg) > 90) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": coordinate out of range"));
  }
  return frame.EnuFromWgs84(g);
}

absl::StatusOr<std::vector<Vec3>> FromLineString(const EnuFrame& frame, const Json& geometry, const std::string& where) {
  if (!geometry.is_object() || geometry.value("type", "") != "LineString" || !geometry.contains("coordinates") ||
      !geometry["coordinates"].is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": geometry must be a LineString with coordinates"));
  }
  std::vector<Vec3> line;
  for (const Json& c : geometry["coordinates"]) {
    ARMAP_ASSIGN_OR_RETURN(Vec3 p, FromCoordinate(frame, c, where));
    line.push_back(p);
  }
  if (line.size() < 2) return absl::InvalidArgumentError(absl::StrCat(where, ": a LineString needs 2+ coordinates"));
  return line;
}

absl::StatusOr<Json> ReadFeatureCollection(const fs::path& path) {
  ARMAP_ASSIGN_OR_RETURN(Json doc, ReadJsonFile(path));
  if (!doc.is_object() || doc.value("type", "") != "FeatureCollection" || !doc.contains("features") ||
      !doc["features"].is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(path.string(), ": not a GeoJSON FeatureCollection with 'features'"));
  }
  return doc;
}

// Distances from points to a set of polylines, through a grid of segments.
class SegmentIndex {
 public:
  explicit SegmentIndex(double cell_m) : cell_m_(cell_m) {}
  void Add(const Vec2& a, const Vec2& b, int tag) {
    const int id = static_cast<int>(segments_.size());
    segments_.push_back({a, b, tag});
    const long x0 = Key(std::min(a.x(), b.x())), x1 = Key(std::max(a.x(), b.x()));
    const long y0 = Key(std::min(a.y(), b.y())), y1 = Key(std::max(a.y(), b.y()));
    for (long x = x0; x <= x1; ++x) {
      for (long y = y0; y <= y1; ++y) cells_[Hash(x, y)].push_back(id);
    }
  }
  // Nearest segment within one cell edge (else +inf); tag of that segment.
  double Distance(const Vec2& p, int* tag = nullptr) const {
    double best = std::numeric_limits<double>::infinity();
    const long cx = Key(p.x()), cy = Key(p.y());
    for (long x = cx - 1; x <= cx + 1; ++x) {
      for (long y = cy - 1; y <= cy + 1; ++y) {
        auto it = cells_.find(Hash(x, y));
        if (it == cells_.end()) continue;
        for (int id : it->second) {
          const Segment& s = segments_[id];
          const Vec2 ab = s.b - s.a;
          const double len2 = ab.squaredNorm();
          const double t = len2 > 0 ? std::clamp((p - s.a).dot(ab) / len2, 0.0, 1.0) : 0.0;
          const double d = (s.a + t * ab - p).norm();
          if (d < best) {
            best = d;
            if (tag) *tag = s.tag;
          }
        }
      }
    }
    return best <= cell_m_ ? best : std::numeric_limits<double>::infinity();
  }

 private:
  struct Segment {
    Vec2 a, b;
    int tag;
  };
  long Key(double v) const { return static_cast<long>(std::floor(v / cell_m_)); }
  static long long Hash(long x, long y) { return (static_cast<long long>(x) << 32) ^ (static_cast<long long>(y) & 0xffffffffLL); }
  double cell_m_;
  std::vector<Segment> segments_;
  std::unordered_map<long long, std::vector<int>> cells_;
};

bool InRing(const std::vector<Vec2>& ring, const Vec2& p) {
  bool inside = false;
  for (size_t i = 0, j = ring.size() - 1; i < ring.size(); j = i++) {
    const Vec2& a = ring[i];
    const Vec2& b = ring[j];
    if ((a.y() > p.y()) != (b.y() > p.y()) && p.x() < (b.x() - a.x()) * (p.y() - a.y()) / (b.y() - a.y()) + a.x()) inside = !inside;
  }
  return inside;
}

bool InCoverage(const std::vector<RoadPolygon>& coverage, const Vec2& p) {
  for (const RoadPolygon& polygon : coverage) {
    if (polygon.empty() || !InRing(polygon[0], p)) continue;
    bool in_hole = false;
    for (size_t h = 1; h < polygon.size() && !in_hole; ++h) in_hole = InRing(polygon[h], p);
    if (!in_hole) return true;
  }
  return false;
}

struct Line {
  std::vector<Vec2> points;
  std::string kind;
  double width_m = 0.0;
};

// Points every step_m along a line, each standing for step_m of its length.
std::vector<Vec2> Samples(const std::vector<Vec2>& line, double step_m) {
  std::vector<Vec2> out;
  for (size_t i = 1; i < line.size(); ++i) {
    const Vec2 a = line[i - 1], b = line[i];
    const double len = (b - a).norm();
    const int n = std::max(1, static_cast<int>(std::ceil(len / step_m)));
    for (int k = 0; k < n; ++k) out.push_back(a + (b - a) * ((k + 0.5) / n));
  }
  return out;
}

constexpr double kMatchRadiusM = 2.0;
constexpr double kJunctionRadiusM = 3.0;
constexpr double kStepM = 0.1;

// The four contract figures (and counts) of `ours` against `gt`.
OrderedJson Figures(const std::vector<Line>& ours, const std::vector<Vec2>& our_junctions, const std::vector<Line>& gt,
                    const std::vector<Vec2>& gt_junctions) {
  SegmentIndex gt_index(kMatchRadiusM), our_index(kMatchRadiusM);
  for (int i = 0; i < static_cast<int>(gt.size()); ++i) {
    for (size_t k = 1; k < gt[i].points.size(); ++k) gt_index.Add(gt[i].points[k - 1], gt[i].points[k], i);
  }
  for (int i = 0; i < static_cast<int>(ours.size()); ++i) {
    for (size_t k = 1; k < ours[i].points.size(); ++k) our_index.Add(ours[i].points[k - 1], ours[i].points[k], i);
  }
  double our_length = 0, matched = 0, offset_sum = 0;
  std::vector<double> width_errors;
  for (const Line& l : ours) {
    for (size_t k = 1; k < l.points.size(); ++k) our_length += (l.points[k] - l.points[k - 1]).norm();
    for (const Vec2& p : Samples(l.points, kStepM)) {
      int tag = -1;
      const double d = gt_index.Distance(p, &tag);
      if (d > kMatchRadiusM) continue;
      matched += 1;
      offset_sum += d;
      if (l.kind == "sidewalk" && gt[tag].kind == "sidewalk" && gt[tag].width_m > 0) width_errors.push_back(l.width_m - gt[tag].width_m);
    }
  }
  const double num_our_samples = [&] {
    double n = 0;
    for (const Line& l : ours) n += static_cast<double>(Samples(l.points, kStepM).size());
    return n;
  }();
  double gt_length = 0, recalled = 0;
  std::map<std::string, std::pair<double, double>> by_kind;  // recalled, total samples
  for (const Line& l : gt) {
    for (size_t k = 1; k < l.points.size(); ++k) gt_length += (l.points[k] - l.points[k - 1]).norm();
    for (const Vec2& p : Samples(l.points, kStepM)) {
      const bool hit = our_index.Distance(p) <= kMatchRadiusM;
      recalled += hit;
      by_kind[l.kind].first += hit;
      by_kind[l.kind].second += 1;
    }
  }
  const double num_gt_samples = [&] {
    double n = 0;
    for (const auto& [kind, v] : by_kind) n += v.second;
    return n;
  }();
  int junctions_found = 0;
  for (const Vec2& j : gt_junctions) {
    for (const Vec2& o : our_junctions) {
      if ((o - j).norm() <= kJunctionRadiusM) {
        ++junctions_found;
        break;
      }
    }
  }
  OrderedJson out;
  auto ratio = [](double a, double b) { return b > 0 ? Json(a / b) : Json(nullptr); };
  out["length_precision"] = ratio(matched, num_our_samples);
  out["length_recall"] = ratio(recalled, num_gt_samples);
  out["junction_recall"] = ratio(junctions_found, gt_junctions.size());
  out["mean_offset_m"] = matched > 0 ? Json(offset_sum / matched) : Json(nullptr);
  out["network_length_m"] = our_length;
  out["gt_length_m"] = gt_length;
  for (const auto& [kind, v] : by_kind) out["length_recall_by_kind"][kind] = ratio(v.first, v.second);
  out["junctions_gt"] = gt_junctions.size();
  out["junctions_found"] = junctions_found;
  if (!width_errors.empty()) {
    std::sort(width_errors.begin(), width_errors.end());
    out["sidewalk_width_bias_median_m"] = width_errors[width_errors.size() / 2];  // ours - GT
    for (double& w : width_errors) w = std::abs(w);
    std::sort(width_errors.begin(), width_errors.end());
    out["sidewalk_width_err_median_m"] = width_errors[width_errors.size() / 2];
  }
  return out;
}

// Runs of a line inside an area, as separate lines.
template <typename Inside>
std::vector<Line> ClipToArea(const Line& line, const Inside& inside) {
  std::vector<Line> out;
  Line current{{}, line.kind, line.width_m};
  for (size_t i = 1; i < line.points.size(); ++i) {
    const Vec2 a = line.points[i - 1], b = line.points[i];
    const int n = std::max(1, static_cast<int>(std::ceil((b - a).norm() / kStepM)));
    for (int k = 0; k <= n; ++k) {
      const Vec2 p = a + (b - a) * (static_cast<double>(k) / n);
      if (inside(p)) {
        current.points.push_back(p);
      } else if (!current.points.empty()) {
        if (current.points.size() >= 2) out.push_back(current);
        current.points.clear();
      }
    }
  }
  if (current.points.size() >= 2) out.push_back(current);
  return out;
}

}  // namespace

absl::Status WriteRoadNetwork(const RoadNetwork& network, const EnuFrame& frame, const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat(dir.string(), ": cannot create the folder: ", ec.message()));
  OrderedJson features = OrderedJson::array();
  for (const WalkNetworkNode& n : network.nodes) {
    features.push_back({{"type", "Feature"},
                        {"geometry", {{"type", "Point"}, {"coordinates", Coordinate(frame, n.position)}}},
                        {"properties", {{"kind", "walk_node"}, {"id", n.id}, {"degree", n.degree}}}});
  }
  for (const WalkNetworkEdge& e : network.edges) {
    Json coordinates = Json::array();
    for (const Vec3& p : e.polyline) coordinates.push_back(Coordinate(frame, p));
    features.push_back({{"type", "Feature"},
                        {"geometry", {{"type", "LineString"}, {"coordinates", coordinates}}},
                        {"properties", {{"kind", e.kind}, {"id", e.id}, {"from", e.from}, {"to", e.to},
                                        {"length_m", e.length_m}, {"width_m", e.width_m}}}});
  }
  OrderedJson doc{{"type", "FeatureCollection"},
                  {"name", "pedestrian network"},
                  {"features", features}};
  ARMAP_RETURN_IF_ERROR(WriteJsonFile(dir / "network.geojson", doc, -1));

  Json polygons = Json::array();
  for (const RoadPolygon& polygon : network.coverage) {
    Json rings = Json::array();
    for (const auto& ring : polygon) {
      Json r = Json::array();
      for (const Vec2& p : ring) r.push_back(Coordinate(frame, Vec3(p.x(), p.y(), 0)));
      if (!ring.empty()) r.push_back(r.front());  // GeoJSON rings are closed
      rings.push_back(r);
    }
    polygons.push_back(rings);
  }
  OrderedJson coverage{{"type", "FeatureCollection"},
                       {"name", "mapped area: ground covered by the capture's lidar"},
                       {"features", OrderedJson::array({{{"type", "Feature"},
                                                         {"geometry", {{"type", "MultiPolygon"}, {"coordinates", polygons}}},
                                                         {"properties", {{"kind", "coverage"},
                                                                         {"area_m2", network.summary.is_object() ? network.summary.value("coverage_area_m2", 0.0) : 0.0}}}}})}};
  return WriteJsonFile(dir / "coverage.geojson", coverage, -1);
}

absl::StatusOr<RoadNetwork> ReadRoadNetwork(const fs::path& network_geojson, const EnuFrame& frame) {
  ARMAP_ASSIGN_OR_RETURN(Json doc, ReadFeatureCollection(network_geojson));
  RoadNetwork network;
  std::map<int, int> node_index;
  for (size_t i = 0; i < doc["features"].size(); ++i) {
    const Json& f = doc["features"][i];
    const std::string where = absl::StrCat(network_geojson.string(), ": feature ", i);
    if (!f.is_object() || !f.contains("properties") || !f.contains("geometry")) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": needs 'geometry' and 'properties'"));
    }
    const Json& props = f["properties"];
    ARMAP_ASSIGN_OR_RETURN(std::string kind, GetJsonField<std::string>(props, "kind", where));
    ARMAP_ASSIGN_OR_RETURN(int id, GetJsonField<int>(props, "id", where));
    if (kind == "walk_node") {
      if (f["geometry"].value("type", "") != "Point" || !f["geometry"].contains("coordinates")) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": a walk_node must be a Point"));
      }
      WalkNetworkNode n;
      n.id = id;
      ARMAP_ASSIGN_OR_RETURN(n.position, FromCoordinate(frame, f["geometry"]["coordinates"], where));
      ARMAP_ASSIGN_OR_RETURN(n.degree, GetJsonField<int>(props, "degree", where));
      if (!node_index.emplace(id, static_cast<int>(network.nodes.size())).second) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": duplicate walk_node id ", id));
      }
      network.nodes.push_back(n);
    } else if (kind == "sidewalk" || kind == "crossing") {
      WalkNetworkEdge e;
      e.id = id;
      e.kind = kind;
      ARMAP_ASSIGN_OR_RETURN(e.from, GetJsonField<int>(props, "from", where));
      ARMAP_ASSIGN_OR_RETURN(e.to, GetJsonField<int>(props, "to", where));
      ARMAP_ASSIGN_OR_RETURN(e.length_m, GetJsonField<double>(props, "length_m", where));
      ARMAP_ASSIGN_OR_RETURN(e.width_m, GetJsonField<double>(props, "width_m", where));
      ARMAP_ASSIGN_OR_RETURN(e.polyline, FromLineString(frame, f["geometry"], where));
      network.edges.push_back(std::move(e));
    } else {
      return absl::InvalidArgumentError(absl::StrCat(where, ": unknown kind '", kind, "' (walk_node, sidewalk, crossing)"));
    }
  }
  for (const WalkNetworkEdge& e : network.edges) {
    if (!node_index.count(e.from) || !node_index.count(e.to)) {
      return absl::InvalidArgumentError(absl::StrCat(network_geojson.string(), ": edge ", e.id, " refers to a missing node (",
                                                     e.from, " -> ", e.to, ")"));
    }
  }
  return network;
}

absl::StatusOr<std::vector<RoadPolygon>> ReadRoadCoverage(const fs::path& coverage_geojson, const EnuFrame& frame) {
  ARMAP_ASSIGN_OR_RETURN(Json doc, ReadFeatureCollection(coverage_geojson));
  std::vector<RoadPolygon> out;
  for (size_t i = 0; i < doc["features"].size(); ++i) {
    const Json& f = doc["features"][i];
    const std::string where = absl::StrCat(coverage_geojson.string(), ": feature ", i);
    if (!f.is_object() || !f.contains("geometry") || !f["geometry"].is_object()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": needs a 'geometry'"));
    }
    const Json& g = f["geometry"];
    const std::string type = g.value("type", "");
    if ((type != "Polygon" && type != "MultiPolygon") || !g.contains("coordinates") || !g["coordinates"].is_array()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": geometry must be a Polygon or MultiPolygon"));
    }
    const Json polygons = type == "Polygon" ? Json::array({g["coordinates"]}) : g["coordinates"];
    for (const Json& polygon : polygons) {
      RoadPolygon p;
      if (!polygon.is_array()) return absl::InvalidArgumentError(absl::StrCat(where, ": a polygon must be an array of rings"));
      for (const Json& ring : polygon) {
        if (!ring.is_array()) return absl::InvalidArgumentError(absl::StrCat(where, ": a ring must be an array of coordinates"));
        std::vector<Vec2> r;
        for (const Json& c : ring) {
          ARMAP_ASSIGN_OR_RETURN(Vec3 q, FromCoordinate(frame, c, where));
          r.push_back(q.head<2>());
        }
        if (r.size() >= 2 && (r.front() - r.back()).norm() < 1e-6) r.pop_back();
        if (r.size() < 3) return absl::InvalidArgumentError(absl::StrCat(where, ": a ring needs 3+ distinct coordinates"));
        p.push_back(std::move(r));
      }
      if (!p.empty()) out.push_back(std::move(p));
    }
  }
  return out;
}

absl::StatusOr<OrderedJson> EvaluateRoadNetwork(const fs::path& map_dir, const fs::path& gt) {
  ARMAP_ASSIGN_OR_RETURN(map::Manifest manifest, map::ReadManifest(map_dir));
  const EnuFrame frame(manifest.origin);
  const fs::path network_path = map_dir / "roads" / "network.geojson";
  const fs::path coverage_path = map_dir / "roads" / "coverage.geojson";
  ARMAP_ASSIGN_OR_RETURN(RoadNetwork network, ReadRoadNetwork(network_path, frame));
  ARMAP_ASSIGN_OR_RETURN(std::vector<RoadPolygon> coverage, ReadRoadCoverage(coverage_path, frame));
  const fs::path gt_path = fs::is_directory(gt) ? gt / "roads.geojson" : gt;
  ARMAP_ASSIGN_OR_RETURN(Json gt_doc, ReadFeatureCollection(gt_path));

  std::vector<Line> gt_lines;
  std::map<int, Vec2> gt_nodes;
  std::map<int, int> gt_degree;
  for (size_t i = 0; i < gt_doc["features"].size(); ++i) {
    const Json& f = gt_doc["features"][i];
    const std::string where = absl::StrCat(gt_path.string(), ": feature ", i);
    if (!f.is_object() || !f.contains("properties") || !f.contains("geometry")) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": needs 'geometry' and 'properties'"));
    }
    ARMAP_ASSIGN_OR_RETURN(std::string kind, GetJsonField<std::string>(f["properties"], "kind", where));
    if (kind == "walk_node") {
      ARMAP_ASSIGN_OR_RETURN(int id, GetJsonField<int>(f["properties"], "id", where));
      if (f["geometry"].value("type", "") != "Point" || !f["geometry"].contains("coordinates")) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": a walk_node must be a Point"));
      }
      ARMAP_ASSIGN_OR_RETURN(Vec3 p, FromCoordinate(frame, f["geometry"]["coordinates"], where));
      gt_nodes[id] = p.head<2>();
    } else if (kind == "sidewalk" || kind == "crossing") {
      ARMAP_ASSIGN_OR_RETURN(std::vector<Vec3> line, FromLineString(frame, f["geometry"], where));
      ARMAP_ASSIGN_OR_RETURN(int from, GetJsonField<int>(f["properties"], "from", where));
      ARMAP_ASSIGN_OR_RETURN(int to, GetJsonField<int>(f["properties"], "to", where));
      ++gt_degree[from];
      ++gt_degree[to];
      Line l;
      l.kind = kind;
      l.width_m = f["properties"].value("width_m", 0.0);
      for (const Vec3& p : line) l.points.push_back(p.head<2>());
      gt_lines.push_back(std::move(l));
    }  // "road" (carriageway centrelines) is not pedestrian network
  }
  if (gt_lines.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(gt_path.string(), ": no sidewalk or crossing LineStrings (kind)"));
  }
  // GT junctions: walk nodes where 3+ GT pedestrian edges meet.
  std::vector<Vec2> gt_junctions, gt_junctions_mapped;
  for (const auto& [id, p] : gt_nodes) {
    if (gt_degree[id] < 3) continue;
    gt_junctions.push_back(p);
    if (InCoverage(coverage, p)) gt_junctions_mapped.push_back(p);  // (inside the GT extent by definition)
  }
  std::vector<Line> ours;
  std::map<int, int> our_degree;
  for (const WalkNetworkEdge& e : network.edges) {
    Line l;
    l.kind = e.kind;
    l.width_m = e.width_m;
    for (const Vec3& p : e.polyline) l.points.push_back(p.head<2>());
    ours.push_back(std::move(l));
    ++our_degree[e.from];
    ++our_degree[e.to];
  }
  std::vector<Vec2> our_junctions;
  for (const WalkNetworkNode& n : network.nodes) {
    if (our_degree[n.id] >= 3) our_junctions.push_back(n.position.head<2>());
  }
  // The mapped area: the coverage, within the extent the GT describes (its
  // bounding box: a synthetic city's GT stops at the city's edge while its
  // ground and streets, and so the lidar, may reach beyond).
  Eigen::AlignedBox2d gt_box;
  for (const Line& l : gt_lines) {
    for (const Vec2& p : l.points) gt_box.extend(p);
  }
  const RoadPolygon extent{{gt_box.min() - Vec2(1, 1), Vec2(gt_box.max().x() + 1, gt_box.min().y() - 1),
                            gt_box.max() + Vec2(1, 1), Vec2(gt_box.min().x() - 1, gt_box.max().y() + 1)}};
  auto in_mapped = [&](const Vec2& p) { return InCoverage(coverage, p) && InCoverage({extent}, p); };
  std::vector<Line> gt_mapped;
  for (const Line& l : gt_lines) {
    for (Line& piece : ClipToArea(l, in_mapped)) gt_mapped.push_back(std::move(piece));
  }

  OrderedJson report;
  report["scope"] =
      "top level: GT and network restricted to the mapped area (roads/coverage.geojson, the ground the capture's "
      "lidar covers, within the GT's bounding box); whole_gt: the whole network against all of the GT";
  report["match_radius_m"] = kMatchRadiusM;
  report["junction_radius_m"] = kJunctionRadiusM;
  report["junction_rule"] = "GT walk nodes where 3+ GT sidewalk/crossing edges meet, matched by one of our nodes of degree >= 3";
  // Both sides restricted to the mapped area (our network lies inside it
  // when built from this capture; a network from elsewhere is not judged
  // outside it).
  std::vector<Line> ours_mapped;
  for (const Line& l : ours) {
    for (Line& piece : ClipToArea(l, in_mapped)) ours_mapped.push_back(std::move(piece));
  }
  OrderedJson mapped = Figures(ours_mapped, our_junctions, gt_mapped, gt_junctions_mapped);
  for (auto it = mapped.begin(); it != mapped.end(); ++it) report[it.key()] = it.value();
  report["whole_gt"] = Figures(ours, our_junctions, gt_lines, gt_junctions);
  report["network"] = {{"nodes", network.nodes.size()},
                       {"edges", network.edges.size()},
                       {"crossings", std::count_if(network.edges.begin(), network.edges.end(),
                                                   [](const WalkNetworkEdge& e) { return e.kind == "crossing"; })},
                       {"junctions", our_junctions.size()}};
  report["map"] = map_dir.string();
  report["gt"] = gt_path.string();
  return report;
}

std::string RoadEvaluationMarkdown(const OrderedJson& evaluation) {
  auto cell = [](const OrderedJson& j, const char* key, const char* format) -> std::string {
    if (!j.contains(key) || !j[key].is_number()) return "-";
    return absl::StrFormat(format, j[key].get<double>());
  };
  const OrderedJson whole = evaluation.value("whole_gt", OrderedJson::object());
  std::string out = "| figure | mapped area | whole GT | goal |\n|---|---|---|---|\n";
  struct Row {
    const char* key;
    const char* format;
    const char* goal;
  };
  for (const Row& r : {Row{"length_precision", "%.3f", ">= 0.9"}, Row{"length_recall", "%.3f", ">= 0.9"},
                       Row{"junction_recall", "%.3f", ""}, Row{"mean_offset_m", "%.3f", "<= 0.5"},
                       Row{"network_length_m", "%.0f", ""}, Row{"gt_length_m", "%.0f", ""},
                       Row{"junctions_gt", "%.0f", ""}, Row{"junctions_found", "%.0f", ""},
                       Row{"sidewalk_width_err_median_m", "%.2f", ""}}) {
    absl::StrAppend(&out, "| ", r.key, " | ", cell(evaluation, r.key, r.format), " | ", cell(whole, r.key, r.format), " | ",
                    r.goal, " |\n");
  }
  return out;
}

}  // namespace armap::mapping
