#include "datasets/synthetic/scene.h"

#include <cmath>

#include <Eigen/Geometry>

#include "core/random.h"

namespace armap::synth {
namespace {

using Vec3 = Eigen::Vector3d;

// Icosphere-like blob for a tree crown: an octahedron subdivided twice, its
// vertices pushed in and out by a per-tree hash so no two crowns match.
std::vector<Vec3> CrownTriangles(const Vec3& centre, double radius, uint64_t seed) {
  std::vector<Vec3> tris = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {0, 1, 0}, {-1, 0, 0}, {0, 0, 1},
                            {-1, 0, 0}, {0, -1, 0}, {0, 0, 1}, {0, -1, 0}, {1, 0, 0}, {0, 0, 1},
                            {0, 1, 0}, {1, 0, 0}, {0, 0, -1}, {-1, 0, 0}, {0, 1, 0}, {0, 0, -1},
                            {0, -1, 0}, {-1, 0, 0}, {0, 0, -1}, {1, 0, 0}, {0, -1, 0}, {0, 0, -1}};
  for (int level = 0; level < 2; ++level) {
    std::vector<Vec3> next;
    for (size_t i = 0; i < tris.size(); i += 3) {
      const Vec3 a = tris[i], b = tris[i + 1], c = tris[i + 2];
      const Vec3 ab = (a + b).normalized(), bc = (b + c).normalized(), ca = (c + a).normalized();
      for (const Vec3& v : {a, ab, ca, ab, b, bc, ca, bc, c, ab, bc, ca}) next.push_back(v);
    }
    tris.swap(next);
  }
  for (Vec3& v : tris) {
    const uint64_t h = HashCombine(seed, static_cast<uint64_t>(std::lround(v.x() * 1000) * 73856093 ^
                                                               std::lround(v.y() * 1000) * 19349663 ^
                                                               std::lround(v.z() * 1000) * 83492791));
    const double bump = 0.78 + 0.4 * (static_cast<double>(h % 10000) / 10000.0);
    v = centre + Vec3(v.x() * radius * bump, v.y() * radius * bump, v.z() * radius * 0.85 * bump);
  }
  return tris;
}

}  // namespace

void ExtraGeometry::AddBox(const Vec3& centre, const Vec3& half, double yaw_rad, const Surface& s) {
  const Eigen::Matrix3d r = Eigen::AngleAxisd(yaw_rad, Vec3::UnitZ()).toRotationMatrix();
  auto corner = [&](int i) {
    const Vec3 local((i & 1 ? 1 : -1) * half.x(), (i & 2 ? 1 : -1) * half.y(), (i & 4 ? 1 : -1) * half.z());
    return Eigen::Vector3f((centre + r * local).cast<float>());
  };
  static const int kFaces[6][4] = {{0, 1, 3, 2}, {4, 6, 7, 5}, {0, 4, 5, 1}, {2, 3, 7, 6}, {0, 2, 6, 4}, {1, 5, 7, 3}};
  for (const auto& f : kFaces) {
    for (int tri : {0, 1}) {
      const int idx[3] = {f[0], f[1 + tri], f[2 + tri]};
      for (int k : idx) vertices.push_back(corner(k));
      surfaces.push_back(s);
    }
  }
}

void Scene::AddQuad(const Vec3& a, const Vec3& b, const Vec3& c, const Vec3& d, int surface) {
  for (const Vec3& v : {a, b, c, a, c, d}) vertices_.push_back(v.cast<float>());
  triangle_surface_.push_back(surface);
  triangle_surface_.push_back(surface);
}

void Scene::AddPrism(const std::vector<Eigen::Vector2d>& poly, double z0, double z1, int object, SurfaceKind kind,
                     const Vec3& rgb, bool textured_walls) {
  const size_t n = poly.size();
  for (size_t i = 0; i < n; ++i) {
    const Vec3 a(poly[i].x(), poly[i].y(), z0), b(poly[(i + 1) % n].x(), poly[(i + 1) % n].y(), z0);
    Surface s;
    s.kind = kind;
    s.object = object;
    s.origin = a;
    s.u_axis = (b - a).normalized();
    s.rgb = rgb;
    surfaces_.push_back(s);
    const int id = static_cast<int>(surfaces_.size()) - 1;
    AddQuad(a, b, Vec3(b.x(), b.y(), z1), Vec3(a.x(), a.y(), z1), id);
  }
  // Top: a fan over the convex polygon.
  Surface top;
  top.kind = textured_walls ? SurfaceKind::kRoof : kind;
  top.object = object;
  top.rgb = rgb;
  surfaces_.push_back(top);
  const int top_id = static_cast<int>(surfaces_.size()) - 1;
  for (size_t i = 1; i + 1 < n; ++i) {
    for (const auto& p : {poly[0], poly[i], poly[i + 1]}) vertices_.push_back(Eigen::Vector3f(p.x(), p.y(), z1));
    triangle_surface_.push_back(top_id);
  }
}

Scene::Scene(const City& city) : city_(city) {
  for (const Building& b : city.buildings) {
    for (const BuildingPart& part : b.parts) AddPrism(part.polygon, 0.0, part.top_m, b.id, SurfaceKind::kFacade, b.style.base_rgb, true);
  }
  for (const Sign& s : city.signs) {
    const Vec3 right = (-s.outward).cross(Vec3::UnitZ()).normalized();
    const Vec3 bl = s.centre - right * (0.5 * s.width_m) - Vec3::UnitZ() * (0.5 * s.height_m);
    Surface surf;
    surf.kind = SurfaceKind::kSign;
    surf.object = s.id;
    surf.origin = bl;
    surf.u_axis = right;
    surfaces_.push_back(surf);
    const int id = static_cast<int>(surfaces_.size()) - 1;
    AddQuad(bl, bl + right * s.width_m, bl + right * s.width_m + Vec3::UnitZ() * s.height_m,
            bl + Vec3::UnitZ() * s.height_m, id);
    // The box behind the sign face, so lidar and side views see a solid sign.
    const Vec3 back = -s.outward * 0.12;
    const Vec3 tr = bl + right * s.width_m + Vec3::UnitZ() * s.height_m;
    Surface edge = surf;
    edge.kind = SurfaceKind::kPole;
    edge.rgb = Vec3(0.25, 0.25, 0.27);
    surfaces_.push_back(edge);
    const int eid = static_cast<int>(surfaces_.size()) - 1;
    AddQuad(bl + Vec3::UnitZ() * s.height_m + back, bl + Vec3::UnitZ() * s.height_m, tr, tr + back, eid);
    AddQuad(bl + back, bl + right * s.width_m + back, bl + right * s.width_m, bl, eid);
  }
  auto ring = [](const Eigen::Vector2d& c, double r, int sides) {
    std::vector<Eigen::Vector2d> poly;
    for (int k = 0; k < sides; ++k) poly.push_back(c + r * Eigen::Vector2d(std::cos(2 * M_PI * k / sides), std::sin(2 * M_PI * k / sides)));
    return poly;
  };
  for (size_t i = 0; i < city.poles.size(); ++i) {
    const Pole& p = city.poles[i];
    AddPrism(ring(p.position, 0.09, 6), 0.0, p.height_m, static_cast<int>(i), SurfaceKind::kPole, Vec3(0.35, 0.36, 0.38), false);
    AddPrism(ring(p.position, 0.25, 6), p.height_m, p.height_m + 0.25, static_cast<int>(i), SurfaceKind::kPole,
             Vec3(0.8, 0.8, 0.75), false);
  }
  for (size_t i = 0; i < city.trees.size(); ++i) {
    const Tree& t = city.trees[i];
    const double trunk_top = t.height_m - 1.6 * t.crown_radius_m;
    AddPrism(ring(t.position, 0.15, 6), 0.0, trunk_top + 0.5, static_cast<int>(i), SurfaceKind::kTrunk, Vec3(0.3, 0.22, 0.15), false);
    Surface crown;
    crown.kind = SurfaceKind::kCrown;
    crown.object = static_cast<int>(i);
    crown.rgb = Vec3(0.18, 0.32, 0.12);
    surfaces_.push_back(crown);
    const int id = static_cast<int>(surfaces_.size()) - 1;
    const Vec3 centre(t.position.x(), t.position.y(), t.height_m - t.crown_radius_m);
    const auto tris = CrownTriangles(centre, t.crown_radius_m, HashCombine(city.options.seed, 5000 + i));
    for (const Vec3& v : tris) vertices_.push_back(v.cast<float>());
    for (size_t k = 0; k < tris.size() / 3; ++k) triangle_surface_.push_back(id);
  }
  for (size_t i = 0; i < city.cars.size(); ++i) {
    const Car& c = city.cars[i];
    const Eigen::Vector2d f(std::cos(c.heading_rad), std::sin(c.heading_rad)), l(-f.y(), f.x());
    auto rect = [&](double len, double wid, double shift) {
      const Eigen::Vector2d o = c.position + f * shift;
      return std::vector<Eigen::Vector2d>{o - f * len / 2 - l * wid / 2, o + f * len / 2 - l * wid / 2,
                                          o + f * len / 2 + l * wid / 2, o - f * len / 2 + l * wid / 2};
    };
    AddPrism(rect(4.4, 1.8, 0.0), 0.25, 0.95, static_cast<int>(i), SurfaceKind::kCarBody, c.rgb, false);
    AddPrism(rect(2.3, 1.6, -0.2), 0.95, 1.45, static_cast<int>(i), SurfaceKind::kCarGlass, Vec3(0.08, 0.1, 0.12), false);
    for (double sf : {-1.4, 1.4}) {
      AddPrism(rect(0.7, 1.7, sf), 0.0, 0.25, static_cast<int>(i), SurfaceKind::kTrunk, Vec3(0.05, 0.05, 0.05), false);
    }
  }
  bvh_.Build(std::move(vertices_));
  vertices_.clear();
}

bool Scene::Trace(const Vec3& origin, const Vec3& dir, double max_t, SceneHit* hit, const ExtraGeometry* extra) const {
  const Ray ray{origin.cast<float>(), dir.cast<float>()};
  double best_t = max_t;
  bool found = false;
  TriangleHit tri;
  if (bvh_.Intersect(ray, 1e-4f, static_cast<float>(max_t), &tri)) {
    best_t = tri.t;
    found = true;
    hit->surface = triangle_surface_[tri.triangle];
    hit->kind = surfaces_[hit->surface].kind;
    hit->normal = bvh_.Normal(tri.triangle).cast<double>();
    hit->key = tri.triangle;
  }
  if (extra) {
    for (size_t i = 0; i < extra->surfaces.size(); ++i) {
      const Eigen::Vector3f& v0 = extra->vertices[3 * i];
      float t, u, v;
      if (!IntersectTriangle(ray, v0, extra->vertices[3 * i + 1] - v0, extra->vertices[3 * i + 2] - v0, &t, &u, &v) ||
          t <= 1e-4f || t >= best_t) {
        continue;
      }
      best_t = t;
      found = true;
      hit->surface = -2 - static_cast<int>(i);  // negative: extra geometry
      hit->kind = extra->surfaces[i].kind;
      hit->normal = (extra->vertices[3 * i + 1] - v0).cross(extra->vertices[3 * i + 2] - v0).normalized().cast<double>();
      hit->key = 1'000'000'000 + static_cast<int64_t>(i);
    }
  }
  // Ground plane z = 0.
  if (dir.z() < -1e-9) {
    const double t = -origin.z() / dir.z();
    if (t > 0 && t < best_t) {
      best_t = t;
      found = true;
      hit->surface = -1;
      hit->kind = SurfaceKind::kGround;
      hit->normal = Vec3::UnitZ();
      hit->key = -2;
    }
  }
  if (!found) {
    hit->kind = SurfaceKind::kSky;
    hit->key = -1;
    return false;
  }
  hit->t = best_t;
  hit->point = origin + best_t * dir;
  if (hit->normal.dot(dir) > 0) hit->normal = -hit->normal;
  return true;
}

bool Scene::Occluded(const Vec3& origin, const Vec3& dir, double max_t, const ExtraGeometry* extra) const {
  const Ray ray{origin.cast<float>(), dir.cast<float>()};
  if (bvh_.Occluded(ray, 1e-4f, static_cast<float>(max_t))) return true;
  if (extra) {
    for (size_t i = 0; i < extra->surfaces.size(); ++i) {
      const Eigen::Vector3f& v0 = extra->vertices[3 * i];
      float t, u, v;
      if (IntersectTriangle(ray, v0, extra->vertices[3 * i + 1] - v0, extra->vertices[3 * i + 2] - v0, &t, &u, &v) &&
          t > 1e-4f && t < max_t) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace armap::synth
