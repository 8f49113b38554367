// Ground segmentation for street-level and airborne lidar.
//
// 1. Grid of cells (ground_cell_m); each cell's lowest point.
// 2. Progressive morphological filter on that raster (Zhang et al. 2003,
//    "A progressive morphological filter for removing nonground measurements
//    from airborne LIDAR data", the algorithm of PCL's
//    ProgressiveMorphologicalFilter, but on the raster rather than per point,
//    so it costs O(cells) per window instead of a kd-tree pass over 5 M
//    points): openings with square windows of 3, 5, 7, ... cells up to
//    ground_max_window_m. A cell whose surface drops by more than
//    dh = ground_max_height_m (first window) or
//    ground_max_height_m + tan(slope) * 2 * cell (later windows, capped at
//    ground_max_step_m) is an object. Openings keep planar slopes, so sloped
//    terrain survives; only bumps narrower than the window are cut.
// 3. 8-connected regions of the remaining cells smaller than
//    ground_min_component_m2 are dropped (car roofs, balconies, a floating box).
// 4. A least-squares plane per ground cell from the "lowest layer" points
//    of the 3x3 ground cells around it: within ground_max_height_m +
//    s * cell * sqrt(2) of each cell's minimum, where s is the slope of the
//    plane through the nine cells' lowest points (capped at the maximum
//    slope), so flat ground takes a thin layer (little low vegetation) and a
//    hillside the whole cell. Refitted twice keeping points within
//    ground_max_height_m. Planes steeper than ground_max_slope_deg are
//    rejected (a wall's foot is not ground).
// 5. Cells without a plane (objects, holes) take the mean of their neighbours'
//    planes, growing outwards up to ground_max_window_m / 2, so points there
//    are judged against the interpolated terrain.
// 6. A point is ground when its cell has a plane and it lies within
//    ground_max_height_m (above or below) of the ground surface: the
//    bilinear blend of the planes of the four cells around it.
#include "mapping/lidar/ground.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <Eigen/Dense>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace armap::mapping::internal {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// out[i] = min (or max) of in[i - r .. i + r] along one line (van Herk /
// Gil-Werman: three comparisons per element whatever r is). Values equal to
// `pad` are neutral.
template <bool kMin>
void LineFilter(const float* in, int n, int stride, int r, float pad, std::vector<float>* buffer, float* out) {
  const int w = 2 * r + 1;
  const int len = n + 2 * r;
  const int blocks = (len + w - 1) / w;
  const int padded = blocks * w;
  buffer->assign(3 * static_cast<size_t>(padded), pad);
  float* f = buffer->data();
  float* g = f + padded;
  float* h = g + padded;
  for (int i = 0; i < n; ++i) f[i + r] = in[static_cast<size_t>(i) * stride];
  auto better = [](float a, float b) { return kMin ? std::min(a, b) : std::max(a, b); };
  for (int b = 0; b < blocks; ++b) {
    const int s = b * w;
    g[s] = f[s];
    for (int k = 1; k < w; ++k) g[s + k] = better(g[s + k - 1], f[s + k]);
    h[s + w - 1] = f[s + w - 1];
    for (int k = w - 2; k >= 0; --k) h[s + k] = better(h[s + k + 1], f[s + k]);
  }
  // Window over padded positions [i, i + 2r] for output i.
  for (int i = 0; i < n; ++i) out[static_cast<size_t>(i) * stride] = better(h[i], g[i + 2 * r]);
}

template <bool kMin>
void Filter2d(const std::vector<float>& in, int nx, int ny, int r, float pad, std::vector<float>* out) {
  std::vector<float> tmp(in.size()), buffer;
  for (int y = 0; y < ny; ++y) LineFilter<kMin>(&in[static_cast<size_t>(y) * nx], nx, 1, r, pad, &buffer, &tmp[static_cast<size_t>(y) * nx]);
  out->resize(in.size());
  for (int x = 0; x < nx; ++x) LineFilter<kMin>(&tmp[x], ny, nx, r, pad, &buffer, &(*out)[x]);
}

// Morphological opening of a raster where +inf marks empty cells.
std::vector<float> Opening(const std::vector<float>& surface, int nx, int ny, int r) {
  std::vector<float> eroded, dilated;
  Filter2d<true>(surface, nx, ny, r, kInf, &eroded);
  for (float& v : eroded) if (v == kInf) v = -kInf;  // empty stays neutral for max
  Filter2d<false>(eroded, nx, ny, r, -kInf, &dilated);
  for (float& v : dilated) if (v == -kInf) v = kInf;
  return dilated;
}

}  // namespace

bool GroundModel::HeightAt(double x, double y, double* z) const {
  if (nx == 0) return false;
  const double fx = (x - min_x) / cell_m, fy = (y - min_y) / cell_m;
  if (!(fx >= 0 && fy >= 0 && fx < nx && fy < ny)) return false;
  const int cx = static_cast<int>(fx), cy = static_cast<int>(fy);
  auto has_plane = [this](size_t c) { return state[c] == kFitted || state[c] == kFilled; };
  if (!has_plane(static_cast<size_t>(cy) * nx + cx)) return false;
  // Bilinear blend of the planes of the four cells whose centres surround
  // (x, y), each evaluated at (x, y): follows curved terrain between cell
  // centres without steps at cell borders.
  const double gx = fx - 0.5, gy = fy - 0.5;
  const int x0 = static_cast<int>(std::floor(gx)), y0 = static_cast<int>(std::floor(gy));
  const double wx = gx - x0, wy = gy - y0;
  double sum = 0, weight = 0;
  for (int j = 0; j <= 1; ++j) {
    for (int i = 0; i <= 1; ++i) {
      const int xx = x0 + i, yy = y0 + j;
      if (xx < 0 || yy < 0 || xx >= nx || yy >= ny) continue;
      const size_t c = static_cast<size_t>(yy) * nx + xx;
      if (!has_plane(c)) continue;
      const double w = (i ? wx : 1 - wx) * (j ? wy : 1 - wy);
      sum += w * (height[c] + slope_x[c] * (x - (min_x + (xx + 0.5) * cell_m)) + slope_y[c] * (y - (min_y + (yy + 0.5) * cell_m)));
      weight += w;
    }
  }
  if (!(weight > 1e-9)) return false;
  *z = sum / weight;
  return true;
}

GroundModel SegmentGround(const std::vector<Eigen::Vector3f>& points, const LidarPreprocessOptions& o,
                          std::vector<uint8_t>* flags, GroundStats* stats) {
  GroundModel model;
  model.max_height_m = static_cast<float>(o.ground_max_height_m);
  flags->assign(points.size(), 0);
  if (points.empty()) return model;
  double min_x = kInf, min_y = kInf, max_x = -kInf, max_y = -kInf;
  for (const auto& p : points) {
    min_x = std::min<double>(min_x, p.x());
    max_x = std::max<double>(max_x, p.x());
    min_y = std::min<double>(min_y, p.y());
    max_y = std::max<double>(max_y, p.y());
  }
  double c = o.ground_cell_m;
  constexpr double kMaxCells = 64.0 * 1024 * 1024;
  while ((std::floor((max_x - min_x) / c) + 1) * (std::floor((max_y - min_y) / c) + 1) > kMaxCells) c *= 2;
  if (c != o.ground_cell_m) {
    stats->warnings.push_back(absl::StrFormat(
        "ground grid: %.0f x %.0f m at %.2f m cells is too large; using %.2f m cells (cut the map into tiles)",
        max_x - min_x, max_y - min_y, o.ground_cell_m, c));
  }
  model.cell_m = c;
  model.min_x = min_x;
  model.min_y = min_y;
  model.nx = static_cast<int>(std::floor((max_x - min_x) / c)) + 1;
  model.ny = static_cast<int>(std::floor((max_y - min_y) / c)) + 1;
  const int nx = model.nx, ny = model.ny;
  const size_t num_cells = static_cast<size_t>(nx) * ny;
  auto cell_of = [&](const Eigen::Vector3f& p) {
    const int cx = std::min(nx - 1, std::max(0, static_cast<int>((p.x() - min_x) / c)));
    const int cy = std::min(ny - 1, std::max(0, static_cast<int>((p.y() - min_y) / c)));
    return static_cast<uint32_t>(cy * nx + cx);
  };

  // 1. Lowest point per cell; points listed by cell (counting sort).
  std::vector<float> zmin(num_cells, kInf);
  std::vector<uint32_t> start(num_cells + 1, 0), order(points.size());
  {
    std::vector<uint32_t> cells(points.size());
    for (size_t i = 0; i < points.size(); ++i) {
      cells[i] = cell_of(points[i]);
      zmin[cells[i]] = std::min(zmin[cells[i]], points[i].z());
      ++start[cells[i] + 1];
    }
    for (size_t k = 0; k < num_cells; ++k) start[k + 1] += start[k];
    std::vector<uint32_t> next(start.begin(), start.end() - 1);
    for (size_t i = 0; i < points.size(); ++i) order[next[cells[i]]++] = static_cast<uint32_t>(i);
  }

  // 2. Progressive morphological filter.
  const double tan_slope = std::tan(o.ground_max_slope_deg * M_PI / 180.0);
  std::vector<uint8_t> object(num_cells, 0);
  {
    const int max_r = std::max(1, static_cast<int>(std::ceil((o.ground_max_window_m / c - 1.0) / 2.0)));
    std::vector<float> surface = zmin;
    for (int r = 1; r <= max_r; ++r) {
      const std::vector<float> opened = Opening(surface, nx, ny, r);
      const double dh = r == 1 ? o.ground_max_height_m
                               : std::min(o.ground_max_step_m, o.ground_max_height_m + tan_slope * 2.0 * c);
      for (size_t k = 0; k < num_cells; ++k) {
        if (zmin[k] != kInf && surface[k] - opened[k] > dh) object[k] = 1;
      }
      surface = opened;
    }
  }
  std::vector<uint8_t> ground_cell(num_cells, 0);
  for (size_t k = 0; k < num_cells; ++k) ground_cell[k] = zmin[k] != kInf && !object[k];

  // 3. Drop small 8-connected regions.
  {
    std::vector<int> label(num_cells, -1);
    std::vector<uint32_t> stack, members;
    const double min_cells = o.ground_min_component_m2 / (c * c);
    for (size_t seed = 0; seed < num_cells; ++seed) {
      if (!ground_cell[seed] || label[seed] >= 0) continue;
      members.clear();
      stack.assign(1, static_cast<uint32_t>(seed));
      label[seed] = 1;
      while (!stack.empty()) {
        const uint32_t k = stack.back();
        stack.pop_back();
        members.push_back(k);
        const int x = static_cast<int>(k % nx), y = static_cast<int>(k / nx);
        for (int dy = -1; dy <= 1; ++dy) {
          for (int dx = -1; dx <= 1; ++dx) {
            const int xx = x + dx, yy = y + dy;
            if (xx < 0 || yy < 0 || xx >= nx || yy >= ny) continue;
            const size_t j = static_cast<size_t>(yy) * nx + xx;
            if (ground_cell[j] && label[j] < 0) {
              label[j] = 1;
              stack.push_back(static_cast<uint32_t>(j));
            }
          }
        }
      }
      if (static_cast<double>(members.size()) < min_cells) {
        for (uint32_t k : members) ground_cell[k] = 0;
        ++stats->num_regions_dropped;
      }
    }
  }

  // 4. Plane per ground cell from the lowest layer of its 3x3 neighbourhood.
  model.height.assign(num_cells, 0.f);
  model.slope_x.assign(num_cells, 0.f);
  model.slope_y.assign(num_cells, 0.f);
  model.state.assign(num_cells, GroundModel::kNone);
  const double h = o.ground_max_height_m;
  // Lowest point of each cell (its position matters for the slope).
  std::vector<uint32_t> lowest(num_cells, 0);
  for (size_t k = 0; k < num_cells; ++k) {
    for (uint32_t s = start[k]; s < start[k + 1]; ++s) {
      if (points[order[s]].z() == zmin[k]) { lowest[k] = order[s]; break; }
    }
  }
#pragma omp parallel
  {
    std::vector<Eigen::Vector3d> candidates;
    std::vector<uint8_t> inlier;
#pragma omp for schedule(dynamic, 64)
    for (long k = 0; k < static_cast<long>(num_cells); ++k) {
      if (!ground_cell[k]) continue;
      const int x = static_cast<int>(k % nx), y = static_cast<int>(k / nx);
      const double centre_x = min_x + (x + 0.5) * c, centre_y = min_y + (y + 0.5) * c;
      // Local slope from the plane through the 3x3 cells' lowest points
      // (the lowest point of a cell on a slope sits at its downhill edge, so
      // each cell's ground spans about slope * cell * sqrt(2) above it).
      double slope_est = 0;
      {
        Eigen::Matrix3d ata = Eigen::Matrix3d::Zero();
        Eigen::Vector3d atb = Eigen::Vector3d::Zero();
        int count = 0;
        for (int dy = -1; dy <= 1; ++dy) {
          for (int dx = -1; dx <= 1; ++dx) {
            const int xx = x + dx, yy = y + dy;
            if (xx < 0 || yy < 0 || xx >= nx || yy >= ny) continue;
            const size_t j = static_cast<size_t>(yy) * nx + xx;
            if (!ground_cell[j]) continue;
            const Eigen::Vector3f& p = points[lowest[j]];
            const Eigen::Vector3d a(1.0, p.x() - centre_x, p.y() - centre_y);
            ata += a * a.transpose();
            atb += a * p.z();
            ++count;
          }
        }
        if (count >= 3) {
          const Eigen::Vector2d mean = ata.block<2, 1>(1, 0) / count;
          const Eigen::Matrix2d cov = ata.block<2, 2>(1, 1) / count - mean * mean.transpose();
          if (Eigen::SelfAdjointEigenSolver<Eigen::Matrix2d>(cov).eigenvalues()[0] >= 0.01 * c * c) {
            const Eigen::Vector3d plane = ata.ldlt().solve(atb);
            slope_est = std::min(tan_slope, std::hypot(plane[1], plane[2]));
          }
        }
      }
      const double layer_m = h + slope_est * c * std::sqrt(2.0);
      candidates.clear();
      for (int dy = -1; dy <= 1; ++dy) {
        for (int dx = -1; dx <= 1; ++dx) {
          const int xx = x + dx, yy = y + dy;
          if (xx < 0 || yy < 0 || xx >= nx || yy >= ny) continue;
          const size_t j = static_cast<size_t>(yy) * nx + xx;
          if (!ground_cell[j]) continue;
          for (uint32_t s = start[j]; s < start[j + 1]; ++s) {
            const Eigen::Vector3f& p = points[order[s]];
            if (p.z() <= zmin[j] + layer_m) candidates.emplace_back(p.x() - centre_x, p.y() - centre_y, p.z());
          }
        }
      }
      inlier.assign(candidates.size(), 1);
      Eigen::Vector3d plane(zmin[k], 0, 0);  // height, slope_x, slope_y
      bool fitted = false;
      for (int iteration = 0; iteration < 3; ++iteration) {
        Eigen::Matrix3d ata = Eigen::Matrix3d::Zero();
        Eigen::Vector3d atb = Eigen::Vector3d::Zero();
        int count = 0;
        for (size_t i = 0; i < candidates.size(); ++i) {
          if (!inlier[i]) continue;
          const Eigen::Vector3d a(1.0, candidates[i].x(), candidates[i].y());
          ata += a * a.transpose();
          atb += a * candidates[i].z();
          ++count;
        }
        if (count < 3) break;
        // Support along one line (a single scan line) leaves the slope across
        // it undetermined: require spread in both directions (smallest
        // eigenvalue of the x-y covariance at least (cell / 10)^2).
        const Eigen::Vector2d mean = ata.block<2, 1>(1, 0) / count;
        const Eigen::Matrix2d cov = ata.block<2, 2>(1, 1) / count - mean * mean.transpose();
        if (Eigen::SelfAdjointEigenSolver<Eigen::Matrix2d>(cov).eigenvalues()[0] < 0.01 * c * c) break;
        plane = ata.ldlt().solve(atb);
        fitted = true;
        for (size_t i = 0; i < candidates.size(); ++i) {
          const double residual = candidates[i].z() - (plane[0] + plane[1] * candidates[i].x() + plane[2] * candidates[i].y());
          inlier[i] = std::abs(residual) <= h;
        }
      }
      if (!fitted) {
        // Too few or collinear points: a level plane through the cell's lowest layer.
        double sum = 0;
        int count = 0;
        for (uint32_t s = start[k]; s < start[k + 1]; ++s) {
          const float z = points[order[s]].z();
          if (z <= zmin[k] + h) { sum += z; ++count; }
        }
        plane = Eigen::Vector3d(count ? sum / count : zmin[k], 0, 0);
      }
      if (std::hypot(plane[1], plane[2]) > tan_slope) {
        model.state[k] = GroundModel::kRejected;
        continue;
      }
      model.height[k] = static_cast<float>(plane[0]);
      model.slope_x[k] = static_cast<float>(plane[1]);
      model.slope_y[k] = static_cast<float>(plane[2]);
      model.state[k] = GroundModel::kFitted;
    }
  }
  for (size_t k = 0; k < num_cells; ++k) stats->num_ground_cells += model.state[k] == GroundModel::kFitted;

  // 5. Fill cells without a plane from their neighbours, layer by layer.
  {
    const int layers = std::max(1, static_cast<int>(std::lround(o.ground_max_window_m / (2.0 * c))));
    std::vector<uint32_t> frontier;
    for (int layer = 0; layer < layers; ++layer) {
      frontier.clear();
      for (size_t k = 0; k < num_cells; ++k) {
        if (model.state[k] != GroundModel::kNone) continue;
        const int x = static_cast<int>(k % nx), y = static_cast<int>(k / nx);
        double sum_h = 0, sum_sx = 0, sum_sy = 0;
        int count = 0;
        for (int dy = -1; dy <= 1; ++dy) {
          for (int dx = -1; dx <= 1; ++dx) {
            const int xx = x + dx, yy = y + dy;
            if ((dx == 0 && dy == 0) || xx < 0 || yy < 0 || xx >= nx || yy >= ny) continue;
            const size_t j = static_cast<size_t>(yy) * nx + xx;
            if (model.state[j] != GroundModel::kFitted && model.state[j] != GroundModel::kFilled) continue;
            // Neighbour's plane evaluated at this cell's centre.
            sum_h += model.height[j] - model.slope_x[j] * dx * c - model.slope_y[j] * dy * c;
            sum_sx += model.slope_x[j];
            sum_sy += model.slope_y[j];
            ++count;
          }
        }
        if (count == 0) continue;
        model.height[k] = static_cast<float>(sum_h / count);
        model.slope_x[k] = static_cast<float>(sum_sx / count);
        model.slope_y[k] = static_cast<float>(sum_sy / count);
        frontier.push_back(static_cast<uint32_t>(k));
      }
      if (frontier.empty()) break;
      // Mark after the sweep so every cell of a layer sees only earlier layers.
      for (uint32_t k : frontier) model.state[k] = GroundModel::kFilled;
    }
  }

  // 6. Flags.
#pragma omp parallel for schedule(static)
  for (long i = 0; i < static_cast<long>(points.size()); ++i) (*flags)[i] = model.IsGround(points[i]) ? 1 : 0;
  return model;
}

}  // namespace armap::mapping::internal
