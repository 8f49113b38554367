// White models from the lidar map (plan-view wall grid, footprint per wall
// cluster carved by the observed ground, rectilinear regularisation) with
// heights from the wall tops, or from the panoramas' building/sky boundary
// where the lidar's beams did not reach the top of a wall.
#include "mapping/products/whitemodel.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Eigenvalues>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"
#include "core/logging.h"
#include "core/status.h"
#include "mapping/products/whitemodel_geometry.h"

namespace armap::mapping {

using internal::Polygon2;

absl::Status WhiteModelOptions::Validate() const {
  auto bad = [](const char* field, double value, const char* rule) {
    return absl::InvalidArgumentError(absl::StrCat("WhiteModelOptions::", field, " = ", value, "; must be ", rule));
  };
  if (!(simplified_tolerance_m > 0 && simplified_tolerance_m <= 10)) return bad("simplified_tolerance_m", simplified_tolerance_m, "in (0, 10]");
  if (!(full_tolerance_m > 0 && full_tolerance_m <= simplified_tolerance_m))
    return bad("full_tolerance_m", full_tolerance_m, "in (0, simplified_tolerance_m]");
  if (!(grid_cell_m >= 0.05 && grid_cell_m <= 2)) return bad("grid_cell_m", grid_cell_m, "in [0.05, 2]");
  if (!(min_point_height_m >= 0 && min_point_height_m <= 20)) return bad("min_point_height_m", min_point_height_m, "in [0, 20]");
  if (!(min_wall_span_m > 0 && min_wall_span_m <= 50)) return bad("min_wall_span_m", min_wall_span_m, "in (0, 50]");
  if (!(min_wall_continuity >= 0 && min_wall_continuity <= 1)) return bad("min_wall_continuity", min_wall_continuity, "in [0, 1]");
  if (!(max_wall_ground_share > 0 && max_wall_ground_share <= 1)) return bad("max_wall_ground_share", max_wall_ground_share, "in (0, 1]");
  if (!(simplified_height_tolerance_m >= 0 && simplified_height_tolerance_m <= 50))
    return bad("simplified_height_tolerance_m", simplified_height_tolerance_m, "in [0, 50]");
  if (!(min_edge_m >= 0)) return bad("min_edge_m", min_edge_m, ">= 0");
  if (!(min_building_extent_m > 0)) return bad("min_building_extent_m", min_building_extent_m, "> 0");
  if (!(lod2_min_step_m > 0)) return bad("lod2_min_step_m", lod2_min_step_m, "> 0");
  if (!(max_pano_distance_m > 0)) return bad("max_pano_distance_m", max_pano_distance_m, "> 0");
  if (!(free_ray_max_height_m >= 0 && free_ray_max_height_m <= 50)) return bad("free_ray_max_height_m", free_ray_max_height_m, "in [0, 50]");
  if (!(free_ray_max_range_m > 0)) return bad("free_ray_max_range_m", free_ray_max_range_m, "> 0");
  if (!(free_ray_min_count >= 1)) return bad("free_ray_min_count", free_ray_min_count, ">= 1");
  return absl::OkStatus();
}

int WhiteModelLevel::NumVertices() const {
  int n = 0;
  for (const BuildingModel& b : buildings) {
    n += static_cast<int>(b.footprint.size());
    for (const RoofPart& p : b.parts) n += static_cast<int>(p.polygon.size());
  }
  return n;
}

namespace {

using Clock = std::chrono::steady_clock;
double SecondsSince(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double Median(std::vector<double> v) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + mid, v.end());
  return v[mid];
}

double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(q * (v.size() - 1) + 0.5));
  std::nth_element(v.begin(), v.begin() + k, v.end());
  return v[k];
}

// A regular plan-view grid over the map frame.
struct Grid {
  double x0 = 0, y0 = 0, cell = 1;
  int nx = 0, ny = 0;
  bool Index(double x, double y, int* ix, int* iy) const {
    *ix = static_cast<int>(std::floor((x - x0) / cell));
    *iy = static_cast<int>(std::floor((y - y0) / cell));
    return *ix >= 0 && *iy >= 0 && *ix < nx && *iy < ny;
  }
  Eigen::Vector2d Centre(int ix, int iy) const { return {x0 + (ix + 0.5) * cell, y0 + (iy + 0.5) * cell}; }
};

// Ground height on a 1 m grid sampled from the lidar map's ground model
// (one GroundHeightAt per cell instead of one per point).
class GroundGrid {
 public:
  GroundGrid(const LidarMap& lidar, const Eigen::AlignedBox2d& box) {
    grid_.cell = 1.0;
    grid_.x0 = std::floor(box.min().x()) - 2;
    grid_.y0 = std::floor(box.min().y()) - 2;
    grid_.nx = static_cast<int>(std::ceil(box.max().x() - grid_.x0)) + 3;
    grid_.ny = static_cast<int>(std::ceil(box.max().y() - grid_.y0)) + 3;
    z_.assign(static_cast<size_t>(grid_.nx) * grid_.ny, std::numeric_limits<float>::quiet_NaN());
    for (int iy = 0; iy < grid_.ny; ++iy) {
      for (int ix = 0; ix < grid_.nx; ++ix) {
        const Eigen::Vector2d c = grid_.Centre(ix, iy);
        if (std::optional<double> z = lidar.GroundHeightAt(c.x(), c.y())) z_[Flat(ix, iy)] = static_cast<float>(*z);
      }
    }
    // The ground model is interpolated under buildings and rises against
    // their walls (1.4 m seen at a 6 m building): the lowest ground within
    // 2 m is the street level at the wall's foot.
    std::vector<float> low = z_;
    for (int iy = 0; iy < grid_.ny; ++iy) {
      for (int ix = 0; ix < grid_.nx; ++ix) {
        float m = std::numeric_limits<float>::quiet_NaN();
        for (int dy = -2; dy <= 2; ++dy)
          for (int dx = -2; dx <= 2; ++dx) {
            const int x = ix + dx, y = iy + dy;
            if (x < 0 || y < 0 || x >= grid_.nx || y >= grid_.ny) continue;
            const float z = z_[Flat(x, y)];
            if (!std::isnan(z) && (std::isnan(m) || z < m)) m = z;
          }
        low[Flat(ix, iy)] = m;
      }
    }
    z_ = std::move(low);
  }
  std::optional<double> At(double x, double y) const {
    int ix, iy;
    if (!grid_.Index(x, y, &ix, &iy)) return std::nullopt;
    const float z = z_[Flat(ix, iy)];
    if (std::isnan(z)) return std::nullopt;
    return z;
  }

 private:
  size_t Flat(int ix, int iy) const { return static_cast<size_t>(iy) * grid_.nx + ix; }
  Grid grid_;
  std::vector<float> z_;
};

struct WallPoint {
  Eigen::Vector2d xy;
  double z;  // map frame
};

// ---------------------------------------------------------------------------
// Panorama skyline

// Sky = everything not connected to the image bottom through "object"
// pixels (textured or dark). Buildings stand on the ground, so each one is
// connected to the bottom; the sun, clouds and smooth sky gradients are not.
cv::Mat SkyMask(const cv::Mat& bgr) {
  cv::Mat gray, blurred, gx, gy, mag, texture;
  cv::cvtColor(bgr, gray, cv::COLOR_BGR2GRAY);
  cv::GaussianBlur(gray, blurred, cv::Size(3, 3), 0);
  cv::Sobel(blurred, gx, CV_32F, 1, 0, 3);
  cv::Sobel(blurred, gy, CV_32F, 0, 1, 3);
  cv::magnitude(gx, gy, mag);
  cv::boxFilter(mag, texture, CV_32F, cv::Size(5, 5));
  cv::Mat object = (texture > 40.0f) | (gray < 110);
  cv::Mat labels;
  const int n = cv::connectedComponents(object, labels, 8, CV_32S);
  std::vector<uint8_t> grounded(n, 0);
  for (int c = 0; c < labels.cols; ++c) grounded[labels.at<int>(labels.rows - 1, c)] = 1;
  grounded[0] = 0;  // label 0 is the background (non-object)
  cv::Mat sky(bgr.size(), CV_8U);
  for (int r = 0; r < labels.rows; ++r) {
    const int* l = labels.ptr<int>(r);
    uint8_t* s = sky.ptr<uint8_t>(r);
    for (int c = 0; c < labels.cols; ++c) s[c] = grounded[l[c]] ? 0 : 255;
  }
  return sky;
}

struct PanoImage {
  cv::Mat sky;   // CV_8U, 255 = sky
  cv::Mat gray;  // CV_8U
};

float SampleBilinear(const cv::Mat& m, const Eigen::Vector2d& px) {
  const double x = std::clamp(px.x(), 0.0, m.cols - 1.001), y = std::clamp(px.y(), 0.0, m.rows - 1.001);
  const int x0 = static_cast<int>(x), y0 = static_cast<int>(y);
  const double fx = x - x0, fy = y - y0;
  const int x1 = std::min(x0 + 1, m.cols - 1), y1 = std::min(y0 + 1, m.rows - 1);
  auto at = [&](int yy, int xx) { return static_cast<double>(m.at<uint8_t>(yy, xx)); };
  return static_cast<float>((1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x1)) +
                            fy * ((1 - fx) * at(y1, x0) + fx * at(y1, x1)));
}

// The map-frame z of the building/sky boundary above facade point `xy`, seen
// from a panorama: scans down from near the zenith in half-pixel steps to the
// first non-sky sample, then puts the boundary at the strongest intensity
// step around it. nullopt when the column does not start in the sky or never
// leaves it above z_min.
std::optional<double> SkylineZ(const PanoramaInput& pano, const PanoImage& image, const Eigen::Vector2d& xy,
                               double z_min) {
  const Rigid3d rig_from_world = pano.world_from_rig.Inverse();
  const Eigen::Vector3d centre = pano.world_from_rig.translation;
  const double d = (xy - centre.head<2>()).norm();
  if (d < 1.0) return std::nullopt;
  const double step_rad = 0.5 * M_PI / pano.camera.height;
  const double e_hi = 85.0 * M_PI / 180, e_lo = std::atan2(z_min - centre.z(), d);
  struct Sample { double z; float sky; float gray; };
  std::vector<Sample> samples;
  for (double e = e_hi; e > e_lo; e -= step_rad) {
    const double z = centre.z() + d * std::tan(e);
    Eigen::Vector2d px;
    if (!pano.camera.Project(rig_from_world * Eigen::Vector3d(xy.x(), xy.y(), z), &px)) return std::nullopt;
    samples.push_back({z, SampleBilinear(image.sky, px), SampleBilinear(image.gray, px)});
    if (samples.back().sky < 127.5f) break;
  }
  if (samples.size() < 8 || samples.back().sky >= 127.5f) return std::nullopt;
  for (size_t i = 0; i + 1 < 6; ++i)
    if (samples[i].sky < 127.5f) return std::nullopt;
  // Refine: the texture filter widens objects by ~3 px, so the mask edge
  // lies above the true one. The edge is where the intensity crosses half-way
  // from the sky's level (4-8 px above the mask edge) to the object's (2-6 px
  // below it): unbiased for a blurred step, unlike the strongest gradient,
  // which window rows below a glass roof edge can win.
  const int last = static_cast<int>(samples.size()) - 1;
  if (last < 17) return std::nullopt;
  for (int k = 1; k <= 12; ++k) {
    const double e = std::atan2(samples[last].z - centre.z(), d) - k * step_rad;
    const double z = centre.z() + d * std::tan(e);
    Eigen::Vector2d px;
    if (!pano.camera.Project(rig_from_world * Eigen::Vector3d(xy.x(), xy.y(), z), &px)) return std::nullopt;
    samples.push_back({z, 0.0f, SampleBilinear(image.gray, px)});
  }
  auto median_gray = [&](int from, int to) {
    std::vector<double> g;
    for (int i = from; i <= to; ++i) g.push_back(samples[i].gray);
    return Median(g);
  };
  const double sky = median_gray(last - 16, last - 8), object = median_gray(last + 4, last + 12);
  const double contrast = object - sky;
  if (std::abs(contrast) < 12.0) {
    // Low contrast (glass reflecting the sky): the mask edge less its widening.
    return samples[std::min(last + 6, static_cast<int>(samples.size()) - 1)].z;
  }
  for (int i = last - 8; i <= last + 12; ++i) {
    const double f = (samples[i].gray - sky) / contrast;
    if (f >= 0.5) {
      const double f0 = (samples[i - 1].gray - sky) / contrast;
      const double w = f > f0 ? (0.5 - f0) / (f - f0) : 0.5;
      return samples[i - 1].z + std::clamp(w, 0.0, 1.0) * (samples[i].z - samples[i - 1].z);
    }
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// Footprints

// Dominant wall direction of a cluster, radians in [0, pi/2): the rotation
// at which the wall cells pile up into the fewest 0.25 m rows and columns
// (sum of squared projection counts), swept over 90 deg then refined. Robust
// to tree cells and carved notches that misled a local line histogram.
double DominantDirection(const std::vector<Eigen::Vector2d>& cells, double cell_m) {
  if (cells.empty()) return 0.0;
  Eigen::Vector2d mean = Eigen::Vector2d::Zero();
  for (const Eigen::Vector2d& c : cells) mean += c;
  mean /= static_cast<double>(cells.size());
  double radius = 0;
  for (const Eigen::Vector2d& c : cells) radius = std::max(radius, (c - mean).norm());
  const double bin = std::max(0.25, cell_m);
  const int nbins = static_cast<int>(2 * radius / bin) + 3;
  std::vector<int> hu(nbins), hv(nbins);
  auto score = [&](double a) {
    std::fill(hu.begin(), hu.end(), 0);
    std::fill(hv.begin(), hv.end(), 0);
    const double c = std::cos(a), s = std::sin(a);
    for (const Eigen::Vector2d& p : cells) {
      const Eigen::Vector2d d = p - mean;
      ++hu[static_cast<int>((c * d.x() + s * d.y() + radius) / bin) + 1];
      ++hv[static_cast<int>((-s * d.x() + c * d.y() + radius) / bin) + 1];
    }
    double sum = 0;
    for (int k = 0; k < nbins; ++k) sum += static_cast<double>(hu[k]) * hu[k] + static_cast<double>(hv[k]) * hv[k];
    return sum;
  };
  double best = 0, best_score = -1;
  for (double a = 0; a < M_PI / 2; a += 0.5 * M_PI / 180) {
    const double sc = score(a);
    if (sc > best_score) { best_score = sc; best = a; }
  }
  const double coarse = best;
  for (double a = coarse - 0.5 * M_PI / 180; a <= coarse + 0.5 * M_PI / 180; a += 0.05 * M_PI / 180) {
    const double sc = score(a);
    if (sc > best_score) { best_score = sc; best = a; }
  }
  return std::fmod(best + 2 * M_PI, M_PI / 2);
}

struct Frame2 {  // building frame: u along the dominant direction
  double c = 1, s = 0;
  Eigen::Vector2d ToUv(const Eigen::Vector2d& xy) const { return {c * xy.x() + s * xy.y(), -s * xy.x() + c * xy.y()}; }
  Eigen::Vector2d ToXy(const Eigen::Vector2d& uv) const { return {c * uv.x() - s * uv.y(), s * uv.x() + c * uv.y()}; }
};

// A roof part over a rectangle of the building frame.
RoofPart RoofPartFromRect(const Frame2& frame, const internal::Rect& r, double height_m) {
  RoofPart part;
  for (const Eigen::Vector2d& uv : {Eigen::Vector2d(r.u0, r.v0), Eigen::Vector2d(r.u1, r.v0),
                                    Eigen::Vector2d(r.u1, r.v1), Eigen::Vector2d(r.u0, r.v1)}) {
    part.polygon.push_back(frame.ToXy(uv));
  }
  part.height_m = height_m;
  return part;
}

// Position of an axis-aligned outline edge refined on the wall points near it;
// also returns the fraction of the edge's length covered by them.
struct EdgeFit {
  double coordinate;
  double coverage = 0;
};

EdgeFit FitAxisEdge(const std::vector<Eigen::Vector2d>& wall_uv, bool horizontal, double coordinate, double lo,
                    double hi, double band_m) {
  EdgeFit fit{coordinate, 0};
  if (hi - lo < 0.5) return fit;
  std::vector<double> offsets;
  const int nbins = std::max(1, static_cast<int>((hi - lo) / 0.5));
  std::vector<uint8_t> hit(nbins, 0);
  for (const Eigen::Vector2d& p : wall_uv) {
    const double along = horizontal ? p.x() : p.y();
    const double across = horizontal ? p.y() : p.x();
    if (along < lo + 0.3 || along > hi - 0.3 || std::abs(across - coordinate) > band_m) continue;
    offsets.push_back(across);
    hit[std::clamp(static_cast<int>((along - lo) / (hi - lo) * nbins), 0, nbins - 1)] = 1;
  }
  fit.coverage = std::accumulate(hit.begin(), hit.end(), 0.0) / nbins;
  if (offsets.size() >= 20 && fit.coverage >= 0.2) fit.coordinate = Median(offsets);
  return fit;
}

// Whether p lies inside poly at least `inset` from its boundary.
bool InsideBy(const std::vector<Eigen::Vector2d>& poly, const Eigen::Vector2d& p, double inset) {
  bool inside = false;
  double nearest = std::numeric_limits<double>::infinity();
  for (size_t i = 0, j = poly.size() - 1; i < poly.size(); j = i++) {
    const Eigen::Vector2d& a = poly[i];
    const Eigen::Vector2d& b = poly[j];
    if ((a.y() > p.y()) != (b.y() > p.y()) && p.x() < (b.x() - a.x()) * (p.y() - a.y()) / (b.y() - a.y()) + a.x()) inside = !inside;
    const Eigen::Vector2d ab = b - a;
    const double t = std::clamp((p - a).dot(ab) / std::max(1e-12, ab.squaredNorm()), 0.0, 1.0);
    nearest = std::min(nearest, (a + t * ab - p).norm());
  }
  return inside && nearest >= inset;
}

}  // namespace

// ---------------------------------------------------------------------------

absl::StatusOr<WhiteModelResult> BuildWhiteModels(const LidarMap& lidar, const ProductInputs& inputs,
                                                  const WhiteModelOptions& options) {
  ARMAP_RETURN_IF_ERROR(options.Validate());
  const auto t_total = Clock::now();
  WhiteModelResult result;
  result.full.tolerance_m = 0.0;
  result.simplified.tolerance_m = options.simplified_tolerance_m;
  result.simplified.height_tolerance_m = options.simplified_height_tolerance_m;
  OrderedJson& summary = result.summary;
  OrderedJson seconds = OrderedJson::object();
  OrderedJson warnings = OrderedJson::array();
  auto finish = [&]() {
    seconds["total"] = SecondsSince(t_total);
    summary["buildings"] = result.full.buildings.size();
    int lod2 = 0;
    for (const BuildingModel& b : result.full.buildings) lod2 += b.lod == 2;
    summary["buildings_lod2"] = lod2;
    summary["vertices_full"] = result.full.NumVertices();
    summary["vertices_simplified"] = result.simplified.NumVertices();
    summary["simplified_tolerance_m"] = options.simplified_tolerance_m;
    summary["simplified_height_tolerance_m"] = options.simplified_height_tolerance_m;
    summary["seconds"] = seconds;
    summary["warnings"] = warnings;
    ARMAP_LOG_INFO("white models: {} buildings ({} LOD2), {} -> {} vertices simplified, {:.1f} s",
                   result.full.buildings.size(), lod2, result.full.NumVertices(), result.simplified.NumVertices(),
                   SecondsSince(t_total));
  };

  const PointCloud& cloud = lidar.cloud();
  const std::vector<uint8_t>& ground_flags = lidar.ground_flags();
  summary["points"] = cloud.size();
  if (cloud.empty() || lidar.num_ground() == 0) {
    // Heights are measured from the ground: without it there is no model to
    // make. Not an error, so a map build still delivers its other products.
    warnings.push_back(cloud.empty() ? "empty lidar cloud: no white models"
                                     : "no ground points in the lidar map: no white models (heights need the ground)");
    ARMAP_LOG_WARN("white models: {}", warnings.back().get<std::string>());
    finish();
    return result;
  }

  // 1. Non-ground points above car height, binned in a plan-view grid.
  auto t = Clock::now();
  Eigen::AlignedBox2d box;
  for (size_t i = 0; i < cloud.size(); ++i) box.extend(cloud.Point(i).head<2>());
  const GroundGrid ground(lidar, box);
  Grid grid;
  grid.cell = options.grid_cell_m;
  grid.x0 = box.min().x() - 1;
  grid.y0 = box.min().y() - 1;
  grid.nx = static_cast<int>(std::ceil((box.max().x() + 1 - grid.x0) / grid.cell));
  grid.ny = static_cast<int>(std::ceil((box.max().y() + 1 - grid.y0) / grid.cell));
  const size_t num_cells = static_cast<size_t>(grid.nx) * grid.ny;
  std::vector<int> count(num_cells, 0);
  std::vector<float> zmin(num_cells, std::numeric_limits<float>::max()), zmax(num_cells, -std::numeric_limits<float>::max());
  std::vector<uint64_t> zbins(num_cells, 0);  // occupied 0.5 m height bins
  cv::Mat ground_seen = cv::Mat::zeros(grid.ny, grid.nx, CV_8U);
  std::vector<WallPoint> candidates;
  std::vector<int> candidate_cell;
  std::vector<double> non_ground_z;
  size_t num_non_ground = 0;
  for (size_t i = 0; i < cloud.size(); ++i) {
    const Eigen::Vector3d p = cloud.Point(i);
    int ix, iy;
    if (!grid.Index(p.x(), p.y(), &ix, &iy)) continue;
    if (ground_flags[i]) {
      ground_seen.at<uint8_t>(iy, ix) = 255;
      continue;
    }
    ++num_non_ground;
    const std::optional<double> g = ground.At(p.x(), p.y());
    if (!g) continue;
    const double h = p.z() - *g;
    if (h < options.min_point_height_m) continue;
    const size_t c = static_cast<size_t>(iy) * grid.nx + ix;
    ++count[c];
    zmin[c] = std::min(zmin[c], static_cast<float>(h));
    zmax[c] = std::max(zmax[c], static_cast<float>(h));
    zbins[c] |= uint64_t{1} << std::min(63, static_cast<int>((h - options.min_point_height_m) / 0.5));
    candidates.push_back({p.head<2>(), p.z()});
    candidate_cell.push_back(static_cast<int>(c));
    non_ground_z.push_back(p.z());
  }
  cv::Mat wall = cv::Mat::zeros(grid.ny, grid.nx, CV_8U);
  int num_wall_cells = 0;
  for (int iy = 0; iy < grid.ny; ++iy) {
    for (int ix = 0; ix < grid.nx; ++ix) {
      const size_t c = static_cast<size_t>(iy) * grid.nx + ix;
      if (count[c] < 3 || zmax[c] - zmin[c] < options.min_wall_span_m) continue;
      // A facade column is continuous in height; a tree crown's column holds
      // its underside and its top with a gap between.
      const int b0 = static_cast<int>((zmin[c] - options.min_point_height_m) / 0.5);
      const int b1 = std::min(63, static_cast<int>((zmax[c] - options.min_point_height_m) / 0.5));
      const int filled = __builtin_popcountll(zbins[c]);
      if (filled < options.min_wall_continuity * (b1 - b0 + 1)) {
        // A facade seen at a grazing angle is crossed by each beam along a
        // slanted line, so one 0.25 m column holds a sparse set of heights
        // (35% of the bins on a tower's side street): its 3x3 neighbourhood
        // fills them in. A crown's hollow is metres across, wider than that.
        uint64_t near_bins = 0;
        for (int dy = -1; dy <= 1; ++dy)
          for (int dx = -1; dx <= 1; ++dx) {
            const int x = ix + dx, y = iy + dy;
            if (x >= 0 && y >= 0 && x < grid.nx && y < grid.ny) near_bins |= zbins[static_cast<size_t>(y) * grid.nx + x];
          }
        const uint64_t span_mask = (b1 - b0 + 1 >= 64 ? ~uint64_t{0} : ((uint64_t{1} << (b1 - b0 + 1)) - 1)) << b0;
        if (__builtin_popcountll(near_bins & span_mask) < options.min_wall_continuity * (b1 - b0 + 1)) continue;
      }
      {
        wall.at<uint8_t>(iy, ix) = 255;
        ++num_wall_cells;
      }
    }
  }
  // A facade has observed ground on its street side only; a tree crown
  // stands over ground seen all around its trunk. Wall cells whose
  // surroundings (+-0.75 m) are nearly all observed ground are crowns.
  {
    cv::Mat ground_f, share;
    ground_seen.convertTo(ground_f, CV_32F, 1.0 / 255);
    const int k = 2 * static_cast<int>(std::round(0.75 / grid.cell)) + 1;
    cv::boxFilter(ground_f, share, CV_32F, cv::Size(k, k));
    for (int iy = 0; iy < grid.ny; ++iy)
      for (int ix = 0; ix < grid.nx; ++ix)
        if (wall.at<uint8_t>(iy, ix) && share.at<float>(iy, ix) >= options.max_wall_ground_share) {
          wall.at<uint8_t>(iy, ix) = 0;
          --num_wall_cells;
        }
  }
  // The lidar's ceiling: no wall top at or near it was seen for sure.
  const double lidar_ceiling_z = non_ground_z.empty() ? 0.0 : Quantile(non_ground_z, 0.99999);
  summary["points_non_ground"] = num_non_ground;
  summary["points_above_min_height"] = candidates.size();
  summary["wall_cells"] = num_wall_cells;
  summary["lidar_ceiling_z_m"] = lidar_ceiling_z;
  seconds["grid"] = SecondsSince(t);

  // Panorama images, read (and their sky found) when first needed.
  std::vector<std::optional<PanoImage>> pano_images(inputs.panos.size());
  int num_pano_images = 0, num_pano_heights = 0, num_towers = 0;
  auto pano_image = [&](size_t i) -> const PanoImage* {
    if (!pano_images[i]) {
      cv::Mat bgr = cv::imread(inputs.panos[i].image.string(), cv::IMREAD_COLOR);
      if (bgr.empty() || bgr.cols != inputs.panos[i].camera.width || bgr.rows != inputs.panos[i].camera.height) {
        warnings.push_back(absl::StrCat("panorama ", inputs.panos[i].image.string(), " unreadable or not ",
                                        inputs.panos[i].camera.width, "x", inputs.panos[i].camera.height));
        pano_images[i] = PanoImage{};
      } else {
        PanoImage im;
        im.sky = SkyMask(bgr);
        cv::cvtColor(bgr, im.gray, cv::COLOR_BGR2GRAY);
        pano_images[i] = std::move(im);
        ++num_pano_images;
      }
    }
    return pano_images[i]->sky.empty() ? nullptr : &*pano_images[i];
  };

  // 2. Wall clusters: connected wall cells.
  t = Clock::now();
  cv::Mat joined;
  // Walls broken by occluders (trees, parked trucks) join across gaps up to
  // ~3 m; neighbouring buildings stand >= 4 m apart.
  const int join_px = 2 * static_cast<int>(std::round(1.5 / grid.cell)) + 1;
  cv::dilate(wall, joined, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(join_px, join_px)));
  cv::Mat labels;
  const int num_labels = cv::connectedComponents(joined, labels, 8, CV_32S);
  std::vector<std::vector<Eigen::Vector2d>> cluster_cells(num_labels);
  for (int iy = 0; iy < grid.ny; ++iy)
    for (int ix = 0; ix < grid.nx; ++ix)
      if (wall.at<uint8_t>(iy, ix)) cluster_cells[labels.at<int>(iy, ix)].push_back(grid.Centre(ix, iy));
  std::vector<std::vector<Eigen::Vector2d>> cluster_points(num_labels);
  std::vector<std::vector<double>> cluster_point_z(num_labels);
  for (size_t k = 0; k < candidates.size(); ++k) {
    const int c = candidate_cell[k];
    const int iy = c / grid.nx, ix = c % grid.nx;
    if (!wall.at<uint8_t>(iy, ix)) continue;
    const int l = labels.at<int>(iy, ix);
    cluster_points[l].push_back(candidates[k].xy);
    cluster_point_z[l].push_back(candidates[k].z);
  }
  // One building's walls can fall into several clusters (a wall hidden by
  // trees, a notch, a tower's walls seen above its podium): a cluster whose
  // cells lie mostly inside another's oriented box (grown by 1 m) joins it.
  {
    std::vector<int> parent(num_labels);
    std::iota(parent.begin(), parent.end(), 0);
    std::function<int(int)> find = [&](int x) { return parent[x] == x ? x : parent[x] = find(parent[x]); };
    std::vector<std::vector<cv::Point2f>> boxes(num_labels);
    for (int l = 1; l < num_labels; ++l) {
      if (cluster_cells[l].size() < 8) continue;
      std::vector<cv::Point2f> pts;
      for (const Eigen::Vector2d& c : cluster_cells[l]) pts.emplace_back(static_cast<float>(c.x()), static_cast<float>(c.y()));
      cv::RotatedRect rr = cv::minAreaRect(pts);
      rr.size.width += 2.0f;
      rr.size.height += 2.0f;
      boxes[l].resize(4);
      rr.points(boxes[l].data());
    }
    for (int a = 1; a < num_labels; ++a) {
      if (boxes[a].empty()) continue;
      for (int b = 1; b < num_labels; ++b) {
        if (a == b || cluster_cells[b].empty() || cluster_cells[b].size() > cluster_cells[a].size()) continue;
        size_t inside = 0;
        for (const Eigen::Vector2d& c : cluster_cells[b])
          inside += cv::pointPolygonTest(boxes[a], cv::Point2f(static_cast<float>(c.x()), static_cast<float>(c.y())), false) >= 0;
        // (Joining clusters whose boxes merely touch merged neighbours 5 m
        // apart on the default city: a U whose arms were seen apart stays two
        // models.)
        if (inside >= 0.5 * cluster_cells[b].size()) parent[find(b)] = find(a);
      }
    }
    std::vector<std::vector<Eigen::Vector2d>> cells(num_labels), points(num_labels);
    std::vector<std::vector<double>> zs(num_labels);
    for (int l = 1; l < num_labels; ++l) {
      const int r = find(l);
      cells[r].insert(cells[r].end(), cluster_cells[l].begin(), cluster_cells[l].end());
      points[r].insert(points[r].end(), cluster_points[l].begin(), cluster_points[l].end());
      zs[r].insert(zs[r].end(), cluster_point_z[l].begin(), cluster_point_z[l].end());
    }
    cluster_cells = std::move(cells);
    cluster_points = std::move(points);
    cluster_point_z = std::move(zs);
  }

  // The arms of a U (or the wings of any building) whose joining walls the
  // lidar never saw are clusters apart. Two clusters are one building when
  // they share an outer wall line (same direction, collinear faces) and the
  // panoramas looking at the gap between them along that line see a roof
  // edge across it as high as the wings' walls within their joint box (a
  // passage between two buildings shows the sky or something farther). The
  // elevation of that edge also says how deep the opening (the U's notch) is.
  std::vector<std::vector<Polygon2>> cluster_notches(num_labels);
  int num_wing_merges = 0;
  if (options.use_panoramas && !inputs.panos.empty()) {
    struct Wing {
      int label;
      double angle;
      Eigen::AlignedBox2d box_uv;  // in the frame of `angle`
      double top_z;
    };
    std::vector<Wing> wings;
    for (int l = 1; l < num_labels; ++l) {
      if (cluster_cells[l].size() < 8) continue;
      Wing w;
      w.label = l;
      w.angle = DominantDirection(cluster_cells[l], grid.cell);
      w.top_z = Quantile(cluster_point_z[l], 0.99);
      wings.push_back(w);
    }
    std::vector<int> parent(num_labels);
    std::iota(parent.begin(), parent.end(), 0);
    std::function<int(int)> find = [&](int x) { return parent[x] == x ? x : parent[x] = find(parent[x]); };
    for (size_t i = 0; i < wings.size(); ++i) {
      for (size_t j = i + 1; j < wings.size(); ++j) {
        const Wing& a = wings[i];
        const Wing& b = wings[j];
        double dang = std::abs(a.angle - b.angle);
        dang = std::min(dang, M_PI / 2 - dang);
        if (dang > options.wing_max_angle_deg * M_PI / 180) continue;
        // Wings of one building stand equally high (the lidar's ceiling
        // caps tall ones alike; the panoramas' check below still applies).
        if (std::abs(a.top_z - b.top_z) > options.lod2_min_step_m) continue;
        Frame2 f;
        f.c = std::cos(a.angle);
        f.s = std::sin(a.angle);
        auto box_of = [&](int l) {
          std::vector<double> us, vs;
          for (const Eigen::Vector2d& p : cluster_points[l]) {
            const Eigen::Vector2d uv = f.ToUv(p);
            us.push_back(uv.x());
            vs.push_back(uv.y());
          }
          return Eigen::AlignedBox2d(Eigen::Vector2d(Quantile(us, 0.001), Quantile(vs, 0.001)),
                                     Eigen::Vector2d(Quantile(us, 0.999), Quantile(vs, 0.999)));
        };
        const Eigen::AlignedBox2d ba = box_of(a.label), bb = box_of(b.label);
        const Eigen::AlignedBox2d joint = ba.merged(bb);
        // Separation axis k (the boxes apart along it), shared line on the other axis.
        for (int k = 0; k < 2; ++k) {
          const int o = 1 - k;
          const double gap_lo = std::min(ba.max()[k], bb.max()[k]), gap_hi = std::max(ba.min()[k], bb.min()[k]);
          const double gap = gap_hi - gap_lo;
          if (gap < 1.0 || gap > options.wing_max_gap_m) continue;
          if (std::min(ba.max()[o], bb.max()[o]) - std::max(ba.min()[o], bb.min()[o]) < 2.0) continue;
          // A passage between two buildings is open ground the lidar sees
          // into from its street; the yard of a U seen only across its
          // wings is not (its ground is hidden).
          int g_cells = 0, g_ground = 0;
          {
            const double o_lo = std::max(ba.min()[o], bb.min()[o]), o_hi = std::min(ba.max()[o], bb.max()[o]);
            for (double g = gap_lo + 0.5; g <= gap_hi - 0.5; g += grid.cell)
              for (double q = o_lo; q <= o_hi; q += grid.cell) {
                Eigen::Vector2d uv;
                uv[k] = g;
                uv[o] = q;
                const Eigen::Vector2d xy = f.ToXy(uv);
                int ix, iy;
                if (!grid.Index(xy.x(), xy.y(), &ix, &iy)) continue;
                ++g_cells;
                g_ground += ground_seen.at<uint8_t>(iy, ix) != 0;
              }
          }
          const double ground_share = g_cells ? static_cast<double>(g_ground) / g_cells : 1.0;
          if (ground_share > options.wing_max_gap_ground_share) {
            ARMAP_LOG_DEBUG("white models: clusters {} and {}: {:.0f}% of the gap is observed ground", a.label, b.label, 100 * ground_share);
            continue;
          }
          for (int side : {0, 1}) {
            const double ea = side ? ba.max()[o] : ba.min()[o], eb = side ? bb.max()[o] : bb.min()[o];
            if (std::abs(ea - eb) > options.wing_max_face_offset_m) continue;
            const double line = 0.5 * (ea + eb);
            // Outward normal of the shared face, and samples along the gap on it.
            Eigen::Vector2d normal_uv = Eigen::Vector2d::Zero();
            normal_uv[o] = side ? 1.0 : -1.0;
            const Eigen::Vector2d normal = f.ToXy(normal_uv);
            const double wing_z = std::min(a.top_z, b.top_z);
            std::vector<double> ok, depths;
            for (double g = gap_lo + 1.0; g <= gap_hi - 1.0 + 1e-9; g += 1.0) {
              Eigen::Vector2d x_uv;
              x_uv[k] = g;
              x_uv[o] = line;
              const Eigen::Vector2d x = f.ToXy(x_uv);
              for (size_t pj = 0; pj < inputs.panos.size(); ++pj) {
                const Eigen::Vector3d c = inputs.panos[pj].world_from_rig.translation;
                const Eigen::Vector2d to_rig = c.head<2>() - x;
                const double dist = to_rig.norm();
                if (dist > options.max_pano_distance_m || normal.dot(to_rig) < 0.5 * dist) continue;  // within 60 deg of the normal
                const PanoImage* im = pano_image(pj);
                if (!im) continue;
                const std::optional<double> z = SkylineZ(inputs.panos[pj], *im, x, c.z() + 1.0);
                if (!z) continue;
                // Where the ray leaves the joint box, beyond x.
                const Eigen::Vector2d dir_uv = f.ToUv(-to_rig / dist) - f.ToUv(Eigen::Vector2d::Zero());
                double t_exit = std::numeric_limits<double>::infinity();
                for (int ax = 0; ax < 2; ++ax) {
                  if (std::abs(dir_uv[ax]) < 1e-9) continue;
                  const double bound = dir_uv[ax] > 0 ? joint.max()[ax] : joint.min()[ax];
                  t_exit = std::min(t_exit, (bound - x_uv[ax]) / dir_uv[ax]);
                }
                if (!std::isfinite(t_exit) || t_exit < 1.0) continue;
                const double tan_e = (*z - c.z()) / dist;
                const double tan_needed = (options.wing_min_height_fraction * (wing_z - c.z())) / (dist + t_exit);
                ok.push_back(tan_e >= tan_needed ? 1.0 : 0.0);
                // A wall of the wings' height at the observed elevation stands
                // this far behind the face (views within 20 deg of its
                // normal: oblique ones cross a wing).
                if (tan_e > 1e-3 && normal.dot(to_rig) > 0.94 * dist) depths.push_back(((wing_z - c.z()) / tan_e - dist) * (-normal.dot(-to_rig / dist)));
              }
            }
            if (ok.size() < 5) continue;
            const double share = std::accumulate(ok.begin(), ok.end(), 0.0) / ok.size();
            ARMAP_LOG_DEBUG("white models: clusters {} and {} share a face; {} skyline samples, {:.0f}% close the gap; gap {:.1f} at ({:.1f}, {:.1f})",
                            a.label, b.label, ok.size(), 100 * share, gap, f.ToXy(joint.center()).x(), f.ToXy(joint.center()).y());
            if (share < 0.8) continue;
            parent[find(b.label)] = find(a.label);
            ++num_wing_merges;
            // The opening: between the wings, from the face to the median depth.
            const double depth = std::clamp(Median(depths), 0.0, joint.sizes()[o] - 2.0);
            if (depth >= 1.0) {
              Eigen::Vector2d lo, hi;
              lo[k] = gap_lo + 0.25;
              hi[k] = gap_hi - 0.25;
              lo[o] = side ? line - depth : line;
              hi[o] = side ? line + 1.0 : line + depth;  // 1 m past the face: out of the box anyway
              if (!side) lo[o] = line - 1.0;
              Polygon2 notch;
              for (const Eigen::Vector2d& q : {Eigen::Vector2d(lo.x(), lo.y()), Eigen::Vector2d(hi.x(), lo.y()),
                                               Eigen::Vector2d(hi.x(), hi.y()), Eigen::Vector2d(lo.x(), hi.y())})
                notch.push_back(f.ToXy(q));
              cluster_notches[a.label].push_back(notch);
            }
          }
        }
      }
    }
    std::vector<std::vector<Eigen::Vector2d>> cells(num_labels), points(num_labels);
    std::vector<std::vector<double>> zs(num_labels);
    std::vector<std::vector<Polygon2>> notches(num_labels);
    for (int l = 1; l < num_labels; ++l) {
      const int r = find(l);
      cells[r].insert(cells[r].end(), cluster_cells[l].begin(), cluster_cells[l].end());
      points[r].insert(points[r].end(), cluster_points[l].begin(), cluster_points[l].end());
      zs[r].insert(zs[r].end(), cluster_point_z[l].begin(), cluster_point_z[l].end());
      notches[r].insert(notches[r].end(), cluster_notches[l].begin(), cluster_notches[l].end());
    }
    cluster_cells = std::move(cells);
    cluster_points = std::move(points);
    cluster_point_z = std::move(zs);
    cluster_notches = std::move(notches);
  }
  summary["wing_merges"] = num_wing_merges;

  // Wall cells grown by 0.5 m: ground seen right at a wall's foot is not
  // evidence against the footprint.
  cv::Mat wall_zone;
  cv::dilate(wall, wall_zone, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(5, 5)));
  cv::Mat carve = ground_seen & ~wall_zone;
  // Lidar positions for the free-space rays: the route every 2 m.
  std::vector<Eigen::Vector2d> route_samples;
  for (size_t k = 0; k < inputs.route_positions.size(); ++k) {
    const Eigen::Vector2d a = inputs.route_positions[k].head<2>();
    route_samples.push_back(a);
    if (k + 1 == inputs.route_positions.size()) break;
    const Eigen::Vector2d b = inputs.route_positions[k + 1].head<2>();
    const int steps = static_cast<int>((b - a).norm() / 2.0);
    for (int i = 1; i < steps; ++i) route_samples.push_back(a + (b - a) * (static_cast<double>(i) / steps));
  }
  // Rays are stopped by wall cells grown by 0.75 m: a wall's scan has gaps
  // (a tree, a parked truck, sparse beams at range) that a ray through a
  // building must not slip through. Beyond 2.5 m from their wall cell, so
  // the wall itself does not stop them.
  cv::Mat ray_block;
  {
    const int k = 2 * static_cast<int>(std::round(0.75 / grid.cell)) + 1;
    cv::dilate(wall, ray_block, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(k, k)));
  }
  int num_free_rays = 0;
  seconds["clusters"] = SecondsSince(t);

  // 3. Per cluster: dominant direction, outline, regularisation.
  t = Clock::now();
  struct Draft {
    BuildingModel model;
    Frame2 frame;
    std::vector<Eigen::Vector2d> outline_uv;
    std::vector<Eigen::Vector2d> wall_uv;
    std::vector<double> wall_z;
    std::vector<Eigen::Vector2d> wall_xy;
    std::optional<internal::Rect> tower;  // uv, a setback tower's walls seen above the roof
  };
  std::vector<Draft> drafts;
  int num_small = 0;
  for (int l = 1; l < num_labels; ++l) {
    const std::vector<Eigen::Vector2d>& cells = cluster_cells[l];
    if (cells.size() < 8) { num_small += !cells.empty(); continue; }
    std::vector<cv::Point2f> cv_cells;
    for (const Eigen::Vector2d& c : cells) cv_cells.emplace_back(static_cast<float>(c.x()), static_cast<float>(c.y()));
    const cv::RotatedRect rr = cv::minAreaRect(cv_cells);
    ARMAP_LOG_DEBUG("white models: wall cluster {}: {} cells, box {:.1f} x {:.1f} m at ({:.1f}, {:.1f})", l, cells.size(),
                    rr.size.width, rr.size.height, rr.center.x, rr.center.y);
    // Too small, or a thin short line (a fence, a hoarding): not a building.
    const double longest = std::max(rr.size.width, rr.size.height), shortest = std::min(rr.size.width, rr.size.height);
    if (longest < options.min_building_extent_m ||
        (shortest < 0.5 * options.min_building_extent_m && longest < 2 * options.min_building_extent_m)) {
      ++num_small;
      continue;
    }
    Draft d;
    const double angle = DominantDirection(cells, grid.cell);
    d.frame.c = std::cos(angle);
    d.frame.s = std::sin(angle);
    d.wall_xy = cluster_points[l];
    d.wall_z = cluster_point_z[l];
    std::vector<double> us, vs;
    for (const Eigen::Vector2d& p : d.wall_xy) {
      d.wall_uv.push_back(d.frame.ToUv(p));
      us.push_back(d.wall_uv.back().x());
      vs.push_back(d.wall_uv.back().y());
    }
    const double u0 = Quantile(us, 0.001), u1 = Quantile(us, 0.999);
    const double v0 = Quantile(vs, 0.001), v1 = Quantile(vs, 0.999);
    // Raster in the building frame, cell centres on the box edges.
    const double c = grid.cell;
    const int nu = static_cast<int>(std::round((u1 - u0) / c)) + 1, nv = static_cast<int>(std::round((v1 - v0) / c)) + 1;
    const double cu = (u1 - u0) / std::max(1, nu - 1), cv_ = (v1 - v0) / std::max(1, nv - 1);
    cv::Mat mask(nv, nu, CV_8U, cv::Scalar(255));
    cv::Mat carved = cv::Mat::zeros(nv, nu, CV_8U);
    for (int iv = 0; iv < nv; ++iv) {
      for (int iu = 0; iu < nu; ++iu) {
        const Eigen::Vector2d xy = d.frame.ToXy({u0 + iu * cu, v0 + iv * cv_});
        int ix, iy;
        if (grid.Index(xy.x(), xy.y(), &ix, &iy) && carve.at<uint8_t>(iy, ix)) carved.at<uint8_t>(iv, iu) = 255;
      }
    }
    // Free space from the walls seen: a wall cell seen low (its lowest point
    // under free_ray_max_height_m, below any roof) from a route position
    // with nothing observed in between was seen along that ray, so the ray's
    // cells are outside every building. This carves courtyards and notches
    // whose ground the lidar did not reach but whose walls it did. A wall on
    // the cluster's box is seen from outside the box; rays of walls inside
    // the box may leave it in any direction that is not walled off.
    if (options.free_ray_max_height_m > 0 && !route_samples.empty()) {
      cv::Mat rays = cv::Mat::zeros(nv, nu, CV_16U);
      std::vector<std::pair<int, int>> path;
      for (const Eigen::Vector2d& cell : cells) {
        int cx, cy;
        if (!grid.Index(cell.x(), cell.y(), &cx, &cy)) continue;
        if (zmin[static_cast<size_t>(cy) * grid.nx + cx] > options.free_ray_max_height_m) continue;
        const Eigen::Vector2d uv = d.frame.ToUv(cell);
        const double margin = 1.0;
        Eigen::Vector2d outward = Eigen::Vector2d::Zero();  // per axis: -1, 0 (inside), +1
        if (uv.x() < u0 + margin) outward.x() = -1; else if (uv.x() > u1 - margin) outward.x() = 1;
        if (uv.y() < v0 + margin) outward.y() = -1; else if (uv.y() > v1 - margin) outward.y() = 1;
        for (const Eigen::Vector2d& sensor : route_samples) {
          const Eigen::Vector2d to = sensor - cell;
          const double dist = to.norm();
          if (dist < 2.0 || dist > options.free_ray_max_range_m) continue;
          const Eigen::Vector2d dir = to / dist;
          const Eigen::Vector2d dir_uv = d.frame.ToUv(dir);  // rotation only
          if (outward.squaredNorm() > 0 && !(outward.x() * dir_uv.x() > 0.2 || outward.y() * dir_uv.y() > 0.2)) continue;
          path.clear();
          bool blocked = false;
          for (double s = 0.75; s < dist - 0.5; s += grid.cell) {
            const Eigen::Vector2d q = cell + dir * s;
            int qx, qy;
            if (!grid.Index(q.x(), q.y(), &qx, &qy)) break;
            if (s > 2.5 && ray_block.at<uint8_t>(qy, qx)) { blocked = true; break; }
            const Eigen::Vector2d quv = d.frame.ToUv(q);
            const int iu = static_cast<int>(std::round((quv.x() - u0) / cu)), iv = static_cast<int>(std::round((quv.y() - v0) / cv_));
            if (iu >= 0 && iv >= 0 && iu < nu && iv < nv && !wall_zone.at<uint8_t>(qy, qx)) path.emplace_back(iu, iv);
          }
          if (blocked) continue;
          ++num_free_rays;
          for (const auto& [iu, iv] : path) rays.at<uint16_t>(iv, iu) = static_cast<uint16_t>(std::min(65535, rays.at<uint16_t>(iv, iu) + 1));
        }
      }
      // A cell crossed by a single ray may be a stray (a ray through a gap in
      // an unseen wall); courtyards are crossed by many.
      for (int iv = 0; iv < nv; ++iv)
        for (int iu = 0; iu < nu; ++iu)
          if (rays.at<uint16_t>(iv, iu) >= options.free_ray_min_count) carved.at<uint8_t>(iv, iu) = 255;
    }
    // Sparse ground hits at range: close them into areas, then open the
    // remaining footprint so slivers between hits do not survive.
    const cv::Mat k5 = cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(5, 5));
    cv::morphologyEx(carved, carved, cv::MORPH_CLOSE, k5);
    mask &= ~carved;
    // Openings between wings found in the panoramas.
    for (const Polygon2& notch : cluster_notches[l]) {
      std::vector<cv::Point> px;
      for (const Eigen::Vector2d& q : notch) {
        const Eigen::Vector2d uv = d.frame.ToUv(q);
        px.emplace_back(static_cast<int>(std::round((uv.x() - u0) / cu)), static_cast<int>(std::round((uv.y() - v0) / cv_)));
      }
      cv::fillPoly(mask, std::vector<std::vector<cv::Point>>{px}, cv::Scalar(0));
    }
    cv::morphologyEx(mask, mask, cv::MORPH_OPEN, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(9, 9)));
    std::vector<std::vector<cv::Point>> contours;
    cv::findContours(mask, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_NONE);
    if (contours.empty()) { ++num_small; continue; }
    const auto largest = std::max_element(contours.begin(), contours.end(), [](const auto& a, const auto& b) {
      return cv::contourArea(a) < cv::contourArea(b);
    });
    std::vector<cv::Point> approx;
    cv::approxPolyDP(*largest, approx, options.full_tolerance_m / c, true);
    Polygon2 poly;
    for (const cv::Point& p : approx) poly.push_back({u0 + p.x * cu, v0 + p.y * cv_});
    poly = internal::Rectilinearize(poly, internal::MostlyRectilinear(poly, 15.0, 0.8) ? 45.0 : 15.0);
    // Refine axis-aligned edges on the wall points, twice (vertices move).
    for (int round = 0; round < 2; ++round) {
      std::vector<internal::AxisEdge> edges = internal::AxisEdges(poly);
      if (edges.empty()) break;
      for (internal::AxisEdge& e : edges) {
        const EdgeFit fit = FitAxisEdge(d.wall_uv, e.horizontal, e.coordinate, e.lo, e.hi, 0.75);
        e.coordinate = fit.coordinate;
      }
      poly = internal::PolygonFromAxisEdges(edges, poly);
    }
    poly = internal::Cleanup(poly, options.min_edge_m);
    if (poly.size() < 3 || std::abs(internal::SignedArea(poly)) < 4.0) { ++num_small; continue; }
    if (internal::SignedArea(poly) < 0) std::reverse(poly.begin(), poly.end());
    d.outline_uv = poly;
    d.model.num_points = static_cast<int>(d.wall_xy.size());
    // A tower set back on a podium: wall cells well inside the outline whose
    // lowest point is above any wall foot seen from the street (they stand
    // on a roof). Their box is the tower's plan.
    {
      std::vector<double> tu, tv;
      for (const Eigen::Vector2d& q : cells) {
        int cx, cy;
        if (!grid.Index(q.x(), q.y(), &cx, &cy) || zmin[static_cast<size_t>(cy) * grid.nx + cx] < options.tower_min_base_m) continue;
        const Eigen::Vector2d uv = d.frame.ToUv(q);
        if (InsideBy(poly, uv, options.tower_min_inset_m)) { tu.push_back(uv.x()); tv.push_back(uv.y()); }
      }
      if (tu.size() * grid.cell >= options.tower_min_wall_m) {
        const internal::Rect r{Quantile(tu, 0.02), Quantile(tv, 0.02), Quantile(tu, 0.98), Quantile(tv, 0.98)};
        if (r.u1 - r.u0 >= 4.0 && r.v1 - r.v0 >= 4.0 && (r.u1 - r.u0) * (r.v1 - r.v0) < 0.8 * internal::PolygonArea(poly)) d.tower = r;
      }
    }
    drafts.push_back(std::move(d));
  }
  summary["free_space_rays"] = num_free_rays;
  summary["clusters"] = num_labels - 1;
  summary["clusters_not_buildings"] = num_small;
  seconds["footprints"] = SecondsSince(t);

  // 4. Ground and heights. Outline of every draft, map frame, for the
  // panoramas' line-of-sight tests.
  t = Clock::now();
  std::vector<Polygon2> outlines_xy;
  for (Draft& d : drafts) {
    Polygon2 xy;
    for (const Eigen::Vector2d& p : d.outline_uv) xy.push_back(d.frame.ToXy(p));
    outlines_xy.push_back(xy);
  }
  for (size_t bi = 0; bi < drafts.size(); ++bi) {
    Draft& d = drafts[bi];
    const Polygon2& outline = outlines_xy[bi];
    // Base: the ground just outside the walls.
    std::vector<double> gz;
    for (size_t k = 0; k < outline.size(); ++k) {
      const Eigen::Vector2d a = outline[k], b = outline[(k + 1) % outline.size()];
      const double len = (b - a).norm();
      if (len < 1e-6) continue;
      const Eigen::Vector2d dir = (b - a) / len, out(dir.y(), -dir.x());  // CCW: outside is on the right
      for (double s = 0.5; s < len; s += 2.0)
        if (std::optional<double> z = lidar.GroundHeightAt((a + dir * s + out * 1.5).x(), (a + dir * s + out * 1.5).y()))
          gz.push_back(*z);
    }
    d.model.ground_z_m = gz.empty() ? Quantile(d.wall_z, 0.0) - options.min_point_height_m : Median(gz);

    // The median skyline the panoramas see above the walls `segments` (uv, on
    // the sides of rectangle r), preferring views with no other building
    // behind; nullopt without views. `above_own`: the walls stand above this
    // building's own lower roof (a tower's), which does not hide them.
    auto skyline_top = [&](const std::vector<std::pair<Eigen::Vector2d, Eigen::Vector2d>>& outer_segments,
                           const internal::Rect& r, bool above_own) -> std::optional<double> {
      std::vector<double> clean, all;
      for (const auto& [a_uv, b_uv] : outer_segments) {
        const Eigen::Vector2d a = d.frame.ToXy(a_uv), b = d.frame.ToXy(b_uv);
        const double len = (b - a).norm();
        const Eigen::Vector2d dir = (b - a) / len;
        // Outward normal: the side of the segment away from the piece centre.
        const Eigen::Vector2d centre = d.frame.ToXy({0.5 * (r.u0 + r.u1), 0.5 * (r.v0 + r.v1)});
        Eigen::Vector2d out(dir.y(), -dir.x());
        if (out.dot(a - centre) < 0) out = -out;
        for (size_t pj = 0; pj < inputs.panos.size(); ++pj) {
          const Eigen::Vector2d rig = inputs.panos[pj].world_from_rig.translation.head<2>();
          if (out.dot(rig - a) < 2.0) continue;  // behind or along the wall
          bool used = false;
          for (double s = 1.0; s < len - 0.99; s += 1.0) {
            const Eigen::Vector2d x = a + dir * s;
            const double dist = (rig - x).norm();
            if (dist > options.max_pano_distance_m) continue;
            // Line of sight in plan: no outline between the rig and the wall.
            const Eigen::Vector2d near_end = x + (rig - x).normalized() * 0.3;
            if (internal::SegmentHitsAnyOutline(rig, near_end, outlines_xy, above_own ? static_cast<int>(bi) : -1)) continue;
            // Another building behind the wall could make the skyline.
            const Eigen::Vector2d far_end = x + (x - rig).normalized() * 400.0;
            const bool background = internal::SegmentHitsAnyOutline(x, far_end, outlines_xy, static_cast<int>(bi));
            const PanoImage* im = pano_image(pj);
            if (!im) break;
            std::optional<double> z = SkylineZ(inputs.panos[pj], *im, x, lidar_ceiling_z - 3.0);
            if (!z) continue;
            used = true;
            all.push_back(*z);
            if (!background) clean.push_back(*z);
          }
          (void)used;
        }
      }
      const std::vector<double>& use = clean.size() >= 5 ? clean : all;
      if (use.empty()) return std::nullopt;
      return Median(use);
    };
    // Pieces: the rectangles of the outline's own coordinate grid (LOD2 roof
    // levels follow the wall tops of each piece).
    std::vector<internal::Rect> pieces = internal::RectilinearPieces(d.outline_uv);
    std::vector<internal::AxisEdge> edges = internal::AxisEdges(d.outline_uv);
    struct PieceHeight { double top_z = NAN; bool clipped = false; double area = 0; };
    std::vector<PieceHeight> ph(pieces.size());
    for (size_t pi = 0; pi < pieces.size(); ++pi) {
      const internal::Rect& r = pieces[pi];
      ph[pi].area = (r.u1 - r.u0) * (r.v1 - r.v0);
      std::vector<double> bin_tops;
      std::vector<std::pair<Eigen::Vector2d, Eigen::Vector2d>> outer_segments;  // uv, on the outline
      for (const internal::AxisEdge& e : edges) {
        // Overlap of the outline edge with a side of the piece.
        double lo, hi;
        if (e.horizontal) {
          if (std::abs(e.coordinate - r.v0) > 1e-6 && std::abs(e.coordinate - r.v1) > 1e-6) continue;
          lo = std::max(e.lo, r.u0); hi = std::min(e.hi, r.u1);
        } else {
          if (std::abs(e.coordinate - r.u0) > 1e-6 && std::abs(e.coordinate - r.u1) > 1e-6) continue;
          lo = std::max(e.lo, r.v0); hi = std::min(e.hi, r.v1);
        }
        if (hi - lo < 1.0) continue;
        const int nb = static_cast<int>((hi - lo) / 1.0);
        std::vector<double> tops(nb, -std::numeric_limits<double>::infinity());
        for (size_t k = 0; k < d.wall_uv.size(); ++k) {
          const Eigen::Vector2d& p = d.wall_uv[k];
          const double along = e.horizontal ? p.x() : p.y(), across = e.horizontal ? p.y() : p.x();
          if (std::abs(across - e.coordinate) > 0.6 || along < lo + 0.3 || along > hi - 0.3) continue;
          const int b = std::clamp(static_cast<int>((along - lo) / (hi - lo) * nb), 0, nb - 1);
          tops[b] = std::max(tops[b], d.wall_z[k]);
        }
        for (double top : tops)
          if (std::isfinite(top)) bin_tops.push_back(top);
        const Eigen::Vector2d a = e.horizontal ? Eigen::Vector2d(lo, e.coordinate) : Eigen::Vector2d(e.coordinate, lo);
        const Eigen::Vector2d b = e.horizontal ? Eigen::Vector2d(hi, e.coordinate) : Eigen::Vector2d(e.coordinate, hi);
        outer_segments.push_back({a, b});
      }
      // The roof edge is the upper cluster of the wall tops (bins where trees
      // or range hid the top are lower).
      if (bin_tops.size() >= 3) ph[pi].top_z = Quantile(bin_tops, 0.9);
      // A wall top within reach of the lidar's ceiling may be where its beams
      // ended rather than the roof: let the panoramas decide.
      // (A piece whose walls were not seen at all takes its neighbours'
      // height below: a skyline above an unseen wall is anybody's.)
      ph[pi].clipped = std::isfinite(ph[pi].top_z) && ph[pi].top_z >= lidar_ceiling_z - options.lidar_ceiling_margin_m;
      if (!ph[pi].clipped || !options.use_panoramas || inputs.panos.empty()) continue;

      // Panoramas: skyline above points along the piece's outer walls.
      if (const std::optional<double> z = skyline_top(outer_segments, r, false); z && (!std::isfinite(ph[pi].top_z) || *z > ph[pi].top_z + 0.5)) {
        ph[pi].top_z = *z;
        ++num_pano_heights;
      }
    }
    // Pieces without a measured top take the highest measured neighbour's.
    double fallback = NAN;
    for (const PieceHeight& p : ph)
      if (std::isfinite(p.top_z)) fallback = std::isfinite(fallback) ? std::max(fallback, p.top_z) : p.top_z;
    if (!std::isfinite(fallback)) fallback = Quantile(d.wall_z, 0.99);
    std::vector<double> heights;
    for (const PieceHeight& p : ph) heights.push_back((std::isfinite(p.top_z) ? p.top_z : fallback) - d.model.ground_z_m);
    std::vector<double> areas;
    for (const PieceHeight& p : ph) areas.push_back(p.area);
    internal::MergePieces(&pieces, &heights, &areas, options.lod2_min_step_m);

    d.model.footprint = outline;
    d.model.height_m = *std::max_element(heights.begin(), heights.end());
    const auto [h_lo, h_hi] = std::minmax_element(heights.begin(), heights.end());
    if (pieces.size() <= 1 || *h_hi - *h_lo < options.lod2_min_step_m) {
      d.model.lod = 1;
      double h = 0, w = 0;
      for (size_t k = 0; k < heights.size(); ++k) { h += heights[k] * areas[k]; w += areas[k]; }
      d.model.height_m = w > 0 ? h / w : d.model.height_m;
      d.model.parts = {RoofPart{outline, d.model.height_m}};
    } else {
      d.model.lod = 2;
      for (size_t k = 0; k < pieces.size(); ++k) {
        d.model.parts.push_back(RoofPartFromRect(d.frame, pieces[k], heights[k]));
      }
    }
    // The tower: its walls' tops (or the panoramas' skyline above them when
    // they reach the lidar's ceiling), a part of its own above the podium.
    if (d.tower) {
      const internal::Rect& r = *d.tower;
      const std::vector<std::pair<Eigen::Vector2d, Eigen::Vector2d>> sides = {
          {{r.u0, r.v0}, {r.u1, r.v0}}, {{r.u1, r.v0}, {r.u1, r.v1}}, {{r.u1, r.v1}, {r.u0, r.v1}}, {{r.u0, r.v1}, {r.u0, r.v0}}};
      std::vector<double> tops;
      for (const auto& [a, b] : sides) {
        const bool horizontal = std::abs(a.y() - b.y()) < 1e-9;
        const double lo = horizontal ? std::min(a.x(), b.x()) : std::min(a.y(), b.y());
        const double hi = horizontal ? std::max(a.x(), b.x()) : std::max(a.y(), b.y());
        const double coordinate = horizontal ? a.y() : a.x();
        const int nb = std::max(1, static_cast<int>((hi - lo) / 1.0));
        std::vector<double> bin(nb, -std::numeric_limits<double>::infinity());
        for (size_t k = 0; k < d.wall_uv.size(); ++k) {
          const Eigen::Vector2d& p = d.wall_uv[k];
          const double along = horizontal ? p.x() : p.y(), across = horizontal ? p.y() : p.x();
          if (std::abs(across - coordinate) > 1.0 || along < lo || along > hi) continue;
          const int bk = std::clamp(static_cast<int>((along - lo) / (hi - lo) * nb), 0, nb - 1);
          bin[bk] = std::max(bin[bk], d.wall_z[k]);
        }
        for (double t : bin)
          if (std::isfinite(t)) tops.push_back(t);
      }
      double top_z = tops.size() >= 3 ? Quantile(tops, 0.9) : NAN;
      if (std::isfinite(top_z) && top_z >= lidar_ceiling_z - options.lidar_ceiling_margin_m && options.use_panoramas &&
          !inputs.panos.empty()) {
        if (const std::optional<double> z = skyline_top(sides, r, true); z && *z > top_z + 0.5) {
          top_z = *z;
          ++num_pano_heights;
        }
      }
      const double tower_h = top_z - d.model.ground_z_m;
      if (std::isfinite(tower_h) && tower_h >= d.model.height_m + options.lod2_min_step_m) {
        RoofPart part = RoofPartFromRect(d.frame, r, tower_h);
        // The podium: its rectangles less the tower's (parts do not overlap),
        // each cut on the tower's coordinates, then merged back where they can.
        std::vector<internal::Rect> podium;
        std::vector<double> podium_h, podium_area;
        for (size_t k = 0; k < pieces.size(); ++k) {
          const internal::Rect& pr = pieces[k];
          std::vector<double> us{pr.u0, pr.u1}, vs{pr.v0, pr.v1};
          for (double u : {r.u0, r.u1}) if (u > pr.u0 && u < pr.u1) us.push_back(u);
          for (double v : {r.v0, r.v1}) if (v > pr.v0 && v < pr.v1) vs.push_back(v);
          std::sort(us.begin(), us.end());
          std::sort(vs.begin(), vs.end());
          for (size_t i = 0; i + 1 < us.size(); ++i)
            for (size_t j = 0; j + 1 < vs.size(); ++j) {
              const internal::Rect c{us[i], vs[j], us[i + 1], vs[j + 1]};
              const double cu = 0.5 * (c.u0 + c.u1), cv = 0.5 * (c.v0 + c.v1);
              if (cu > r.u0 && cu < r.u1 && cv > r.v0 && cv < r.v1) continue;  // under the tower
              podium.push_back(c);
              podium_h.push_back(d.model.lod == 1 ? d.model.height_m : heights[k]);
              podium_area.push_back((c.u1 - c.u0) * (c.v1 - c.v0));
            }
        }
        internal::MergePieces(&podium, &podium_h, &podium_area, 1e-6);
        d.model.parts.clear();
        for (size_t k = 0; k < podium.size(); ++k) {
          d.model.parts.push_back(RoofPartFromRect(d.frame, podium[k], podium_h[k]));
        }
        d.model.parts.push_back(std::move(part));
        d.model.lod = 2;
        d.model.height_m = tower_h;
        ++num_towers;
      }
    }
  }
  summary["setback_towers"] = num_towers;
  summary["panoramas_read"] = num_pano_images;
  summary["roof_levels_from_panoramas"] = num_pano_heights;
  seconds["heights"] = SecondsSince(t);

  // 5. Levels: full, and simplified within the stated tolerances: outlines
  // within simplified_tolerance_m of the full ones (steps and notches under
  // it go), roof parts whose heights lie within simplified_height_tolerance_m
  // merged into one part (one polygon per merged level, not its rectangles).
  t = Clock::now();
  double worst_outline_m = 0, worst_height_m = 0;
  for (size_t bi = 0; bi < drafts.size(); ++bi) {
    drafts[bi].model.id = static_cast<int>(bi);
    const BuildingModel& full = drafts[bi].model;
    result.full.buildings.push_back(full);
    const Frame2& frame = drafts[bi].frame;
    // In the building frame, where its walls are axis-aligned.
    auto to_uv = [&](const Polygon2& xy) {
      Polygon2 uv;
      for (const Eigen::Vector2d& p : xy) uv.push_back(frame.ToUv(p));
      return uv;
    };
    auto to_xy = [&](const Polygon2& uv) {
      Polygon2 xy;
      for (const Eigen::Vector2d& p : uv) xy.push_back(frame.ToXy(p));
      return xy;
    };
    BuildingModel s = full;
    s.footprint = to_xy(internal::SimplifyWithin(to_uv(full.footprint), options.simplified_tolerance_m));
    worst_outline_m = std::max(worst_outline_m, internal::OutlineDistance(full.footprint, s.footprint));
    s.parts.clear();
    if (full.lod == 2 && full.parts.size() > 1) {
      struct Group {
        std::vector<internal::Rect> rects;
        double h_lo, h_hi, area, h_area;
      };
      std::vector<Group> groups;
      for (const RoofPart& p : full.parts) {
        const Polygon2 uv = to_uv(p.polygon);
        Eigen::Vector2d lo = uv.front(), hi = uv.front();
        for (const Eigen::Vector2d& q : uv) { lo = lo.cwiseMin(q); hi = hi.cwiseMax(q); }
        const double area = internal::PolygonArea(uv);
        groups.push_back({{internal::Rect{lo.x(), lo.y(), hi.x(), hi.y()}}, p.height_m, p.height_m, area, area * p.height_m});
      }
      auto touch = [](const internal::Rect& a, const internal::Rect& b) {
        const double e = 1e-3;
        const bool side_u = (std::abs(a.u1 - b.u0) < e || std::abs(b.u1 - a.u0) < e) && std::min(a.v1, b.v1) - std::max(a.v0, b.v0) > e;
        const bool side_v = (std::abs(a.v1 - b.v0) < e || std::abs(b.v1 - a.v0) < e) && std::min(a.u1, b.u1) - std::max(a.u0, b.u0) > e;
        return side_u || side_v;
      };
      // Closest neighbouring levels first, while their joint range fits.
      while (groups.size() > 1) {
        double best = std::numeric_limits<double>::infinity();
        size_t bi_a = 0, bi_b = 0;
        for (size_t a = 0; a < groups.size(); ++a)
          for (size_t b = a + 1; b < groups.size(); ++b) {
            const double range = std::max(groups[a].h_hi, groups[b].h_hi) - std::min(groups[a].h_lo, groups[b].h_lo);
            if (range > options.simplified_height_tolerance_m || range >= best) continue;
            bool adjacent = false;
            for (const internal::Rect& ra : groups[a].rects)
              for (const internal::Rect& rb : groups[b].rects) adjacent = adjacent || touch(ra, rb);
            if (adjacent) { best = range; bi_a = a; bi_b = b; }
          }
        if (!std::isfinite(best)) break;
        Group& g = groups[bi_a];
        const Group& o = groups[bi_b];
        g.rects.insert(g.rects.end(), o.rects.begin(), o.rects.end());
        g.h_lo = std::min(g.h_lo, o.h_lo);
        g.h_hi = std::max(g.h_hi, o.h_hi);
        g.area += o.area;
        g.h_area += o.h_area;
        groups.erase(groups.begin() + bi_b);
      }
      for (const Group& g : groups) worst_height_m = std::max(worst_height_m, g.h_hi - g.h_lo);
      if (groups.size() == 1) {
        s.lod = 1;
        s.height_m = groups[0].h_area / std::max(1e-9, groups[0].area);
      } else {
        for (const Group& g : groups) {
          const double h = g.h_area / std::max(1e-9, g.area);
          const Polygon2 outline = internal::UnionOutline(g.rects);
          if (outline.size() >= 3) {
            s.parts.push_back({to_xy(internal::SimplifyWithin(outline, options.simplified_tolerance_m)), h});
          } else {  // a ring with a hole or pieces apart: its rectangles
            for (const internal::Rect& r : g.rects)
              s.parts.push_back({to_xy({{r.u0, r.v0}, {r.u1, r.v0}, {r.u1, r.v1}, {r.u0, r.v1}}), h});
          }
        }
      }
    }
    if (s.parts.empty()) s.parts = {RoofPart{s.footprint, s.height_m}};
    result.simplified.buildings.push_back(std::move(s));
  }
  summary["simplified_max_outline_distance_m"] = worst_outline_m;
  summary["simplified_max_height_deviation_m"] = worst_height_m;
  seconds["simplify"] = SecondsSince(t);
  finish();
  return result;
}

}  // namespace armap::mapping
