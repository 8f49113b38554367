#include "navigation/walk_graph.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/json.h"
#include "core/status.h"

namespace armap::nav {
namespace {

bool Finite(const Eigen::Vector3d& p) { return p.allFinite(); }

double PlanarLength(const std::vector<Eigen::Vector3d>& line) {
  double length = 0;
  for (size_t i = 1; i < line.size(); ++i) length += (Xy(line[i]) - Xy(line[i - 1])).norm();
  return length;
}

// Decodes UTF-8 into code points (invalid bytes pass through as themselves).
std::u32string Utf32(const std::string& s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = s[i];
    int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
    if (i + n > s.size()) n = 1;
    char32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    for (int k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out.push_back(cp);
    i += n;
  }
  return out;
}

size_t EditDistance(const std::u32string& a, const std::u32string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

absl::StatusOr<Eigen::Vector3d> ReadPosition(const Json& coords, const EnuFrame& frame, const std::string& where) {
  if (!coords.is_array() || coords.size() < 2 || !coords[0].is_number() || !coords[1].is_number() ||
      (coords.size() > 2 && !coords[2].is_number()))
    return absl::InvalidArgumentError(absl::StrCat(where, ": a position must be [lon, lat(, alt)] numbers"));
  GeoPoint g;
  g.lon_deg = coords[0].get<double>();
  g.lat_deg = coords[1].get<double>();
  // Without an altitude the point lies on the map's reference plane.
  g.alt_m = coords.size() > 2 ? coords[2].get<double>() : frame.origin().alt_m;
  if (!std::isfinite(g.lat_deg) || !std::isfinite(g.lon_deg) || !std::isfinite(g.alt_m) || std::abs(g.lat_deg) > 90 ||
      std::abs(g.lon_deg) > 180)
    return absl::InvalidArgumentError(absl::StrCat(where, ": coordinates out of range or not finite"));
  Eigen::Vector3d p = frame.EnuFromWgs84(g);
  if (!Finite(p)) return absl::InvalidArgumentError(absl::StrCat(where, ": position not finite in the map frame"));
  return p;
}

absl::StatusOr<const Json*> Features(const Json& doc, const std::string& where) {
  if (!doc.is_object() || doc.value("type", "") != "FeatureCollection")
    return absl::InvalidArgumentError(absl::StrCat(where, ": not a GeoJSON FeatureCollection"));
  auto it = doc.find("features");
  if (it == doc.end() || !it->is_array())
    return absl::InvalidArgumentError(absl::StrCat(where, ": 'features' must be an array"));
  return &*it;
}

}  // namespace

const char* EdgeKindName(EdgeKind kind) { return kind == EdgeKind::kCrossing ? "crossing" : "sidewalk"; }

Eigen::Vector2d HeadingVector(double heading_deg) {
  const double h = heading_deg * M_PI / 180.0;
  return {std::sin(h), std::cos(h)};
}

double HeadingDegOf(const Eigen::Vector2d& d) {
  double h = std::atan2(d.x(), d.y()) * 180.0 / M_PI;
  return h < 0 ? h + 360.0 : h;
}

absl::Status SnapOptions::Validate() const {
  if (!(max_snap_distance_m > 0))
    return absl::InvalidArgumentError(absl::StrCat("SnapOptions::max_snap_distance_m = ", max_snap_distance_m, "; must be > 0"));
  if (!(heading_window_m >= 0))
    return absl::InvalidArgumentError(absl::StrCat("SnapOptions::heading_window_m = ", heading_window_m, "; must be >= 0"));
  if (!(heading_weight_m >= 0))
    return absl::InvalidArgumentError(absl::StrCat("SnapOptions::heading_weight_m = ", heading_weight_m, "; must be >= 0"));
  return absl::OkStatus();
}

absl::StatusOr<WalkGraph> WalkGraph::Create(std::vector<WalkNode> nodes, std::vector<WalkEdge> edges,
                                            std::vector<Poi> pois, const std::string& where) {
  if (nodes.empty() || edges.empty())
    return absl::InvalidArgumentError(absl::StrCat(where, ": the network has no walkable edges"));
  WalkGraph g;
  std::unordered_set<int64_t> node_ids;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (!Finite(nodes[i].position_in_map))
      return absl::InvalidArgumentError(absl::StrCat(where, ": node ", nodes[i].id, " has a non-finite position"));
    if (!node_ids.insert(nodes[i].id).second)
      return absl::InvalidArgumentError(absl::StrCat(where, ": duplicate node id ", nodes[i].id));
  }
  for (size_t i = 0; i < edges.size(); ++i) {
    WalkEdge& e = edges[i];
    const std::string at = absl::StrCat(where, ": edge ", e.id);
    if (e.from >= nodes.size() || e.to >= nodes.size())
      return absl::InvalidArgumentError(absl::StrCat(at, ": endpoint index out of range"));
    if (!(std::isfinite(e.length_m) && e.length_m > 0))
      return absl::InvalidArgumentError(absl::StrCat(at, ": length_m = ", e.length_m, "; must be > 0"));
    if (e.polyline_in_map.size() < 2) e.polyline_in_map = {nodes[e.from].position_in_map, nodes[e.to].position_in_map};
    for (const auto& p : e.polyline_in_map)
      if (!Finite(p)) return absl::InvalidArgumentError(absl::StrCat(at, ": non-finite coordinates"));
    // The file's nodes are authoritative for the endpoints.
    e.polyline_in_map.front() = nodes[e.from].position_in_map;
    e.polyline_in_map.back() = nodes[e.to].position_in_map;
    e.polyline_length_m = PlanarLength(e.polyline_in_map);
    if (!(e.polyline_length_m > 1e-6))
      return absl::InvalidArgumentError(absl::StrCat(at, ": geometry has zero length"));
  }
  g.nodes_ = std::move(nodes);
  g.edges_ = std::move(edges);
  g.pois_ = std::move(pois);

  const size_t n = g.nodes_.size();
  g.incident_offsets_.assign(n + 1, 0);
  for (const auto& e : g.edges_) {
    ++g.incident_offsets_[e.from + 1];
    if (e.to != e.from) ++g.incident_offsets_[e.to + 1];
  }
  for (size_t i = 0; i < n; ++i) g.incident_offsets_[i + 1] += g.incident_offsets_[i];
  g.incident_edges_.resize(g.incident_offsets_[n]);
  std::vector<uint32_t> fill(g.incident_offsets_.begin(), g.incident_offsets_.end() - 1);
  for (edge_t i = 0; i < g.edges_.size(); ++i) {
    g.incident_edges_[fill[g.edges_[i].from]++] = i;
    if (g.edges_[i].to != g.edges_[i].from) g.incident_edges_[fill[g.edges_[i].to]++] = i;
  }
  g.edge_by_id_.reserve(g.edges_.size());
  for (edge_t i = 0; i < g.edges_.size(); ++i) g.edge_by_id_.emplace_back(g.edges_[i].id, i);
  std::sort(g.edge_by_id_.begin(), g.edge_by_id_.end());
  for (size_t i = 1; i < g.edge_by_id_.size(); ++i)
    if (g.edge_by_id_[i].first == g.edge_by_id_[i - 1].first)
      return absl::InvalidArgumentError(absl::StrCat(where, ": duplicate edge id ", g.edge_by_id_[i].first));
  g.BuildIndex();
  return g;
}

void WalkGraph::BuildIndex() {
  bbox_min_ = bbox_max_ = Xy(nodes_[0].position_in_map);
  for (const auto& e : edges_)
    for (const auto& p : e.polyline_in_map) {
      bbox_min_ = bbox_min_.cwiseMin(Xy(p));
      bbox_max_ = bbox_max_.cwiseMax(Xy(p));
    }
  // About four segments per cell on average, never tiny cells.
  size_t num_segments = 0;
  for (const auto& e : edges_) num_segments += e.polyline_in_map.size() - 1;
  const Eigen::Vector2d extent = (bbox_max_ - bbox_min_).cwiseMax(1.0);
  cell_m_ = std::max(5.0, std::sqrt(extent.x() * extent.y() * 4.0 / static_cast<double>(num_segments)));
  grid_origin_ = bbox_min_;
  grid_w_ = static_cast<int>(extent.x() / cell_m_) + 1;
  grid_h_ = static_cast<int>(extent.y() / cell_m_) + 1;
  std::vector<std::vector<Segment>> cells(static_cast<size_t>(grid_w_) * grid_h_);
  for (edge_t e = 0; e < edges_.size(); ++e) {
    double offset = 0;
    const auto& line = edges_[e].polyline_in_map;
    for (uint32_t s = 0; s + 1 < line.size(); ++s) {
      const Eigen::Vector2d a = Xy(line[s]), b = Xy(line[s + 1]);
      const Eigen::Vector2d lo = a.cwiseMin(b) - grid_origin_, hi = a.cwiseMax(b) - grid_origin_;
      const int x0 = std::clamp(static_cast<int>(lo.x() / cell_m_), 0, grid_w_ - 1);
      const int x1 = std::clamp(static_cast<int>(hi.x() / cell_m_), 0, grid_w_ - 1);
      const int y0 = std::clamp(static_cast<int>(lo.y() / cell_m_), 0, grid_h_ - 1);
      const int y1 = std::clamp(static_cast<int>(hi.y() / cell_m_), 0, grid_h_ - 1);
      for (int y = y0; y <= y1; ++y)
        for (int x = x0; x <= x1; ++x) cells[static_cast<size_t>(y) * grid_w_ + x].push_back({e, s, offset});
      offset += (b - a).norm();
    }
  }
  cell_offsets_.assign(cells.size() + 1, 0);
  for (size_t i = 0; i < cells.size(); ++i) cell_offsets_[i + 1] = cell_offsets_[i] + cells[i].size();
  cell_segments_.clear();
  cell_segments_.reserve(cell_offsets_.back());
  for (auto& c : cells) cell_segments_.insert(cell_segments_.end(), c.begin(), c.end());
}

template <typename Fn>
void WalkGraph::ForSegmentsNear(const Eigen::Vector2d& p, double radius_m, Fn&& fn) const {
  const Eigen::Vector2d lo = p - grid_origin_ - Eigen::Vector2d::Constant(radius_m);
  const Eigen::Vector2d hi = p - grid_origin_ + Eigen::Vector2d::Constant(radius_m);
  if (hi.x() < 0 || hi.y() < 0 || lo.x() > grid_w_ * cell_m_ || lo.y() > grid_h_ * cell_m_) return;
  const int x0 = std::clamp(static_cast<int>(std::floor(lo.x() / cell_m_)), 0, grid_w_ - 1);
  const int x1 = std::clamp(static_cast<int>(std::floor(hi.x() / cell_m_)), 0, grid_w_ - 1);
  const int y0 = std::clamp(static_cast<int>(std::floor(lo.y() / cell_m_)), 0, grid_h_ - 1);
  const int y1 = std::clamp(static_cast<int>(std::floor(hi.y() / cell_m_)), 0, grid_h_ - 1);
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x) {
      const size_t c = static_cast<size_t>(y) * grid_w_ + x;
      for (uint32_t i = cell_offsets_[c]; i < cell_offsets_[c + 1]; ++i) fn(cell_segments_[i]);
    }
}

std::optional<edge_t> WalkGraph::EdgeIndexById(int64_t id) const {
  auto it = std::lower_bound(edge_by_id_.begin(), edge_by_id_.end(), std::make_pair(id, edge_t{0}));
  if (it == edge_by_id_.end() || it->first != id) return std::nullopt;
  return it->second;
}

Eigen::Vector3d WalkGraph::PointAt(edge_t e, double offset_m) const {
  const auto& line = edges_[e].polyline_in_map;
  if (offset_m <= 0) return line.front();
  double s = 0;
  for (size_t i = 1; i < line.size(); ++i) {
    const double len = (Xy(line[i]) - Xy(line[i - 1])).norm();
    if (s + len >= offset_m && len > 0) return line[i - 1] + (line[i] - line[i - 1]) * ((offset_m - s) / len);
    s += len;
  }
  return line.back();
}

Eigen::Vector2d WalkGraph::DirectionAt(edge_t e, double offset_m) const {
  const auto& line = edges_[e].polyline_in_map;
  double s = 0;
  for (size_t i = 1; i < line.size(); ++i) {
    const Eigen::Vector2d d = Xy(line[i]) - Xy(line[i - 1]);
    const double len = d.norm();
    if ((s + len >= offset_m || i + 1 == line.size()) && len > 0) return d / len;
    s += len;
  }
  const Eigen::Vector2d d = Xy(line.back()) - Xy(line.front());
  return d.norm() > 0 ? Eigen::Vector2d(d.normalized()) : Eigen::Vector2d(0, 1);
}

namespace {
struct Candidate {
  double distance_m;
  double offset_m;
  Eigen::Vector2d direction;
  edge_t edge;
};

// Closest point of segment ab to p: (distance, fraction along ab).
std::pair<double, double> SegmentProjection(const Eigen::Vector2d& p, const Eigen::Vector2d& a, const Eigen::Vector2d& b) {
  const Eigen::Vector2d ab = b - a;
  const double l2 = ab.squaredNorm();
  const double t = l2 > 0 ? std::clamp((p - a).dot(ab) / l2, 0.0, 1.0) : 0.0;
  return {(a + t * ab - p).norm(), t};
}
}  // namespace

EdgePoint WalkGraph::Nearest(const Eigen::Vector2d& p) const {
  EdgePoint best;
  best.distance_m = std::numeric_limits<double>::infinity();
  for (edge_t e = 0; e < edges_.size(); ++e) {
    const auto& line = edges_[e].polyline_in_map;
    double s = 0;
    for (size_t i = 1; i < line.size(); ++i) {
      const Eigen::Vector2d a = Xy(line[i - 1]), b = Xy(line[i]);
      const auto [d, t] = SegmentProjection(p, a, b);
      const double len = (b - a).norm();
      if (d < best.distance_m) {
        best.distance_m = d;
        best.edge = e;
        best.offset_m = s + t * len;
      }
      s += len;
    }
  }
  best.point_in_map = PointAt(best.edge, best.offset_m);
  return best;
}

absl::StatusOr<EdgePoint> WalkGraph::Snap(const Eigen::Vector3d& position_in_map, std::optional<double> heading_deg,
                                          const SnapOptions& options, const std::string& what) const {
  ARMAP_RETURN_IF_ERROR(options.Validate());
  if (!Finite(position_in_map)) return absl::InvalidArgumentError(absl::StrCat(what, " position is not finite"));
  const Eigen::Vector2d p = Xy(position_in_map);
  std::vector<Candidate> candidates;
  double nearest = std::numeric_limits<double>::infinity();
  ForSegmentsNear(p, options.max_snap_distance_m, [&](const Segment& seg) {
    const auto& line = edges_[seg.edge].polyline_in_map;
    const Eigen::Vector2d a = Xy(line[seg.index]), b = Xy(line[seg.index + 1]);
    const auto [d, t] = SegmentProjection(p, a, b);
    if (d > options.max_snap_distance_m) return;
    const double len = (b - a).norm();
    candidates.push_back({d, seg.start_offset_m + t * len, len > 0 ? Eigen::Vector2d((b - a) / len) : Eigen::Vector2d(0, 1),
                          seg.edge});
    nearest = std::min(nearest, d);
  });
  if (candidates.empty()) {
    const EdgePoint n = Nearest(p);
    return absl::FailedPreconditionError(absl::StrFormat(
        "%s is %.0f m from the pedestrian network (at most %.0f m allowed)", what, n.distance_m, options.max_snap_distance_m));
  }
  const Candidate* best = nullptr;
  double best_score = std::numeric_limits<double>::infinity();
  const Eigen::Vector2d h = heading_deg ? HeadingVector(*heading_deg) : Eigen::Vector2d::Zero();
  for (const Candidate& c : candidates) {
    double score = c.distance_m;
    if (heading_deg) {
      if (c.distance_m > nearest + options.heading_window_m) continue;
      // Walking either way along an edge matches; across it does not.
      const double sin_angle = std::abs(h.x() * c.direction.y() - h.y() * c.direction.x());
      score += options.heading_weight_m * sin_angle;
    }
    if (score < best_score) {
      best_score = score;
      best = &c;
    }
  }
  EdgePoint out;
  out.edge = best->edge;
  out.offset_m = std::clamp(best->offset_m, 0.0, edges_[best->edge].polyline_length_m);
  out.point_in_map = PointAt(out.edge, out.offset_m);
  out.distance_m = best->distance_m;
  return out;
}

absl::StatusOr<const Poi*> WalkGraph::FindPoi(const std::string& name) const {
  const std::string key = absl::AsciiStrToLower(name);
  for (const Poi& poi : pois_)
    if (absl::AsciiStrToLower(poi.name) == key || (!poi.name_en.empty() && absl::AsciiStrToLower(poi.name_en) == key))
      return &poi;
  // Suggestions: substring matches first, then by edit distance.
  const std::u32string k32 = Utf32(key);
  std::vector<std::pair<double, const Poi*>> scored;
  for (const Poi& poi : pois_) {
    double best = std::numeric_limits<double>::infinity();
    for (const std::string* candidate : {&poi.name, &poi.name_en}) {
      if (candidate->empty()) continue;
      const std::string lower = absl::AsciiStrToLower(*candidate);
      const std::u32string c32 = Utf32(lower);
      double d = static_cast<double>(EditDistance(k32, c32)) / std::max<size_t>(1, std::max(k32.size(), c32.size()));
      if (!key.empty() && (lower.find(key) != std::string::npos || key.find(lower) != std::string::npos)) d -= 1.0;
      best = std::min(best, d);
    }
    scored.emplace_back(best, &poi);
  }
  std::sort(scored.begin(), scored.end(),
            [](const auto& a, const auto& b) { return a.first != b.first ? a.first < b.first : a.second->id < b.second->id; });
  std::vector<std::string> names;
  for (size_t i = 0; i < scored.size() && i < 5; ++i) {
    const Poi* p = scored[i].second;
    names.push_back(p->name_en.empty() ? p->name : absl::StrCat(p->name, " (", p->name_en, ")"));
  }
  if (names.empty()) return absl::NotFoundError(absl::StrCat("no POI named '", name, "': the map has no POIs"));
  return absl::NotFoundError(absl::StrCat("no POI named '", name, "'; closest names: ", absl::StrJoin(names, ", ")));
}

absl::StatusOr<WalkGraph> LoadWalkGraph(const std::filesystem::path& network_geojson,
                                        const std::filesystem::path& pois_geojson, const EnuFrame& frame) {
  const std::string where = network_geojson.string();
  ARMAP_ASSIGN_OR_RETURN(Json doc, ReadJsonFile(network_geojson));
  ARMAP_ASSIGN_OR_RETURN(const Json* features, Features(doc, where));
  std::vector<WalkNode> nodes;
  std::vector<std::pair<size_t, const Json*>> edge_features;
  std::vector<std::pair<int64_t, node_t>> node_by_id;
  for (size_t i = 0; i < features->size(); ++i) {
    const Json& f = (*features)[i];
    const std::string at = absl::StrCat(where, ": feature ", i);
    if (!f.is_object() || !f.contains("properties") || !f["properties"].is_object() || !f.contains("geometry") ||
        !f["geometry"].is_object())
      return absl::InvalidArgumentError(absl::StrCat(at, ": a feature needs 'geometry' and 'properties' objects"));
    const Json& props = f["properties"];
    const std::string kind = props.value("kind", "");
    if (kind == "walk_node") {
      if (f["geometry"].value("type", "") != "Point")
        return absl::InvalidArgumentError(absl::StrCat(at, ": a walk_node must be a Point"));
      ARMAP_ASSIGN_OR_RETURN(int64_t id, GetJsonField<int64_t>(props, "id", at));
      ARMAP_ASSIGN_OR_RETURN(Eigen::Vector3d p, ReadPosition(f["geometry"].value("coordinates", Json()), frame, at));
      node_by_id.emplace_back(id, static_cast<node_t>(nodes.size()));
      nodes.push_back({id, p});
    } else if (kind == "sidewalk" || kind == "crossing") {
      edge_features.emplace_back(i, &f);
    }
  }
  std::sort(node_by_id.begin(), node_by_id.end());
  for (size_t i = 1; i < node_by_id.size(); ++i)
    if (node_by_id[i].first == node_by_id[i - 1].first)
      return absl::InvalidArgumentError(absl::StrCat(where, ": duplicate walk_node id ", node_by_id[i].first));
  auto find_node = [&](int64_t id) -> node_t {
    auto it = std::lower_bound(node_by_id.begin(), node_by_id.end(), std::make_pair(id, node_t{0}));
    return it != node_by_id.end() && it->first == id ? it->second : kInvalidNode;
  };
  std::vector<WalkEdge> edges;
  for (const auto& [i, fp] : edge_features) {
    const Json& f = *fp;
    const Json& props = f["properties"];
    const std::string at = absl::StrCat(where, ": feature ", i);
    if (f["geometry"].value("type", "") != "LineString")
      return absl::InvalidArgumentError(absl::StrCat(at, ": a sidewalk/crossing must be a LineString"));
    WalkEdge e;
    e.kind = props.value("kind", "") == "crossing" ? EdgeKind::kCrossing : EdgeKind::kSidewalk;
    ARMAP_ASSIGN_OR_RETURN(e.id, GetJsonField<int64_t>(props, "id", at));
    ARMAP_ASSIGN_OR_RETURN(int64_t from, GetJsonField<int64_t>(props, "from", at));
    ARMAP_ASSIGN_OR_RETURN(int64_t to, GetJsonField<int64_t>(props, "to", at));
    ARMAP_ASSIGN_OR_RETURN(e.length_m, GetJsonField<double>(props, "length_m", at));
    if (props.contains("width_m")) {
      ARMAP_ASSIGN_OR_RETURN(e.width_m, GetJsonField<double>(props, "width_m", at));
    }
    if (!(std::isfinite(e.length_m) && e.length_m > 0))
      return absl::InvalidArgumentError(absl::StrCat(at, ": length_m = ", e.length_m, "; must be > 0"));
    e.from = find_node(from);
    e.to = find_node(to);
    if (e.from == kInvalidNode || e.to == kInvalidNode)
      return absl::InvalidArgumentError(
          absl::StrCat(at, ": edge ", e.id, " names node ", e.from == kInvalidNode ? from : to, ", which does not exist"));
    const Json coords = f["geometry"].value("coordinates", Json());
    if (!coords.is_array() || coords.size() < 2)
      return absl::InvalidArgumentError(absl::StrCat(at, ": a LineString needs at least two positions"));
    for (const Json& c : coords) {
      ARMAP_ASSIGN_OR_RETURN(Eigen::Vector3d p, ReadPosition(c, frame, at));
      e.polyline_in_map.push_back(p);
    }
    edges.push_back(std::move(e));
  }

  std::vector<Poi> pois;
  if (!pois_geojson.empty()) {
    const std::string pwhere = pois_geojson.string();
    ARMAP_ASSIGN_OR_RETURN(Json pdoc, ReadJsonFile(pois_geojson));
    ARMAP_ASSIGN_OR_RETURN(const Json* pfeatures, Features(pdoc, pwhere));
    for (size_t i = 0; i < pfeatures->size(); ++i) {
      const Json& f = (*pfeatures)[i];
      const std::string at = absl::StrCat(pwhere, ": feature ", i);
      if (!f.is_object() || !f.contains("properties") || !f["properties"].is_object())
        return absl::InvalidArgumentError(absl::StrCat(at, ": a feature needs a 'properties' object"));
      const Json& props = f["properties"];
      Poi poi;
      ARMAP_ASSIGN_OR_RETURN(poi.id, GetJsonField<int64_t>(props, "id", at));
      ARMAP_ASSIGN_OR_RETURN(poi.name, GetJsonField<std::string>(props, "name", at));
      if (props.contains("name_en") && props["name_en"].is_string()) poi.name_en = props["name_en"].get<std::string>();
      if (props.contains("category") && props["category"].is_string()) poi.category = props["category"].get<std::string>();
      if (props.contains("confidence") && props["confidence"].is_number()) poi.confidence = props["confidence"].get<double>();
      // The map-frame position is authoritative; the WGS84 point is a fallback.
      if (props.contains("position_enu")) {
        ARMAP_ASSIGN_OR_RETURN(std::vector<double> enu, GetJsonField<std::vector<double>>(props, "position_enu", at));
        if (enu.size() != 3 || !std::isfinite(enu[0]) || !std::isfinite(enu[1]) || !std::isfinite(enu[2]))
          return absl::InvalidArgumentError(absl::StrCat(at, ": position_enu must be three finite numbers"));
        poi.position_in_map = {enu[0], enu[1], enu[2]};
      } else if (f.contains("geometry") && f["geometry"].is_object()) {
        ARMAP_ASSIGN_OR_RETURN(poi.position_in_map, ReadPosition(f["geometry"].value("coordinates", Json()), frame, at));
      } else {
        return absl::InvalidArgumentError(absl::StrCat(at, ": a POI needs position_enu or a Point geometry"));
      }
      pois.push_back(std::move(poi));
    }
  }
  return WalkGraph::Create(std::move(nodes), std::move(edges), std::move(pois), where);
}

}  // namespace armap::nav
