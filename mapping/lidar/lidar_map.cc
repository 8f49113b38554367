#include "mapping/lidar/lidar_map.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <utility>

#include <Eigen/Eigenvalues>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/io/point_cloud_io.h"
#include "core/logging.h"
#include "core/status.h"
#include "mapping/lidar/lidar_map_internal.h"
#include "mapping/lidar/lidar_pcl.h"

namespace armap::mapping {
namespace {

using Clock = std::chrono::steady_clock;
double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

absl::Status FieldError(absl::string_view field, double value, absl::string_view rule) {
  return absl::InvalidArgumentError(absl::StrCat("LidarPreprocessOptions::", field, " = ", value, "; ", rule));
}

void Warn(LidarPreprocessSummary* summary, const std::string& message) {
  ARMAP_LOG_WARN("lidar preprocessing: {}", message);
  summary->warnings.push_back(message);
}

// Drops points with a non-finite coordinate (all attributes); returns how many.
size_t DropNonFinite(PointCloud* cloud) {
  const size_t n = cloud->size();
  size_t out = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!cloud->points[i].allFinite()) continue;
    if (out != i) {
      cloud->points[out] = cloud->points[i];
      if (!cloud->intensity.empty()) cloud->intensity[out] = cloud->intensity[i];
      if (!cloud->timestamp_s.empty()) cloud->timestamp_s[out] = cloud->timestamp_s[i];
      if (!cloud->colors.empty()) cloud->colors[out] = cloud->colors[i];
      if (!cloud->classification.empty()) cloud->classification[out] = cloud->classification[i];
    }
    ++out;
  }
  cloud->points.resize(out);
  if (!cloud->intensity.empty()) cloud->intensity.resize(out);
  if (!cloud->timestamp_s.empty()) cloud->timestamp_s.resize(out);
  if (!cloud->colors.empty()) cloud->colors.resize(out);
  if (!cloud->classification.empty()) cloud->classification.resize(out);
  return n - out;
}

// Keeps an attribute only when it has one value per point.
template <typename T>
void DropIfPartial(size_t n, std::vector<T>* values) {
  if (values->size() != n) *values = std::vector<T>();
}

// Voxel filter over a cloud ordered by `grid` (cells of whole voxels, each
// z-sorted): each cell is voxelised on its own, so no global voxel key (and
// no 32-bit overflow at any extent, unlike pcl::VoxelGrid) is needed, and
// the memory is one small accumulator per cell. A voxel's output is the
// centroid of its points, with mean intensity and colour. The output order
// (rows of cells, then voxel z, y, x) is deterministic.
PointCloud VoxelFilter(const PointCloud& full, const internal::GridIndex& grid) {
  PointCloud out;
  out.origin = full.origin;
  if (grid.empty()) return out;
  const bool has_intensity = full.HasIntensity(), has_colors = full.HasColors();
  const int64_t k = grid.cell_voxels;
  const double v = grid.voxel_m;
  std::vector<PointCloud> rows(grid.ny);
#pragma omp parallel
  {
    struct Acc {
      double x = 0, y = 0, z = 0, intensity = 0, r = 0, g = 0, b = 0;
      int count = 0;
    };
    std::vector<Acc> acc(static_cast<size_t>(k * k));
    std::vector<int> touched;
#pragma omp for schedule(dynamic, 1)
    for (int row = 0; row < grid.ny; ++row) {
      PointCloud& o = rows[row];
      for (int col = 0; col < grid.nx; ++col) {
        const int cell = row * grid.nx + col;
        const int64_t base_x = (grid.first_cell_x + col) * k, base_y = (grid.first_cell_y + row) * k;
        uint32_t i = grid.Begin(cell);
        const uint32_t end = grid.End(cell);
        while (i < end) {
          // One run of points in the same voxel layer (points are z-sorted).
          const int64_t kz = static_cast<int64_t>(std::floor(full.points[i].z() / v));
          touched.clear();
          for (; i < end && static_cast<int64_t>(std::floor(full.points[i].z() / v)) == kz; ++i) {
            const Eigen::Vector3f& p = full.points[i];
            const int64_t lx = static_cast<int64_t>(std::floor(p.x() / v)) - base_x;
            const int64_t ly = static_cast<int64_t>(std::floor(p.y() / v)) - base_y;
            const int slot = static_cast<int>(std::clamp<int64_t>(ly, 0, k - 1) * k + std::clamp<int64_t>(lx, 0, k - 1));
            Acc& a = acc[slot];
            if (a.count == 0) touched.push_back(slot);
            a.x += p.x();
            a.y += p.y();
            a.z += p.z();
            if (has_intensity) a.intensity += full.intensity[i];
            if (has_colors) {
              a.r += full.colors[i][0];
              a.g += full.colors[i][1];
              a.b += full.colors[i][2];
            }
            ++a.count;
          }
          std::sort(touched.begin(), touched.end());
          for (int slot : touched) {
            Acc& a = acc[slot];
            const double inv = 1.0 / a.count;
            o.points.emplace_back(static_cast<float>(a.x * inv), static_cast<float>(a.y * inv), static_cast<float>(a.z * inv));
            if (has_intensity) o.intensity.push_back(static_cast<float>(a.intensity * inv));
            if (has_colors) {
              o.colors.push_back({static_cast<uint8_t>(std::lround(a.r * inv)), static_cast<uint8_t>(std::lround(a.g * inv)),
                                  static_cast<uint8_t>(std::lround(a.b * inv))});
            }
            a = Acc();
          }
        }
      }
    }
  }
  size_t total = 0;
  for (const PointCloud& r : rows) total += r.size();
  out.points.reserve(total);
  if (has_intensity) out.intensity.reserve(total);
  if (has_colors) out.colors.reserve(total);
  for (PointCloud& r : rows) {
    out.points.insert(out.points.end(), r.points.begin(), r.points.end());
    out.intensity.insert(out.intensity.end(), r.intensity.begin(), r.intensity.end());
    out.colors.insert(out.colors.end(), r.colors.begin(), r.colors.end());
    r = PointCloud();
  }
  return out;
}

}  // namespace

absl::Status LidarPreprocessOptions::Validate() const {
  if (!(voxel_size_m >= 0.001 && voxel_size_m <= 10)) return FieldError("voxel_size_m", voxel_size_m, "must be in [0.001, 10]");
  if (sor_neighbors < 0 || sor_neighbors > 1000) return FieldError("sor_neighbors", sor_neighbors, "must be in [0, 1000] (0 = off)");
  if (!(sor_stddev > 0 && std::isfinite(sor_stddev))) return FieldError("sor_stddev", sor_stddev, "must be > 0");
  if (!(ground_cell_m >= 0.05 && ground_cell_m <= 100)) return FieldError("ground_cell_m", ground_cell_m, "must be in [0.05, 100]");
  if (!(ground_max_height_m > 0 && ground_max_height_m <= 10)) {
    return FieldError("ground_max_height_m", ground_max_height_m, "must be in (0, 10]");
  }
  if (!(ground_max_slope_deg > 0 && ground_max_slope_deg < 89)) {
    return FieldError("ground_max_slope_deg", ground_max_slope_deg, "must be in (0, 89)");
  }
  if (!(ground_max_window_m >= ground_cell_m && ground_max_window_m <= 1000)) {
    return FieldError("ground_max_window_m", ground_max_window_m, "must be in [ground_cell_m, 1000]");
  }
  if (!(ground_max_step_m >= ground_max_height_m && ground_max_step_m <= 100)) {
    return FieldError("ground_max_step_m", ground_max_step_m, "must be in [ground_max_height_m, 100]");
  }
  if (!(ground_min_component_m2 >= 0 && std::isfinite(ground_min_component_m2))) {
    return FieldError("ground_min_component_m2", ground_min_component_m2, "must be >= 0");
  }
  if (!(index_cell_m >= voxel_size_m && index_cell_m <= 1000)) {
    return FieldError("index_cell_m", index_cell_m, "must be in [voxel_size_m, 1000]");
  }
  return absl::OkStatus();
}

std::string LidarPreprocessSummary::BriefReport() const {
  auto seconds = [this](const char* stage) {
    const auto it = stage_seconds.find(stage);
    return it == stage_seconds.end() ? 0.0 : it->second;
  };
  std::string report = absl::StrFormat(
      "lidar: %s, %d points read (%d non-finite dropped); %d voxels; %d outliers removed; "
      "%d ground / %d non-ground points (%d ground cells, %d small ground regions dropped); "
      "read %.2f s, index %.2f s, voxel %.2f s, outliers %.2f s, ground %.2f s, total %.2f s",
      num_files > 0 ? absl::StrCat(num_files, " file(s)") : std::string("in-memory cloud"), num_points_read,
      num_non_finite_dropped, num_voxels, num_outliers, num_ground, num_non_ground,
      num_ground_cells, num_ground_regions_dropped, seconds("read"), seconds("index"), seconds("voxel"),
      seconds("outliers"), seconds("ground"), seconds("total"));
  for (const std::string& w : warnings) absl::StrAppend(&report, "; warning: ", w);
  return report;
}

LidarMap::LidarMap() : data_(std::make_unique<internal::LidarMapData>()) {}
LidarMap::~LidarMap() = default;
LidarMap::LidarMap(LidarMap&&) noexcept = default;
LidarMap& LidarMap::operator=(LidarMap&&) noexcept = default;

const PointCloud& LidarMap::full_cloud() const { return data_->full; }
const PointCloud& LidarMap::cloud() const { return data_->cloud; }
const std::vector<uint8_t>& LidarMap::ground_flags() const { return data_->ground; }
size_t LidarMap::num_ground() const { return data_->num_ground; }
Eigen::AlignedBox3d LidarMap::Bounds() const { return data_->bounds; }

std::vector<uint32_t> LidarMap::PointsNear(const Eigen::Vector3d& centre, double radius_m) const {
  std::vector<uint32_t> out;
  if (!centre.allFinite()) return out;
  internal::ForEachPointNear(data_->full_index, data_->full.points, centre - data_->full.origin, radius_m,
                             [&out](uint32_t i) { out.push_back(i); });
  std::sort(out.begin(), out.end());
  return out;
}

absl::Status LidarMap::LocalPlane(const Eigen::Vector3d& point, double radius_m, Plane* out) const {
  if (!(radius_m > 0) || !point.allFinite()) {
    return absl::InvalidArgumentError(absl::StrCat("LocalPlane: radius_m = ", radius_m, " must be > 0 at a finite point"));
  }
  const Eigen::Vector3d centre = point - data_->cloud.origin;
  // Neighbours relative to the query point (small numbers: stable sums).
  std::vector<Eigen::Vector3d> neighbours;
  internal::ForEachPointNear(data_->cloud_index, data_->cloud.points, centre, radius_m, [&](uint32_t i) {
    neighbours.push_back(data_->cloud.points[i].cast<double>() - centre);
  });
  constexpr int kMinPoints = 5;
  if (static_cast<int>(neighbours.size()) < kMinPoints) {
    return absl::NotFoundError(absl::StrCat("LocalPlane: ", neighbours.size(), " lidar points within ", radius_m, " m"));
  }
  // The query point lies on the surface of interest: seed the plane with
  // its nearest neighbours (the nearest quarter, at least 10), then take
  // every neighbour within max(2.5 rms, voxel) of the plane and refit, up to
  // three times. A second surface in the ball (a sign 12 cm proud of a
  // wall, the ground at a wall's foot) is left out instead of tilting it.
  std::vector<std::pair<double, int>> by_distance(neighbours.size());
  for (size_t i = 0; i < neighbours.size(); ++i) by_distance[i] = {neighbours[i].squaredNorm(), static_cast<int>(i)};
  const size_t num_seed = std::min(neighbours.size(), std::max<size_t>(10, neighbours.size() / 4));
  std::nth_element(by_distance.begin(), by_distance.begin() + (num_seed - 1), by_distance.end());
  std::vector<uint8_t> inlier(neighbours.size(), 0);
  for (size_t i = 0; i < num_seed; ++i) inlier[by_distance[i].second] = 1;
  Eigen::Vector3d mean, normal;
  double rms = 0;
  int count = 0;
  for (int iteration = 0; iteration < 4; ++iteration) {
    mean.setZero();
    count = 0;
    for (size_t i = 0; i < neighbours.size(); ++i) {
      if (inlier[i]) { mean += neighbours[i]; ++count; }
    }
    if (count < kMinPoints) {
      return absl::NotFoundError(absl::StrCat("LocalPlane: only ", count, " points agree on a plane within ", radius_m, " m"));
    }
    mean /= count;
    Eigen::Matrix3d cov = Eigen::Matrix3d::Zero();
    for (size_t i = 0; i < neighbours.size(); ++i) {
      if (inlier[i]) cov += (neighbours[i] - mean) * (neighbours[i] - mean).transpose();
    }
    const Eigen::SelfAdjointEigenSolver<Eigen::Matrix3d> eig(cov / count);
    normal = eig.eigenvectors().col(0).normalized();
    rms = std::sqrt(std::max(0.0, eig.eigenvalues()[0]));
    if (iteration == 3) break;
    const double threshold = std::max(2.5 * rms, data_->voxel_size_m);
    bool changed = false;
    for (size_t i = 0; i < neighbours.size(); ++i) {
      const uint8_t keep = std::abs((neighbours[i] - mean).dot(normal)) <= threshold;
      changed |= keep != inlier[i];
      inlier[i] = keep;
    }
    if (!changed) break;
  }
  // The inliers must span the plane in both directions: along a single scan
  // line or a thin window frame the normal turns freely about the line.
  {
    Eigen::Matrix3d cov = Eigen::Matrix3d::Zero();
    for (size_t i = 0; i < neighbours.size(); ++i) {
      if (inlier[i]) cov += (neighbours[i] - mean) * (neighbours[i] - mean).transpose();
    }
    const double middle = Eigen::SelfAdjointEigenSolver<Eigen::Matrix3d>(cov / count).eigenvalues()[1];
    if (std::sqrt(std::max(0.0, middle)) < 0.15 * radius_m) {
      return absl::NotFoundError(absl::StrCat("LocalPlane: the ", count, " points within ", radius_m,
                                              " m lie along a line (no plane)"));
    }
  }
  if (normal.z() < 0) normal = -normal;
  out->point = mean + point;
  out->normal = normal;
  out->rms_m = rms;
  out->num_points = count;
  return absl::OkStatus();
}

std::optional<double> LidarMap::GroundHeightAt(double x, double y) const {
  const Eigen::Vector3d& o = data_->cloud.origin;
  double z;
  if (!data_->ground_model.HeightAt(x - o.x(), y - o.y(), &z)) return std::nullopt;
  return z + o.z();
}

bool LidarMap::IsGround(const Eigen::Vector3d& point) const {
  if (!point.allFinite()) return false;
  return data_->ground_model.IsGround((point - data_->cloud.origin).cast<float>());
}

namespace internal {

class LidarMapBuilder {
 public:
  // Everything after reading; adds to `s` (which the callers reset).
  static absl::StatusOr<LidarMap> Build(PointCloud cloud, const LidarPreprocessOptions& options,
                                        LidarPreprocessSummary& s);
};

absl::StatusOr<LidarMap> LidarMapBuilder::Build(PointCloud cloud, const LidarPreprocessOptions& options,
                                                LidarPreprocessSummary& s) {
  const auto start = Clock::now();
  // Attributes must be per point; partial ones are dropped.
  const size_t n_in = cloud.size();
  DropIfPartial(n_in, &cloud.intensity);
  DropIfPartial(n_in, &cloud.timestamp_s);
  DropIfPartial(n_in, &cloud.colors);
  DropIfPartial(n_in, &cloud.classification);
  if (!options.keep_timestamps) cloud.timestamp_s = std::vector<double>();
  s.num_non_finite_dropped += DropNonFinite(&cloud);
  if (cloud.empty()) return absl::InvalidArgumentError("PreprocessLidarCloud: no finite lidar point");

  LidarMap map;
  LidarMapData& d = *map.data_;
  d.voxel_size_m = options.voxel_size_m;
  d.full = std::move(cloud);
  s.num_full = d.full.size();

  auto t0 = Clock::now();
  const int64_t cell_voxels = std::max<int64_t>(1, std::llround(options.index_cell_m / options.voxel_size_m));
  ARMAP_ASSIGN_OR_RETURN(d.full_index, internal::BuildGridIndex(options.voxel_size_m, cell_voxels, &d.full));
  {
    Eigen::AlignedBox3f box;
    for (const Eigen::Vector3f& p : d.full.points) box.extend(p);
    d.bounds = Eigen::AlignedBox3d(box.min().cast<double>() + d.full.origin, box.max().cast<double>() + d.full.origin);
  }
  s.stage_seconds["index"] = Seconds(t0);

  t0 = Clock::now();
  d.cloud = VoxelFilter(d.full, d.full_index);
  s.num_voxels = d.cloud.size();
  s.stage_seconds["voxel"] = Seconds(t0);

  t0 = Clock::now();
  // Fine cells for the downsampled cloud (4 voxels): its queries are small
  // balls (16 neighbours, LocalPlane radii of decimetres).
  ARMAP_ASSIGN_OR_RETURN(d.cloud_index, internal::BuildGridIndex(options.voxel_size_m, 4, &d.cloud));
  if (options.sor_neighbors > 0 && d.cloud.size() > static_cast<size_t>(options.sor_neighbors)) {
    std::vector<uint8_t> keep;
    if (options.sor_with_pcl) {
      ARMAP_ASSIGN_OR_RETURN(keep, internal::PclStatisticalOutlierKeepMask(d.cloud.points, options.sor_neighbors,
                                                                           options.sor_stddev));
    } else {
      keep = internal::StatisticalKeepMask(
          internal::MeanNeighbourDistances(d.cloud_index, d.cloud.points, options.sor_neighbors), options.sor_stddev);
    }
    internal::CompactIndexed(keep, &d.cloud_index, &d.cloud);
    s.num_outliers = s.num_voxels - d.cloud.size();
  } else if (options.sor_neighbors > 0) {
    Warn(&s, absl::StrCat("outlier removal skipped: ", d.cloud.size(), " voxels, not more than sor_neighbors = ",
                          options.sor_neighbors));
  }
  s.num_downsampled = d.cloud.size();
  s.stage_seconds["outliers"] = Seconds(t0);

  t0 = Clock::now();
  internal::GroundStats ground_stats;
  d.ground_model = internal::SegmentGround(d.cloud.points, options, &d.ground, &ground_stats);
  for (const std::string& w : ground_stats.warnings) Warn(&s, w);
  d.num_ground = static_cast<size_t>(std::count(d.ground.begin(), d.ground.end(), 1));
  s.num_ground = d.num_ground;
  s.num_non_ground = d.cloud.size() - d.num_ground;
  s.num_ground_cells = ground_stats.num_ground_cells;
  s.num_ground_regions_dropped = ground_stats.num_regions_dropped;
  if (d.num_ground == 0) {
    Warn(&s, absl::StrCat("no ground found among ", d.cloud.size(), " points (", ground_stats.num_regions_dropped,
                          " ground region(s) smaller than ground_min_component_m2 = ", options.ground_min_component_m2,
                          " m^2 dropped)"));
  }
  s.stage_seconds["ground"] = Seconds(t0);
  s.stage_seconds["total"] = Seconds(start) + s.stage_seconds["read"];
  ARMAP_LOG_INFO("{}", s.BriefReport());
  return map;
}

}  // namespace internal

absl::StatusOr<LidarMap> PreprocessLidarCloud(PointCloud cloud, const LidarPreprocessOptions& options,
                                              LidarPreprocessSummary* summary) {
  ARMAP_RETURN_IF_ERROR(options.Validate());
  LidarPreprocessSummary local_summary;
  LidarPreprocessSummary& s = summary ? *summary : local_summary;
  s = LidarPreprocessSummary();
  s.num_points_read = cloud.size();
  return internal::LidarMapBuilder::Build(std::move(cloud), options, s);
}

absl::StatusOr<LidarMap> PreprocessLidar(const std::vector<std::filesystem::path>& files,
                                         const LidarPreprocessOptions& options, LidarPreprocessSummary* summary) {
  ARMAP_RETURN_IF_ERROR(options.Validate());
  if (files.empty()) return absl::InvalidArgumentError("PreprocessLidar: no lidar files given");
  LidarPreprocessSummary local_summary;
  LidarPreprocessSummary& s = summary ? *summary : local_summary;
  s = LidarPreprocessSummary();
  s.num_files = static_cast<int>(files.size());
  const auto t0 = Clock::now();
  // Read every chunk, then merge into one exactly-sized cloud, freeing each
  // chunk as it is copied: the peak is about one full copy plus one chunk.
  std::vector<PointCloud> chunks;
  chunks.reserve(files.size());
  size_t total = 0;
  bool all_intensity = true, all_colors = true, all_classification = true, all_timestamps = true;
  {
    Progress progress("reading lidar", static_cast<long>(files.size()));
    for (const std::filesystem::path& path : files) {
      absl::StatusOr<PointCloud> chunk = io::ReadPointCloud(path);
      if (!chunk.ok()) {
        const std::string message(chunk.status().message());
        if (message.find(path.string()) != std::string::npos) return chunk.status();
        return Annotate(chunk.status(), path.string());
      }
      s.num_points_read += chunk->size();
      // Attributes must be one per point before compaction.
      DropIfPartial(chunk->size(), &chunk->intensity);
      DropIfPartial(chunk->size(), &chunk->timestamp_s);
      DropIfPartial(chunk->size(), &chunk->colors);
      DropIfPartial(chunk->size(), &chunk->classification);
      s.num_non_finite_dropped += DropNonFinite(&*chunk);
      if (chunk->empty()) {
        return absl::InvalidArgumentError(absl::StrCat(path.string(), ": lidar file has no (finite) points"));
      }
      all_intensity &= chunk->HasIntensity();
      all_colors &= chunk->HasColors();
      all_classification &= chunk->HasClassification();
      all_timestamps &= chunk->HasTimestamps();
      total += chunk->size();
      chunks.push_back(*std::move(chunk));
      progress.Add();
    }
  }
  const bool keep_timestamps = options.keep_timestamps && all_timestamps;
  PointCloud merged = std::move(chunks.front());
  chunks.front() = PointCloud();
  auto fit = [&](auto& values, bool keep) {
    if (!keep) { std::decay_t<decltype(values)>().swap(values); return; }
    values.reserve(total);
  };
  merged.points.reserve(total);
  fit(merged.intensity, all_intensity);
  fit(merged.colors, all_colors);
  fit(merged.classification, all_classification);
  fit(merged.timestamp_s, keep_timestamps);
  for (size_t c = 1; c < chunks.size(); ++c) {
    PointCloud& chunk = chunks[c];
    const Eigen::Vector3d delta_d = chunk.origin - merged.origin;
    if (delta_d.cwiseAbs().maxCoeff() > 1e5) {
      Warn(&s, absl::StrFormat("%s: origin is %.0f m from the first file's; float offsets lose precision",
                               files[c].string(), delta_d.norm()));
    }
    const Eigen::Vector3f delta = delta_d.cast<float>();
    if (delta.isZero()) {
      merged.points.insert(merged.points.end(), chunk.points.begin(), chunk.points.end());
    } else {
      // Re-express in the merged origin (in double, then back to float offsets).
      for (const Eigen::Vector3f& p : chunk.points) merged.points.push_back((p.cast<double>() + delta_d).cast<float>());
    }
    if (all_intensity) merged.intensity.insert(merged.intensity.end(), chunk.intensity.begin(), chunk.intensity.end());
    if (all_colors) merged.colors.insert(merged.colors.end(), chunk.colors.begin(), chunk.colors.end());
    if (all_classification) {
      merged.classification.insert(merged.classification.end(), chunk.classification.begin(), chunk.classification.end());
    }
    if (keep_timestamps) merged.timestamp_s.insert(merged.timestamp_s.end(), chunk.timestamp_s.begin(), chunk.timestamp_s.end());
    chunk = PointCloud();
  }
  chunks = std::vector<PointCloud>();
  if (!all_intensity) Warn(&s, "intensity dropped: not every lidar file has it");
  s.stage_seconds["read"] = Seconds(t0);
  return internal::LidarMapBuilder::Build(std::move(merged), options, s);
}

}  // namespace armap::mapping
