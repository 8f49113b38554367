#include "mapping/lidar/grid_index.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"

namespace armap::mapping::internal {
namespace {

// out[i] = in[order[i]] for one attribute; one transient copy of it.
template <typename T>
void Gather(const std::vector<uint32_t>& order, std::vector<T>* values) {
  if (values->empty()) return;
  std::vector<T> out(order.size());
  for (size_t i = 0; i < order.size(); ++i) out[i] = (*values)[order[i]];
  values->swap(out);
}

}  // namespace

absl::StatusOr<GridIndex> BuildGridIndex(double voxel_m, int64_t cell_voxels, PointCloud* cloud) {
  GridIndex grid;
  if (!(voxel_m > 0) || cell_voxels < 1) {
    return absl::InvalidArgumentError(absl::StrCat("BuildGridIndex: voxel_m = ", voxel_m, ", cell_voxels = ", cell_voxels));
  }
  const size_t n = cloud->size();
  if (n >= std::numeric_limits<uint32_t>::max()) {
    return absl::ResourceExhaustedError(absl::StrCat("lidar map has ", n, " points; at most 2^32 - 1 are supported per map (cut it into tiles)"));
  }
  grid.voxel_m = voxel_m;
  grid.cell_voxels = cell_voxels;
  if (n == 0) return grid;
  double min_x = std::numeric_limits<double>::infinity(), min_y = min_x, max_x = -min_x, max_y = -min_x;
  for (const Eigen::Vector3f& p : cloud->points) {
    min_x = std::min<double>(min_x, p.x());
    max_x = std::max<double>(max_x, p.x());
    min_y = std::min<double>(min_y, p.y());
    max_y = std::max<double>(max_y, p.y());
  }
  const uint64_t max_cells = std::max<uint64_t>(4096, 2 * static_cast<uint64_t>(n));
  for (;;) {
    grid.first_cell_x = grid.GlobalCell(min_x);
    grid.first_cell_y = grid.GlobalCell(min_y);
    const int64_t nx = grid.GlobalCell(max_x) - grid.first_cell_x + 1;
    const int64_t ny = grid.GlobalCell(max_y) - grid.first_cell_y + 1;
    if (static_cast<uint64_t>(nx) * static_cast<uint64_t>(ny) <= max_cells) {
      grid.nx = static_cast<int>(nx);
      grid.ny = static_cast<int>(ny);
      break;
    }
    grid.cell_voxels *= 2;
  }
  const size_t num_cells = static_cast<size_t>(grid.nx) * grid.ny;
  // Counting sort by cell, then sort each cell by z.
  std::vector<uint32_t> cell_of(n);
  grid.start.assign(num_cells + 1, 0);
  for (size_t i = 0; i < n; ++i) {
    const Eigen::Vector3f& p = cloud->points[i];
    cell_of[i] = static_cast<uint32_t>(grid.CellOf(p.x(), p.y()));
    ++grid.start[cell_of[i] + 1];
  }
  for (size_t c = 0; c < num_cells; ++c) grid.start[c + 1] += grid.start[c];
  std::vector<uint32_t> order(n);
  {
    std::vector<uint32_t> next(grid.start.begin(), grid.start.end() - 1);
    for (size_t i = 0; i < n; ++i) order[next[cell_of[i]]++] = static_cast<uint32_t>(i);
  }
  cell_of = std::vector<uint32_t>();
  const std::vector<Eigen::Vector3f>& pts = cloud->points;
#pragma omp parallel for schedule(dynamic, 256)
  for (long c = 0; c < static_cast<long>(num_cells); ++c) {
    // Ties broken by original index: the order is deterministic.
    std::sort(order.begin() + grid.start[c], order.begin() + grid.start[c + 1], [&pts](uint32_t a, uint32_t b) {
      return pts[a].z() < pts[b].z() || (pts[a].z() == pts[b].z() && a < b);
    });
  }
  Gather(order, &cloud->points);
  Gather(order, &cloud->intensity);
  Gather(order, &cloud->timestamp_s);
  Gather(order, &cloud->colors);
  Gather(order, &cloud->classification);
  grid.zmin.assign(num_cells, std::numeric_limits<float>::infinity());
  grid.zmax.assign(num_cells, -std::numeric_limits<float>::infinity());
  for (size_t c = 0; c < num_cells; ++c) {
    if (grid.start[c] == grid.start[c + 1]) continue;
    grid.zmin[c] = cloud->points[grid.start[c]].z();
    grid.zmax[c] = cloud->points[grid.start[c + 1] - 1].z();
  }
  return grid;
}

std::vector<float> MeanNeighbourDistances(const GridIndex& grid, const std::vector<Eigen::Vector3f>& points, int k) {
  const size_t n = points.size();
  std::vector<float> mean(n, 0.f);
  if (n < 2 || k < 1) return mean;
  const size_t want = std::min<size_t>(static_cast<size_t>(k), n - 1);
  const double max_radius = 2.0 * std::max(grid.nx, grid.ny) * grid.cell_m() + 1.0;  // beyond: everything
#pragma omp parallel
  {
    std::vector<float> d2;
    double radius = 2.0 * grid.voxel_m;
#pragma omp for schedule(dynamic, 4096)
    for (long i = 0; i < static_cast<long>(n); ++i) {
      const Eigen::Vector3d centre = points[i].cast<double>();
      for (;;) {
        d2.clear();
        ForEachPointNear(grid, points, centre, radius, [&](uint32_t j) {
          if (j != static_cast<uint32_t>(i)) d2.push_back((points[j] - points[i]).squaredNorm());
        });
        if (d2.size() >= want || radius > max_radius) break;
        radius *= 2.0;
      }
      const size_t m = std::min(want, d2.size());
      if (m == 0) continue;
      std::nth_element(d2.begin(), d2.begin() + (m - 1), d2.end());
      double sum = 0;
      for (size_t j = 0; j < m; ++j) sum += std::sqrt(static_cast<double>(d2[j]));
      mean[i] = static_cast<float>(sum / m);
      // The next point is usually a neighbour with a similar density.
      radius = std::max(1e-3, 1.2 * std::sqrt(static_cast<double>(d2[m - 1])));
    }
  }
  return mean;
}

std::vector<uint8_t> StatisticalKeepMask(const std::vector<float>& distances, double stddev_mul) {
  std::vector<uint8_t> keep(distances.size(), 1);
  if (distances.size() < 2) return keep;
  double sum = 0, sq_sum = 0;
  for (const float d : distances) {
    sum += d;
    sq_sum += static_cast<double>(d) * d;
  }
  const double count = static_cast<double>(distances.size());
  const double mean = sum / count;
  const double variance = (sq_sum - sum * sum / count) / (count - 1);
  const double threshold = mean + stddev_mul * std::sqrt(std::max(0.0, variance));
  for (size_t i = 0; i < distances.size(); ++i) keep[i] = distances[i] <= threshold;
  return keep;
}

namespace {
template <typename T>
void CompactValues(const std::vector<uint8_t>& keep, std::vector<T>* values) {
  if (values->empty()) return;
  size_t out = 0;
  for (size_t i = 0; i < keep.size(); ++i) {
    if (keep[i]) (*values)[out++] = (*values)[i];
  }
  values->resize(out);
  values->shrink_to_fit();
}
}  // namespace

void CompactIndexed(const std::vector<uint8_t>& keep, GridIndex* grid, PointCloud* cloud) {
  if (!grid->empty()) {
    // New start of each cell = kept points before its old start.
    uint32_t kept = 0;
    size_t i = 0;
    for (size_t c = 0; c + 1 < grid->start.size(); ++c) {
      const uint32_t end = grid->start[c + 1];
      grid->start[c] = kept;
      for (; i < end; ++i) kept += keep[i];
    }
    grid->start.back() = kept;
  }
  CompactValues(keep, &cloud->points);
  CompactValues(keep, &cloud->intensity);
  CompactValues(keep, &cloud->timestamp_s);
  CompactValues(keep, &cloud->colors);
  CompactValues(keep, &cloud->classification);
  for (size_t c = 0; c < grid->zmin.size(); ++c) {
    if (grid->start[c] == grid->start[c + 1]) {
      grid->zmin[c] = std::numeric_limits<float>::infinity();
      grid->zmax[c] = -std::numeric_limits<float>::infinity();
    } else {
      grid->zmin[c] = cloud->points[grid->start[c]].z();
      grid->zmax[c] = cloud->points[grid->start[c + 1] - 1].z();
    }
  }
}

}  // namespace armap::mapping::internal
