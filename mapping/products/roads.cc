#include "mapping/products/roads.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <cmath>
#include <map>
#include <numeric>
#include <set>
#include <unordered_map>

#include <Eigen/Eigenvalues>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"
#include "core/logging.h"
#include "core/status.h"

namespace armap::mapping {

absl::Status RoadNetworkOptions::Validate() const {
  auto bad = [](const char* field, double value, const char* rule) {
    return absl::InvalidArgumentError(absl::StrCat("RoadNetworkOptions::", field, " = ", value, "; must be ", rule));
  };
  if (!(simplify_tolerance_m >= 0 && simplify_tolerance_m <= 5)) return bad("simplify_tolerance_m", simplify_tolerance_m, "in [0, 5]");
  if (!(cell_size_m >= 0.05 && cell_size_m <= 1)) return bad("cell_size_m", cell_size_m, "in [0.05, 1]");
  if (!(carriageway_intensity_ratio > 1 && carriageway_intensity_ratio < 10)) {
    return bad("carriageway_intensity_ratio", carriageway_intensity_ratio, "in (1, 10)");
  }
  if (!(sidewalk_intensity_ratio > 0 && sidewalk_intensity_ratio < 2)) return bad("sidewalk_intensity_ratio", sidewalk_intensity_ratio, "in (0, 2)");
  if (!(paint_intensity_ratio > 0 && paint_intensity_ratio < 10)) return bad("paint_intensity_ratio", paint_intensity_ratio, "in (0, 10)");
  if (!(crossing_paint_fraction > 0 && crossing_paint_fraction < 1)) return bad("crossing_paint_fraction", crossing_paint_fraction, "in (0, 1)");
  if (!(min_crossing_area_m2 >= 0)) return bad("min_crossing_area_m2", min_crossing_area_m2, ">= 0");
  if (!(min_spur_length_m >= 0)) return bad("min_spur_length_m", min_spur_length_m, ">= 0");
  if (!(spur_width_factor >= 0)) return bad("spur_width_factor", spur_width_factor, ">= 0");
  if (!(max_hole_area_m2 >= 0)) return bad("max_hole_area_m2", max_hole_area_m2, ">= 0");
  if (!(max_occlusion_gap_m >= 0 && max_occlusion_gap_m <= 20)) return bad("max_occlusion_gap_m", max_occlusion_gap_m, "in [0, 20]");
  if (!(min_walkable_area_m2 >= 0)) return bad("min_walkable_area_m2", min_walkable_area_m2, ">= 0");
  if (!(min_component_length_m >= 0)) return bad("min_component_length_m", min_component_length_m, ">= 0");
  return absl::OkStatus();
}

double RoadNetwork::TotalLengthM() const {
  double total = 0;
  for (const WalkNetworkEdge& e : edges) total += e.length_m;
  return total;
}

namespace {

using Clock = std::chrono::steady_clock;
using Vec2 = Eigen::Vector2d;
using Vec3 = Eigen::Vector3d;

double SecondsSince(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double PolylineLength(const std::vector<Vec3>& line) {
  double length = 0;
  for (size_t i = 1; i < line.size(); ++i) length += (line[i] - line[i - 1]).head<2>().norm();
  return length;
}

// Douglas-Peucker in 2D (heights follow their vertices).
void DouglasPeucker(const std::vector<Vec3>& in, size_t first, size_t last, double tolerance_m, std::vector<bool>* keep) {
  if (last <= first + 1) return;
  const Vec2 a = in[first].head<2>(), b = in[last].head<2>();
  const Vec2 ab = b - a;
  const double len2 = ab.squaredNorm();
  double worst = -1;
  size_t worst_i = first;
  for (size_t i = first + 1; i < last; ++i) {
    const Vec2 p = in[i].head<2>();
    const double t = len2 > 0 ? std::clamp((p - a).dot(ab) / len2, 0.0, 1.0) : 0.0;
    const double d = (a + t * ab - p).norm();
    if (d > worst) {
      worst = d;
      worst_i = i;
    }
  }
  if (worst > tolerance_m) {
    (*keep)[worst_i] = true;
    DouglasPeucker(in, first, worst_i, tolerance_m, keep);
    DouglasPeucker(in, worst_i, last, tolerance_m, keep);
  }
}

std::vector<Vec3> Simplify(const std::vector<Vec3>& in, double tolerance_m) {
  if (in.size() <= 2) return in;
  std::vector<bool> keep(in.size(), false);
  keep.front() = keep.back() = true;
  DouglasPeucker(in, 0, in.size() - 1, tolerance_m, &keep);
  std::vector<Vec3> out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (keep[i]) out.push_back(in[i]);
  }
  return out;
}

// The raster every step works on. Row r covers y in [min_y + r c, ...), column
// c covers x likewise.
struct Grid {
  Vec2 min_xy = Vec2::Zero();
  double cell_m = 0.25;
  int rows = 0, cols = 0;
  Vec2 Centre(int r, int c) const { return min_xy + Vec2((c + 0.5) * cell_m, (r + 0.5) * cell_m); }
  cv::Point2f Pixel(const Vec2& p) const {
    return cv::Point2f(static_cast<float>((p.x() - min_xy.x()) / cell_m - 0.5), static_cast<float>((p.y() - min_xy.y()) / cell_m - 0.5));
  }
  bool Index(const Vec2& p, int* r, int* c) const {
    *c = static_cast<int>(std::floor((p.x() - min_xy.x()) / cell_m));
    *r = static_cast<int>(std::floor((p.y() - min_xy.y()) / cell_m));
    return *r >= 0 && *r < rows && *c >= 0 && *c < cols;
  }
  int Cells(double metres) const { return std::max(1, static_cast<int>(std::lround(metres / cell_m))); }
};

cv::Mat Disk(int radius_px) {
  return cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * radius_px + 1, 2 * radius_px + 1));
}

// Keeps the 8-connected components of `mask` (0/255) whose area is at least min_cells.
cv::Mat DropSmallComponents(const cv::Mat& mask, int min_cells) {
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(mask, labels, stats, centroids, 8, CV_32S);
  cv::Mat out = cv::Mat::zeros(mask.size(), CV_8U);
  for (int r = 0; r < mask.rows; ++r) {
    const int* l = labels.ptr<int>(r);
    uint8_t* o = out.ptr<uint8_t>(r);
    for (int c = 0; c < mask.cols; ++c) {
      if (l[c] > 0 && l[c] < n && stats.at<int>(l[c], cv::CC_STAT_AREA) >= min_cells) o[c] = 255;
    }
  }
  return out;
}

// Fills the holes of `mask` (background components not touching the border)
// smaller than max_cells.
cv::Mat FillSmallHoles(const cv::Mat& mask, int max_cells) {
  cv::Mat background;
  cv::bitwise_not(mask, background);
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(background, labels, stats, centroids, 4, CV_32S);
  std::vector<bool> fill(n, false);
  for (int i = 1; i < n; ++i) {
    const int x = stats.at<int>(i, cv::CC_STAT_LEFT), y = stats.at<int>(i, cv::CC_STAT_TOP);
    const int w = stats.at<int>(i, cv::CC_STAT_WIDTH), h = stats.at<int>(i, cv::CC_STAT_HEIGHT);
    const bool touches_border = x == 0 || y == 0 || x + w == mask.cols || y + h == mask.rows;
    fill[i] = !touches_border && stats.at<int>(i, cv::CC_STAT_AREA) <= max_cells;
  }
  cv::Mat out = mask.clone();
  for (int r = 0; r < mask.rows; ++r) {
    const int* l = labels.ptr<int>(r);
    uint8_t* o = out.ptr<uint8_t>(r);
    for (int c = 0; c < mask.cols; ++c) {
      if (l[c] > 0 && fill[l[c]]) o[c] = 255;
    }
  }
  return out;
}

// Zhang-Suen thinning of a 0/1 image with a zero border.
void Thin(cv::Mat* image) {
  cv::Mat& im = *image;
  std::vector<cv::Point> marked;
  bool changed = true;
  while (changed) {
    changed = false;
    for (int pass = 0; pass < 2; ++pass) {
      marked.clear();
      for (int r = 1; r + 1 < im.rows; ++r) {
        const uint8_t* up = im.ptr<uint8_t>(r - 1);
        const uint8_t* mid = im.ptr<uint8_t>(r);
        const uint8_t* down = im.ptr<uint8_t>(r + 1);
        for (int c = 1; c + 1 < im.cols; ++c) {
          if (!mid[c]) continue;
          // p2..p9 clockwise from north.
          const int p[8] = {up[c], up[c + 1], mid[c + 1], down[c + 1], down[c], down[c - 1], mid[c - 1], up[c - 1]};
          const int b = p[0] + p[1] + p[2] + p[3] + p[4] + p[5] + p[6] + p[7];
          if (b < 2 || b > 6) continue;
          int a = 0;
          for (int k = 0; k < 8; ++k) a += (p[k] == 0 && p[(k + 1) % 8] == 1);
          if (a != 1) continue;
          if (pass == 0 ? (p[0] * p[2] * p[4] != 0 || p[2] * p[4] * p[6] != 0)
                        : (p[0] * p[2] * p[6] != 0 || p[0] * p[4] * p[6] != 0)) {
            continue;
          }
          marked.emplace_back(c, r);
        }
      }
      for (const cv::Point& q : marked) im.at<uint8_t>(q) = 0;
      if (!marked.empty()) changed = true;
    }
  }
}

// A graph under construction: nodes at pixel positions, edges as raw pixel
// polylines (metres) that start and end at their nodes.
struct RawNode {
  Vec2 position = Vec2::Zero();
  bool alive = true;
};
struct RawEdge {
  int from = 0, to = 0;
  std::vector<Vec2> line;
  std::string kind = "sidewalk";
  double width_m = 0.0;  // crossings only (sidewalks: from the distance transform)
  bool alive = true;
};
struct RawGraph {
  std::vector<RawNode> nodes;
  std::vector<RawEdge> edges;
  std::vector<int> Degrees() const {
    std::vector<int> degree(nodes.size(), 0);
    for (const RawEdge& e : edges) {
      if (!e.alive) continue;
      ++degree[e.from];
      ++degree[e.to];
    }
    return degree;
  }
};

double LineLength(const std::vector<Vec2>& line) {
  double length = 0;
  for (size_t i = 1; i < line.size(); ++i) length += (line[i] - line[i - 1]).norm();
  return length;
}

// Skeleton pixels -> graph: nodes at ends and junction clusters (8-connected
// pixels with 3+ neighbours), edges along the chains between them.
RawGraph GraphFromSkeleton(const cv::Mat& skeleton, const Grid& grid) {
  RawGraph g;
  const int rows = skeleton.rows, cols = skeleton.cols;
  auto on = [&](int r, int c) { return r >= 0 && r < rows && c >= 0 && c < cols && skeleton.at<uint8_t>(r, c) != 0; };
  static const int kDr[8] = {-1, -1, 0, 1, 1, 1, 0, -1}, kDc[8] = {0, 1, 1, 1, 0, -1, -1, -1};
  cv::Mat neighbours = cv::Mat::zeros(skeleton.size(), CV_8U);
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      if (!on(r, c)) continue;
      int n = 0;
      for (int k = 0; k < 8; ++k) n += on(r + kDr[k], c + kDc[k]);
      neighbours.at<uint8_t>(r, c) = static_cast<uint8_t>(n);
    }
  }
  // Node pixels: not exactly 2 neighbours. Junction pixels are clustered.
  cv::Mat node_id(skeleton.size(), CV_32S, cv::Scalar(-1));
  std::vector<std::vector<cv::Point>> members;
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      if (!on(r, c) || neighbours.at<uint8_t>(r, c) == 2 || node_id.at<int>(r, c) >= 0) continue;
      const int id = static_cast<int>(members.size());
      members.emplace_back();
      std::vector<cv::Point> stack{{c, r}};
      node_id.at<int>(r, c) = id;
      const bool junction = neighbours.at<uint8_t>(r, c) >= 3;
      while (!stack.empty()) {
        const cv::Point q = stack.back();
        stack.pop_back();
        members[id].push_back(q);
        if (!junction) continue;
        for (int k = 0; k < 8; ++k) {
          const int rr = q.y + kDr[k], cc = q.x + kDc[k];
          if (on(rr, cc) && neighbours.at<uint8_t>(rr, cc) >= 3 && node_id.at<int>(rr, cc) < 0) {
            node_id.at<int>(rr, cc) = id;
            stack.push_back({cc, rr});
          }
        }
      }
    }
  }
  for (const auto& m : members) {
    Vec2 sum = Vec2::Zero();
    for (const cv::Point& q : m) sum += grid.Centre(q.y, q.x);
    g.nodes.push_back({sum / static_cast<double>(m.size())});
  }
  cv::Mat visited = cv::Mat::zeros(skeleton.size(), CV_8U);
  std::set<std::pair<int, int>> direct;  // node pairs joined by adjacent pixels
  auto trace = [&](int start_node, cv::Point from, cv::Point next) {
    RawEdge e;
    e.from = start_node;
    e.line.push_back(g.nodes[start_node].position);
    cv::Point prev = from, cur = next;
    while (true) {
      const int id = node_id.at<int>(cur.y, cur.x);
      if (id >= 0) {
        e.to = id;
        e.line.push_back(g.nodes[id].position);
        break;
      }
      visited.at<uint8_t>(cur.y, cur.x) = 1;
      e.line.push_back(grid.Centre(cur.y, cur.x));
      cv::Point step(-1, -1);
      for (int k = 0; k < 8; ++k) {
        const cv::Point q(cur.x + kDc[k], cur.y + kDr[k]);
        if (q == prev || !on(q.y, q.x)) continue;
        if (node_id.at<int>(q.y, q.x) >= 0 && node_id.at<int>(q.y, q.x) != start_node) {
          step = q;  // prefer finishing at a node
          break;
        }
        if (node_id.at<int>(q.y, q.x) < 0 && !visited.at<uint8_t>(q.y, q.x)) step = q;
        if (node_id.at<int>(q.y, q.x) == start_node && e.line.size() > 3) step = q;  // a loop back home
      }
      if (step.x < 0) {  // dead end inside a chain (should not happen): end here as a node
        const int id = static_cast<int>(g.nodes.size());
        g.nodes.push_back({grid.Centre(cur.y, cur.x)});
        e.to = id;
        break;
      }
      prev = cur;
      cur = step;
    }
    g.edges.push_back(std::move(e));
  };
  for (int id = 0; id < static_cast<int>(members.size()); ++id) {
    for (const cv::Point& q : members[id]) {
      for (int k = 0; k < 8; ++k) {
        const cv::Point n(q.x + kDc[k], q.y + kDr[k]);
        if (!on(n.y, n.x)) continue;
        const int other = node_id.at<int>(n.y, n.x);
        if (other == id) continue;
        if (other >= 0) {
          if (direct.insert({std::min(id, other), std::max(id, other)}).second) {
            g.edges.push_back({id, other, {g.nodes[id].position, g.nodes[other].position}});
          }
          continue;
        }
        if (visited.at<uint8_t>(n.y, n.x)) continue;
        trace(id, q, n);
      }
    }
  }
  // Closed loops without any node: cut each at one pixel.
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      if (!on(r, c) || visited.at<uint8_t>(r, c) || node_id.at<int>(r, c) >= 0) continue;
      const int id = static_cast<int>(g.nodes.size());
      g.nodes.push_back({grid.Centre(r, c)});
      node_id.at<int>(r, c) = id;
      for (int k = 0; k < 8; ++k) {
        const cv::Point n(c + kDc[k], r + kDr[k]);
        if (on(n.y, n.x) && !visited.at<uint8_t>(n.y, n.x) && node_id.at<int>(n.y, n.x) < 0) {
          trace(id, cv::Point(c, r), n);
          break;
        }
      }
    }
  }
  return g;
}

// Joins the two edges at every node of degree 2 (not at protected nodes).
void MergeDegreeTwo(RawGraph* g, const std::vector<bool>& keep_node) {
  bool changed = true;
  while (changed) {
    changed = false;
    std::vector<std::vector<int>> incident(g->nodes.size());
    for (int i = 0; i < static_cast<int>(g->edges.size()); ++i) {
      const RawEdge& e = g->edges[i];
      if (!e.alive) continue;
      incident[e.from].push_back(i);
      incident[e.to].push_back(i);
    }
    for (int n = 0; n < static_cast<int>(g->nodes.size()); ++n) {
      if (!g->nodes[n].alive || incident[n].size() != 2 || (n < static_cast<int>(keep_node.size()) && keep_node[n])) continue;
      const int a = incident[n][0], b = incident[n][1];
      if (a == b || !g->edges[a].alive || !g->edges[b].alive) continue;
      if (g->edges[a].kind != g->edges[b].kind) continue;
      RawEdge& ea = g->edges[a];
      RawEdge& eb = g->edges[b];
      if (ea.from == n && ea.to == n) continue;
      // Orient ea to end at n and eb to start at n.
      if (ea.to != n) {
        std::reverse(ea.line.begin(), ea.line.end());
        std::swap(ea.from, ea.to);
      }
      if (eb.from != n) {
        std::reverse(eb.line.begin(), eb.line.end());
        std::swap(eb.from, eb.to);
      }
      ea.line.insert(ea.line.end(), eb.line.begin() + 1, eb.line.end());
      ea.to = eb.to;
      eb.alive = false;
      g->nodes[n].alive = false;
      changed = true;
      break;  // incidence lists are stale
    }
  }
}

// Contracts edges shorter than max_length_m between two distinct nodes (the
// thinning leaves junction clusters a pixel or two apart).
void ContractShortEdges(RawGraph* g, double max_length_m) {
  for (RawEdge& e : g->edges) {
    if (!e.alive || e.from == e.to || LineLength(e.line) > max_length_m) continue;
    const int keep = e.from, drop = e.to;
    g->nodes[keep].position = 0.5 * (g->nodes[keep].position + g->nodes[drop].position);
    g->nodes[drop].alive = false;
    e.alive = false;
    for (RawEdge& o : g->edges) {
      if (!o.alive) continue;
      if (o.from == drop) o.from = keep;
      if (o.to == drop) o.to = keep;
      if (o.from == keep) o.line.front() = g->nodes[keep].position;
      if (o.to == keep) o.line.back() = g->nodes[keep].position;
    }
  }
  for (RawEdge& e : g->edges) {
    if (e.alive && e.from == e.to && LineLength(e.line) <= max_length_m) e.alive = false;
  }
}

struct Rasters {
  Grid grid;
  cv::Mat count;       // CV_32S points per cell
  cv::Mat intensity;   // CV_32F mean intensity (0 where empty)
  cv::Mat height;      // CV_32F mean z (0 where empty)
};

Rasters Rasterise(const PointCloud& ground, double cell_m) {
  Rasters out;
  Eigen::AlignedBox2d box;
  for (const Eigen::Vector3f& p : ground.points) box.extend((ground.origin + p.cast<double>()).head<2>());
  out.grid.cell_m = cell_m;
  out.grid.min_xy = box.min() - Vec2(2, 2);
  out.grid.cols = static_cast<int>(std::ceil((box.max().x() + 2 - out.grid.min_xy.x()) / cell_m));
  out.grid.rows = static_cast<int>(std::ceil((box.max().y() + 2 - out.grid.min_xy.y()) / cell_m));
  out.count = cv::Mat::zeros(out.grid.rows, out.grid.cols, CV_32S);
  out.intensity = cv::Mat::zeros(out.grid.rows, out.grid.cols, CV_32F);
  out.height = cv::Mat::zeros(out.grid.rows, out.grid.cols, CV_32F);
  for (size_t i = 0; i < ground.size(); ++i) {
    const Vec3 p = ground.Point(i);
    int r, c;
    if (!out.grid.Index(p.head<2>(), &r, &c)) continue;
    ++out.count.at<int>(r, c);
    out.intensity.at<float>(r, c) += ground.intensity[i];
    out.height.at<float>(r, c) += static_cast<float>(p.z());
  }
  for (int r = 0; r < out.grid.rows; ++r) {
    for (int c = 0; c < out.grid.cols; ++c) {
      const int n = out.count.at<int>(r, c);
      if (n == 0) continue;
      out.intensity.at<float>(r, c) /= static_cast<float>(n);
      out.height.at<float>(r, c) /= static_cast<float>(n);
    }
  }
  return out;
}

float Median(std::vector<float> v) {
  if (v.empty()) return 0.f;
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

void WriteDebug(const RoadNetworkOptions& options, const std::string& name, const cv::Mat& image) {
  if (options.debug_dir.empty()) return;
  std::filesystem::create_directories(options.debug_dir);
  cv::Mat flipped;
  cv::flip(image, flipped, 0);  // north up
  cv::imwrite((options.debug_dir / (name + ".png")).string(), flipped);
}

RoadNetwork EmptyNetwork(const std::string& warning, OrderedJson summary) {
  ARMAP_LOG_WARN("roads: {}", warning);
  RoadNetwork network;
  summary["warnings"].push_back(warning);
  summary["nodes"] = 0;
  summary["edges"] = 0;
  summary["length_m"] = 0.0;
  network.summary = std::move(summary);
  return network;
}

}  // namespace

absl::StatusOr<RoadNetwork> BuildRoadNetworkFromGround(const PointCloud& ground, const ProductInputs& inputs,
                                                       const WhiteModelLevel& buildings,
                                                       const RoadNetworkOptions& options) {
  ARMAP_RETURN_IF_ERROR(options.Validate());
  if (inputs.route_positions.empty()) {
    return absl::InvalidArgumentError("ProductInputs::route_positions is empty: the road network needs the route");
  }
  const auto t_total = Clock::now();
  OrderedJson summary;
  summary["ground_points"] = ground.size();
  summary["cell_size_m"] = options.cell_size_m;
  summary["warnings"] = Json::array();
  OrderedJson seconds;
  if (ground.empty()) return EmptyNetwork("the lidar map has no ground points: no pedestrian network", summary);
  if (!ground.HasIntensity()) {
    return EmptyNetwork("the lidar ground has no intensity: sidewalks cannot be told from the carriageway", summary);
  }

  // 1. Raster of the ground.
  auto t0 = Clock::now();
  Rasters raster = Rasterise(ground, options.cell_size_m);
  const Grid& grid = raster.grid;
  const double cell2 = grid.cell_m * grid.cell_m;
  summary["raster"] = {{"min_x_m", grid.min_xy.x()}, {"min_y_m", grid.min_xy.y()}, {"rows", grid.rows}, {"cols", grid.cols}};
  cv::Mat known = raster.count > 0;  // 0/255
  seconds["raster"] = SecondsSince(t0);

  // 2. Distance from the route (the vehicle drove on the carriageway).
  t0 = Clock::now();
  cv::Mat route_mask(grid.rows, grid.cols, CV_8U, cv::Scalar(255));
  {
    const auto& route = inputs.route_positions;
    std::vector<double> steps;
    for (size_t i = 1; i < route.size(); ++i) steps.push_back((route[i] - route[i - 1]).head<2>().norm());
    std::vector<double> sorted = steps;
    std::sort(sorted.begin(), sorted.end());
    const double typical = sorted.empty() ? 0.0 : sorted[sorted.size() / 2];
    for (size_t i = 1; i < route.size(); ++i) {
      cv::line(route_mask, grid.Pixel(route[i - 1].head<2>()), grid.Pixel(route[i].head<2>()), cv::Scalar(0), 1);
    }
    // A loop closes when its ends are about one step apart.
    if (route.size() > 2 && (route.back() - route.front()).head<2>().norm() < 3 * typical) {
      cv::line(route_mask, grid.Pixel(route.back().head<2>()), grid.Pixel(route.front().head<2>()), cv::Scalar(0), 1);
    }
    if (route.size() == 1) cv::circle(route_mask, grid.Pixel(route[0].head<2>()), 0, cv::Scalar(0), -1);
  }
  cv::Mat route_dist_px;
  cv::distanceTransform(route_mask, route_dist_px, cv::DIST_L2, cv::DIST_MASK_PRECISE);
  cv::Mat route_dist = route_dist_px * grid.cell_m;  // metres
  // The asphalt level: what the lidar returns right around the route.
  std::vector<float> near_route;
  for (int r = 0; r < grid.rows; ++r) {
    for (int c = 0; c < grid.cols; ++c) {
      if (raster.count.at<int>(r, c) > 0 && route_dist.at<float>(r, c) < 1.5f) near_route.push_back(raster.intensity.at<float>(r, c));
    }
  }
  if (near_route.size() < 20) {
    return EmptyNetwork("the route never passes over the lidar ground: no carriageway to start from", summary);
  }
  const float asphalt = Median(near_route);
  summary["asphalt_intensity"] = asphalt;

  // 3. Carriageway: dark ground connected to the route; closing fills the
  // paint (lane lines, zebra stripes) and small gaps.
  cv::Mat dark = known & (raster.intensity < asphalt * options.carriageway_intensity_ratio);
  cv::Mat dark_closed;
  cv::morphologyEx(dark, dark_closed, cv::MORPH_CLOSE, Disk(grid.Cells(0.6)));
  cv::Mat carriageway = cv::Mat::zeros(grid.rows, grid.cols, CV_8U);
  {
    cv::Mat labels;
    const int n = cv::connectedComponents(dark_closed, labels, 8, CV_32S);
    std::vector<bool> on_route(n, false);
    for (int r = 0; r < grid.rows; ++r) {
      for (int c = 0; c < grid.cols; ++c) {
        if (route_dist.at<float>(r, c) < 1.0f) on_route[labels.at<int>(r, c)] = true;
      }
    }
    on_route[0] = false;
    for (int r = 0; r < grid.rows; ++r) {
      for (int c = 0; c < grid.cols; ++c) {
        if (on_route[labels.at<int>(r, c)]) carriageway.at<uint8_t>(r, c) = 255;
      }
    }
  }
  // Holes inside the carriageway (cars, paint blocks) belong to it.
  carriageway = FillSmallHoles(carriageway, static_cast<int>(40.0 / cell2));
  seconds["carriageway"] = SecondsSince(t0);

  // 4. Range fall-off of the sidewalk intensity: the surface within 0.5-2 m
  // of the carriageway is the sidewalk along it (kerb stones excepted).
  t0 = Clock::now();
  cv::Mat not_carriageway;
  cv::bitwise_not(carriageway, not_carriageway);
  cv::Mat kerb_dist_px;
  cv::distanceTransform(not_carriageway, kerb_dist_px, cv::DIST_L2, cv::DIST_MASK_PRECISE);
  cv::Mat kerb_dist = kerb_dist_px * grid.cell_m;
  const double bin_m = 1.0;
  const int num_bins = 200;
  std::vector<std::vector<float>> by_range(num_bins);
  for (int r = 0; r < grid.rows; ++r) {
    for (int c = 0; c < grid.cols; ++c) {
      const float e = kerb_dist.at<float>(r, c);
      if (raster.count.at<int>(r, c) == 0 || e < 0.5f || e > 2.0f) continue;
      const float i = raster.intensity.at<float>(r, c);
      if (i < asphalt * options.carriageway_intensity_ratio) continue;
      const int b = std::min(num_bins - 1, static_cast<int>(route_dist.at<float>(r, c) / bin_m));
      by_range[b].push_back(i);
    }
  }
  std::vector<float> level(num_bins, 0.f);
  int num_level_bins = 0;
  for (int b = 0; b < num_bins; ++b) {
    if (by_range[b].size() >= 30) {
      level[b] = Median(by_range[b]);
      ++num_level_bins;
    }
  }
  if (num_level_bins == 0) return EmptyNetwork("no sidewalk surface found beside the carriageway", summary);
  // Bins without enough samples take the nearer neighbour's level; the fall-off never rises with range.
  for (int b = 1; b < num_bins; ++b) {
    if (level[b] == 0.f) level[b] = level[b - 1];
  }
  for (int b = num_bins - 2; b >= 0; --b) {
    if (level[b] == 0.f) level[b] = level[b + 1];
  }
  for (int b = 1; b < num_bins; ++b) level[b] = std::min(level[b], level[b - 1]);
  summary["sidewalk_intensity_near"] = level[5];
  summary["sidewalk_intensity_30m"] = level[30];
  cv::Mat relative = cv::Mat::zeros(grid.rows, grid.cols, CV_32F);  // intensity / sidewalk level at that range
  for (int r = 0; r < grid.rows; ++r) {
    for (int c = 0; c < grid.cols; ++c) {
      if (raster.count.at<int>(r, c) == 0) continue;
      const float d = route_dist.at<float>(r, c) / static_cast<float>(bin_m);
      const int b = std::min(num_bins - 2, static_cast<int>(d));
      const float w = std::clamp(d - b - 0.5f, 0.f, 1.f);
      const float lv = (1 - w) * level[b] + w * level[b + 1];
      relative.at<float>(r, c) = raster.intensity.at<float>(r, c) / lv;
    }
  }
  seconds["calibration"] = SecondsSince(t0);

  // 5. Walkable area: known ground off the carriageway, as bright as the
  // sidewalk paving (averaged over ~1 m: single cells are noisy), outside
  // buildings, connected to the kerb.
  t0 = Clock::now();
  // The mean leaves the carriageway out: asphalt would dim the sidewalk's
  // first half metre beside the kerb.
  cv::Mat known_f, relative_sum, known_sum, off_road_f, relative_off_road;
  known.convertTo(known_f, CV_32F, 1.0 / 255);
  cv::Mat off_road = known & not_carriageway;
  off_road.convertTo(off_road_f, CV_32F, 1.0 / 255);
  cv::multiply(relative, off_road_f, relative_off_road);
  const cv::Size window(2 * grid.Cells(0.5) + 1, 2 * grid.Cells(0.5) + 1);
  cv::boxFilter(relative_off_road, relative_sum, CV_32F, window, cv::Point(-1, -1), false);
  cv::boxFilter(off_road_f, known_sum, CV_32F, window, cv::Point(-1, -1), false);
  cv::Mat walk = cv::Mat::zeros(grid.rows, grid.cols, CV_8U);
  for (int r = 0; r < grid.rows; ++r) {
    for (int c = 0; c < grid.cols; ++c) {
      if (carriageway.at<uint8_t>(r, c) || known_sum.at<float>(r, c) < 3) continue;
      const float mean = relative_sum.at<float>(r, c) / known_sum.at<float>(r, c);
      if (mean >= options.sidewalk_intensity_ratio) walk.at<uint8_t>(r, c) = 255;
    }
  }
  cv::Mat building_mask = cv::Mat::zeros(grid.rows, grid.cols, CV_8U);
  for (const BuildingModel& b : buildings.buildings) {
    std::vector<cv::Point> poly;
    for (const Vec2& p : b.footprint) {
      const cv::Point2f q = grid.Pixel(p);
      poly.emplace_back(static_cast<int>(std::lround(q.x)), static_cast<int>(std::lround(q.y)));
    }
    if (poly.size() >= 3) cv::fillPoly(building_mask, std::vector<std::vector<cv::Point>>{poly}, cv::Scalar(255));
  }
  walk.setTo(0, building_mask);
  cv::morphologyEx(walk, walk, cv::MORPH_OPEN, Disk(1));
  // Parked cars hide a bay of the sidewalk behind them from the lidar (or
  // leave it to far, grazing views that read darker); a centreline would
  // bend around it. Bays beside the kerb that a closing of the walkable area
  // covers are walkable, where the ground is otherwise well seen.
  {
    cv::Mat closed, seen_density;
    cv::morphologyEx(walk, closed, cv::MORPH_CLOSE, Disk(grid.Cells(options.max_occlusion_gap_m / 2)));
    cv::boxFilter(known_f, seen_density, CV_32F, cv::Size(2 * grid.Cells(1.0) + 1, 2 * grid.Cells(1.0) + 1));
    cv::Mat bay = closed & not_carriageway & ~building_mask & (kerb_dist < 3.0f) & (seen_density > 0.5f);
    walk |= bay;
  }
  walk = FillSmallHoles(walk, static_cast<int>(options.max_hole_area_m2 / cell2));
  // Pieces that never touch the kerb are lots or courtyards.
  {
    cv::Mat labels;
    const int n = cv::connectedComponents(walk, labels, 8, CV_32S);
    std::vector<int> kerb_cells(n, 0), area(n, 0);
    for (int r = 0; r < grid.rows; ++r) {
      for (int c = 0; c < grid.cols; ++c) {
        const int l = labels.at<int>(r, c);
        if (l == 0) continue;
        ++area[l];
        if (kerb_dist.at<float>(r, c) < 1.0f) ++kerb_cells[l];
      }
    }
    const int min_kerb = grid.Cells(2.0);
    const int min_area = static_cast<int>(options.min_walkable_area_m2 / cell2);
    for (int r = 0; r < grid.rows; ++r) {
      for (int c = 0; c < grid.cols; ++c) {
        const int l = labels.at<int>(r, c);
        if (l > 0 && (kerb_cells[l] < min_kerb || area[l] < min_area)) walk.at<uint8_t>(r, c) = 0;
      }
    }
  }
  // Smooth outline: fewer medial-axis spurs.
  cv::Mat blurred;
  cv::GaussianBlur(walk, blurred, cv::Size(0, 0), 0.5 / grid.cell_m);
  walk = blurred >= 128;
  WriteDebug(options, "roads_walkable", walk);
  WriteDebug(options, "roads_carriageway", carriageway);
  double walk_cells = cv::countNonZero(walk);
  summary["walkable_area_m2"] = walk_cells * cell2;
  summary["carriageway_area_m2"] = cv::countNonZero(carriageway) * cell2;
  seconds["walkable"] = SecondsSince(t0);

  // 6. Centrelines: thinning, graph, spur pruning.
  t0 = Clock::now();
  cv::Mat walk_dist_px;
  cv::distanceTransform(walk, walk_dist_px, cv::DIST_L2, cv::DIST_MASK_PRECISE);
  cv::Mat skeleton;
  cv::threshold(walk, skeleton, 0, 1, cv::THRESH_BINARY);
  skeleton.row(0).setTo(0);
  skeleton.row(grid.rows - 1).setTo(0);
  skeleton.col(0).setTo(0);
  skeleton.col(grid.cols - 1).setTo(0);
  Thin(&skeleton);
  RawGraph graph = GraphFromSkeleton(skeleton, grid);
  auto half_width_at = [&](const Vec2& p) {
    int r, c;
    if (!grid.Index(p, &r, &c)) return 0.0;
    return walk_dist_px.at<float>(r, c) * grid.cell_m;
  };
  ContractShortEdges(&graph, 2.5 * grid.cell_m);
  for (int round = 0; round < 4; ++round) {
    const std::vector<int> degree = graph.Degrees();
    bool pruned = false;
    for (RawEdge& e : graph.edges) {
      if (!e.alive) continue;
      const bool from_end = degree[e.from] == 1, to_end = degree[e.to] == 1;
      if (from_end == to_end) continue;  // not a spur (or an isolated piece)
      const int junction = from_end ? e.to : e.from;
      const double limit = std::max(options.min_spur_length_m,
                                    options.spur_width_factor * 2.0 * half_width_at(graph.nodes[junction].position));
      if (LineLength(e.line) < limit) {
        e.alive = false;
        pruned = true;
      }
    }
    MergeDegreeTwo(&graph, {});
    if (!pruned) break;
  }
  for (RawEdge& e : graph.edges) {
    if (e.alive && e.from == e.to && LineLength(e.line) < 4 * options.min_spur_length_m) e.alive = false;  // tiny loops
  }
  MergeDegreeTwo(&graph, {});
  seconds["centrelines"] = SecondsSince(t0);

  // 7. Crossings: carriageway densely covered by bright paint.
  t0 = Clock::now();
  cv::Mat paint = known & carriageway & (relative > options.paint_intensity_ratio);
  cv::Mat paint_f, paint_sum, known_sum_wide;
  paint.convertTo(paint_f, CV_32F, 1.0 / 255);
  const cv::Size wide(2 * grid.Cells(1.0) + 1, 2 * grid.Cells(1.0) + 1);
  cv::boxFilter(paint_f, paint_sum, CV_32F, wide, cv::Point(-1, -1), false);
  cv::boxFilter(known_f, known_sum_wide, CV_32F, wide, cv::Point(-1, -1), false);
  cv::Mat zebra = cv::Mat::zeros(grid.rows, grid.cols, CV_8U);
  for (int r = 0; r < grid.rows; ++r) {
    for (int c = 0; c < grid.cols; ++c) {
      if (!carriageway.at<uint8_t>(r, c) || known_sum_wide.at<float>(r, c) < 4) continue;
      if (paint_sum.at<float>(r, c) >= options.crossing_paint_fraction * known_sum_wide.at<float>(r, c)) zebra.at<uint8_t>(r, c) = 255;
    }
  }
  WriteDebug(options, "roads_paint", paint);
  WriteDebug(options, "roads_zebra_raw", zebra);
  cv::morphologyEx(zebra, zebra, cv::MORPH_OPEN, Disk(grid.Cells(0.5)));
  int num_crossing_blobs = 0, num_crossings = 0, num_crossings_unlinked = 0;
  {
    // The zebras of neighbouring arms of a junction can touch at a corner:
    // blobs are the cores left after a 0.75 m erosion (a zebra is 3+ m
    // wide), each grown back over the zebra cells nearest to it.
    cv::Mat cores;
    cv::erode(zebra, cores, Disk(grid.Cells(0.75)));
    cv::Mat not_cores, unused, labels;
    cv::bitwise_not(cores, not_cores);
    int n = 1;
    if (cv::countNonZero(cores) > 0) {
      cv::distanceTransform(not_cores, unused, labels, cv::DIST_L2, cv::DIST_MASK_5, cv::DIST_LABEL_CCOMP);
      double max_label = 0;
      cv::minMaxLoc(labels, nullptr, &max_label);
      n = static_cast<int>(max_label) + 1;
    } else {
      labels = cv::Mat::zeros(grid.rows, grid.cols, CV_32S);
    }
    std::vector<std::vector<Vec2>> blob_cells(n);
    for (int r = 0; r < grid.rows; ++r) {
      for (int c = 0; c < grid.cols; ++c) {
        const int l = labels.at<int>(r, c);
        if (zebra.at<uint8_t>(r, c) && l > 0 && l < n) blob_cells[l].push_back(grid.Centre(r, c));
      }
    }
    // Raw centreline points, for attaching crossing ends.
    struct Anchor {
      int edge;
      size_t index;
    };
    for (int l = 1; l < n; ++l) {
      const auto& cells = blob_cells[l];
      if (cells.size() * cell2 < options.min_crossing_area_m2) continue;
      ++num_crossing_blobs;
      Vec2 mean = Vec2::Zero();
      for (const Vec2& p : cells) mean += p;
      mean /= static_cast<double>(cells.size());
      Eigen::Matrix2d cov = Eigen::Matrix2d::Zero();
      for (const Vec2& p : cells) cov += (p - mean) * (p - mean).transpose();
      Eigen::SelfAdjointEigenSolver<Eigen::Matrix2d> eig(cov);
      const Vec2 axis = eig.eigenvectors().col(1);  // the walking direction: across the road
      const Vec2 side = eig.eigenvectors().col(0);
      double lo = 1e9, hi = -1e9, side_lo = 1e9, side_hi = -1e9;
      for (const Vec2& p : cells) {
        lo = std::min(lo, (p - mean).dot(axis));
        hi = std::max(hi, (p - mean).dot(axis));
        side_lo = std::min(side_lo, (p - mean).dot(side));
        side_hi = std::max(side_hi, (p - mean).dot(side));
      }
      const double width_m = side_hi - side_lo + grid.cell_m;
      const double length_m = hi - lo + grid.cell_m;
      // A zebra is a filled rectangle; anything else is not trusted.
      if (cells.size() * cell2 < 0.6 * width_m * length_m) {
        ++num_crossings_unlinked;
        continue;
      }
      // Each end links to the first sidewalk centreline along the axis.
      auto find_anchor = [&](double end, double sign, Anchor* out) {
        double best = 1e9;
        bool found = false;
        for (int ei = 0; ei < static_cast<int>(graph.edges.size()); ++ei) {
          const RawEdge& e = graph.edges[ei];
          if (!e.alive || e.kind != "sidewalk") continue;
          for (size_t k = 0; k < e.line.size(); ++k) {
            const Vec2 q = e.line[k] - mean;
            const double along = sign * (q.dot(axis) - end);
            const double lateral = std::abs(q.dot(side));
            if (along < -1.0 || along > 8.0 || lateral > 0.35 * width_m + 0.5) continue;
            const double score = along + 2.0 * lateral;
            if (score < best) {
              best = score;
              *out = {ei, k};
              found = true;
            }
          }
        }
        return found;
      };
      Anchor a0, a1;
      if (!find_anchor(lo, -1.0, &a0) || !find_anchor(hi, 1.0, &a1)) {
        ++num_crossings_unlinked;
        continue;
      }
      // Splits an edge at an anchor into two (or reuses a node within 1.5 m).
      auto node_at = [&](const Anchor& a) {
        RawEdge& e = graph.edges[a.edge];
        const Vec2 p = e.line[a.index];
        for (int end : {e.from, e.to}) {
          if ((graph.nodes[end].position - p).norm() < 1.5) return end;
        }
        const int id = static_cast<int>(graph.nodes.size());
        graph.nodes.push_back({p});
        RawEdge tail;
        tail.from = id;
        tail.to = e.to;
        tail.kind = e.kind;
        tail.line.assign(e.line.begin() + a.index, e.line.end());
        e.line.resize(a.index + 1);
        e.to = id;
        graph.edges.push_back(std::move(tail));
        return id;
      };
      const int n0 = node_at(a0);
      // The split may have moved a1's edge: look it up again.
      Anchor b1;
      if (!find_anchor(hi, 1.0, &b1)) {
        ++num_crossings_unlinked;
        continue;
      }
      const int n1 = node_at(b1);
      if (n0 == n1) {
        ++num_crossings_unlinked;
        continue;
      }
      RawEdge crossing;
      crossing.from = n0;
      crossing.to = n1;
      crossing.kind = "crossing";
      crossing.width_m = width_m;
      crossing.line = {graph.nodes[n0].position, graph.nodes[n1].position};
      graph.edges.push_back(std::move(crossing));
      ++num_crossings;
    }
  }
  // Nodes merged within 1.5 m of one another (two crossings at one corner).
  {
    const std::vector<int> degree = graph.Degrees();
    for (int a = 0; a < static_cast<int>(graph.nodes.size()); ++a) {
      if (!graph.nodes[a].alive || degree[a] == 0) continue;
      for (int b = a + 1; b < static_cast<int>(graph.nodes.size()); ++b) {
        if (!graph.nodes[b].alive || degree[b] == 0) continue;
        if ((graph.nodes[a].position - graph.nodes[b].position).norm() >= 1.5) continue;
        bool adjacent_sidewalk = false;
        for (const RawEdge& e : graph.edges) {
          if (e.alive && ((e.from == a && e.to == b) || (e.from == b && e.to == a))) adjacent_sidewalk = true;
        }
        if (!adjacent_sidewalk) continue;  // merged only along a short edge (the split left one)
        for (RawEdge& e : graph.edges) {
          if (!e.alive) continue;
          if ((e.from == a && e.to == b) || (e.from == b && e.to == a)) {
            if (LineLength(e.line) < 2.0) e.alive = false;
            continue;
          }
          if (e.from == b) {
            e.from = a;
            e.line.front() = graph.nodes[a].position;
          }
          if (e.to == b) {
            e.to = a;
            e.line.back() = graph.nodes[a].position;
          }
        }
        graph.nodes[b].alive = false;
      }
    }
  }
  MergeDegreeTwo(&graph, {});
  seconds["crossings"] = SecondsSince(t0);

  // 8. Thinning leaves the centreline up to ~1.5 cells off the middle (the
  // two sub-iterations peel opposite sides unevenly): each inner vertex of a
  // sidewalk moves across its edge to the ridge of the distance transform.
  auto distance_at = [&](const Vec2& p) {
    const cv::Point2f q = grid.Pixel(p);
    const int c0 = static_cast<int>(std::floor(q.x)), r0 = static_cast<int>(std::floor(q.y));
    if (r0 < 0 || c0 < 0 || r0 + 1 >= grid.rows || c0 + 1 >= grid.cols) return 0.0;
    const double fx = q.x - c0, fy = q.y - r0;
    const double v = (1 - fx) * (1 - fy) * walk_dist_px.at<float>(r0, c0) + fx * (1 - fy) * walk_dist_px.at<float>(r0, c0 + 1) +
                     (1 - fx) * fy * walk_dist_px.at<float>(r0 + 1, c0) + fx * fy * walk_dist_px.at<float>(r0 + 1, c0 + 1);
    return v * grid.cell_m;
  };
  for (RawEdge& e : graph.edges) {
    if (!e.alive || e.kind != "sidewalk" || e.line.size() < 5) continue;
    std::vector<Vec2> centred = e.line;
    const int n = static_cast<int>(e.line.size());
    for (int k = 2; k + 2 < n; ++k) {
      const Vec2 along = e.line[std::min(n - 1, k + 3)] - e.line[std::max(0, k - 3)];
      if (along.norm() < 1e-9) continue;
      const Vec2 normal(-along.y() / along.norm(), along.x() / along.norm());
      // The ridge is flat over a cell where the width is an even number of
      // cells: take the middle of the top.
      std::vector<double> profile;
      double best = 0;
      for (int j = 0; j <= 40; ++j) {
        profile.push_back(distance_at(e.line[k] + (-1.0 + 0.05 * j) * normal));
        best = std::max(best, profile.back());
      }
      int lo = 40, hi = 0;
      for (int j = 0; j <= 40; ++j) {
        if (profile[j] >= best - 0.01) {
          lo = std::min(lo, j);
          hi = std::max(hi, j);
        }
      }
      if (best > distance_at(e.line[k]) - 1e-9 && lo <= hi) centred[k] = e.line[k] + (-1.0 + 0.025 * (lo + hi)) * normal;
    }
    e.line = centred;
  }

  // 8b. Corners: the medial axis rounds the corner of the walkable area, so
  // a node where two sidewalks meet at an angle sits up to ~0.7 m off the
  // crossing point of their centrelines, outwards (on the demo city every
  // crossing from such a node came out ~0.6 m long, which took routes with
  // a crossing or two past 1% of the true shortest walk). Such a node moves
  // to the intersection of the lines fitted to its sidewalks' centrelines
  // kArmNearM..kArmFarM out; the first kArmNearM of each goes straight to it.
  int corners_moved = 0;
  {
    constexpr double kArmNearM = 3.0, kArmFarM = 15.0, kMinArmSpanM = 4.0;
    constexpr double kMinSinAngle = 0.7;  // arms at least ~45 degrees apart
    constexpr double kMaxMoveM = 1.5;
    struct Arm {
      int edge;
      bool at_from;
      Vec2 point, dir;  // the fitted line: through point, unit dir away from the node
    };
    // The vertices kArmNearM..kArmFarM along the edge from one end.
    auto arm_points = [&](const RawEdge& e, bool at_from) {
      std::vector<Vec2> out;
      const int n = static_cast<int>(e.line.size());
      double arc = 0;
      for (int k = 1; k < n; ++k) {
        const Vec2& a = e.line[at_from ? k - 1 : n - k];
        const Vec2& b = e.line[at_from ? k : n - 1 - k];
        arc += (b - a).norm();
        if (arc > kArmFarM) break;
        if (arc >= kArmNearM) out.push_back(b);
      }
      return out;
    };
    auto fit_arm = [&](int edge, bool at_from, const Vec2& node, Arm* arm) {
      const std::vector<Vec2> pts = arm_points(graph.edges[edge], at_from);
      if (pts.size() < 4 || (pts.back() - pts.front()).norm() < kMinArmSpanM) return false;
      Vec2 mean = Vec2::Zero();
      for (const Vec2& q : pts) mean += q;
      mean /= static_cast<double>(pts.size());
      Eigen::Matrix2d cov = Eigen::Matrix2d::Zero();
      for (const Vec2& q : pts) cov += (q - mean) * (q - mean).transpose();
      Eigen::SelfAdjointEigenSolver<Eigen::Matrix2d> eig(cov);
      Vec2 dir = eig.eigenvectors().col(1);
      if (dir.dot(mean - node) < 0) dir = -dir;
      *arm = {edge, at_from, mean, dir};
      return true;
    };
    const std::vector<int> degree = graph.Degrees();
    for (int v = 0; v < static_cast<int>(graph.nodes.size()); ++v) {
      if (!graph.nodes[v].alive || degree[v] < 2) continue;
      const Vec2 node = graph.nodes[v].position;
      std::vector<Arm> arms;
      for (int ei = 0; ei < static_cast<int>(graph.edges.size()); ++ei) {
        const RawEdge& e = graph.edges[ei];
        if (!e.alive || e.kind != "sidewalk" || e.from == e.to || (e.from != v && e.to != v)) continue;
        Arm arm;
        if (fit_arm(ei, e.from == v, node, &arm)) arms.push_back(arm);
      }
      // The two arms closest to perpendicular.
      int bi = -1, bj = -1;
      double best_sin = kMinSinAngle;
      for (size_t i = 0; i < arms.size(); ++i) {
        for (size_t j = i + 1; j < arms.size(); ++j) {
          const double sin_angle = std::abs(arms[i].dir.x() * arms[j].dir.y() - arms[i].dir.y() * arms[j].dir.x());
          if (sin_angle > best_sin) best_sin = sin_angle, bi = static_cast<int>(i), bj = static_cast<int>(j);
        }
      }
      if (bi < 0) continue;
      // point_i + s dir_i = point_j + t dir_j (Cramer; |det| = best_sin > 0.7).
      const Vec2 di = arms[bi].dir, dj = arms[bj].dir, rhs = arms[bj].point - arms[bi].point;
      const double det = -di.x() * dj.y() + dj.x() * di.y();
      const double sol = (-rhs.x() * dj.y() + dj.x() * rhs.y()) / det;
      const Vec2 corner = arms[bi].point + sol * di;
      if (!corner.allFinite() || (corner - node).norm() > kMaxMoveM) continue;
      graph.nodes[v].position = corner;
      for (RawEdge& e : graph.edges) {
        if (!e.alive || (e.from != v && e.to != v)) continue;
        const bool long_sidewalk = e.kind == "sidewalk" && e.from != e.to && LineLength(e.line) > 2 * kArmNearM + 1;
        for (const bool at_from : {true, false}) {
          if ((at_from ? e.from : e.to) != v) continue;
          if (!at_from) std::reverse(e.line.begin(), e.line.end());
          if (long_sidewalk) {
            // Drop the rounded first kArmNearM: straight from the corner on.
            size_t k = 1;
            double arc = 0;
            while (k + 1 < e.line.size() && (arc += (e.line[k] - e.line[k - 1]).norm()) < kArmNearM) ++k;
            e.line.erase(e.line.begin() + 1, e.line.begin() + static_cast<long>(k));
          }
          e.line.front() = corner;
          if (!at_from) std::reverse(e.line.begin(), e.line.end());
        }
      }
      ++corners_moved;
    }
  }
  summary["corners_moved"] = corners_moved;

  // 8c. Dead ends: the medial axis stops about half a width short of the end
  // of the walkable area, where a walker can still go (a true start there
  // snapped 2 m short). Each sidewalk dead end runs on along its last
  // metres' direction to the last walkable cell, at most kMaxExtendM.
  int ends_extended = 0;
  {
    constexpr double kFitM = 5.0, kStepM = 0.25, kMaxExtendM = 4.0, kMaxBendM = 0.3;
    auto walkable = [&](const Vec2& p) {
      int r, c;
      return grid.Index(p, &r, &c) && walk.at<uint8_t>(r, c) != 0;
    };
    const std::vector<int> degree = graph.Degrees();
    for (RawEdge& e : graph.edges) {
      if (!e.alive || e.kind != "sidewalk" || e.from == e.to || LineLength(e.line) < 2 * kFitM) continue;
      for (const bool at_from : {true, false}) {
        const int v = at_from ? e.from : e.to;
        if (degree[v] != 1) continue;
        if (at_from) std::reverse(e.line.begin(), e.line.end());  // the dead end last
        const Vec2 end = e.line.back();
        Vec2 back = end;
        double arc = 0;
        size_t first = e.line.size() - 1;
        for (size_t k = e.line.size() - 1; k-- > 0 && arc < kFitM;) {
          arc += (e.line[k + 1] - e.line[k]).norm();
          back = e.line[k];
          first = k;
        }
        const Vec2 dir = (end - back).normalized();
        // Only a straight end says where the sidewalk goes on (a bent one is
        // the axis wandering into a ragged edge of the area).
        bool straight = dir.allFinite();
        for (size_t k = first; straight && k < e.line.size(); ++k) {
          const Vec2 d = e.line[k] - back;
          straight = std::abs(d.x() * dir.y() - d.y() * dir.x()) <= kMaxBendM;
        }
        double reach = 0;
        while (straight && reach + kStepM <= kMaxExtendM && walkable(end + (reach + kStepM) * dir)) reach += kStepM;
        if (straight && reach >= kStepM) {
          graph.nodes[v].position = end + reach * dir;
          e.line.push_back(graph.nodes[v].position);
          ++ends_extended;
        }
        if (at_from) std::reverse(e.line.begin(), e.line.end());
      }
    }
  }
  summary["dead_ends_extended"] = ends_extended;

  // 9. Small components go; output with heights, widths, simplification.
  t0 = Clock::now();
  {
    // Union-find over alive edges.
    std::vector<int> parent(graph.nodes.size());
    std::iota(parent.begin(), parent.end(), 0);
    std::function<int(int)> find = [&](int x) { return parent[x] == x ? x : parent[x] = find(parent[x]); };
    for (const RawEdge& e : graph.edges) {
      if (e.alive) parent[find(e.from)] = find(e.to);
    }
    std::map<int, double> component_length;
    for (const RawEdge& e : graph.edges) {
      if (e.alive) component_length[find(e.from)] += LineLength(e.line);
    }
    for (RawEdge& e : graph.edges) {
      if (e.alive && component_length[find(e.from)] < options.min_component_length_m) e.alive = false;
    }
  }
  // Heights: mean ground height of the nearby known cells.
  cv::Mat height_sum, count_f, count_sum;
  cv::Mat height_weighted;
  raster.count.convertTo(count_f, CV_32F);
  cv::multiply(raster.height, count_f, height_weighted);
  const cv::Size zwin(2 * grid.Cells(1.0) + 1, 2 * grid.Cells(1.0) + 1);
  cv::boxFilter(height_weighted, height_sum, CV_32F, zwin, cv::Point(-1, -1), false);
  cv::boxFilter(count_f, count_sum, CV_32F, zwin, cv::Point(-1, -1), false);
  std::vector<float> all_heights;
  for (int r = 0; r < grid.rows; r += 4) {
    for (int c = 0; c < grid.cols; c += 4) {
      if (raster.count.at<int>(r, c) > 0) all_heights.push_back(raster.height.at<float>(r, c));
    }
  }
  const double default_z = Median(all_heights);
  auto lift = [&](const Vec2& p) {
    int r, c;
    if (grid.Index(p, &r, &c) && count_sum.at<float>(r, c) > 0) return Vec3(p.x(), p.y(), height_sum.at<float>(r, c) / count_sum.at<float>(r, c));
    return Vec3(p.x(), p.y(), default_z);
  };
  for (RawEdge& e : graph.edges) {
    if (e.alive && LineLength(e.line) < 0.05) e.alive = false;  // readers require length_m > 0
  }
  RoadNetwork network;
  std::vector<int> degree = graph.Degrees();
  std::vector<int> new_id(graph.nodes.size(), -1);
  for (int i = 0; i < static_cast<int>(graph.nodes.size()); ++i) {
    if (!graph.nodes[i].alive || degree[i] == 0) continue;
    new_id[i] = static_cast<int>(network.nodes.size());
    network.nodes.push_back({new_id[i], lift(graph.nodes[i].position), degree[i]});
  }
  int num_sidewalk = 0;
  for (const RawEdge& e : graph.edges) {
    if (!e.alive) continue;
    WalkNetworkEdge out;
    out.id = static_cast<int>(network.edges.size());
    out.from = new_id[e.from];
    out.to = new_id[e.to];
    out.kind = e.kind;
    std::vector<Vec3> raw;
    for (const Vec2& p : e.line) raw.push_back(lift(p));
    // Light smoothing of the pixel staircase before simplifying.
    std::vector<Vec3> smooth = raw;
    for (size_t k = 1; k + 1 < raw.size(); ++k) {
      const size_t a = k >= 2 ? k - 2 : 0, b = std::min(raw.size() - 1, k + 2);
      Vec3 sum = Vec3::Zero();
      for (size_t j = a; j <= b; ++j) sum += raw[j];
      smooth[k] = sum / static_cast<double>(b - a + 1);
    }
    out.polyline = Simplify(smooth, options.simplify_tolerance_m);
    out.length_m = PolylineLength(out.polyline);
    if (e.kind == "crossing") {
      out.width_m = e.width_m;
    } else {
      std::vector<float> widths;
      for (const Vec2& p : e.line) widths.push_back(static_cast<float>(2.0 * half_width_at(p)));
      out.width_m = Median(widths);
      ++num_sidewalk;
    }
    network.edges.push_back(std::move(out));
  }

  // 10. Coverage: the ground the lidar saw, gaps between scan lines closed.
  cv::Mat coverage;
  cv::morphologyEx(known, coverage, cv::MORPH_CLOSE, Disk(grid.Cells(1.0)));
  coverage = DropSmallComponents(coverage, static_cast<int>(25.0 / cell2));
  {
    std::vector<std::vector<cv::Point>> contours;
    std::vector<cv::Vec4i> hierarchy;
    cv::findContours(coverage, contours, hierarchy, cv::RETR_CCOMP, cv::CHAIN_APPROX_SIMPLE);
    auto ring = [&](const std::vector<cv::Point>& contour) {
      std::vector<cv::Point> approx;
      cv::approxPolyDP(contour, approx, 1.0, true);
      std::vector<Vec2> out;
      for (const cv::Point& q : approx) out.push_back(grid.Centre(q.y, q.x));
      return out;
    };
    for (int i = 0; i >= 0 && i < static_cast<int>(contours.size()); i = hierarchy[i][0]) {
      RoadPolygon polygon{ring(contours[i])};
      for (int h = hierarchy[i][2]; h >= 0; h = hierarchy[h][0]) {
        if (cv::contourArea(contours[h]) * cell2 >= 4.0) polygon.push_back(ring(contours[h]));
      }
      if (polygon[0].size() >= 3) network.coverage.push_back(std::move(polygon));
      if (hierarchy[i][0] < 0) break;
    }
  }
  double coverage_area = 0;
  for (int r = 0; r < grid.rows; ++r) coverage_area += cv::countNonZero(coverage.row(r));
  seconds["output"] = SecondsSince(t0);

  if (!options.debug_dir.empty()) {
    cv::Mat vis(grid.rows, grid.cols, CV_8UC3, cv::Scalar(0, 0, 0));
    vis.setTo(cv::Scalar(60, 60, 60), known);
    vis.setTo(cv::Scalar(120, 40, 40), carriageway & known);
    vis.setTo(cv::Scalar(60, 160, 60), walk);
    vis.setTo(cv::Scalar(0, 200, 255), zebra);
    vis.setTo(cv::Scalar(90, 90, 200), building_mask);
    for (const WalkNetworkEdge& e : network.edges) {
      for (size_t k = 1; k < e.polyline.size(); ++k) {
        cv::line(vis, grid.Pixel(e.polyline[k - 1].head<2>()), grid.Pixel(e.polyline[k].head<2>()),
                 e.kind == "crossing" ? cv::Scalar(0, 0, 255) : cv::Scalar(255, 255, 255), 1);
      }
    }
    for (const WalkNetworkNode& n : network.nodes) {
      cv::circle(vis, grid.Pixel(n.position.head<2>()), n.degree >= 3 ? 4 : 2, cv::Scalar(255, 0, 255), -1);
    }
    WriteDebug(options, "roads_classes", vis);
    cv::Mat rel8;
    relative.convertTo(rel8, CV_8U, 100.0);
    WriteDebug(options, "roads_relative_intensity", rel8);
  }

  summary["coverage_area_m2"] = coverage_area * cell2;
  summary["nodes"] = network.nodes.size();
  summary["junctions"] = std::count_if(network.nodes.begin(), network.nodes.end(), [](const WalkNetworkNode& n) { return n.degree >= 3; });
  summary["edges"] = network.edges.size();
  summary["sidewalk_edges"] = num_sidewalk;
  summary["crossings"] = num_crossings;
  summary["crossing_blobs"] = num_crossing_blobs;
  summary["crossings_unlinked"] = num_crossings_unlinked;
  summary["length_m"] = network.TotalLengthM();
  seconds["total"] = SecondsSince(t_total);
  summary["seconds"] = seconds;
  network.summary = std::move(summary);
  ARMAP_LOG_INFO("roads: {} nodes ({} junctions), {} edges ({} crossings), {:.0f} m; walkable {:.0f} m^2 in {:.2f} s",
                 network.nodes.size(), network.summary["junctions"].get<int64_t>(), network.edges.size(), num_crossings,
                 network.TotalLengthM(), walk_cells * cell2, SecondsSince(t_total));
  return network;
}

absl::StatusOr<RoadNetwork> BuildRoadNetwork(const LidarMap& lidar, const ProductInputs& inputs,
                                             const WhiteModelLevel& buildings, const RoadNetworkOptions& options) {
  const auto t0 = Clock::now();
  const PointCloud& cloud = lidar.cloud();
  const std::vector<uint8_t>& flags = lidar.ground_flags();
  PointCloud ground;
  ground.origin = cloud.origin;
  ground.points.reserve(lidar.num_ground());
  if (cloud.HasIntensity()) ground.intensity.reserve(lidar.num_ground());
  for (size_t i = 0; i < cloud.size() && i < flags.size(); ++i) {
    if (!flags[i]) continue;
    ground.points.push_back(cloud.points[i]);
    if (cloud.HasIntensity()) ground.intensity.push_back(cloud.intensity[i]);
  }
  const double gather_s = SecondsSince(t0);
  ARMAP_ASSIGN_OR_RETURN(RoadNetwork network, BuildRoadNetworkFromGround(ground, inputs, buildings, options));
  if (network.summary.contains("seconds")) {
    network.summary["seconds"]["gather"] = gather_s;
    network.summary["seconds"]["total"] = network.summary["seconds"]["total"].get<double>() + gather_s;
  }
  return network;
}

}  // namespace armap::mapping
