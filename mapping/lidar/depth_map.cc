#include "mapping/lidar/depth_map.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>

#include <Eigen/Dense>

#include "absl/strings/str_cat.h"
#include "core/status.h"
#include "mapping/lidar/lidar_map_internal.h"

namespace armap::mapping {
namespace {

constexpr uint64_t kEmpty = std::numeric_limits<uint64_t>::max();

// Positive floats order like their bit patterns: (depth bits, point index)
// packed in 64 bits is a z-buffer entry whose minimum is the nearest point,
// ties broken by index, so the result does not depend on thread timing.
uint64_t Pack(float z, uint32_t index) {
  uint32_t bits;
  std::memcpy(&bits, &z, sizeof bits);
  return (static_cast<uint64_t>(bits) << 32) | index;
}
float UnpackDepth(uint64_t key) {
  const uint32_t bits = static_cast<uint32_t>(key >> 32);
  float z;
  std::memcpy(&z, &bits, sizeof z);
  return z;
}
uint32_t UnpackIndex(uint64_t key) { return static_cast<uint32_t>(key & 0xffffffffu); }

void AtomicMin(std::atomic<uint64_t>* slot, uint64_t value) {
  uint64_t current = slot->load(std::memory_order_relaxed);
  while (value < current && !slot->compare_exchange_weak(current, value, std::memory_order_relaxed)) {
  }
}

absl::Status FieldError(absl::string_view field, double value, absl::string_view rule) {
  return absl::InvalidArgumentError(absl::StrCat("DepthOptions::", field, " = ", value, "; ", rule));
}

// Bounds of x/z and y/z over the image (distortion included), padded.
struct Frustum {
  double tan_x_min, tan_x_max, tan_y_min, tan_y_max;
};

Frustum ImageFrustum(const Camera& camera) {
  Frustum f{std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
            std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};
  constexpr int kSamples = 32;
  const double w = camera.width - 0.5, h = camera.height - 0.5;
  for (int i = 0; i <= kSamples; ++i) {
    const double t = static_cast<double>(i) / kSamples;
    for (const Eigen::Vector2d& px : {Eigen::Vector2d(-0.5 + t * camera.width, -0.5), Eigen::Vector2d(-0.5 + t * camera.width, h),
                                      Eigen::Vector2d(-0.5, -0.5 + t * camera.height), Eigen::Vector2d(w, -0.5 + t * camera.height)}) {
      const Eigen::Vector3d ray = camera.Unproject(px);
      if (ray.z() <= 1e-6) continue;
      f.tan_x_min = std::min(f.tan_x_min, ray.x() / ray.z());
      f.tan_x_max = std::max(f.tan_x_max, ray.x() / ray.z());
      f.tan_y_min = std::min(f.tan_y_min, ray.y() / ray.z());
      f.tan_y_max = std::max(f.tan_y_max, ray.y() / ray.z());
    }
  }
  // Splats reach max_splat_radius_px beyond the edge; a 10% margin covers it
  // for culling purposes (points are still tested one by one).
  const double mx = 0.1 * (f.tan_x_max - f.tan_x_min), my = 0.1 * (f.tan_y_max - f.tan_y_min);
  f.tan_x_min -= mx;
  f.tan_x_max += mx;
  f.tan_y_min -= my;
  f.tan_y_max += my;
  return f;
}

}  // namespace

absl::Status DepthOptions::Validate() const {
  if (!(max_range_m > 0 && std::isfinite(max_range_m))) return FieldError("max_range_m", max_range_m, "must be > 0");
  if (!(min_depth_m > 0 && min_depth_m < max_range_m)) return FieldError("min_depth_m", min_depth_m, "must be in (0, max_range_m)");
  if (!(splat_footprint_m >= 0 && splat_footprint_m <= 10)) {
    return FieldError("splat_footprint_m", splat_footprint_m, "must be in [0, 10]");
  }
  if (max_splat_radius_px < 0 || max_splat_radius_px > 64) {
    return FieldError("max_splat_radius_px", max_splat_radius_px, "must be in [0, 64]");
  }
  if (!(occlusion_hole_m >= 0 && occlusion_hole_m <= 100)) {
    return FieldError("occlusion_hole_m", occlusion_hole_m, "must be in [0, 100] (0 = no occlusion test)");
  }
  if (occlusion_max_reach_px < 2 || occlusion_max_reach_px > 1024) {
    return FieldError("occlusion_max_reach_px", occlusion_max_reach_px, "must be in [2, 1024]");
  }
  if (!(occlusion_relative >= 0 && occlusion_relative < 1)) {
    return FieldError("occlusion_relative", occlusion_relative, "must be in [0, 1)");
  }
  if (!(occlusion_absolute_m >= 0 && std::isfinite(occlusion_absolute_m))) {
    return FieldError("occlusion_absolute_m", occlusion_absolute_m, "must be >= 0");
  }
  return absl::OkStatus();
}

size_t DepthMap::NumValid() const {
  return static_cast<size_t>(std::count_if(depth_m.begin(), depth_m.end(), [](float d) { return d > 0; }));
}

std::optional<double> DepthMap::DepthAt(double x, double y) const {
  if (!(x >= -0.5 && y >= -0.5 && x < width - 0.5 && y < height - 0.5)) return std::nullopt;
  const int cx = static_cast<int>(std::lround(x)), cy = static_cast<int>(std::lround(y));
  if (cx < 1 || cy < 1 || cx >= width - 1 || cy >= height - 1) return std::nullopt;
  // Plane w = a + b dx + c dy in inverse depth over the regular 3x3 grid:
  // a = mean, b = sum(dx w) / 6, c = sum(dy w) / 6 (least squares).
  double z[3][3], a = 0, b = 0, c = 0;
  for (int dy = -1; dy <= 1; ++dy) {
    for (int dx = -1; dx <= 1; ++dx) {
      const float d = at(cx + dx, cy + dy);
      if (!(d > 0)) return std::nullopt;
      z[dy + 1][dx + 1] = d;
      const double w = 1.0 / d;
      a += w;
      b += dx * w;
      c += dy * w;
    }
  }
  a /= 9;
  b /= 6;
  c /= 6;
  for (int dy = -1; dy <= 1; ++dy) {
    for (int dx = -1; dx <= 1; ++dx) {
      const double w = a + b * dx + c * dy;
      const double zi = z[dy + 1][dx + 1];
      if (!(w > 0) || std::abs(1.0 / w - zi) > 0.02 * zi + 0.03) return std::nullopt;
    }
  }
  const double w = a + b * (x - cx) + c * (y - cy);
  if (!(w > 0)) return std::nullopt;
  return 1.0 / w;
}

namespace {

// RenderDepth; with `refine_mask` (one flag per pixel) only the flagged
// pixels get a depth. Splatting and occlusion always cover the whole image:
// a pixel's depth depends on its neighbours' points, not on their depths.
absl::StatusOr<DepthMap> RenderDepthMasked(const LidarMap& map, const Camera& camera, const Rigid3d& cam_from_world,
                                           const DepthOptions& options, DepthRenderStats* stats,
                                           const std::vector<uint8_t>* refine_mask) {
  const auto start = std::chrono::steady_clock::now();
  ARMAP_RETURN_IF_ERROR(options.Validate());
  if (!camera.IsPerspective()) {
    return absl::InvalidArgumentError(
        absl::StrCat("RenderDepth: perspective cameras only (PINHOLE, OPENCV); got ", camera.ModelName()));
  }
  {
    const absl::StatusOr<Camera> checked = Camera::Create(camera.ModelName(), camera.width, camera.height, camera.params);
    if (!checked.ok()) return Annotate(checked.status(), "RenderDepth: camera");
  }
  if (static_cast<int64_t>(camera.width) * camera.height > (int64_t{1} << 28)) {
    return absl::InvalidArgumentError(absl::StrCat("RenderDepth: image ", camera.width, "x", camera.height, " is too large"));
  }
  if (!cam_from_world.translation.allFinite() || !cam_from_world.rotation.coeffs().allFinite()) {
    return absl::InvalidArgumentError("RenderDepth: cam_from_world is not finite");
  }
  DepthRenderStats local_stats;
  DepthRenderStats& st = stats ? *stats : local_stats;
  st = DepthRenderStats();

  const internal::LidarMapData& d = map.data();
  const internal::GridIndex& grid = d.full_index;
  const std::vector<Eigen::Vector3f>& points = d.full.points;
  const int width = camera.width, height = camera.height;
  const size_t num_pixels = static_cast<size_t>(width) * height;
  DepthMap out;
  out.width = width;
  out.height = height;
  out.depth_m.assign(num_pixels, 0.f);
  if (grid.empty()) return out;

  // Camera centre in the cloud's offset frame; rotation in float for the
  // per-point loop (offsets are small, so float keeps ~mm precision).
  const Eigen::Matrix3d rotation_d = cam_from_world.rotation.normalized().toRotationMatrix();
  const Eigen::Vector3d centre_d = CameraCenter(cam_from_world) - d.full.origin;
  const Eigen::Matrix3f rotation = rotation_d.cast<float>();
  const Eigen::Vector3f centre = centre_d.cast<float>();
  const bool pinhole = camera.model == CameraModelId::kPinhole;
  const double fx = camera.params[0], fy = camera.params[1], cxp = camera.params[2], cyp = camera.params[3];
  // Projection of a camera-frame point (z > 0): inlined for pinhole views,
  // the camera model (with its distortion checks) otherwise.
  auto project = [&](const Eigen::Vector3f& p, double* u, double* v) {
    if (pinhole) {
      *u = fx * p.x() / p.z() + cxp;
      *v = fy * p.y() / p.z() + cyp;
      return true;
    }
    Eigen::Vector2d pixel;
    if (!camera.Project(p.cast<double>(), &pixel)) return false;
    *u = pixel.x();
    *v = pixel.y();
    return true;
  };
  const float max_range2 = static_cast<float>(options.max_range_m * options.max_range_m);
  const float min_depth = static_cast<float>(options.min_depth_m);
  const Frustum frustum = ImageFrustum(camera);

  // Cells to visit: near enough and not entirely outside the frustum.
  std::vector<int> cells;
  {
    const double cell_m = grid.cell_m();
    const int x0 = grid.ColumnOf(centre_d.x() - options.max_range_m), x1 = grid.ColumnOf(centre_d.x() + options.max_range_m);
    const int y0 = grid.RowOf(centre_d.y() - options.max_range_m), y1 = grid.RowOf(centre_d.y() + options.max_range_m);
    for (int row = y0; row <= y1; ++row) {
      for (int col = x0; col <= x1; ++col) {
        const int cell = row * grid.nx + col;
        if (grid.Begin(cell) == grid.End(cell)) continue;
        const Eigen::Vector3d lo(grid.ColumnMinX(col), grid.RowMinY(row), grid.zmin[cell]);
        const Eigen::Vector3d hi(lo.x() + cell_m, lo.y() + cell_m, grid.zmax[cell]);
        // Range: distance from the camera centre to the box.
        const Eigen::Vector3d nearest = centre_d.cwiseMax(lo).cwiseMin(hi);
        if ((nearest - centre_d).norm() > options.max_range_m) continue;
        // Frustum: the box is out when all 8 corners are behind one plane.
        int out_near = 0, out_left = 0, out_right = 0, out_top = 0, out_bottom = 0;
        for (int k = 0; k < 8; ++k) {
          const Eigen::Vector3d corner((k & 1) ? hi.x() : lo.x(), (k & 2) ? hi.y() : lo.y(), (k & 4) ? hi.z() : lo.z());
          const Eigen::Vector3d p = rotation_d * (corner - centre_d);
          out_near += p.z() < options.min_depth_m;
          out_left += p.x() < frustum.tan_x_min * p.z();
          out_right += p.x() > frustum.tan_x_max * p.z();
          out_top += p.y() < frustum.tan_y_min * p.z();
          out_bottom += p.y() > frustum.tan_y_max * p.z();
        }
        if (out_near == 8 || out_left == 8 || out_right == 8 || out_top == 8 || out_bottom == 8) continue;
        cells.push_back(cell);
      }
    }
  }
  st.num_cells_visited = cells.size();

  // 1. Splat into the z-buffer.
  std::vector<std::atomic<uint64_t>> zbuffer(num_pixels);
  for (auto& slot : zbuffer) slot.store(kEmpty, std::memory_order_relaxed);
  const double splat_scale = 0.5 * options.splat_footprint_m * fx;
  size_t tested = 0, splatted = 0;
#pragma omp parallel for schedule(dynamic, 4) reduction(+ : tested, splatted)
  for (long c = 0; c < static_cast<long>(cells.size()); ++c) {
    const int cell = cells[c];
    for (uint32_t i = grid.Begin(cell); i < grid.End(cell); ++i) {
      ++tested;
      const Eigen::Vector3f rel = points[i] - centre;
      if (rel.squaredNorm() > max_range2) continue;
      const Eigen::Vector3f p = rotation * rel;
      if (p.z() < min_depth) continue;
      double u, v;
      if (!project(p, &u, &v)) continue;
      const double radius = std::min<double>(options.max_splat_radius_px, splat_scale / p.z());
      if (u < -0.5 - radius || v < -0.5 - radius || u >= width - 0.5 + radius || v >= height - 0.5 + radius) continue;
      ++splatted;
      const uint64_t key = Pack(p.z(), i);
      const int col = static_cast<int>(std::lround(u)), row = static_cast<int>(std::lround(v));
      if (col >= 0 && row >= 0 && col < width && row < height) AtomicMin(&zbuffer[static_cast<size_t>(row) * width + col], key);
      if (radius < 0.5) continue;
      const double r2 = radius * radius;
      const int c0 = std::max(0, static_cast<int>(std::ceil(u - radius))), c1 = std::min(width - 1, static_cast<int>(std::floor(u + radius)));
      const int r0 = std::max(0, static_cast<int>(std::ceil(v - radius))), r1 = std::min(height - 1, static_cast<int>(std::floor(v + radius)));
      for (int rr = r0; rr <= r1; ++rr) {
        for (int cc = c0; cc <= c1; ++cc) {
          if ((cc - u) * (cc - u) + (rr - v) * (rr - v) <= r2) AtomicMin(&zbuffer[static_cast<size_t>(rr) * width + cc], key);
        }
      }
    }
  }
  st.num_points_tested = tested;
  st.num_points_splatted = splatted;

  std::vector<float> raw(num_pixels, 0.f);
  std::vector<uint32_t> winner(num_pixels, 0);
  for (size_t k = 0; k < num_pixels; ++k) {
    const uint64_t key = zbuffer[k].load(std::memory_order_relaxed);
    if (key == kEmpty) continue;
    raw[k] = UnpackDepth(key);
    winner[k] = UnpackIndex(key);
    ++st.num_pixels_hit;
  }
  zbuffer = std::vector<std::atomic<uint64_t>>();

  st.splat_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  auto stage_start = std::chrono::steady_clock::now();
  // 2. Occlusion: invalidate pixels blocked in two opposite directions.
  std::vector<uint8_t> valid(num_pixels, 0);
  for (size_t k = 0; k < num_pixels; ++k) valid[k] = raw[k] > 0;
  if (options.occlusion_hole_m > 0) {
    // One sweep per direction: each pixel inherits from its predecessor the
    // nearest occluder still within reach (depth, reach left in pixels), is
    // tested against it, then offers itself as an occluder. Keeping only the
    // nearest occluder is exact for the nearest and may forget a farther
    // one whose reach outlasts it: a rare miss, never a false block.
    constexpr int kDirs[8][2] = {{1, 0}, {1, 1}, {0, 1}, {-1, 1}, {-1, 0}, {-1, -1}, {0, -1}, {1, -1}};
    std::vector<uint8_t> blocked(num_pixels, 0);
    std::vector<float> occ_z(num_pixels), occ_reach(num_pixels);
    const float rel = static_cast<float>(1.0 - options.occlusion_relative);
    const float abs_m = static_cast<float>(options.occlusion_absolute_m);
    const float reach_scale = static_cast<float>(options.occlusion_hole_m * fx);
    const float max_reach = static_cast<float>(options.occlusion_max_reach_px);
    for (int dir = 0; dir < 8; ++dir) {
      const int dx = kDirs[dir][0], dy = kDirs[dir][1];
      const float step = (dx != 0 && dy != 0) ? static_cast<float>(M_SQRT2) : 1.f;
      for (int i = 0; i < height; ++i) {
        const int row = dy >= 0 ? i : height - 1 - i;
        for (int j = 0; j < width; ++j) {
          const int col = dx >= 0 ? j : width - 1 - j;
          const size_t k = static_cast<size_t>(row) * width + col;
          float z_occ = 0, reach = 0;
          const int pc = col - dx, pr = row - dy;
          if (pc >= 0 && pr >= 0 && pc < width && pr < height) {
            const size_t pk = static_cast<size_t>(pr) * width + pc;
            reach = occ_reach[pk] - step;
            if (reach >= 0) z_occ = occ_z[pk];
          }
          const float z = raw[k];
          if (z > 0) {
            if (z_occ > 0 && z_occ < z * rel - abs_m) blocked[k] |= 1u << dir;
            if (z_occ <= 0 || reach < 0 || z < z_occ) {
              z_occ = z;
              reach = std::clamp(reach_scale / z, 2.f, max_reach);
            }
          }
          occ_z[k] = reach >= 0 ? z_occ : 0.f;
          occ_reach[k] = reach;
        }
      }
    }
    size_t occluded = 0;
    for (size_t k = 0; k < num_pixels; ++k) {
      const unsigned b = blocked[k];
      if (b & ((b >> 4) | (b << 4)) & 0xffu) {
        valid[k] = 0;
        ++occluded;
      }
    }
    st.num_pixels_occluded = occluded;
  }

  st.occlusion_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - stage_start).count();
  stage_start = std::chrono::steady_clock::now();
  // 3. Depth at the pixel centre (see DepthOptions::refine_subpixel).
  // Each winning point projected once: sub-pixel position, inverse depth.
  std::vector<float> proj_u, proj_v, inv_z;
  if (options.refine_subpixel) {
    proj_u.assign(num_pixels, 0.f);
    proj_v.assign(num_pixels, 0.f);
    inv_z.assign(num_pixels, 0.f);
#pragma omp parallel for schedule(static)
    for (long k = 0; k < static_cast<long>(num_pixels); ++k) {
      if (!valid[k]) continue;
      const Eigen::Vector3f p = rotation * (points[winner[k]] - centre);
      double u, v;
      if (!project(p, &u, &v)) {
        valid[k] = 0;  // projected during splatting; cannot fail here
        continue;
      }
      proj_u[k] = static_cast<float>(u);
      proj_v[k] = static_cast<float>(v);
      inv_z[k] = 1.f / p.z();
    }
  }
  size_t refined = 0;
#pragma omp parallel for schedule(static) reduction(+ : refined)
  for (int row = 0; row < height; ++row) {
    // Window radius: 2 px, plus the splat radius at this depth (a splat
    // repeats one point over its disc, so distinct points are farther apart).
    constexpr int kMaxWindow = 8;
    constexpr int kMaxSamples = (2 * kMaxWindow + 1) * (2 * kMaxWindow + 1);
    std::vector<Eigen::Vector3d> samples(kMaxSamples);  // (u - col, v - row, 1 / z)
    std::vector<double> sample_z(kMaxSamples);            // 1 / (1 / z), as on_plane compares it
    std::vector<uint8_t> tight(kMaxSamples), use(kMaxSamples);
    // Distinct winning points of the window: an open-addressing set stamped
    // per pixel (a linear search over the samples was most of the time).
    constexpr uint32_t kSetSize = 1024;  // > 3 x kMaxSamples: short probes
    std::vector<uint32_t> set_index(kSetSize), set_stamp(kSetSize, 0);
    uint32_t stamp = 0;
    for (int col = 0; col < width; ++col) {
      const size_t k = static_cast<size_t>(row) * width + col;
      if (!valid[k] || (refine_mask && !(*refine_mask)[k])) continue;
      const float z = raw[k];
      if (!options.refine_subpixel) {
        out.depth_m[k] = z;
        continue;
      }
      int n = 0, own = -1;
      ++stamp;
      // Within a splat of radius r one point repeats over ~r^2 pixels: a
      // stride of floor(r) still meets every distinct point in the window.
      const double splat_px = std::min<double>(options.max_splat_radius_px, splat_scale / z);
      const int window = std::min<int>(kMaxWindow, 2 + static_cast<int>(std::ceil(splat_px)));
      const int stride = std::max(1, static_cast<int>(splat_px));
      for (int dy = -window / stride * stride; dy <= window; dy += stride) {
        for (int dx = -window / stride * stride; dx <= window; dx += stride) {
          const int cc = col + dx, rr = row + dy;
          if (cc < 0 || rr < 0 || cc >= width || rr >= height) continue;
          const size_t j = static_cast<size_t>(rr) * width + cc;
          if (!valid[j] || std::abs(raw[j] - z) > 0.3f * z + 0.1f) continue;
          const uint32_t index = winner[j];
          uint32_t slot = (index * 2654435761u) >> 22;  // Fibonacci hash, 10 bits
          while (set_stamp[slot] == stamp && set_index[slot] != index) slot = (slot + 1) & (kSetSize - 1);
          if (set_stamp[slot] == stamp) continue;  // seen
          set_stamp[slot] = stamp;
          set_index[slot] = index;
          if (index == winner[k]) own = n;
          samples[n] = Eigen::Vector3d(proj_u[j] - col, proj_v[j] - row, inv_z[j]);
          sample_z[n] = 1.0 / samples[n].z();
          tight[n] = std::abs(raw[j] - z) <= 0.1f * z + 0.05f;
          ++n;
        }
      }
      if (own < 0) continue;
      // Least squares w = a + b du + c dv over the samples flagged in `use`.
      auto fit = [&](Eigen::Vector3d* plane) {
        Eigen::Matrix3d ata = Eigen::Matrix3d::Zero();
        Eigen::Vector3d atb = Eigen::Vector3d::Zero();
        int m = 0;
        for (int s = 0; s < n; ++s) {
          if (!use[s]) continue;
          const Eigen::Vector3d a(1.0, samples[s].x(), samples[s].y());
          ata += a * a.transpose();
          atb += a * samples[s].z();
          ++m;
        }
        if (m < 4) return false;
        // Spread in both image directions (not one scan line).
        const Eigen::Vector2d mean = ata.block<2, 1>(1, 0) / m;
        const Eigen::Matrix2d cov = ata.block<2, 2>(1, 1) / m - mean * mean.transpose();
        const double half_trace = 0.5 * (cov(0, 0) + cov(1, 1));
        const double smallest = half_trace - std::hypot(0.5 * (cov(0, 0) - cov(1, 1)), cov(0, 1));
        if (smallest < 0.05) return false;
        *plane = ata.ldlt().solve(atb);
        return plane->allFinite() && (*plane)[0] > 0;
      };
      // Within 1% + 3 cm in depth: 1.5 sigma of the 2 cm range noise up
      // close, and room for the little curvature of real surfaces at range.
      auto on_plane = [&](const Eigen::Vector3d& plane, int s) {
        const double w = plane[0] + plane[1] * samples[s].x() + plane[2] * samples[s].y();
        const double zs = sample_z[s];
        return w > 0 && std::abs(1.0 / w - zs) <= 0.01 * zs + 0.03;
      };
      // Fit, then re-select among all samples and refit until stable.
      auto robust = [&](Eigen::Vector3d* plane) {
        if (!fit(plane)) return false;
        for (int iteration = 0; iteration < 3; ++iteration) {
          bool changed = false;
          for (int s = 0; s < n; ++s) {
            const uint8_t keep = on_plane(*plane, s);
            changed |= keep != use[s];
            use[s] = keep;
          }
          if (!changed) return true;
          if (!fit(plane)) return false;
        }
        return true;
      };
      Eigen::Vector3d plane;
      for (int s = 0; s < n; ++s) use[s] = tight[s];
      bool ok = robust(&plane);
      if (!ok) {
        for (int s = 0; s < n; ++s) use[s] = 1;
        ok = robust(&plane);
      }
      if (!ok || !on_plane(plane, own)) continue;
      out.depth_m[k] = static_cast<float>(1.0 / plane[0]);
      ++refined;
    }
  }
  st.num_pixels_refined = refined;
  st.refine_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - stage_start).count();
  st.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace

absl::StatusOr<DepthMap> RenderDepth(const LidarMap& map, const Camera& camera, const Rigid3d& cam_from_world,
                                     const DepthOptions& options, DepthRenderStats* stats) {
  return RenderDepthMasked(map, camera, cam_from_world, options, stats, nullptr);
}

absl::StatusOr<std::vector<std::optional<double>>> RenderDepthAt(const LidarMap& map, const Camera& camera,
                                                                 const Rigid3d& cam_from_world,
                                                                 const std::vector<Eigen::Vector2d>& pixels,
                                                                 const DepthOptions& options, DepthRenderStats* stats) {
  if (camera.width <= 0 || camera.height <= 0 || static_cast<int64_t>(camera.width) * camera.height > (int64_t{1} << 28)) {
    // RenderDepthMasked names the problem; the mask must not be sized first.
    return RenderDepthMasked(map, camera, cam_from_world, options, stats, nullptr).status();
  }
  // DepthAt reads the 3x3 pixels around the nearest pixel.
  std::vector<uint8_t> mask(static_cast<size_t>(camera.width) * camera.height, 0);
  for (const Eigen::Vector2d& px : pixels) {
    if (!(px.x() >= -0.5 && px.y() >= -0.5 && px.x() < camera.width - 0.5 && px.y() < camera.height - 0.5)) continue;
    const int cx = static_cast<int>(std::lround(px.x())), cy = static_cast<int>(std::lround(px.y()));
    for (int r = std::max(0, cy - 1); r <= std::min(camera.height - 1, cy + 1); ++r) {
      for (int c = std::max(0, cx - 1); c <= std::min(camera.width - 1, cx + 1); ++c) {
        mask[static_cast<size_t>(r) * camera.width + c] = 1;
      }
    }
  }
  ARMAP_ASSIGN_OR_RETURN(DepthMap depth, RenderDepthMasked(map, camera, cam_from_world, options, stats, &mask));
  std::vector<std::optional<double>> out;
  out.reserve(pixels.size());
  for (const Eigen::Vector2d& px : pixels) out.push_back(depth.DepthAt(px.x(), px.y()));
  return out;
}

}  // namespace armap::mapping
