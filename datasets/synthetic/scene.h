// The synthetic city as ray-traceable geometry: triangles in a BVH, each
// pointing at a Surface (what it is and how to texture it), plus the ground
// plane z = 0 handled analytically.
#pragma once

#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include "datasets/synthetic/bvh.h"
#include "datasets/synthetic/city_model.h"

namespace armap::synth {

enum class SurfaceKind : uint8_t {
  kSky = 0, kGround, kFacade, kRoof, kSign, kPole, kTrunk, kCrown, kCarBody, kCarGlass, kPanel, kPerson
};

struct Surface {
  SurfaceKind kind = SurfaceKind::kSky;
  int object = -1;  // building id, sign id, car / tree / pole index
  // Planar texture frame: u = (p - origin) . u_axis, v = p.z - origin.z.
  Eigen::Vector3d origin = Eigen::Vector3d::Zero();
  Eigen::Vector3d u_axis = Eigen::Vector3d::UnitX();
  Eigen::Vector3d rgb{0.5, 0.5, 0.5};  // flat albedo for untextured kinds
};

struct SceneHit {
  double t = 0;
  Eigen::Vector3d point = Eigen::Vector3d::Zero();
  Eigen::Vector3d normal = Eigen::Vector3d::UnitZ();  // facing the ray
  int surface = -1;                                   // -1: ground or sky
  SurfaceKind kind = SurfaceKind::kSky;
  // Identifies the primitive for edge-aware antialiasing.
  int64_t key = -1;
};

// Extra geometry for one render (a passer-by, a hoarding panel): a few
// triangles traced by brute force next to the city.
struct ExtraGeometry {
  std::vector<Eigen::Vector3f> vertices;  // 3 per triangle
  std::vector<Surface> surfaces;          // one per triangle
  void AddBox(const Eigen::Vector3d& centre, const Eigen::Vector3d& half_extents, double yaw_rad, const Surface& s);
};

class Scene {
 public:
  explicit Scene(const City& city);

  // Nearest surface along the ray within max_t. Returns false for sky.
  bool Trace(const Eigen::Vector3d& origin, const Eigen::Vector3d& direction, double max_t, SceneHit* hit,
             const ExtraGeometry* extra = nullptr) const;
  bool Occluded(const Eigen::Vector3d& origin, const Eigen::Vector3d& direction, double max_t,
                const ExtraGeometry* extra = nullptr) const;

  const City& city() const { return city_; }
  const Surface& surface(int index) const { return surfaces_[index]; }
  int num_triangles() const { return bvh_.num_triangles(); }

 private:
  void AddQuad(const Eigen::Vector3d& a, const Eigen::Vector3d& b, const Eigen::Vector3d& c, const Eigen::Vector3d& d,
               int surface);
  void AddPrism(const std::vector<Eigen::Vector2d>& polygon, double z0, double z1, int wall_surface_kind_object,
                SurfaceKind kind, const Eigen::Vector3d& rgb, bool textured_walls);

  const City& city_;
  Bvh bvh_;
  std::vector<Eigen::Vector3f> vertices_;     // during construction
  std::vector<int> triangle_surface_;
  std::vector<Surface> surfaces_;
};

}  // namespace armap::synth
