// White models: untextured building blocks (LOD1, LOD2 where a roof has
// distinct levels) from the non-ground lidar, with a simplified level whose
// geometric tolerance is stated. Written as CityJSON 1.1, glTF 2.0 (binary)
// and GeoJSON footprints.
#pragma once

#include <filesystem>
#include <vector>

#include <Eigen/Core>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/geo.h"
#include "core/json.h"
#include "mapping/lidar/lidar_map.h"
#include "mapping/products/products_input.h"

namespace armap::mapping {

struct WhiteModelOptions {
  // Geometric tolerance of the simplified level, metres (the largest
  // distance of a full-level outline vertex from the simplified outline).
  double simplified_tolerance_m = 1.0;
  // Height tolerance of the simplified level, metres: neighbouring roof
  // parts whose heights all lie within this become one part (its height the
  // area-weighted mean, so no part moves by more than this).
  double simplified_height_tolerance_m = 3.0;
  // Tolerance of the full level's outline, metres: wall jogs smaller than
  // this are noise of the raster outline, larger ones are kept.
  double full_tolerance_m = 0.3;
  // Edge of the plan-view grid that finds walls, metres.
  double grid_cell_m = 0.25;
  // Points lower than this above the ground are ignored: cars (< 2 m),
  // people, hedges, and the wall foot hidden behind them.
  double min_point_height_m = 2.5;
  // A wall cell holds points spanning at least this much height. A facade
  // column spans the visible wall (parked cars and trees hide its foot);
  // lamp poles and trunks are dropped by their size.
  double min_wall_span_m = 2.0;
  // Fraction of the 0.5 m height bins between a wall cell's lowest and
  // highest point that hold points (a crown's underside and top do not).
  double min_wall_continuity = 0.7;
  // Wall cells whose surroundings (+-0.75 m) are at least this share
  // observed ground are tree crowns (a facade has ground on one side only).
  // Off (1): 0.7 cost the simulated test city 0.1 footprint IoU (facade
  // cells lost) and gained nothing on the default city once the dominant
  // direction no longer followed the trees.
  double max_wall_ground_share = 1.0;
  // Shortest edge of a full-level outline, metres (shorter jogs are raster
  // noise of the carved outline).
  double min_edge_m = 0.75;
  // Wall clusters whose plan extent (longest side of their oriented box) is
  // smaller are not buildings (poles, tree trunks, sign posts), metres.
  double min_building_extent_m = 5.0;
  // Wings of one building (clusters apart, e.g. a U's arms): their dominant
  // directions agree within this, degrees, ...
  double wing_max_angle_deg = 3.0;
  // ... their faces on one side lie on one line within this, metres, ...
  double wing_max_face_offset_m = 1.0;
  // ... the gap between them is at most this, metres, ...
  double wing_max_gap_m = 15.0;
  // ... at most this share of the ground between them was seen by the
  // lidar (a passage between buildings is seen from its street), ...
  double wing_max_gap_ground_share = 0.05;
  // ... and the panoramas see a roof edge across the gap between them at
  // least this fraction of the wings' wall height (at the far side of their
  // joint box).
  double wing_min_height_fraction = 0.8;
  // Free space from the walls seen: rays from the route to wall cells whose
  // lowest point is at most this above the ground (lower than any roof, so
  // no ray passes over a part of a building) carve what they cross out of
  // the footprints, metres; 0 turns them off.
  double free_ray_max_height_m = 5.0;
  // Rays longer than this are not used (the lidar's range), metres.
  double free_ray_max_range_m = 100.0;
  // A footprint cell is free when at least this many rays cross it.
  int free_ray_min_count = 3;
  // Setback towers: wall cells at least tower_min_inset_m inside the outline
  // whose lowest point is at least tower_min_base_m above the ground (they
  // stand on a roof), tower_min_wall_m of them at least, metres.
  double tower_min_inset_m = 2.0;
  double tower_min_base_m = 6.0;
  double tower_min_wall_m = 6.0;
  // Roof levels whose heights differ by less than this are one level (LOD1).
  double lod2_min_step_m = 1.5;
  // Heights from the panoramas' building/sky boundary where the lidar did not
  // see the top of a wall (its beams reach ~28 m at most).
  bool use_panoramas = true;
  // Wall tops within this of the highest non-ground lidar point may be where
  // the beams ended (the reach varies with range along a street): those
  // roof levels are checked in the panoramas, metres.
  double lidar_ceiling_margin_m = 8.0;
  // Panoramas farther than this from a facade are not used, metres.
  double max_pano_distance_m = 150.0;
  absl::Status Validate() const;
};

// A prism from the building's base to height_m above it (LOD2: one per roof level).
struct RoofPart {
  std::vector<Eigen::Vector2d> polygon;  // CCW, map frame, not closed
  double height_m = 0.0;                 // above ground_z_m
};

struct BuildingModel {
  int id = 0;
  std::vector<Eigen::Vector2d> footprint;  // outer ring, CCW, map frame (ENU m), not closed
  double ground_z_m = 0.0;                 // map-frame z of the base
  double height_m = 0.0;                   // highest roof level above ground_z_m
  int lod = 1;                             // 2 when the parts have distinct heights
  std::vector<RoofPart> parts;             // LOD1: one part (the footprint)
  int num_points = 0;                      // lidar points supporting it
};

struct WhiteModelLevel {
  std::vector<BuildingModel> buildings;
  double tolerance_m = 0.0;         // plan tolerance; 0 for the full level
  double height_tolerance_m = 0.0;  // roof-part height tolerance; 0 for the full level
  int NumVertices() const;   // footprint + part vertices over all buildings
};

struct WhiteModelResult {
  WhiteModelLevel full;
  WhiteModelLevel simplified;
  OrderedJson summary;  // counts and timings, goes into report.json "whitemodel"
};

absl::StatusOr<WhiteModelResult> BuildWhiteModels(const LidarMap& lidar, const ProductInputs& inputs,
                                                  const WhiteModelOptions& options);

// Writes DIR/{full,simplified}.{city.json,glb,geojson}. Coordinates: CityJSON
// and glTF in the map frame (CityJSON metadata names the ENU origin),
// GeoJSON in WGS84 lon/lat.
absl::Status WriteWhiteModels(const WhiteModelResult& result, const EnuFrame& frame, const std::filesystem::path& dir);

// Reads a level back from its GeoJSON (for the road network, POIs, eval).
absl::StatusOr<WhiteModelLevel> ReadWhiteModelGeoJson(const std::filesystem::path& path, const EnuFrame& frame);

// `armap eval whitemodel`: the package's models against gt/buildings.geojson.
// Contract keys: buildings_gt, buildings_found, footprint_iou_median,
// footprint_iou_p10, height_err_median_m, vertex_reduction_ratio.
absl::StatusOr<OrderedJson> EvaluateWhiteModels(const std::filesystem::path& map_dir, const std::filesystem::path& gt);

}  // namespace armap::mapping
