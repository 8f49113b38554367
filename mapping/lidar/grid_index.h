// Internal to mapping/lidar: a uniform 2D (x-y) grid over a PointCloud whose
// points are reordered so that every cell is one contiguous range, sorted by
// z inside the cell. Used for radius queries, frustum culling in the depth
// renderer and the per-cell voxel filter. Not a public API.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include <Eigen/Core>

#include "absl/status/statusor.h"
#include "core/point_cloud.h"

namespace armap::mapping::internal {

inline int64_t FloorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// Cells are `cell_voxels` voxels of `voxel_m` on a side, in the cloud's offset
// frame (PointCloud::points, not origin + points). A coordinate's cell is
// computed as FloorDiv(floor(x / voxel_m), cell_voxels): monotone in x, and
// exactly the cell of the voxel that holds the point, so per-cell voxel
// filtering never splits a voxel between two cells.
struct GridIndex {
  double voxel_m = 1.0;
  int64_t cell_voxels = 1;
  int64_t first_cell_x = 0, first_cell_y = 0;  // global cell id of column / row 0
  int nx = 0, ny = 0;
  std::vector<uint32_t> start;  // nx * ny + 1 offsets into the reordered cloud
  std::vector<float> zmin, zmax;  // per cell; +inf / -inf when empty

  double cell_m() const { return voxel_m * static_cast<double>(cell_voxels); }
  bool empty() const { return nx == 0 || ny == 0; }
  int64_t GlobalCell(double v) const {
    return FloorDiv(static_cast<int64_t>(std::floor(v / voxel_m)), cell_voxels);
  }
  // Column / row of a coordinate, clamped to the grid.
  int ColumnOf(double x) const { return Clamp(GlobalCell(x) - first_cell_x, nx); }
  int RowOf(double y) const { return Clamp(GlobalCell(y) - first_cell_y, ny); }
  int CellOf(float x, float y) const { return RowOf(y) * nx + ColumnOf(x); }
  uint32_t Begin(int cell) const { return start[cell]; }
  uint32_t End(int cell) const { return start[cell + 1]; }
  // Lower x / y edge of a column / row (offset frame).
  double ColumnMinX(int col) const { return static_cast<double>(first_cell_x + col) * cell_m(); }
  double RowMinY(int row) const { return static_cast<double>(first_cell_y + row) * cell_m(); }

 private:
  static int Clamp(int64_t v, int n) { return static_cast<int>(v < 0 ? 0 : (v >= n ? n - 1 : v)); }
};

// Builds the index and reorders every per-point attribute of `cloud` (points,
// intensity, timestamps, colors, classification) by (cell, z). The cell edge
// is voxel_m * cell_voxels; when the cloud's extent would need more than
// max(4096, 2 * size) cells, cell_voxels is doubled until it fits (so a sparse
// cloud over a large area never allocates a huge empty grid). Non-finite
// points must have been removed. ResourceExhausted above 2^32 - 1 points.
absl::StatusOr<GridIndex> BuildGridIndex(double voxel_m, int64_t cell_voxels, PointCloud* cloud);

// Calls fn(index) for every point within radius_m (3D) of `centre` (offset
// frame), visiting only cells overlapping the disc and the z-range of each
// cell by binary search.
template <typename Fn>
void ForEachPointNear(const GridIndex& grid, const std::vector<Eigen::Vector3f>& points,
                      const Eigen::Vector3d& centre, double radius_m, Fn&& fn) {
  if (grid.empty() || !(radius_m >= 0)) return;
  const int64_t gx0 = grid.GlobalCell(centre.x() - radius_m) - grid.first_cell_x;
  const int64_t gx1 = grid.GlobalCell(centre.x() + radius_m) - grid.first_cell_x;
  const int64_t gy0 = grid.GlobalCell(centre.y() - radius_m) - grid.first_cell_y;
  const int64_t gy1 = grid.GlobalCell(centre.y() + radius_m) - grid.first_cell_y;
  if (gx1 < 0 || gy1 < 0 || gx0 >= grid.nx || gy0 >= grid.ny) return;
  const int x0 = static_cast<int>(std::max<int64_t>(gx0, 0)), x1 = static_cast<int>(std::min<int64_t>(gx1, grid.nx - 1));
  const int y0 = static_cast<int>(std::max<int64_t>(gy0, 0)), y1 = static_cast<int>(std::min<int64_t>(gy1, grid.ny - 1));
  const float zlo = static_cast<float>(centre.z() - radius_m), zhi = static_cast<float>(centre.z() + radius_m);
  const Eigen::Vector3f c = centre.cast<float>();
  const float r2 = static_cast<float>(radius_m * radius_m);
  for (int row = y0; row <= y1; ++row) {
    for (int col = x0; col <= x1; ++col) {
      const int cell = row * grid.nx + col;
      if (grid.zmax[cell] < zlo || grid.zmin[cell] > zhi) continue;
      // Points in a cell are sorted by z: binary search the slab.
      uint32_t lo = grid.Begin(cell), hi = grid.End(cell);
      {
        uint32_t a = lo, b = hi;
        while (a < b) {
          const uint32_t m = a + (b - a) / 2;
          if (points[m].z() < zlo) a = m + 1; else b = m;
        }
        lo = a;
      }
      for (uint32_t i = lo; i < hi && points[i].z() <= zhi; ++i) {
        if ((points[i] - c).squaredNorm() <= r2) fn(i);
      }
    }
  }
}

}  // namespace armap::mapping::internal

namespace armap::mapping::internal {

// For every point of a cloud ordered by `grid`: the mean distance to its k
// nearest other points (exact: a ball around the point grows until it holds
// k points, starting from the previous point's k-th distance), in parallel.
// With fewer than k + 1 points in the cloud, the mean over all others.
std::vector<float> MeanNeighbourDistances(const GridIndex& grid, const std::vector<Eigen::Vector3f>& points, int k);

// The statistic of pcl::StatisticalOutlierRemoval over `distances`: keep[i]
// = 1 when distances[i] <= mean + stddev_mul * stddev (sample stddev), the
// same formula and comparison as PCL 1.13.
std::vector<uint8_t> StatisticalKeepMask(const std::vector<float>& distances, double stddev_mul);

// Drops points with keep[i] == 0 from a cloud ordered by `grid` (every
// attribute), keeping the order, and updates the grid's ranges and z bounds.
void CompactIndexed(const std::vector<uint8_t>& keep, GridIndex* grid, PointCloud* cloud);

}  // namespace armap::mapping::internal
