// The synthetic city's world: streets, buildings, signs, clutter and the
// mapping route, in the map frame (ENU metres, z up, ground at z = 0).
// Pure geometry and semantics; appearance lives in materials.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "absl/status/status.h"
#include "core/geo.h"

namespace armap::synth {

struct CityOptions {
  uint64_t seed = 1;
  // Side of the square city, metres. Streets are laid every ~100 m.
  double size_m = 200.0;
  GeoPoint origin{22.5431, 114.0579, 10.0};
  absl::Status Validate() const;
};

// A street: the centreline is an axis-aligned line across the whole city.
struct Street {
  int id = 0;
  bool along_x = true;        // true: runs west-east at y = position_m
  double position_m = 0.0;
  double road_half_width_m = 6.0;  // carriageway half width
  double sidewalk_width_m = 4.0;
  std::string name;
  // Distance from the centreline to the sidewalk centreline / outer edge.
  double SidewalkCentreOffset() const { return road_half_width_m + 0.5 * sidewalk_width_m; }
  double OuterEdgeOffset() const { return road_half_width_m + sidewalk_width_m; }
};

// A prism from the ground to top_m over a convex quadrilateral (CCW, x-y).
struct BuildingPart {
  std::vector<Eigen::Vector2d> polygon;
  double top_m = 10.0;
};

struct FacadeStyle {
  int material_patch = 0;           // index into the photo patch library
  Eigen::Vector3d base_rgb{0.6, 0.6, 0.6};
  double floor_height_m = 3.3;
  double ground_floor_height_m = 4.5;
  double window_spacing_m = 3.0;
  double window_width_frac = 0.55;
  double window_height_frac = 0.55;
  Eigen::Vector3d glass_rgb{0.2, 0.25, 0.3};
  Eigen::Vector3d frame_rgb{0.3, 0.3, 0.3};
  double texture_scale_m = 4.0;     // metres covered by one photo patch
  double weathering = 0.5;          // 0..1, strength of stains
  bool curtain_wall = false;        // glass tower: large glazed panels
};

struct Building {
  int id = 0;
  std::string shape;                      // rect, L, U, rotated, setback
  std::vector<Eigen::Vector2d> footprint; // outline, CCW
  std::vector<BuildingPart> parts;        // their union is the solid
  double height_m = 0.0;                  // max over parts
  FacadeStyle style;
  bool IsLod2() const;
};

struct Sign {
  int id = 0;
  int building_id = 0;
  std::string name_zh;
  std::string name_en;
  std::string category;
  Eigen::Vector3d centre = Eigen::Vector3d::Zero();   // world, metres
  Eigen::Vector3d outward = Eigen::Vector3d::UnitX(); // facade normal
  double width_m = 4.0;
  double height_m = 1.0;
  Eigen::Vector3d background_rgb{0.8, 0.1, 0.1};
  Eigen::Vector3d text_rgb{1, 1, 1};
};

struct Tree { Eigen::Vector2d position; double height_m; double crown_radius_m; };
struct Pole { Eigen::Vector2d position; double height_m; };
struct Car { Eigen::Vector2d position; double heading_rad; Eigen::Vector3d rgb; };

// The mapping vehicle's path: a polyline with rounded corners, sampled every
// few decimetres; `closed` when it returns to its start.
struct Route {
  std::vector<Eigen::Vector2d> points;
  bool closed = false;
  double LengthM() const;
  // Position and unit heading at arc length s (wraps when closed).
  void Sample(double s_m, Eigen::Vector2d* position, Eigen::Vector2d* heading) const;
};

// A node / edge of the pedestrian network (sidewalk centrelines and crossings).
struct WalkNode { int id; Eigen::Vector2d position; };
struct WalkEdge { int id; int from; int to; std::string kind; double width_m; };

struct City {
  CityOptions options;
  double half_size_m = 100.0;
  std::vector<Street> streets;
  std::vector<Building> buildings;
  std::vector<Sign> signs;
  std::vector<Tree> trees;
  std::vector<Pole> poles;
  std::vector<Car> cars;
  Route route;
  std::vector<WalkNode> walk_nodes;
  std::vector<WalkEdge> walk_edges;
  Eigen::Vector3d sun_direction{0.4, 0.3, 0.87};  // towards the sun, unit

  // Ground semantics at (x, y): what a ray hitting the ground sees.
  enum class Ground { kRoad, kSidewalk, kCrossing, kLot };
  Ground GroundAt(const Eigen::Vector2d& p) const;
  // Nearest street whose carriageway or sidewalk contains p, or nullptr.
  const Street* StreetAt(const Eigen::Vector2d& p) const;
};

City GenerateCity(const CityOptions& options);

}  // namespace armap::synth
