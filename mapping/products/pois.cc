#include "mapping/products/pois.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"
#include "core/logging.h"
#include "core/status.h"
#include "mapping/products/pois_internal.h"
#include "mapping/products/pois_ocr.h"
#include "mapping/products/pois_text.h"

namespace armap::mapping {

absl::Status PoiOptions::Validate() const {
  auto bad = [](const std::string& field, double v, const std::string& rule) {
    return absl::InvalidArgumentError(absl::StrCat("PoiOptions::", field, " = ", v, "; ", rule));
  };
  if (tesseract_languages.empty()) return absl::InvalidArgumentError("PoiOptions::tesseract_languages is empty");
  if (!(min_sign_height_m >= 0)) return bad("min_sign_height_m", min_sign_height_m, "must be >= 0");
  if (!(max_sign_height_m > min_sign_height_m)) {
    return bad("max_sign_height_m", max_sign_height_m, "must be > min_sign_height_m");
  }
  if (!(min_relief_m > 0)) return bad("min_relief_m", min_relief_m, "must be > 0");
  if (!(max_relief_m > min_relief_m)) return bad("max_relief_m", max_relief_m, "must be > min_relief_m");
  if (!(min_board_width_m > 0)) return bad("min_board_width_m", min_board_width_m, "must be > 0");
  if (!(max_board_width_m > min_board_width_m)) {
    return bad("max_board_width_m", max_board_width_m, "must be > min_board_width_m");
  }
  if (!(max_view_distance_m > 0)) return bad("max_view_distance_m", max_view_distance_m, "must be > 0");
  if (!(max_view_angle_deg > 0 && max_view_angle_deg < 90)) {
    return bad("max_view_angle_deg", max_view_angle_deg, "must be in (0, 90)");
  }
  if (max_views_per_sign < 1) return bad("max_views_per_sign", max_views_per_sign, "must be >= 1");
  if (!(rectified_resolution_m >= 0.002 && rectified_resolution_m <= 0.1)) {
    return bad("rectified_resolution_m", rectified_resolution_m, "must be in [0.002, 0.1]");
  }
  if (!(min_confidence >= 0 && min_confidence <= 1)) return bad("min_confidence", min_confidence, "must be in [0, 1]");
  if (!(max_occluded_fraction >= 0 && max_occluded_fraction <= 1)) {
    return bad("max_occluded_fraction", max_occluded_fraction, "must be in [0, 1]");
  }
  if (!(min_char_confidence >= 0 && min_char_confidence <= 1)) {
    return bad("min_char_confidence", min_char_confidence, "must be in [0, 1]");
  }
  if (!(min_char_confidence_single_view >= 0 && min_char_confidence_single_view <= 1)) {
    return bad("min_char_confidence_single_view", min_char_confidence_single_view, "must be in [0, 1]");
  }
  return absl::OkStatus();
}

namespace internal {
namespace {

using Clock = std::chrono::steady_clock;
double SecondsSince(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::vector<Eigen::Vector3d> ViewPositions(const ProductInputs& inputs) {
  std::vector<Eigen::Vector3d> out = inputs.route_positions;
  for (const PanoramaInput& p : inputs.panos) out.push_back(p.world_from_rig.translation);
  return out;
}

// A 2D hash grid over point indices (1 m cells) for the facade queries.
class PlanGrid {
 public:
  PlanGrid(const std::vector<Eigen::Vector3d>& points, double cell_m) : cell_m_(cell_m) {
    for (size_t i = 0; i < points.size(); ++i) cells_[Key(points[i].x(), points[i].y())].push_back(static_cast<uint32_t>(i));
  }
  template <typename F>
  void ForEachInBox(double x0, double y0, double x1, double y1, F&& f) const {
    for (int64_t cx = Cell(x0); cx <= Cell(x1); ++cx) {
      for (int64_t cy = Cell(y0); cy <= Cell(y1); ++cy) {
        auto it = cells_.find(KeyOf(cx, cy));
        if (it == cells_.end()) continue;
        for (uint32_t i : it->second) f(i);
      }
    }
  }

 private:
  int64_t Cell(double v) const { return static_cast<int64_t>(std::floor(v / cell_m_)); }
  static uint64_t KeyOf(int64_t cx, int64_t cy) {
    return (static_cast<uint64_t>(cx + (1 << 30)) << 32) | static_cast<uint64_t>(cy + (1 << 30));
  }
  uint64_t Key(double x, double y) const { return KeyOf(Cell(x), Cell(y)); }
  double cell_m_;
  std::unordered_map<uint64_t, std::vector<uint32_t>> cells_;
};

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0.0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(q * (v.size() - 1) + 0.5));
  std::nth_element(v.begin(), v.begin() + k, v.end());
  return v[k];
}

}  // namespace

FacadePoints FacadePointsFromLidar(const LidarMap& lidar, const ProductInputs& inputs, const PoiOptions& options) {
  FacadePoints out;
  const PointCloud& cloud = lidar.cloud();
  const std::vector<uint8_t>& ground = lidar.ground_flags();
  const std::vector<Eigen::Vector3d> views = ViewPositions(inputs);
  if (views.empty()) return out;
  // Where the ground model has a hole, assume the lowest view is a vehicle
  // rig ~2.5 m above the road.
  double fallback_ground_z = std::numeric_limits<double>::infinity();
  for (const auto& v : views) fallback_ground_z = std::min(fallback_ground_z, v.z() - 2.5);
  // Only facades the panoramas can read matter: a coarse "near a view" mask.
  const double reach_m = options.max_view_distance_m + 10.0;
  PlanGrid view_grid(views, reach_m);
  for (size_t i = 0; i < cloud.size(); ++i) {
    if (!ground.empty() && ground[i]) continue;
    const Eigen::Vector3d p = cloud.points[i].cast<double>();
    bool near = false;
    view_grid.ForEachInBox(p.x() - reach_m, p.y() - reach_m, p.x() + reach_m, p.y() + reach_m, [&](uint32_t k) {
      if (!near && (views[k] - p).head<2>().squaredNorm() < reach_m * reach_m) near = true;
    });
    if (!near) continue;
    const std::optional<double> gz = lidar.GroundHeightAt(p.x(), p.y());
    const double h = p.z() - (gz ? *gz : fallback_ground_z);
    if (h < 0.5 || h > 12.0) continue;
    out.points.push_back(p);
    out.height_above_ground_m.push_back(static_cast<float>(h));
  }
  return out;
}

std::vector<SignCandidate> FindSignCandidates(const FacadePoints& facade, const ProductInputs& inputs,
                                              const PoiOptions& o, OrderedJson* summary) {
  std::vector<SignCandidate> out;
  const auto& pts = facade.points;
  const auto& hag = facade.height_above_ground_m;
  const std::vector<Eigen::Vector3d> views = ViewPositions(inputs);
  if (pts.empty() || views.empty()) return out;
  // Plan-view occupancy of wall points (1-9 m up): walls are lines in it.
  constexpr double kCellM = 0.1;
  Eigen::AlignedBox2d box;
  box.setEmpty();
  for (size_t i = 0; i < pts.size(); ++i) {
    if (hag[i] >= 1.0 && hag[i] <= 9.0) box.extend(pts[i].head<2>());
  }
  if (box.isEmpty()) return out;
  const int gw = static_cast<int>(std::ceil(box.sizes().x() / kCellM)) + 1;
  const int gh = static_cast<int>(std::ceil(box.sizes().y() / kCellM)) + 1;
  cv::Mat count(gh, gw, CV_16U, cv::Scalar(0));
  for (size_t i = 0; i < pts.size(); ++i) {
    if (hag[i] < 1.0 || hag[i] > 9.0) continue;
    const int c = static_cast<int>((pts[i].x() - box.min().x()) / kCellM);
    const int r = static_cast<int>((pts[i].y() - box.min().y()) / kCellM);
    auto& v = count.at<uint16_t>(r, c);
    if (v < 60000) ++v;
  }
  cv::Mat wall = count >= 3;
  std::vector<cv::Vec4i> lines;
  cv::HoughLinesP(wall, lines, 1, CV_PI / 360, 40, 30, 6);
  PlanGrid grid(pts, 1.0);
  int num_facades = 0;
  for (const cv::Vec4i& l : lines) {
    const Eigen::Vector2d a = box.min() + kCellM * Eigen::Vector2d(l[0] + 0.5, l[1] + 0.5);
    const Eigen::Vector2d b = box.min() + kCellM * Eigen::Vector2d(l[2] + 0.5, l[3] + 0.5);
    const double len = (b - a).norm();
    if (len < o.min_board_width_m) continue;
    const Eigen::Vector2d d = (b - a) / len;
    Eigen::Vector2d n(-d.y(), d.x());
    const Eigen::Vector2d mid = 0.5 * (a + b);
    double best = std::numeric_limits<double>::infinity();
    Eigen::Vector2d nearest = mid;
    for (const auto& v : views) {
      const double dist = (v.head<2>() - mid).norm();
      if (dist < best) best = dist, nearest = v.head<2>();
    }
    if (best > o.max_view_distance_m + 5.0) continue;
    if ((nearest - mid).dot(n) < 0) n = -n;  // towards the nearest view (boards are sought on both sides)
    ++num_facades;
    // Points near the facade line, in (along, offset, height) coordinates.
    struct Local { double s, off, z, h; };
    std::vector<Local> local;
    constexpr double kBandM = 0.8;
    const Eigen::Vector2d lo = a.cwiseMin(b).array() - kBandM - 0.5, hi = a.cwiseMax(b).array() + kBandM + 0.5;
    grid.ForEachInBox(lo.x(), lo.y(), hi.x(), hi.y(), [&](uint32_t i) {
      const Eigen::Vector2d q = pts[i].head<2>() - a;
      const double s = q.dot(d), off = q.dot(n);
      if (s < -0.5 || s > len + 0.5 || std::abs(off) > kBandM) return;
      local.push_back({s, off, pts[i].z(), hag[i]});
    });
    // The wall: the most populated offset (2 cm bins) of the tall structure.
    constexpr double kBinM = 0.02;
    const int nbins = static_cast<int>(2 * kBandM / kBinM) + 1;
    std::vector<double> hist(nbins, 0.0);
    for (const Local& p : local) {
      if (p.h >= 1.0 && p.h <= 9.0) hist[static_cast<int>((p.off + kBandM) / kBinM)] += 1;
    }
    int peak = 0;
    double peak_v = -1;
    for (int k = 1; k + 1 < nbins; ++k) {
      const double v = hist[k - 1] + 2 * hist[k] + hist[k + 1];
      if (v > peak_v) peak_v = v, peak = k;
    }
    if (peak_v < 20) continue;
    // The wall's offset along the segment, a least-squares line through the
    // wall points: the Hough angle is only good to 0.5 deg, 13 cm over a
    // 30 m facade, about the relief a board stands out by (default city:
    // 3 signs near the ends of long slanted facades had no board). Fitted
    // to the points within 15 cm of the peak, then within 4 cm of the fit.
    double wall_a = (peak + 0.5) * kBinM - kBandM, wall_b = 0;
    for (const double tol : {0.15, 0.04}) {
      Eigen::Matrix2d ata = Eigen::Matrix2d::Zero();
      Eigen::Vector2d atb = Eigen::Vector2d::Zero();
      for (const Local& p : local) {
        if (p.h < 1.0 || p.h > 9.0 || std::abs(p.off - (wall_a + wall_b * p.s)) >= tol) continue;
        const Eigen::Vector2d row(1.0, p.s);
        ata += row * row.transpose();
        atb += row * p.off;
      }
      if (ata(0, 0) < 20 || std::abs(ata.determinant()) < 1e-9 * ata(0, 0) * ata(0, 0)) break;
      const Eigen::Vector2d x = ata.ldlt().solve(atb);
      wall_a = x(0), wall_b = x(1);
    }
    auto wall_at = [&](double s) { return wall_a + wall_b * s; };
    // Boards are looked for on both sides of the wall's line: the nearest
    // view can stand on its far side (a street behind the building, past
    // the end of a long facade) and would turn the facade inside out
    // (default city: 5 of 8 signs without a board stood on such facades).
    // A board found on the inside of a building gets no view: views must
    // face its front and see it unblocked.
    for (const double side : {1.0, -1.0}) {
      const Eigen::Vector2d ns = side * n;
      // Proud points in the sign band, binned along the facade (10 cm).
      constexpr double kColM = 0.1;
      const int ncols = static_cast<int>((len + 1.0) / kColM) + 1;
      std::vector<std::vector<int>> col(ncols);
      std::vector<Local> proud;
      for (const Local& p : local) {
        const double relief = side * (p.off - wall_at(p.s));
        if (relief < o.min_relief_m || relief > o.max_relief_m) continue;
        if (p.h < o.min_sign_height_m || p.h > o.max_sign_height_m) continue;
        const int c = static_cast<int>((p.s + 0.5) / kColM);
        if (c < 0 || c >= ncols) continue;
        col[c].push_back(static_cast<int>(proud.size()));
        proud.push_back(p);
      }
      // Runs of occupied columns (gaps up to 3 columns) are boards.
      int c = 0;
      while (c < ncols) {
        if (col[c].size() < 2) {
          ++c;
          continue;
        }
        int end = c, gap = 0, filled = 0;
        for (int k = c; k < ncols; ++k) {
          if (col[k].size() >= 2) {
            end = k;
            gap = 0;
            ++filled;
          } else if (++gap > 3) {
            break;
          }
        }
        const double s0 = c * kColM - 0.5, s1 = (end + 1) * kColM - 0.5;
        const double width = s1 - s0;
        std::vector<double> zs, reliefs;
        for (int k = c; k <= end; ++k) {
          for (int idx : col[k]) {
            zs.push_back(proud[idx].z);
            reliefs.push_back(side * (proud[idx].off - wall_at(proud[idx].s)));
          }
        }
        c = end + 1;
        if (width < o.min_board_width_m || width > o.max_board_width_m) continue;
        if (filled < 0.5 * (width / kColM)) continue;  // scattered points (foliage), not a board
        const double z0 = Percentile(zs, 0.02), z1 = Percentile(zs, 0.98);
        const double height = z1 - z0;
        if (height < 0.3 || height > 2.5) continue;
        SignCandidate cand;
        cand.relief_m = Percentile(reliefs, 0.5);
        const double s_mid = 0.5 * (s0 + s1);
        const Eigen::Vector2d centre2 = a + d * s_mid + n * wall_at(s_mid) + ns * cand.relief_m;
        cand.centre = Eigen::Vector3d(centre2.x(), centre2.y(), 0.5 * (z0 + z1));
        cand.outward = Eigen::Vector3d(ns.x(), ns.y(), 0);
        cand.right = (-cand.outward).cross(Eigen::Vector3d::UnitZ()).normalized();
        cand.width_m = width;
        cand.height_m = height;
        cand.num_points = static_cast<int>(zs.size());
        out.push_back(cand);
      }
    }
  }
  // One board can come from several overlapping Hough segments: keep the
  // best supported of boards on the same facade that overlap along it.
  std::sort(out.begin(), out.end(), [](const SignCandidate& x, const SignCandidate& y) { return x.num_points > y.num_points; });
  std::vector<SignCandidate> kept;
  for (const SignCandidate& cand : out) {
    bool dup = false;
    for (const SignCandidate& k : kept) {
      const Eigen::Vector3d delta = cand.centre - k.centre;
      if (std::abs(delta.dot(k.outward)) < 0.4 && std::abs(delta.z()) < 1.0 && cand.outward.dot(k.outward) > 0.8 &&
          std::abs(delta.dot(k.right)) < 0.5 * (cand.width_m + k.width_m) - 0.3) {
        dup = true;
        break;
      }
    }
    if (!dup) kept.push_back(cand);
  }
  if (summary) {
    (*summary)["facade_points"] = pts.size();
    (*summary)["hough_segments"] = lines.size();
    (*summary)["facades_near_route"] = num_facades;
    (*summary)["boards_found"] = kept.size();
  }
  return kept;
}

namespace {

struct View {
  int pano = 0;
  double score = 0;  // foreshortened distance, metres
};

// The board's plane seen fronto-parallel, upright, res_m per pixel, with a
// margin of wall around the lidar's extent (which is only good to a few
// decimetres: the scan lines are sparse vertically).
cv::Mat Rectify(const cv::Mat& pano, const Camera& camera, const Rigid3d& rig_from_world, const SignCandidate& s,
                double res_m, double margin_x_m, double margin_y_m) {
  const double half_w = 0.5 * s.width_m + margin_x_m, half_h = 0.5 * s.height_m + margin_y_m;
  const int w = static_cast<int>(std::ceil(2 * half_w / res_m)), h = static_cast<int>(std::ceil(2 * half_h / res_m));
  cv::Mat map_x(h, w, CV_32F), map_y(h, w, CV_32F);
  const Eigen::Vector3d up = Eigen::Vector3d::UnitZ();
  for (int r = 0; r < h; ++r) {
    for (int c = 0; c < w; ++c) {
      const Eigen::Vector3d p = s.centre + s.right * ((c + 0.5) * res_m - half_w) + up * (half_h - (r + 0.5) * res_m);
      Eigen::Vector2d px(-1e6, -1e6);
      camera.Project(rig_from_world * p, &px);
      map_x.at<float>(r, c) = static_cast<float>(px.x());
      map_y.at<float>(r, c) = static_cast<float>(px.y());
    }
  }
  cv::Mat out;
  cv::remap(pano, out, map_x, map_y, cv::INTER_CUBIC, cv::BORDER_WRAP);
  return out;
}

// Share of a board's face hidden from a camera by lidar points between
// them (poles, trees, other boards): rays to a 7 x 3 grid on the face,
// blocked by any point within 8 cm of the ray between 1 m from the camera
// and 40 cm before the face (the face and its wall are not blockers).
double OccludedFraction(const std::vector<Eigen::Vector3d>& points, const PlanGrid& grid, const SignCandidate& s,
                        const Eigen::Vector3d& camera) {
  int blocked = 0, total = 0;
  for (int a = 0; a < 7; ++a) {
    for (int b = 0; b < 3; ++b) {
      const Eigen::Vector3d p = s.centre + s.right * (s.width_m * (a / 6.0 - 0.5) * 0.9) +
                                Eigen::Vector3d::UnitZ() * (s.height_m * (b - 1) * 0.3);
      const Eigen::Vector3d d = p - camera;
      const double len = d.norm();
      if (len < 1.5) continue;
      const Eigen::Vector3d dir = d / len;
      ++total;
      bool hit = false;
      for (double t = 1.0; t <= len - 0.4 && !hit; t += 0.5) {
        const Eigen::Vector3d q = camera + dir * t;
        grid.ForEachInBox(q.x() - 0.1, q.y() - 0.1, q.x() + 0.1, q.y() + 0.1, [&](uint32_t i) {
          if (hit) return;
          const Eigen::Vector3d w = points[i] - camera;
          const double along = w.dot(dir);
          if (along < 1.0 || along > len - 0.4) return;
          if ((w - along * dir).squaredNorm() < 0.08 * 0.08) hit = true;
        });
      }
      blocked += hit;
    }
  }
  return total ? blocked / static_cast<double>(total) : 0.0;
}

}  // namespace

double OccludedFraction(const std::vector<Eigen::Vector3d>& points, const SignCandidate& s,
                        const Eigen::Vector3d& camera) {
  return OccludedFraction(points, PlanGrid(points, 1.0), s, camera);
}

namespace {

// The board's rim and edges read as "一" (a horizontal stroke): trimmed at
// the ends; a reading a third or more of which is "一", or with fewer than
// two distinct characters, is not a name.
std::string PlausibleCjkReading(const std::string& zh) {
  std::vector<char32_t> cps = CodePoints(zh);
  constexpr char32_t kYi = 0x4E00;
  while (!cps.empty() && cps.front() == kYi) cps.erase(cps.begin());
  while (!cps.empty() && cps.back() == kYi) cps.pop_back();
  const size_t yi = std::count(cps.begin(), cps.end(), kYi);
  std::vector<char32_t> distinct = cps;
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  if (distinct.size() < 2 || 3 * yi >= cps.size()) return "";
  return Utf8FromCodePoints(cps);
}

// The reading most views agree with: each reading scores the
// confidence-weighted similarity (1 - CER) of all readings to it. The
// confidence is the mean Tesseract confidence of the views that agree with
// the winner (CER <= 0.3), times the share of the confidence mass that
// agrees, times 0.7 when one view alone reads it.
struct Consensus {
  std::string text;
  double confidence = 0.0;
  int num_agreeing = 0;
};
Consensus FindConsensus(const std::vector<std::pair<std::string, double>>& readings) {
  Consensus out;
  double best_score = 0, total = 0;
  for (const auto& [text, conf] : readings) {
    if (text.empty()) continue;
    total += conf;
    double score = 0;
    for (const auto& [other, oconf] : readings) {
      if (!other.empty()) score += oconf * std::max(0.0, 1.0 - CharacterErrorRate(other, text));
    }
    if (score > best_score) best_score = score, out.text = text;
  }
  if (out.text.empty() || total <= 0) return out;
  double agree_conf = 0;
  for (const auto& [text, conf] : readings) {
    if (!text.empty() && CharacterErrorRate(text, out.text) <= 0.3) agree_conf += conf, ++out.num_agreeing;
  }
  out.confidence = agree_conf / out.num_agreeing * (best_score / total) * (out.num_agreeing >= 2 ? 1.0 : 0.7);
  return out;
}

// The confidences of zh's code points: zh is the CJK code points of the
// reading's symbols less trimmed rim strokes, so a run of them; the line's
// mean confidence where the symbols do not line up.
std::vector<double> CharConfidences(const std::string& zh, const std::vector<std::pair<char32_t, double>>& symbols,
                                    double line_confidence) {
  const std::vector<char32_t> cps = CodePoints(zh);
  std::vector<std::pair<char32_t, double>> cjk;
  for (const auto& s : symbols) {
    if (IsCjk(s.first)) cjk.push_back(s);
  }
  for (size_t k = 0; k + cps.size() <= cjk.size(); ++k) {
    bool same = true;
    for (size_t i = 0; i < cps.size() && same; ++i) same = cjk[k + i].first == cps[i];
    if (!same) continue;
    std::vector<double> out;
    for (size_t i = 0; i < cps.size(); ++i) out.push_back(cjk[k + i].second);
    return out;
  }
  return std::vector<double>(cps.size(), line_confidence);
}

}  // namespace

absl::StatusOr<PoiSet> DetectPoisFromFacadePoints(const FacadePoints& facade, const ProductInputs& inputs,
                                                  const PoiOptions& options) {
  ARMAP_RETURN_IF_ERROR(options.Validate());
  const auto t0 = Clock::now();
  PoiSet result;
  OrderedJson& summary = result.summary;
  std::vector<SignCandidate> cands = FindSignCandidates(facade, inputs, options, &summary);
  const double t_boards = SecondsSince(t0);

  // Views of each board: near enough, facing it, and not blocked (a pole
  // or a tree in front of a board cuts its name short: "潮汕牛" for 潮汕牛肉).
  const double cos_max = std::cos(options.max_view_angle_deg * M_PI / 180.0);
  std::vector<std::vector<View>> views(cands.size());
  std::vector<char> pano_used(inputs.panos.size(), 0);
  const PlanGrid facade_grid(facade.points, 1.0);
  int num_occluded = 0;
  for (size_t i = 0; i < cands.size(); ++i) {
    for (size_t k = 0; k < inputs.panos.size(); ++k) {
      const Eigen::Vector3d& camera = inputs.panos[k].world_from_rig.translation;
      const Eigen::Vector3d v = camera - cands[i].centre;
      const double dist = v.norm();
      const double cosang = v.dot(cands[i].outward) / std::max(dist, 1e-9);
      if (dist > options.max_view_distance_m || dist < 1.0 || cosang < cos_max) continue;
      if (OccludedFraction(facade.points, facade_grid, cands[i], camera) > options.max_occluded_fraction) {
        ++num_occluded;
        continue;
      }
      views[i].push_back({static_cast<int>(k), dist / cosang});
    }
    std::sort(views[i].begin(), views[i].end(), [](const View& x, const View& y) { return x.score < y.score; });
    if (static_cast<int>(views[i].size()) > options.max_views_per_sign) views[i].resize(options.max_views_per_sign);
    for (const View& v : views[i]) pano_used[v.pano] = 1;
  }

  // Panoramas, decoded once (in parallel).
  const int num_threads = std::max(1, inputs.num_threads);
  std::vector<cv::Mat> images(inputs.panos.size());
  std::vector<absl::Status> load_status(inputs.panos.size());
  {
    std::atomic<size_t> next{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < num_threads; ++t) {
      pool.emplace_back([&] {
        for (size_t k; (k = next++) < inputs.panos.size();) {
          if (!pano_used[k]) continue;
          images[k] = cv::imread(inputs.panos[k].image.string(), cv::IMREAD_COLOR);
          if (images[k].empty()) {
            load_status[k] = absl::NotFoundError(absl::StrCat("cannot read panorama ", inputs.panos[k].image.string()));
          } else if (images[k].cols != inputs.panos[k].camera.width || images[k].rows != inputs.panos[k].camera.height) {
            load_status[k] = absl::InvalidArgumentError(
                absl::StrCat(inputs.panos[k].image.string(), ": image is ", images[k].cols, "x", images[k].rows,
                             ", its camera says ", inputs.panos[k].camera.width, "x", inputs.panos[k].camera.height));
          }
        }
      });
    }
    for (auto& th : pool) th.join();
  }
  for (const absl::Status& s : load_status) ARMAP_RETURN_IF_ERROR(s);
  const double t_load = SecondsSince(t0) - t_boards;

  // OCR: one SignOcr (two Tesseract instances) per thread.
  struct Reading {
    std::string zh, en, raw_primary, raw_secondary;
    double zh_conf = 0, en_conf = 0;
    std::vector<double> zh_char_conf;  // per code point of zh
    double zh_width_in_heights = 0;
    bool located = false;  // board found in the image: `position` is its centre
    Eigen::Vector3d position = Eigen::Vector3d::Zero();
  };
  constexpr double kMarginXM = 0.6, kMarginYM = 0.4;
  constexpr double kMaxHeightsPerCjkChar = 1.35;
  std::vector<std::vector<Reading>> readings(cands.size());
  std::vector<absl::Status> thread_status(num_threads);
  std::atomic<size_t> next{0};
  std::atomic<int> num_crops{0};
  if (!options.debug_dir.empty()) std::filesystem::create_directories(options.debug_dir);
  {
    std::vector<std::thread> pool;
    for (int t = 0; t < num_threads; ++t) {
      pool.emplace_back([&, t] {
        auto ocr = SignOcr::Create(options.tesseract_languages, options.tessdata_dir,
                                   options.tesseract_fallback_languages);
        if (!ocr.ok()) {
          thread_status[t] = ocr.status();
          return;
        }
        (*ocr)->set_raw_line_below(std::max(options.min_char_confidence, options.min_char_confidence_single_view));
        for (size_t i; (i = next++) < cands.size();) {
          for (const View& v : views[i]) {
            const PanoramaInput& pano = inputs.panos[v.pano];
            const double res = options.rectified_resolution_m;
            const cv::Mat crop = Rectify(images[v.pano], pano.camera, pano.world_from_rig.Inverse(), cands[i], res,
                                         kMarginXM, kMarginYM);
            const cv::Rect expected(static_cast<int>(kMarginXM / res), static_cast<int>(kMarginYM / res),
                                    static_cast<int>(cands[i].width_m / res), static_cast<int>(cands[i].height_m / res));
            ++num_crops;
            if (!options.debug_dir.empty()) {
              cv::imwrite((options.debug_dir / absl::StrCat("board", i, "_", pano.name, ".png")).string(), crop);
            }
            if (!options.debug_dir.empty()) {
              (*ocr)->set_debug_prefix((options.debug_dir / absl::StrCat("board", i, "_", pano.name)).string());
            }
            // One panorama pixel at the board, in crop pixels.
            const double source_px = (inputs.panos[v.pano].world_from_rig.translation - cands[i].centre).norm() *
                                     (2 * M_PI / pano.camera.width) / res;
            const SignReading r = (*ocr)->Read(crop, expected, source_px);
            Reading out;
            out.raw_primary = r.primary;
            out.raw_secondary = r.secondary;
            if (r.board_refined) {
              out.located = true;
              const double u = (r.board_px.x + 0.5 * r.board_px.width) * res - (0.5 * cands[i].width_m + kMarginXM);
              const double w = (0.5 * cands[i].height_m + kMarginYM) - (r.board_px.y + 0.5 * r.board_px.height) * res;
              out.position = cands[i].centre + cands[i].right * u + Eigen::Vector3d::UnitZ() * w;
            }
            std::string zh = PlausibleCjkReading(CleanCjkReading(r.primary));
            // A CJK character is about square, so the line's extent says how
            // many it holds: a reading with too few for it missed some (on
            // the default city right readings had 0.97-1.3 line heights per
            // character; dropped characters give 1.4 and more).
            const size_t num_cps = CodePoints(zh).size();
            if (num_cps > 0 && r.primary_width_in_heights > kMaxHeightsPerCjkChar * num_cps) zh.clear();
            if (CodePoints(zh).size() >= 2) {
              out.zh = zh;
              out.zh_conf = r.primary_confidence;
              out.zh_char_conf = CharConfidences(zh, r.primary_symbols, r.primary_confidence);
              out.zh_width_in_heights = r.primary_width_in_heights;
              out.en = CleanLatinReading(r.secondary);
              out.en_conf = r.secondary_confidence;
            } else {
              out.en = CleanLatinReading(r.primary);  // a Latin-only sign
              out.en_conf = r.primary_confidence;
            }
            if (out.en.size() < 3) out.en.clear(), out.en_conf = 0;
            ARMAP_LOG_DEBUG("pois: board {} {}: '{}' {:.2f} / '{}' {:.2f} (raw '{}' / '{}', contrast {:.0f})", i,
                            pano.name, out.zh, out.zh_conf, out.en, out.en_conf, r.primary, r.secondary, r.contrast);
            readings[i].push_back(out);
          }
        }
      });
    }
    for (auto& th : pool) th.join();
  }
  for (const absl::Status& s : thread_status) ARMAP_RETURN_IF_ERROR(s);
  const double t_ocr = SecondsSince(t0) - t_boards - t_load;

  int num_low_confidence = 0, num_unsure_character = 0, num_fused = 0;
  OrderedJson boards_json = OrderedJson::array();
  for (size_t i = 0; i < cands.size(); ++i) {
    {
      OrderedJson b{{"board", i},
                    {"centre", {cands[i].centre.x(), cands[i].centre.y(), cands[i].centre.z()}},
                    {"width_m", cands[i].width_m},
                    {"height_m", cands[i].height_m}};
      for (size_t k = 0; k < readings[i].size(); ++k) {
        const Reading& r = readings[i][k];
        const Eigen::Vector3d v = inputs.panos[views[i][k].pano].world_from_rig.translation - cands[i].centre;
        b["views"].push_back({{"pano", inputs.panos[views[i][k].pano].name},
                              {"dist_m", v.norm()},
                              {"zh", r.zh},
                              {"zh_conf", r.zh_conf},
                              {"zh_char_conf", r.zh_char_conf},
                              {"zh_width_in_heights", r.zh_width_in_heights},
                              {"en", r.en},
                              {"en_conf", r.en_conf},
                              {"raw", r.raw_primary},
                              {"raw2", r.raw_secondary},
                              {"located", r.located}});
      }
      boards_json.push_back(b);
    }
    std::vector<std::pair<std::string, double>> zh, en;
    for (const Reading& r : readings[i]) {
      zh.push_back({r.zh, r.zh_conf});
      en.push_back({r.en, r.en_conf});
    }
    const Consensus czh = FindConsensus(zh);
    // Latin readings of blurred text are often confident garbage: an English
    // name needs two views that agree.
    Consensus cen = FindConsensus(en);
    if (cen.num_agreeing < 2) cen = Consensus();
    Poi poi;
    if (!czh.text.empty() && czh.confidence >= 0.5 * cen.confidence) {
      poi.name = czh.text;
      poi.confidence = czh.confidence;
      if (cen.confidence >= 0.5 * options.min_confidence) poi.name_en = cen.text;
    } else {
      poi.name = cen.text;
      poi.name_en = cen.text;
      poi.confidence = cen.confidence;
    }
    // A name with a shop-type word ("...书店", "...Pharmacy") is a more
    // plausible reading than random characters of the same confidence.
    poi.category = CategoryFromName(poi.name, poi.name_en);
    if (!poi.category.empty()) poi.confidence = std::min(1.0, poi.confidence + 0.15);
    // Each character of the Chinese name: the best confidence any agreeing
    // view gave that very character. A name is only as sure as its least
    // sure character: one wrong character of four already fails a CER of
    // 0.2, and a wrong reading is often confident on the whole but unsure
    // of the character it got wrong.
    double min_char_conf = 1.0;
    if (!czh.text.empty()) {
      const std::vector<char32_t> name_cps = CodePoints(czh.text);
      std::vector<double> char_conf(name_cps.size(), 0.0);
      for (const Reading& r : readings[i]) {
        if (r.zh.empty() || CharacterErrorRate(r.zh, czh.text) > 0.3) continue;
        const std::vector<int> m = MatchedIndices(name_cps, CodePoints(r.zh));
        for (size_t k = 0; k < m.size(); ++k) {
          if (m[k] >= 0 && m[k] < static_cast<int>(r.zh_char_conf.size())) {
            char_conf[k] = std::max(char_conf[k], r.zh_char_conf[m[k]]);
          }
        }
      }
      boards_json[i]["char_conf"] = char_conf;
      boards_json[i]["num_agreeing"] = czh.num_agreeing;
      if (poi.name == czh.text) min_char_conf = *std::min_element(char_conf.begin(), char_conf.end());
    }
    const double char_gate = czh.num_agreeing >= 2 || poi.name != czh.text
                                 ? options.min_char_confidence
                                 : std::max(options.min_char_confidence, options.min_char_confidence_single_view);
    const bool unsure_character = min_char_conf < char_gate;
    bool kept = !poi.name.empty() && poi.confidence >= options.min_confidence && !unsure_character;
    // No view read the whole name surely: fuse it character by character
    // (明月驳店 and 归月酒店 are 明月酒店), under the same per-character rules.
    if (!kept) {
      std::vector<CharReading> char_readings;
      for (const Reading& r : readings[i]) {
        if (!r.zh.empty()) char_readings.push_back({CodePoints(r.zh), r.zh_char_conf});
      }
      const FusedName fused =
          FuseCharacters(char_readings, options.min_char_confidence, options.min_char_confidence_single_view);
      if (!fused.text.empty()) {
        boards_json[i]["fused"] = {{"name", Utf8FromCodePoints(fused.text)},
                                   {"num_views", fused.num_views},
                                   {"num_agreeing", fused.num_agreeing},
                                   {"best_conf", fused.best_conf},
                                   {"confidence", fused.confidence}};
      }
      if (fused.num_views >= 2 && fused.AllSupported()) {
        Poi fp;
        fp.name = Utf8FromCodePoints(fused.text);
        fp.confidence = fused.confidence;
        if (cen.confidence >= 0.5 * options.min_confidence) fp.name_en = cen.text;
        fp.category = CategoryFromName(fp.name, fp.name_en);
        if (!fp.category.empty()) fp.confidence = std::min(1.0, fp.confidence + 0.15);
        if (fp.confidence >= options.min_confidence) {
          poi = std::move(fp);
          kept = true;
          ++num_fused;
        }
      }
    }
    boards_json[i]["name"] = poi.name;
    boards_json[i]["name_en"] = poi.name_en;
    boards_json[i]["confidence"] = poi.confidence;
    boards_json[i]["kept"] = kept;
    if (!kept) {
      if (!poi.name.empty() && poi.confidence < options.min_confidence) ++num_low_confidence;
      if (!poi.name.empty() && poi.confidence >= options.min_confidence && unsure_character) ++num_unsure_character;
      ARMAP_LOG_DEBUG("pois: board {} at ({:.1f}, {:.1f}) dropped: '{}' / '{}' confidence {:.2f}", i,
                      cands[i].centre.x(), cands[i].centre.y(), poi.name, poi.name_en, poi.confidence);
      continue;
    }
    // Centre: the median of the views' located boards (the lidar's when none).
    std::vector<double> xs, ys, zs;
    for (const Reading& r : readings[i]) {
      if (r.located) xs.push_back(r.position.x()), ys.push_back(r.position.y()), zs.push_back(r.position.z());
    }
    poi.position = xs.empty() ? cands[i].centre
                              : Eigen::Vector3d(Percentile(xs, 0.5), Percentile(ys, 0.5), Percentile(zs, 0.5));
    for (const View& v : views[i]) poi.panoramas.push_back(inputs.panos[v.pano].name);
    poi.id = static_cast<int>(result.pois.size());
    result.pois.push_back(std::move(poi));
  }
  if (!options.debug_dir.empty()) {
    (void)WriteJsonFile(options.debug_dir / "boards.json", boards_json);
  }
  summary["boards_read"] = std::count_if(views.begin(), views.end(), [](const auto& v) { return !v.empty(); });
  summary["crops_read"] = num_crops.load();
  summary["views_occluded"] = num_occluded;
  summary["pois"] = result.pois.size();
  summary["fused_by_character"] = num_fused;
  summary["dropped_low_confidence"] = num_low_confidence;
  summary["dropped_unsure_character"] = num_unsure_character;
  summary["seconds"] = {{"boards", t_boards}, {"load_panos", t_load}, {"ocr", t_ocr}, {"total", SecondsSince(t0)}};
  ARMAP_LOG_INFO("pois: {} boards, {} crops read, {} POIs ({} dropped as low confidence, {} for an unsure character) in {:.1f} s",
                 cands.size(), num_crops.load(), result.pois.size(), num_low_confidence, num_unsure_character,
                 SecondsSince(t0));
  return result;
}

}  // namespace internal

absl::StatusOr<PoiSet> DetectPois(const LidarMap& lidar, const ProductInputs& inputs, const WhiteModelLevel& buildings,
                                  const PoiOptions& options) {
  (void)buildings;  // boards are found on the lidar facades directly
  ARMAP_RETURN_IF_ERROR(options.Validate());
  const auto t0 = internal::Clock::now();
  const internal::FacadePoints facade = internal::FacadePointsFromLidar(lidar, inputs, options);
  const double t_points = internal::SecondsSince(t0);
  ARMAP_ASSIGN_OR_RETURN(PoiSet result, internal::DetectPoisFromFacadePoints(facade, inputs, options));
  result.summary["seconds"]["facade_points"] = t_points;
  result.summary["seconds"]["total"] = internal::SecondsSince(t0);
  return result;
}

// ---------------------------------------------------------------- GeoJSON

absl::Status WritePois(const PoiSet& pois, const EnuFrame& frame, const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("cannot create ", dir.string(), ": ", ec.message()));
  OrderedJson features = OrderedJson::array();
  for (const Poi& p : pois.pois) {
    const GeoPoint g = frame.Wgs84FromEnu(p.position);
    features.push_back({{"type", "Feature"},
                        {"geometry", {{"type", "Point"}, {"coordinates", {g.lon_deg, g.lat_deg, g.alt_m}}}},
                        {"properties",
                         {{"id", p.id},
                          {"name", p.name},
                          {"name_en", p.name_en},
                          {"category", p.category},
                          {"confidence", p.confidence},
                          {"position_enu", {p.position.x(), p.position.y(), p.position.z()}},
                          {"panoramas", p.panoramas}}}});
  }
  OrderedJson fc{{"type", "FeatureCollection"}, {"features", std::move(features)}};
  return WriteJsonFile(dir / "pois.geojson", fc);
}

absl::StatusOr<PoiSet> ReadPois(const std::filesystem::path& path, const EnuFrame& frame) {
  ARMAP_ASSIGN_OR_RETURN(Json doc, ReadJsonFile(path));
  const std::string where = path.string();
  ARMAP_ASSIGN_OR_RETURN(Json features, GetJsonField<Json>(doc, "features", where));
  if (!features.is_array()) return absl::InvalidArgumentError(absl::StrCat(where, ": 'features' is not an array"));
  PoiSet out;
  for (size_t i = 0; i < features.size(); ++i) {
    const std::string w = absl::StrCat(where, ": features[", i, "]");
    ARMAP_ASSIGN_OR_RETURN(Json geometry, GetJsonField<Json>(features[i], "geometry", w));
    ARMAP_ASSIGN_OR_RETURN(std::vector<double> coords, GetJsonField<std::vector<double>>(geometry, "coordinates", w + ".geometry"));
    if (coords.size() < 2) return absl::InvalidArgumentError(w + ".geometry.coordinates: expected [lon, lat(, alt)]");
    ARMAP_ASSIGN_OR_RETURN(Json props, GetJsonField<Json>(features[i], "properties", w));
    Poi p;
    const std::string wp = w + ".properties";
    ARMAP_ASSIGN_OR_RETURN(p.name, GetJsonField<std::string>(props, "name", wp));
    if (props.contains("id")) {
      ARMAP_ASSIGN_OR_RETURN(p.id, GetJsonField<int>(props, "id", wp));
    }
    if (props.contains("name_en")) {
      ARMAP_ASSIGN_OR_RETURN(p.name_en, GetJsonField<std::string>(props, "name_en", wp));
    }
    if (props.contains("category")) {
      ARMAP_ASSIGN_OR_RETURN(p.category, GetJsonField<std::string>(props, "category", wp));
    }
    if (props.contains("confidence")) {
      ARMAP_ASSIGN_OR_RETURN(p.confidence, GetJsonField<double>(props, "confidence", wp));
    }
    if (props.contains("panoramas")) {
      ARMAP_ASSIGN_OR_RETURN(p.panoramas, GetJsonField<std::vector<std::string>>(props, "panoramas", wp));
    }
    if (props.contains("position_enu")) {
      ARMAP_ASSIGN_OR_RETURN(std::vector<double> e, GetJsonField<std::vector<double>>(props, "position_enu", wp));
      if (e.size() != 3) return absl::InvalidArgumentError(wp + ".position_enu: expected [x, y, z]");
      p.position = Eigen::Vector3d(e[0], e[1], e[2]);
    } else {
      p.position = frame.EnuFromWgs84({coords[1], coords[0], coords.size() > 2 ? coords[2] : 0.0});
    }
    out.pois.push_back(std::move(p));
  }
  return out;
}

}  // namespace armap::mapping
