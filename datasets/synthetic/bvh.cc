#include "datasets/synthetic/bvh.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace armap::synth {
namespace {

struct BuildItem {
  Eigen::Vector3f lo, hi, centroid;
  int triangle;
};

constexpr int kBins = 12;
constexpr int kMaxLeafSize = 4;

float SurfaceArea(const Eigen::Vector3f& lo, const Eigen::Vector3f& hi) {
  const Eigen::Vector3f d = (hi - lo).cwiseMax(0.0f);
  return 2.0f * (d.x() * d.y() + d.y() * d.z() + d.z() * d.x());
}

}  // namespace

void Bvh::Build(std::vector<Eigen::Vector3f> vertices) {
  const int n = static_cast<int>(vertices.size() / 3);
  std::vector<BuildItem> items(n);
  for (int i = 0; i < n; ++i) {
    const Eigen::Vector3f &a = vertices[3 * i], &b = vertices[3 * i + 1], &c = vertices[3 * i + 2];
    items[i] = {a.cwiseMin(b).cwiseMin(c), a.cwiseMax(b).cwiseMax(c), (a + b + c) / 3.0f, i};
  }
  nodes_.clear();
  nodes_.reserve(2 * n + 1);
  std::vector<int> order;
  order.reserve(n);

  // Iterative build: each task is a range of items and the node to fill.
  struct Task { int begin, end, node; };
  std::vector<Task> tasks;
  nodes_.push_back({});
  tasks.push_back({0, n, 0});
  while (!tasks.empty()) {
    const Task task = tasks.back();
    tasks.pop_back();
    Eigen::Vector3f lo = Eigen::Vector3f::Constant(std::numeric_limits<float>::max()), hi = -lo;
    Eigen::Vector3f clo = lo, chi = hi;
    for (int i = task.begin; i < task.end; ++i) {
      lo = lo.cwiseMin(items[i].lo);
      hi = hi.cwiseMax(items[i].hi);
      clo = clo.cwiseMin(items[i].centroid);
      chi = chi.cwiseMax(items[i].centroid);
    }
    Node& node = nodes_[task.node];
    for (int k = 0; k < 3; ++k) {
      node.lo[k] = lo[k];
      node.hi[k] = hi[k];
    }
    const int count = task.end - task.begin;
    int best_axis = -1, best_split = -1;
    float best_cost = count * SurfaceArea(lo, hi);  // cost of a leaf
    if (count > kMaxLeafSize) {
      for (int axis = 0; axis < 3; ++axis) {
        const float extent = chi[axis] - clo[axis];
        if (extent <= 1e-9f) continue;
        struct Bin { Eigen::Vector3f lo, hi; int count = 0; };
        Bin bins[kBins];
        for (Bin& b : bins) { b.lo = Eigen::Vector3f::Constant(1e30f); b.hi = -b.lo; }
        for (int i = task.begin; i < task.end; ++i) {
          int b = static_cast<int>(kBins * (items[i].centroid[axis] - clo[axis]) / extent);
          b = std::min(b, kBins - 1);
          bins[b].lo = bins[b].lo.cwiseMin(items[i].lo);
          bins[b].hi = bins[b].hi.cwiseMax(items[i].hi);
          bins[b].count++;
        }
        float right_area[kBins];
        int right_count[kBins];
        Eigen::Vector3f rlo = Eigen::Vector3f::Constant(1e30f), rhi = -rlo;
        int rc = 0;
        for (int b = kBins - 1; b > 0; --b) {
          rlo = rlo.cwiseMin(bins[b].lo);
          rhi = rhi.cwiseMax(bins[b].hi);
          rc += bins[b].count;
          right_area[b] = rc ? SurfaceArea(rlo, rhi) : 0;
          right_count[b] = rc;
        }
        Eigen::Vector3f llo = Eigen::Vector3f::Constant(1e30f), lhi = -llo;
        int lc = 0;
        for (int b = 0; b < kBins - 1; ++b) {
          llo = llo.cwiseMin(bins[b].lo);
          lhi = lhi.cwiseMax(bins[b].hi);
          lc += bins[b].count;
          if (lc == 0 || right_count[b + 1] == 0) continue;
          const float cost = 0.5f * SurfaceArea(lo, hi) + lc * SurfaceArea(llo, lhi) + right_count[b + 1] * right_area[b + 1];
          if (cost < best_cost) {
            best_cost = cost;
            best_axis = axis;
            best_split = b;
          }
        }
      }
    }
    if (best_axis < 0) {
      node.first = static_cast<int>(order.size());
      node.count = count;
      node.axis = 0;
      for (int i = task.begin; i < task.end; ++i) order.push_back(items[i].triangle);
      continue;
    }
    const float extent = chi[best_axis] - clo[best_axis];
    auto mid_it = std::partition(items.begin() + task.begin, items.begin() + task.end, [&](const BuildItem& it) {
      const int b = std::min(kBins - 1, static_cast<int>(kBins * (it.centroid[best_axis] - clo[best_axis]) / extent));
      return b <= best_split;
    });
    const int mid = static_cast<int>(mid_it - items.begin());
    const int left = static_cast<int>(nodes_.size());
    nodes_.push_back({});
    const int right = static_cast<int>(nodes_.size());
    nodes_.push_back({});
    Node& parent = nodes_[task.node];  // re-fetch: push_back may reallocate
    parent.first = left;
    parent.right = right;
    parent.count = 0;
    parent.axis = best_axis;
    tasks.push_back({mid, task.end, right});
    tasks.push_back({task.begin, mid, left});
  }
  // Store triangles in traversal order for locality.
  tri_v0_.resize(n);
  tri_e1_.resize(n);
  tri_e2_.resize(n);
  tri_normal_.resize(n);
  for (int i = 0; i < n; ++i) {
    const int t = order[i];
    tri_v0_[i] = vertices[3 * t];
    tri_e1_[i] = vertices[3 * t + 1] - vertices[3 * t];
    tri_e2_[i] = vertices[3 * t + 2] - vertices[3 * t];
    tri_normal_[t] = tri_e1_[i].cross(tri_e2_[i]).normalized();
  }
  original_index_ = std::move(order);
}

template <bool kAnyHit>
bool Bvh::Traverse(const Ray& ray, float t_min, float t_max, TriangleHit* hit) const {
  if (nodes_.empty() || tri_v0_.empty()) return false;
  const Eigen::Vector3f inv(1.0f / ray.direction.x(), 1.0f / ray.direction.y(), 1.0f / ray.direction.z());
  const bool negative[3] = {inv.x() < 0, inv.y() < 0, inv.z() < 0};
  int stack[96];
  int top = 0;
  stack[top++] = 0;
  bool found = false;
  float best_t = t_max;
  while (top > 0) {
    const Node& node = nodes_[stack[--top]];
    // Slab test.
    float t0 = t_min, t1 = best_t;
    bool miss = false;
    for (int k = 0; k < 3; ++k) {
      float near_t = (node.lo[k] - ray.origin[k]) * inv[k];
      float far_t = (node.hi[k] - ray.origin[k]) * inv[k];
      if (negative[k]) std::swap(near_t, far_t);
      t0 = near_t > t0 ? near_t : t0;
      t1 = far_t < t1 ? far_t : t1;
      if (t0 > t1) { miss = true; break; }
    }
    if (miss) continue;
    if (node.count > 0) {
      for (int i = node.first; i < node.first + node.count; ++i) {
        float t, u, v;
        if (!IntersectTriangle(ray, tri_v0_[i], tri_e1_[i], tri_e2_[i], &t, &u, &v)) continue;
        if (t <= t_min || t >= best_t) continue;
        if (kAnyHit) return true;
        best_t = t;
        found = true;
        hit->t = t;
        hit->triangle = original_index_[i];
        hit->u = u;
        hit->v = v;
      }
      continue;
    }
    // Visit the near child first: push the far one first.
    const int left = node.first;
    const int right = node.right;
    if (negative[node.axis]) {
      stack[top++] = left;
      stack[top++] = right;
    } else {
      stack[top++] = right;
      stack[top++] = left;
    }
  }
  return found;
}

bool Bvh::Intersect(const Ray& ray, float t_min, float t_max, TriangleHit* hit) const {
  return Traverse<false>(ray, t_min, t_max, hit);
}

bool Bvh::Occluded(const Ray& ray, float t_min, float t_max) const {
  TriangleHit unused;
  return Traverse<true>(ray, t_min, t_max, &unused);
}

}  // namespace armap::synth
