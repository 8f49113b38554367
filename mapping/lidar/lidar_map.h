// The lidar map of the mapping pipeline: a capture's registered clouds (all in
// the map frame) merged at full resolution, plus a voxel-downsampled,
// outlier-filtered copy with a per-point ground flag, and the spatial queries
// later stages need (depth rendering, anchoring image landmarks on surfaces).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <Eigen/Geometry>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/point_cloud.h"

namespace armap::mapping {

struct LidarPreprocessOptions {
  // Voxel edge of the downsampled cloud, metres. Each voxel becomes the
  // centroid of its points (intensity averaged).
  double voxel_size_m = 0.05;
  // Statistical outlier removal on the downsampled cloud, the statistic of
  // pcl::StatisticalOutlierRemoval: a point goes when its mean distance to
  // its sor_neighbors nearest neighbours exceeds the mean of that over the
  // cloud by sor_stddev standard deviations. 0 neighbours disables it.
  int sor_neighbors = 16;
  double sor_stddev = 2.5;
  // Run pcl::StatisticalOutlierRemoval itself (FLANN kd-tree, one thread)
  // instead of our exact, parallel grid-based neighbour search. Same result
  // (tested equal on 158 k voxels); PCL took 117 s of a 143 s run on the
  // 22 M-point default synthetic city, ours ~19 s (shared 2-core machine).
  bool sor_with_pcl = false;
  // Ground segmentation (rules in ground.cc): a grid of lowest points,
  // a progressive morphological opening, then a plane per cell.
  double ground_cell_m = 1.0;
  // Largest |distance| of a ground point from the ground surface, metres.
  double ground_max_height_m = 0.25;
  // Steepest ground; also the slope allowance of the morphological filter.
  double ground_max_slope_deg = 15;
  // Largest footprint of an object the morphological filter removes, metres.
  double ground_max_window_m = 20;
  // Cap of the morphological height threshold, metres: a step higher than
  // this between neighbouring windows is never terrain.
  double ground_max_step_m = 2.5;
  // Ground regions (8-connected cells) smaller than this are dropped, m^2:
  // a car roof, a balcony or a box in the air is not the ground.
  double ground_min_component_m2 = 25;
  // Cell edge of the 2D index over the full-resolution cloud, metres (rounded
  // to a whole number of voxels; grown for sparse clouds over large areas).
  // The downsampled cloud's index uses 4 voxels.
  double index_cell_m = 1.0;
  // Keep per-point timestamps of the full cloud (8 bytes per point).
  bool keep_timestamps = false;

  // InvalidArgument naming the field, e.g.
  // "LidarPreprocessOptions::voxel_size_m = 0; must be in [0.001, 10]".
  absl::Status Validate() const;
};

struct LidarPreprocessSummary {
  int num_files = 0;
  size_t num_points_read = 0;
  size_t num_non_finite_dropped = 0;
  size_t num_full = 0;            // full-resolution points kept
  size_t num_voxels = 0;          // after voxel downsampling
  size_t num_outliers = 0;        // removed by the statistical filter
  size_t num_downsampled = 0;     // in LidarMap::cloud()
  size_t num_ground = 0;
  size_t num_non_ground = 0;
  int num_ground_cells = 0;
  int num_ground_regions_dropped = 0;  // smaller than ground_min_component_m2
  // Seconds per stage: "read", "index", "voxel", "outliers", "ground", "total".
  std::map<std::string, double> stage_seconds;
  std::vector<std::string> warnings;  // also logged
  std::string BriefReport() const;
};

// A plane fitted to lidar points.
struct Plane {
  Eigen::Vector3d point = Eigen::Vector3d::Zero();     // centroid of the inliers, map frame
  Eigen::Vector3d normal = Eigen::Vector3d::UnitZ();   // unit; sign chosen so normal.z >= 0
  double rms_m = 0.0;                                  // rms point-to-plane distance of the inliers
  int num_points = 0;                                  // inliers
};

namespace internal {
struct LidarMapData;
class LidarMapBuilder;
}  // namespace internal

// Move-only; a moved-from map may only be destroyed or assigned to.
class LidarMap {
 public:
  LidarMap();
  ~LidarMap();
  LidarMap(LidarMap&&) noexcept;
  LidarMap& operator=(LidarMap&&) noexcept;
  LidarMap(const LidarMap&) = delete;
  LidarMap& operator=(const LidarMap&) = delete;

  // Every finite input point, reordered by the spatial index. Keeps intensity,
  // colors and classification when every input file has them.
  const PointCloud& full_cloud() const;
  // Voxel-downsampled, outlier-filtered cloud, and its ground flags (1 =
  // ground), one per point. Same origin as full_cloud().
  const PointCloud& cloud() const;
  const std::vector<uint8_t>& ground_flags() const;
  size_t num_ground() const;
  Eigen::AlignedBox3d Bounds() const;  // of the full cloud, map frame

  // All queries are const and thread-safe. Points are in the map frame.
  //
  // Indices into full_cloud() of the points within radius_m (3D) of centre,
  // ascending. Uses the full-resolution 2D grid (no PCL).
  std::vector<uint32_t> PointsNear(const Eigen::Vector3d& centre, double radius_m) const;
  // PCA plane of the downsampled points within radius_m of `point` (which
  // should lie on the surface): seeded with its nearest neighbours, then
  // refitted on the points within max(2.5 rms, voxel) of the plane, so a
  // second surface in the ball (a sign on a wall, the ground at its foot)
  // does not tilt it. NotFound with fewer than 5 inliers, or when they lie
  // along a line (in-plane spread below 0.15 radius_m in one direction: one
  // scan line, a window frame); InvalidArgument for a non-positive radius.
  absl::Status LocalPlane(const Eigen::Vector3d& point, double radius_m, Plane* out) const;
  // Height of the ground model at (x, y), or nullopt where there is none
  // (outside the map, or too far from any ground cell).
  std::optional<double> GroundHeightAt(double x, double y) const;
  // The ground rule behind ground_flags(), for any point: within
  // ground_max_height_m of the ground surface (GroundHeightAt).
  bool IsGround(const Eigen::Vector3d& point) const;

  // For this module's implementation files only.
  const internal::LidarMapData& data() const { return *data_; }

 private:
  friend class internal::LidarMapBuilder;
  std::unique_ptr<internal::LidarMapData> data_;
};

// Reads and merges registered clouds (.ply, .pcd, .las; all in one map
// frame), then runs PreprocessLidarCloud. InvalidArgument for an empty file
// list; a file that fails to read, or holds no finite point, is an error
// naming it. `summary` may be null.
[[nodiscard]] absl::StatusOr<LidarMap> PreprocessLidar(const std::vector<std::filesystem::path>& files,
                                                       const LidarPreprocessOptions& options,
                                                       LidarPreprocessSummary* summary);

// The same on a cloud already in memory (consumed: it becomes full_cloud()).
// Non-finite points are dropped. InvalidArgument when no finite point is left.
// A cloud without ground succeeds with zero ground points and a warning.
[[nodiscard]] absl::StatusOr<LidarMap> PreprocessLidarCloud(PointCloud cloud, const LidarPreprocessOptions& options,
                                                            LidarPreprocessSummary* summary);

}  // namespace armap::mapping
