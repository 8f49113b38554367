// A bounding volume hierarchy over triangles (binned SAH build, stack
// traversal). Read-only after Build(), so any number of threads may trace.
#pragma once

#include <cstdint>
#include <vector>

#include <Eigen/Core>
#include <Eigen/Geometry>

namespace armap::synth {

struct Ray {
  Eigen::Vector3f origin;
  Eigen::Vector3f direction;  // unit
};

struct TriangleHit {
  float t = 0;      // distance along the ray
  int triangle = -1;
  float u = 0, v = 0;  // barycentrics of v1, v2
};

// Moller-Trumbore ray/triangle test with edges e1 = v1 - v0, e2 = v2 - v0.
inline bool IntersectTriangle(const Ray& ray, const Eigen::Vector3f& v0, const Eigen::Vector3f& e1,
                              const Eigen::Vector3f& e2, float* t, float* u, float* v) {
  const Eigen::Vector3f p = ray.direction.cross(e2);
  const float det = e1.dot(p);
  if (det > -1e-12f && det < 1e-12f) return false;
  const float inv_det = 1.0f / det;
  const Eigen::Vector3f s = ray.origin - v0;
  *u = s.dot(p) * inv_det;
  if (*u < 0.0f || *u > 1.0f) return false;
  const Eigen::Vector3f q = s.cross(e1);
  *v = ray.direction.dot(q) * inv_det;
  if (*v < 0.0f || *u + *v > 1.0f) return false;
  *t = e2.dot(q) * inv_det;
  return true;
}

class Bvh {
 public:
  // `vertices` holds 3 corners per triangle.
  void Build(std::vector<Eigen::Vector3f> vertices);
  // Nearest hit with t in (t_min, t_max); false if none.
  bool Intersect(const Ray& ray, float t_min, float t_max, TriangleHit* hit) const;
  // Any hit with t in (t_min, t_max): for shadow rays.
  bool Occluded(const Ray& ray, float t_min, float t_max) const;
  int num_triangles() const { return static_cast<int>(tri_v0_.size()); }
  const Eigen::Vector3f& Normal(int triangle) const { return tri_normal_[triangle]; }

 private:
  struct Node {
    float lo[3], hi[3];
    int first;   // leaf: first triangle slot; inner: left child
    int right;   // inner: right child
    int count;   // leaf: >0; inner: 0
    int axis;
  };
  template <bool kAnyHit>
  bool Traverse(const Ray& ray, float t_min, float t_max, TriangleHit* hit) const;

  std::vector<Node> nodes_;
  // Triangles in traversal order; original_index_ maps a slot to the caller's index.
  std::vector<Eigen::Vector3f> tri_v0_, tri_e1_, tri_e2_;
  std::vector<int> original_index_;
  std::vector<Eigen::Vector3f> tri_normal_;  // in the caller's order
};

}  // namespace armap::synth
