#include "mapping/products/whitemodel_geometry.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <boost/geometry.hpp>
#include <boost/geometry/geometries/point_xy.hpp>
#include <boost/geometry/geometries/multi_polygon.hpp>
#include <boost/geometry/geometries/polygon.hpp>
#include <opencv2/imgproc.hpp>

namespace armap::mapping::internal {

double SignedArea(const Polygon2& poly) {
  double a = 0;
  for (size_t i = 0; i < poly.size(); ++i) {
    const Eigen::Vector2d& p = poly[i];
    const Eigen::Vector2d& q = poly[(i + 1) % poly.size()];
    a += p.x() * q.y() - q.x() * p.y();
  }
  return 0.5 * a;
}

double PolygonArea(const Polygon2& poly) { return std::abs(SignedArea(poly)); }

namespace {

enum class Dir { kH, kV, kOblique };

struct Line {
  Dir dir;
  double coordinate;  // v for kH, u for kV
  double weight;      // length
  Eigen::Vector2d a, b;
};

}  // namespace

Polygon2 RemoveRepeatedAndCollinear(const Polygon2& poly) {
  // Until nothing changes: dropping a repeated vertex can leave its
  // neighbours collinear (a zero-length jog between two edges of one line).
  Polygon2 p = poly;
  for (bool changed = true; changed && p.size() >= 3;) {
    changed = false;
    const size_t n = p.size();
    for (size_t i = 0; i < n; ++i) {
      const Eigen::Vector2d& prev = p[(i + n - 1) % n];
      const Eigen::Vector2d& cur = p[i];
      const Eigen::Vector2d& next = p[(i + 1) % n];
      const Eigen::Vector2d d1 = cur - prev, d2 = next - cur;
      const double cross = d1.x() * d2.y() - d1.y() * d2.x();
      if (d1.norm() < 1e-6 || (std::abs(cross) < 1e-9 * std::max(1.0, d1.norm() * d2.norm()) && d1.dot(d2) > 0)) {
        p.erase(p.begin() + static_cast<long>(i));
        changed = true;
        break;
      }
    }
  }
  return p.size() >= 3 ? p : poly;
}

Polygon2 Rectilinearize(const Polygon2& poly, double tol_deg) {
  const size_t n = poly.size();
  if (n < 4) return poly;
  std::vector<Line> lines;
  for (size_t i = 0; i < n; ++i) {
    const Eigen::Vector2d a = poly[i], b = poly[(i + 1) % n], d = b - a;
    const double len = d.norm();
    if (len < 1e-9) continue;
    const double ang = std::atan2(std::abs(d.y()), std::abs(d.x())) * 180 / M_PI;
    if (ang <= tol_deg && ang < 45) lines.push_back({Dir::kH, 0.5 * (a.y() + b.y()), len, a, b});
    else if (ang >= 90 - tol_deg) lines.push_back({Dir::kV, 0.5 * (a.x() + b.x()), len, a, b});
    else return poly;
  }
  // Merge runs of one direction (cyclic).
  bool merged = true;
  while (merged && lines.size() >= 2) {
    merged = false;
    for (size_t i = 0; i < lines.size() && lines.size() >= 2; ++i) {
      const size_t j = (i + 1) % lines.size();
      if (lines[i].dir != lines[j].dir) continue;
      Line m = lines[i];
      m.coordinate = (lines[i].coordinate * lines[i].weight + lines[j].coordinate * lines[j].weight) /
                     (lines[i].weight + lines[j].weight);
      m.weight = lines[i].weight + lines[j].weight;
      m.b = lines[j].b;
      lines[i] = m;
      lines.erase(lines.begin() + j);
      merged = true;
      break;
    }
  }
  if (lines.size() < 4 || lines.size() % 2) return poly;
  Polygon2 out;
  for (size_t i = 0; i < lines.size(); ++i) {
    const Line& prev = lines[(i + lines.size() - 1) % lines.size()];
    const Line& cur = lines[i];
    out.push_back(prev.dir == Dir::kH ? Eigen::Vector2d(cur.coordinate, prev.coordinate)
                                      : Eigen::Vector2d(prev.coordinate, cur.coordinate));
  }
  // A jog shorter than the snapping merged away leaves a repeated vertex.
  return RemoveRepeatedAndCollinear(out);
}

bool MostlyRectilinear(const Polygon2& poly, double tol_deg, double min_fraction) {
  double total = 0, aligned = 0;
  for (size_t i = 0; i < poly.size(); ++i) {
    const Eigen::Vector2d d = poly[(i + 1) % poly.size()] - poly[i];
    const double len = d.norm();
    const double ang = std::atan2(std::abs(d.y()), std::abs(d.x())) * 180 / M_PI;
    total += len;
    if (ang <= tol_deg || ang >= 90 - tol_deg) aligned += len;
  }
  return total > 0 && aligned >= min_fraction * total;
}

std::vector<AxisEdge> AxisEdges(const Polygon2& poly) {
  std::vector<AxisEdge> edges;
  const size_t n = poly.size();
  if (n < 4 || n % 2) return {};
  for (size_t i = 0; i < n; ++i) {
    const Eigen::Vector2d a = poly[i], b = poly[(i + 1) % n];
    AxisEdge e;
    if (std::abs(a.y() - b.y()) < 1e-9) {
      e.horizontal = true; e.coordinate = a.y(); e.lo = std::min(a.x(), b.x()); e.hi = std::max(a.x(), b.x());
    } else if (std::abs(a.x() - b.x()) < 1e-9) {
      e.horizontal = false; e.coordinate = a.x(); e.lo = std::min(a.y(), b.y()); e.hi = std::max(a.y(), b.y());
    } else {
      return {};
    }
    if (!edges.empty() && edges.back().horizontal == e.horizontal) return {};
    edges.push_back(e);
  }
  if (edges.front().horizontal == edges.back().horizontal) return {};
  return edges;
}

Polygon2 PolygonFromAxisEdges(const std::vector<AxisEdge>& edges, const Polygon2& fallback) {
  if (edges.empty()) return fallback;
  Polygon2 out;
  for (size_t i = 0; i < edges.size(); ++i) {
    const AxisEdge& prev = edges[(i + edges.size() - 1) % edges.size()];
    const AxisEdge& cur = edges[i];
    out.push_back(prev.horizontal ? Eigen::Vector2d(cur.coordinate, prev.coordinate)
                                  : Eigen::Vector2d(prev.coordinate, cur.coordinate));
  }
  return out;
}

Polygon2 Cleanup(const Polygon2& poly, double min_length_m) {
  Polygon2 p = poly;
  for (int iter = 0; iter < 100; ++iter) {
    std::vector<AxisEdge> edges = AxisEdges(p);
    if (edges.size() < 6) break;
    // Shortest edge below the limit: drop it; its neighbours become one line.
    size_t k = 0;
    for (size_t i = 1; i < edges.size(); ++i)
      if (edges[i].hi - edges[i].lo < edges[k].hi - edges[k].lo) k = i;
    if (edges[k].hi - edges[k].lo >= min_length_m) break;
    const size_t n = edges.size();
    const size_t a = (k + n - 1) % n, b = (k + 1) % n;
    const double wa = edges[a].hi - edges[a].lo, wb = edges[b].hi - edges[b].lo;
    AxisEdge m = edges[a];
    m.coordinate = (edges[a].coordinate * wa + edges[b].coordinate * wb) / std::max(1e-9, wa + wb);
    std::vector<AxisEdge> next;
    for (size_t i = 0; i < n; ++i) {
      if (i == k || i == b) continue;
      next.push_back(i == a ? m : edges[i]);
    }
    // Recompute spans from the new vertices.
    Polygon2 q = PolygonFromAxisEdges(next, p);
    p = q;
  }
  return RemoveRepeatedAndCollinear(p);
}

namespace {

bool PointInPolygon(const Polygon2& poly, const Eigen::Vector2d& p) {
  bool inside = false;
  for (size_t i = 0, j = poly.size() - 1; i < poly.size(); j = i++) {
    const Eigen::Vector2d& a = poly[i];
    const Eigen::Vector2d& b = poly[j];
    if ((a.y() > p.y()) != (b.y() > p.y()) && p.x() < (b.x() - a.x()) * (p.y() - a.y()) / (b.y() - a.y()) + a.x())
      inside = !inside;
  }
  return inside;
}

}  // namespace

std::vector<Rect> RectilinearPieces(const Polygon2& poly) {
  Eigen::Vector2d lo = poly.front(), hi = poly.front();
  for (const Eigen::Vector2d& p : poly) { lo = lo.cwiseMin(p); hi = hi.cwiseMax(p); }
  if (AxisEdges(poly).empty()) return {Rect{lo.x(), lo.y(), hi.x(), hi.y()}};
  std::vector<double> us, vs;
  for (const Eigen::Vector2d& p : poly) { us.push_back(p.x()); vs.push_back(p.y()); }
  auto uniq = [](std::vector<double>& v) {
    std::sort(v.begin(), v.end());
    std::vector<double> out;
    for (double x : v) if (out.empty() || x - out.back() > 1e-6) out.push_back(x);
    v = out;
  };
  uniq(us);
  uniq(vs);
  std::vector<Rect> pieces;
  for (size_t i = 0; i + 1 < us.size(); ++i)
    for (size_t j = 0; j + 1 < vs.size(); ++j)
      if (PointInPolygon(poly, {0.5 * (us[i] + us[i + 1]), 0.5 * (vs[j] + vs[j + 1])}))
        pieces.push_back({us[i], vs[j], us[i + 1], vs[j + 1]});
  return pieces;
}

void MergePieces(std::vector<Rect>* pieces, std::vector<double>* values, std::vector<double>* areas, double max_step) {
  auto same = [](double a, double b) { return std::abs(a - b) < 1e-6; };
  bool merged = true;
  while (merged) {
    merged = false;
    double best_diff = max_step;
    size_t bi = 0, bj = 0;
    for (size_t i = 0; i < pieces->size(); ++i) {
      for (size_t j = i + 1; j < pieces->size(); ++j) {
        const Rect& a = (*pieces)[i];
        const Rect& b = (*pieces)[j];
        const bool stack_v = same(a.u0, b.u0) && same(a.u1, b.u1) && (same(a.v1, b.v0) || same(b.v1, a.v0));
        const bool stack_u = same(a.v0, b.v0) && same(a.v1, b.v1) && (same(a.u1, b.u0) || same(b.u1, a.u0));
        if (!stack_u && !stack_v) continue;
        const double diff = std::abs((*values)[i] - (*values)[j]);
        // Prefer the largest union among equals: fewer, bigger parts.
        if (diff < best_diff - 1e-9 || (diff <= best_diff + 1e-9 && !merged)) {
          best_diff = diff;
          bi = i;
          bj = j;
          merged = true;
        }
      }
    }
    if (!merged) break;
    Rect& a = (*pieces)[bi];
    const Rect b = (*pieces)[bj];
    const double wa = (*areas)[bi], wb = (*areas)[bj];
    a = {std::min(a.u0, b.u0), std::min(a.v0, b.v0), std::max(a.u1, b.u1), std::max(a.v1, b.v1)};
    (*values)[bi] = ((*values)[bi] * wa + (*values)[bj] * wb) / std::max(1e-9, wa + wb);
    (*areas)[bi] = wa + wb;
    pieces->erase(pieces->begin() + bj);
    values->erase(values->begin() + bj);
    areas->erase(areas->begin() + bj);
  }
}

Polygon2 Simplify(const Polygon2& poly, double tolerance_m) {
  if (poly.size() <= 4) return poly;
  std::vector<cv::Point2f> in, out;  // approxPolyDP takes int or float points
  for (const Eigen::Vector2d& p : poly) in.emplace_back(static_cast<float>(p.x()), static_cast<float>(p.y()));
  cv::approxPolyDP(in, out, tolerance_m, true);
  Polygon2 s;
  for (const cv::Point2f& p : out) s.push_back({p.x, p.y});
  if (s.size() < 3) return poly;
  return Cleanup(Rectilinearize(s, 15.0), tolerance_m);
}

namespace {

double PointSegmentDistance(const Eigen::Vector2d& p, const Eigen::Vector2d& a, const Eigen::Vector2d& b) {
  const Eigen::Vector2d d = b - a;
  const double len2 = d.squaredNorm();
  const double t = len2 > 0 ? std::clamp((p - a).dot(d) / len2, 0.0, 1.0) : 0.0;
  return (a + t * d - p).norm();
}

double DirectedOutlineDistance(const Polygon2& from, const Polygon2& to) {
  double worst = 0;
  for (size_t i = 0; i < from.size(); ++i) {
    const Eigen::Vector2d a = from[i], b = from[(i + 1) % from.size()];
    const int n = std::max(1, static_cast<int>(std::ceil((b - a).norm() / 0.1)));
    for (int k = 0; k < n; ++k) {
      const Eigen::Vector2d p = a + (b - a) * (static_cast<double>(k) / n);
      double best = std::numeric_limits<double>::infinity();
      for (size_t j = 0; j < to.size(); ++j) best = std::min(best, PointSegmentDistance(p, to[j], to[(j + 1) % to.size()]));
      worst = std::max(worst, best);
    }
  }
  return worst;
}

}  // namespace

double OutlineDistance(const Polygon2& a, const Polygon2& b) {
  if (a.empty() || b.empty()) return std::numeric_limits<double>::infinity();
  return std::max(DirectedOutlineDistance(a, b), DirectedOutlineDistance(b, a));
}

Polygon2 SimplifyWithin(const Polygon2& poly, double tolerance_m) {
  double t = tolerance_m;
  for (int attempt = 0; attempt < 6; ++attempt, t *= 0.7) {
    Polygon2 s = Simplify(poly, t);
    if (s.size() >= 3 && s.size() <= poly.size() && OutlineDistance(s, poly) <= tolerance_m) return s;
  }
  return poly;
}

Polygon2 UnionOutline(const std::vector<Rect>& rects) {
  namespace bg = boost::geometry;
  using Pt = bg::model::d2::point_xy<double>;
  using Poly = bg::model::polygon<Pt>;
  using Multi = bg::model::multi_polygon<Poly>;
  Multi acc;
  for (const Rect& r : rects) {
    Poly p;
    for (const Pt& v : {Pt(r.u0, r.v0), Pt(r.u1, r.v0), Pt(r.u1, r.v1), Pt(r.u0, r.v1), Pt(r.u0, r.v0)}) bg::append(p.outer(), v);
    bg::correct(p);
    Multi next;
    bg::union_(acc, p, next);
    acc = std::move(next);
  }
  if (acc.size() != 1 || !acc[0].inners().empty()) return {};
  Polygon2 out;
  const auto& ring = acc[0].outer();
  for (size_t i = 0; i + 1 < ring.size(); ++i) out.push_back({bg::get<0>(ring[i]), bg::get<1>(ring[i])});
  out = Cleanup(out, 0.0);
  if (SignedArea(out) < 0) std::reverse(out.begin(), out.end());
  return out;
}

namespace {

bool SegmentsCross(const Eigen::Vector2d& p, const Eigen::Vector2d& q, const Eigen::Vector2d& a,
                   const Eigen::Vector2d& b) {
  auto cross = [](const Eigen::Vector2d& o, const Eigen::Vector2d& u, const Eigen::Vector2d& v) {
    return (u - o).x() * (v - o).y() - (u - o).y() * (v - o).x();
  };
  const double d1 = cross(a, b, p), d2 = cross(a, b, q), d3 = cross(p, q, a), d4 = cross(p, q, b);
  return ((d1 > 0) != (d2 > 0)) && ((d3 > 0) != (d4 > 0));
}

}  // namespace

bool SegmentHitsAnyOutline(const Eigen::Vector2d& p, const Eigen::Vector2d& q, const std::vector<Polygon2>& outlines,
                           int skip) {
  const Eigen::Vector2d lo = p.cwiseMin(q), hi = p.cwiseMax(q);
  for (size_t k = 0; k < outlines.size(); ++k) {
    if (static_cast<int>(k) == skip) continue;
    const Polygon2& o = outlines[k];
    Eigen::Vector2d olo = o.front(), ohi = o.front();
    for (const Eigen::Vector2d& v : o) { olo = olo.cwiseMin(v); ohi = ohi.cwiseMax(v); }
    if ((olo.array() > hi.array()).any() || (ohi.array() < lo.array()).any()) continue;
    for (size_t i = 0; i < o.size(); ++i)
      if (SegmentsCross(p, q, o[i], o[(i + 1) % o.size()])) return true;
  }
  return false;
}

double PolygonIoU(const Polygon2& a, const Polygon2& b) {
  namespace bg = boost::geometry;
  using Pt = bg::model::d2::point_xy<double>;
  using Poly = bg::model::polygon<Pt>;
  auto make = [](const Polygon2& p) {
    Poly poly;
    for (const Eigen::Vector2d& v : p) bg::append(poly.outer(), Pt(v.x(), v.y()));
    if (!p.empty()) bg::append(poly.outer(), Pt(p.front().x(), p.front().y()));
    bg::correct(poly);
    return poly;
  };
  const Poly pa = make(a), pb = make(b);
  if (!bg::is_valid(pa) || !bg::is_valid(pb)) return 0.0;
  std::vector<Poly> inter;
  bg::intersection(pa, pb, inter);
  double ai = 0;
  for (const Poly& p : inter) ai += bg::area(p);
  const double au = bg::area(pa) + bg::area(pb) - ai;
  return au > 0 ? ai / au : 0.0;
}

}  // namespace armap::mapping::internal
