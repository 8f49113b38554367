#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/camera.h"
#include "core/io/point_cloud_io.h"
#include "core/io/ply.h"
#include "core/io/trajectory.h"
#include "core/random.h"
#include "core/rigid3.h"
#include "core/testing/status_matchers.h"
#include "datasets/synthetic/capture_generator.h"
#include "datasets/synthetic/city_model.h"
#include "datasets/synthetic/scene.h"
#include "mapping/lidar/depth_map.h"
#include "mapping/lidar/lidar_map.h"

namespace armap::mapping {
namespace {

using ::armap::testing::IsOk;
using ::armap::testing::StatusIs;
using ::testing::HasSubstr;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

double Median(std::vector<double> v) {
  if (v.empty()) return std::nan("");
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

fs::path TempDir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / absl::StrCat("armap_lidar_test_", name, "_", getpid());
  fs::remove_all(dir);
  return dir;
}

// ---------------------------------------------------------------------------
// Synthetic city: one small capture shared by the tests of this suite.

// The first surface along a ray that the lidar can see. The simulated lidar
// gets no return from glass (datasets/synthetic/lidar_sim.h), so car windows
// are transparent to it: a lidar depth map shows what lies behind them, as a
// photo through real glass would. The synthetic renderer paints them opaque,
// so Scene::Trace alone would call that depth wrong. Facade windows need no
// such care: behind them is the inside of a solid building, never scanned.
bool TraceOpaque(const synth::Scene& scene, const Eigen::Vector3d& origin, const Eigen::Vector3d& dir, double max_t,
                 synth::SceneHit* hit) {
  double travelled = 0;
  Eigen::Vector3d from = origin;
  for (int layer = 0; layer < 8; ++layer) {
    if (!scene.Trace(from, dir, max_t - travelled, hit)) return false;
    if (hit->kind != synth::SurfaceKind::kCarGlass) {
      hit->t += travelled;
      return true;
    }
    travelled += hit->t + 1e-3;
    from = hit->point + 1e-3 * dir;
  }
  return false;
}

class SyntheticLidarTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(TempDir("capture"));
    options_ = new synth::CaptureOptions();
    synth::CaptureOptions& o = *options_;
    o.city.size_m = 60;
    o.out_dir = *dir_;
    o.num_panos = 3;
    o.num_queries = 0;
    o.pano_width_px = 256;
    o.lidar.azimuth_resolution_deg = 0.5;
    o.photo_root = ARMAP_SHARED_DATASETS;
    auto t0 = Clock::now();
    const auto generated = synth::GenerateCapture(o);
    ASSERT_THAT(generated.status(), IsOk());
    std::printf("[timing] synthetic capture: %.2f s, %ld lidar points\n", Seconds(t0), generated->num_lidar_points);
    city_ = new synth::City(synth::GenerateCity(o.city));
    scene_ = new synth::Scene(*city_);
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(*dir_ / "lidar")) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    summary_ = new LidarPreprocessSummary();
    t0 = Clock::now();
    auto map = PreprocessLidar(files, LidarPreprocessOptions(), summary_);
    ASSERT_THAT(map.status(), IsOk());
    std::printf("[timing] PreprocessLidar: %.2f s\n  %s\n", Seconds(t0), summary_->BriefReport().c_str());
    map_ = new LidarMap(*std::move(map));
    auto panos = io::ReadTrajectoryCsv(*dir_ / "gt" / "panos_gt.csv");
    ASSERT_THAT(panos.status(), IsOk());
    panos_ = new std::vector<io::PoseStamped>(*panos);
  }
  static void TearDownTestSuite() {
    if (dir_) fs::remove_all(*dir_);
    delete map_;
    delete scene_;
    delete city_;
    delete summary_;
    delete panos_;
    delete options_;
    delete dir_;
    map_ = nullptr;
    scene_ = nullptr;
    city_ = nullptr;
    summary_ = nullptr;
    panos_ = nullptr;
    options_ = nullptr;
    dir_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(map_, nullptr) << "suite setup failed";
    ASSERT_NE(panos_, nullptr);
  }

  // 320x240 pinhole, 90 deg horizontal field of view.
  static Camera TestCamera() { return Camera::Pinhole(320, 240, 160, 160, 159.5, 119.5); }

  static fs::path* dir_;
  static synth::CaptureOptions* options_;
  static synth::City* city_;
  static synth::Scene* scene_;
  static LidarMap* map_;
  static LidarPreprocessSummary* summary_;
  static std::vector<io::PoseStamped>* panos_;
};

fs::path* SyntheticLidarTest::dir_ = nullptr;
synth::CaptureOptions* SyntheticLidarTest::options_ = nullptr;
synth::City* SyntheticLidarTest::city_ = nullptr;
synth::Scene* SyntheticLidarTest::scene_ = nullptr;
LidarMap* SyntheticLidarTest::map_ = nullptr;
LidarPreprocessSummary* SyntheticLidarTest::summary_ = nullptr;
std::vector<io::PoseStamped>* SyntheticLidarTest::panos_ = nullptr;

// One capture, three tests: each ctest process pays for the capture and the
// preprocessing (~10 s), so the checks are grouped.
//
// (a) Preprocessing: summary, ground flags (the synthetic ground is exactly
// z = 0), PointsNear.
TEST_F(SyntheticLidarTest, PreprocessingGroundAndPointsNear) {
  const LidarPreprocessSummary& s = *summary_;
  EXPECT_GT(s.num_files, 0);
  EXPECT_EQ(s.num_full, map_->full_cloud().size());
  EXPECT_EQ(s.num_points_read, s.num_full + s.num_non_finite_dropped);
  EXPECT_EQ(s.num_downsampled, map_->cloud().size());
  EXPECT_EQ(s.num_voxels, s.num_downsampled + s.num_outliers);
  EXPECT_EQ(s.num_ground + s.num_non_ground, s.num_downsampled);
  EXPECT_EQ(map_->ground_flags().size(), map_->cloud().size());
  // 5 cm voxels over a 2 cm-noise scan must merge points, and a capture
  // this size has a few hundred thousand points at least.
  EXPECT_LT(s.num_voxels, s.num_full);
  EXPECT_GT(s.num_full, 100000u);
  EXPECT_TRUE(map_->full_cloud().HasIntensity());
  for (const char* stage : {"read", "index", "voxel", "outliers", "ground", "total"}) {
    EXPECT_TRUE(s.stage_seconds.count(stage)) << stage;
  }

  const PointCloud& cloud = map_->cloud();
  const std::vector<uint8_t>& ground = map_->ground_flags();
  size_t flagged = 0, flagged_near_zero = 0, high = 0, high_not_flagged = 0, on_ground = 0, on_ground_flagged = 0;
  for (size_t i = 0; i < cloud.size(); ++i) {
    const double z = cloud.Point(i).z();
    if (ground[i]) {
      ++flagged;
      flagged_near_zero += std::abs(z) < 0.1;
    }
    if (z > 0.5) {
      ++high;
      high_not_flagged += !ground[i];
    }
    // Within 5 cm: 2.5 sigma of the 2 cm range noise (voxel centroids average it).
    if (std::abs(z) < 0.05) {
      ++on_ground;
      on_ground_flagged += ground[i];
    }
  }
  const double precision = static_cast<double>(flagged_near_zero) / flagged;
  const double high_rejected = static_cast<double>(high_not_flagged) / high;
  const double recall = static_cast<double>(on_ground_flagged) / on_ground;
  std::printf("[accuracy] synthetic ground: %zu flagged, %.4f with |z| < 0.1 m; %.4f of %zu points above 0.5 m "
              "not flagged; %.4f of %zu points with |z| < 5 cm flagged\n",
              flagged, precision, high_rejected, high, recall, on_ground);
  ASSERT_GT(flagged, 1000u);
  ASSERT_GT(high, 1000u);
  // Requirement: >= 99% of flagged points on the ground plane (|z| < 0.1 m).
  // What may leak in is object surface within ground_max_height_m = 0.25 m
  // of the ground (wall and wheel bottoms).
  EXPECT_GE(precision, 0.99);
  // Requirement: >= 99% of the points higher than 0.5 m are not ground.
  EXPECT_GE(high_rejected, 0.99);
  // Recall is not required by the brief, but a filter that flags nothing
  // would pass the two checks above: ground seen by the scanner should be
  // ground (95%; the rest sits in cells at object feet and data borders).
  EXPECT_GE(recall, 0.95);
  // The ground model agrees with z = 0 around the panoramas.
  for (const io::PoseStamped& pano : *panos_) {
    const Eigen::Vector3d c = pano.world_from_rig.translation;
    const auto height = map_->GroundHeightAt(c.x(), c.y());
    ASSERT_TRUE(height.has_value()) << pano.name;
    EXPECT_NEAR(*height, 0.0, 0.03) << pano.name;
    EXPECT_TRUE(map_->IsGround(Eigen::Vector3d(c.x(), c.y(), 0.0)));
    EXPECT_FALSE(map_->IsGround(Eigen::Vector3d(c.x(), c.y(), 1.0)));
  }

  // PointsNear returns exactly the brute-force set.
  const PointCloud& full = map_->full_cloud();
  Rng rng(7);
  for (int trial = 0; trial < 5; ++trial) {
    const Eigen::Vector3d centre = full.Point(rng.UniformInt(0, static_cast<int>(full.size()) - 1)) +
                                   Eigen::Vector3d(rng.Uniform(-0.3, 0.3), rng.Uniform(-0.3, 0.3), rng.Uniform(-0.3, 0.3));
    const double radius = rng.Uniform(0.2, 2.5);
    const std::vector<uint32_t> got = map_->PointsNear(centre, radius);
    std::vector<uint32_t> want;
    const Eigen::Vector3f c = (centre - full.origin).cast<float>();
    for (size_t i = 0; i < full.size(); ++i) {
      if ((full.points[i] - c).squaredNorm() <= static_cast<float>(radius * radius)) want.push_back(static_cast<uint32_t>(i));
    }
    EXPECT_EQ(got, want) << "trial " << trial;
    EXPECT_FALSE(want.empty());
  }
  EXPECT_TRUE(map_->PointsNear(Eigen::Vector3d(1e6, 1e6, 0), 5.0).empty());

  // Our outlier filter against pcl::StatisticalOutlierRemoval itself, on the
  // full-resolution points within 12 m of the first panorama.
  PointCloud crop;
  crop.origin = full.origin;
  for (uint32_t i : map_->PointsNear(panos_->front().world_from_rig.translation, 12.0)) crop.points.push_back(full.points[i]);
  ASSERT_GT(crop.size(), 50000u);
  LidarPreprocessOptions with_pcl;
  with_pcl.sor_with_pcl = true;
  LidarPreprocessSummary ours_summary, pcl_summary;
  auto ours = PreprocessLidarCloud(crop, LidarPreprocessOptions(), &ours_summary);
  auto pcl = PreprocessLidarCloud(crop, with_pcl, &pcl_summary);
  ASSERT_THAT(ours.status(), IsOk());
  ASSERT_THAT(pcl.status(), IsOk());
  std::printf("[timing] outlier removal on %zu voxels: ours %.3f s, PCL %.3f s; %zu vs %zu outliers\n",
              ours_summary.num_voxels, ours_summary.stage_seconds["outliers"], pcl_summary.stage_seconds["outliers"],
              ours_summary.num_outliers, pcl_summary.num_outliers);
  EXPECT_GT(pcl_summary.num_outliers, 0u);
  // Same statistic, exact neighbours on both sides: equal up to float
  // rounding of distances that tie with the threshold (none expected).
  EXPECT_NEAR(static_cast<double>(ours_summary.num_outliers), static_cast<double>(pcl_summary.num_outliers),
              1e-4 * ours_summary.num_voxels);
  ASSERT_EQ(ours->cloud().size(), pcl->cloud().size());
  EXPECT_TRUE(ours->cloud().points == pcl->cloud().points);
}

struct DepthErrors {
  int non_sky = 0, valid = 0, within = 0, see_through = 0;
  std::vector<double> abs_errors;
};

// (b) Depth maps against ray-traced truth at the true panorama poses.
TEST_F(SyntheticLidarTest, DepthMapsMatchTheTrueGeometry) {
  const Camera camera = TestCamera();
  int total_steps = 0;
  for (const io::PoseStamped& pano : *panos_) {
    // The rig frame is the camera frame (z forward, x right, y down).
    const Rigid3d cam_from_world = pano.world_from_rig.Inverse();
    DepthRenderStats stats;
    const auto depth = RenderDepth(*map_, camera, cam_from_world, DepthOptions(), &stats);
    ASSERT_THAT(depth.status(), IsOk());
    std::printf("[timing] RenderDepth %s: %.3f s (splat %.3f, occlusion %.3f, refine %.3f; %zu cells, %zu points "
                "tested, %zu splatted, %zu pixels hit, %zu occluded, %zu refined)\n",
                pano.name.c_str(), stats.seconds, stats.splat_seconds, stats.occlusion_seconds, stats.refine_seconds,
                stats.num_cells_visited, stats.num_points_tested,
                stats.num_points_splatted, stats.num_pixels_hit, stats.num_pixels_occluded, stats.num_pixels_refined);
    const Eigen::Vector3d centre = pano.world_from_rig.translation;
    const Eigen::Matrix3d world_r_cam = pano.world_from_rig.rotation.toRotationMatrix();
    std::vector<double> truth(static_cast<size_t>(camera.width) * camera.height, 0.0);
    DepthErrors e;
    for (int row = 0; row < camera.height; ++row) {
      for (int col = 0; col < camera.width; ++col) {
        const Eigen::Vector3d ray = camera.Unproject(Eigen::Vector2d(col, row));
        synth::SceneHit hit;
        const bool found = TraceOpaque(*scene_, centre, world_r_cam * ray, 1000.0, &hit);
        const size_t k = static_cast<size_t>(row) * camera.width + col;
        if (found) {
          truth[k] = hit.t * ray.z();  // z-depth
          ++e.non_sky;
        }
        const float d = depth->depth_m[k];
        if (!(d > 0)) continue;
        ++e.valid;
        // A valid pixel where the truth is sky is a failure.
        const double err = found ? std::abs(d - truth[k]) : 1e9;
        e.abs_errors.push_back(err);
        // 10 cm = 5 sigma of the 2 cm lidar range noise (a single point's
        // depth where too few neighbours exist for the sub-pixel plane);
        // + 1% for what remains of splatting on slanted surfaces (a splat
        // spreads one depth over its disc) at range.
        e.within += found && err <= 0.10 + 0.01 * truth[k];
        // Background showing through a nearer surface.
        e.see_through += found && d > truth[k] * 1.1 + 0.3;
      }
    }
    const double median = Median(e.abs_errors);
    const double within = static_cast<double>(e.within) / std::max(1, e.valid);
    const double coverage = static_cast<double>(e.valid) / std::max(1, e.non_sky);
    const double see_through = static_cast<double>(e.see_through) / std::max(1, e.valid);
    std::printf("[accuracy] depth %s: %d valid of %d non-sky pixels (%.1f%%); median |error| %.4f m; %.2f%% within "
                "10 cm + 1%%; %.2f%% see-through\n",
                pano.name.c_str(), e.valid, e.non_sky, 100 * coverage, median, 100 * within, 100 * see_through);
    // Median: the noise of single lidar points is 2 cm and the refinement
    // averages several, so the typical pixel is well under 3 cm.
    EXPECT_LT(median, 0.03) << pano.name;
    EXPECT_GE(within, 0.95) << pano.name;
    EXPECT_GE(coverage, 0.30) << pano.name;
    // Occlusion handling: pixels deeper than the truth by 10% + 0.3 m (the
    // background seen through a nearer surface). Without the occlusion test
    // 1.4-1.6% of the valid pixels are such (gaps between points, windows);
    // with it 0.3-0.4%: car roofs under glass and shop windows wider than
    // occlusion_hole_m, which the lidar cannot tell from openings.
    EXPECT_LE(see_through, 0.007) << pano.name;

    // Depth steps in the map: pixels b, c between a and d on a line where
    // neither side's plane (linear in inverse depth, as any plane is in the
    // image) continues into the other within 10% + 0.5 m. A surface seen at
    // a grazing angle changes by 20% per pixel far away, but stays linear.
    // DepthAt must refuse at b, at c and between them.
    int steps = 0, steps_answered = 0;
    for (int row = 2; row + 2 < camera.height; ++row) {
      for (int col = 2; col + 2 < camera.width; ++col) {
        for (const auto& [dx, dy] : {std::pair{1, 0}, std::pair{0, 1}}) {
          const double za = depth->at(col - dx, row - dy), zb = depth->at(col, row);
          const double zc = depth->at(col + dx, row + dy), zd = depth->at(col + 2 * dx, row + 2 * dy);
          if (!(za > 0 && zb > 0 && zc > 0 && zd > 0)) continue;
          const double c_from_ab = 1.0 / std::max(1e-6, 2 / zb - 1 / za), b_from_cd = 1.0 / std::max(1e-6, 2 / zc - 1 / zd);
          if (std::abs(c_from_ab - zc) <= 0.1 * zc + 0.5 || std::abs(b_from_cd - zb) <= 0.1 * zb + 0.5) continue;
          ++steps;
          steps_answered += depth->DepthAt(col, row).has_value() + depth->DepthAt(col + dx, row + dy).has_value() +
                            depth->DepthAt(col + 0.5 * dx, row + 0.5 * dy).has_value();
        }
      }
    }
    total_steps += steps;
    EXPECT_EQ(steps_answered, 0) << pano.name;
    // True depth edges (the truth differs from a 4-neighbour's by more than
    // 10% + 0.5 m, or a neighbour is sky): the map's edge may sit a pixel or
    // two off (splat discs of near points), so DepthAt may answer there, with
    // the depth of the side the pixel centre is on; it must then be right.
    int edges = 0, edges_answered = 0, edges_right = 0;
    for (int row = 1; row + 1 < camera.height; ++row) {
      for (int col = 1; col + 1 < camera.width; ++col) {
        const size_t k = static_cast<size_t>(row) * camera.width + col;
        const double t = truth[k];
        if (!(t > 0) || !(depth->depth_m[k] > 0)) continue;
        bool edge = false;
        for (const auto& [dx, dy] : {std::pair{1, 0}, std::pair{-1, 0}, std::pair{0, 1}, std::pair{0, -1}}) {
          const double q = truth[static_cast<size_t>(row + dy) * camera.width + col + dx];
          if (!(q > 0) || std::abs(q - t) > 0.1 * std::min(q, t) + 0.5) edge = true;
        }
        if (!edge) continue;
        ++edges;
        const auto d = depth->DepthAt(col, row);
        if (!d) continue;
        ++edges_answered;
        edges_right += std::abs(*d - t) <= 0.10 + 0.01 * t;
      }
    }
    const double right = static_cast<double>(edges_right) / std::max(1, edges_answered);
    std::printf("[accuracy] DepthAt %s: %d map steps, %d answers there; %d valid pixels on true edges, %d answered "
                "(%.1f%% refused), %.1f%% of answers within 10 cm + 1%%\n",
                pano.name.c_str(), steps, steps_answered, edges, edges_answered, 100.0 * (edges - edges_answered) / std::max(1, edges),
                100 * right);
    ASSERT_GT(edges, 20) << pano.name;
    // 90%: the wrong answers left are car roofs under glass (no lidar
    // return from glass, so the map shows the ground behind the car).
    EXPECT_GE(right, 0.90) << pano.name;

    // Where DepthAt answers (random sub-pixel positions) it is right.
    Rng rng(11);
    int answered = 0, good = 0;
    for (int trial = 0; trial < 4000; ++trial) {
      const Eigen::Vector2d px(rng.Uniform(-0.5, camera.width - 0.5), rng.Uniform(-0.5, camera.height - 0.5));
      const auto d = depth->DepthAt(px.x(), px.y());
      if (!d) continue;
      ++answered;
      const Eigen::Vector3d ray = camera.Unproject(px);
      synth::SceneHit hit;
      if (!TraceOpaque(*scene_, centre, world_r_cam * ray, 1000.0, &hit)) continue;
      good += std::abs(*d - hit.t * ray.z()) <= 0.10 + 0.01 * hit.t * ray.z();
    }
    std::printf("[accuracy] DepthAt %s: answered %d of 4000 random positions, %.2f%% within 10 cm + 1%%\n",
                pano.name.c_str(), answered, 100.0 * good / std::max(1, answered));
    EXPECT_GT(answered, 400) << pano.name;
    // Stricter than the per-pixel 95%: DepthAt refuses the edge pixels that
    // make up most of the per-pixel failures.
    EXPECT_GE(static_cast<double>(good) / std::max(1, answered), 0.98) << pano.name;
  }
  EXPECT_GT(total_steps, 50);  // the step check above had something to check

  // An OPENCV camera (distortion) at the first panorama.
  auto opencv = Camera::Create("OPENCV", 320, 240, {160, 160, 159.5, 119.5, -0.1, 0.02, 0.001, -0.001});
  ASSERT_THAT(opencv.status(), IsOk());
  const io::PoseStamped& pano = panos_->front();
  const auto depth = RenderDepth(*map_, *opencv, pano.world_from_rig.Inverse());
  ASSERT_THAT(depth.status(), IsOk());
  const Eigen::Vector3d centre = pano.world_from_rig.translation;
  int valid = 0, good = 0;
  for (int row = 0; row < opencv->height; row += 3) {
    for (int col = 0; col < opencv->width; col += 3) {
      const float d = depth->at(col, row);
      if (!(d > 0)) continue;
      ++valid;
      const Eigen::Vector3d ray = opencv->Unproject(Eigen::Vector2d(col, row));
      synth::SceneHit hit;
      if (TraceOpaque(*scene_, centre, pano.world_from_rig.rotation * ray, 1000.0, &hit)) {
        good += std::abs(d - hit.t * ray.z() / ray.norm()) <= 0.10 + 0.01 * d;
      }
    }
  }
  EXPECT_GT(valid, 1000);
  // Same bar as the pinhole test; a wrong distortion model fails it.
  EXPECT_GE(static_cast<double>(good) / valid, 0.95);

  // Bad input.
  const Rigid3d pose = panos_->front().world_from_rig.Inverse();
  EXPECT_THAT(RenderDepth(*map_, Camera::Equirectangular(256, 128), pose).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("EQUIRECTANGULAR")));
  Camera broken = TestCamera();
  broken.params.pop_back();
  EXPECT_THAT(RenderDepth(*map_, broken, pose).status(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("camera")));
  DepthOptions options;
  options.max_range_m = -1;
  EXPECT_THAT(RenderDepth(*map_, TestCamera(), pose, options).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("DepthOptions::max_range_m")));
  options = DepthOptions();
  options.occlusion_max_reach_px = 1;
  EXPECT_THAT(options.Validate(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("occlusion_max_reach_px")));
}

// (c) Local planes on facades and on the ground.
// RenderDepthAt refines only the pixels DepthAt reads; its answers must be
// exactly a whole depth map's, at keypoint-like positions (random sub-pixel,
// near the borders, outside the image) and on a grid that covers every pixel.
TEST_F(SyntheticLidarTest, DepthAtPixelsEqualsTheWholeDepthMap) {
  const Camera camera = TestCamera();
  Rng rng(5, 1);
  std::vector<Eigen::Vector2d> pixels = {{-0.5, -0.5}, {0, 0}, {319.4, 239.4}, {-3, 10}, {10, 400}, {1.49, 1.51}};
  for (int i = 0; i < 3000; ++i) pixels.emplace_back(rng.Uniform(-1, camera.width), rng.Uniform(-1, camera.height));
  std::vector<Eigen::Vector2d> grid;
  for (int row = 0; row < camera.height; row += 3) {
    for (int col = 0; col < camera.width; col += 3) grid.emplace_back(col + 0.25, row - 0.25);
  }
  int answered = 0;
  for (const io::PoseStamped& pano : *panos_) {
    const Rigid3d cam_from_world = pano.world_from_rig.Inverse();
    const auto full = RenderDepth(*map_, camera, cam_from_world);
    ASSERT_THAT(full.status(), IsOk());
    for (const std::vector<Eigen::Vector2d>* set : {&pixels, &grid}) {
      DepthRenderStats stats;
      const auto at = RenderDepthAt(*map_, camera, cam_from_world, *set, DepthOptions(), &stats);
      ASSERT_THAT(at.status(), IsOk());
      ASSERT_EQ(at->size(), set->size());
      for (size_t i = 0; i < set->size(); ++i) {
        const std::optional<double> want = full->DepthAt((*set)[i].x(), (*set)[i].y());
        ASSERT_EQ((*at)[i].has_value(), want.has_value()) << pano.name << " pixel " << (*set)[i].transpose();
        if (want) {
          EXPECT_EQ(*(*at)[i], *want) << pano.name << " pixel " << (*set)[i].transpose();
          ++answered;
        }
      }
      if (set == &pixels) {
        EXPECT_LT(stats.num_pixels_refined, full->NumValid()) << "refined pixels no keypoint reads";
      }
    }
  }
  EXPECT_GT(answered, 1000);
  const auto bad = RenderDepthAt(*map_, Camera::Pinhole(0, 240, 160, 160, 0, 0), Rigid3d(), pixels);
  EXPECT_FALSE(bad.ok());
}

TEST_F(SyntheticLidarTest, LocalPlaneMatchesTrueSurfaceNormals) {
  int facades = 0, facade_not_found = 0;
  double worst_facade_deg = 0, worst_ground_deg = 0;
  for (const io::PoseStamped& pano : *panos_) {
    const Eigen::Vector3d c = pano.world_from_rig.translation;
    for (int az = 0; az < 360; az += 5) {
      for (double z : {1.5, 3.0, 5.0}) {
        const Eigen::Vector3d origin(c.x(), c.y(), z);
        const Eigen::Vector3d dir(std::cos(az * M_PI / 180), std::sin(az * M_PI / 180), 0);
        synth::SceneHit hit;
        if (!scene_->Trace(origin, dir, 25.0, &hit) || hit.kind != synth::SurfaceKind::kFacade) continue;
        // Only points whose 0.6 m neighbourhood is the same flat wall (no
        // corner, no sign, no ground within the query radius).
        const Eigen::Vector3d n = hit.normal, tangent = n.cross(Eigen::Vector3d::UnitZ()).normalized();
        bool flat = hit.point.z() > 0.8;
        for (const Eigen::Vector3d& offset : std::vector<Eigen::Vector3d>{tangent * 0.6, -tangent * 0.6, Eigen::Vector3d(0, 0, 0.6), Eigen::Vector3d(0, 0, -0.6)}) {
          synth::SceneHit h2;
          const Eigen::Vector3d target = hit.point + offset;
          flat = flat && scene_->Trace(origin, (target - origin).normalized(), 30.0, &h2) &&
                 h2.kind == synth::SurfaceKind::kFacade && h2.normal.dot(n) > 0.99999 && (h2.point - target).norm() < 0.01;
        }
        if (!flat) continue;
        Plane plane;
        const absl::Status status = map_->LocalPlane(hit.point, 0.5, &plane);
        if (absl::IsNotFound(status)) {  // glass (no lidar return), or only a window frame in reach
          ++facade_not_found;
          continue;
        }
        ASSERT_THAT(status, IsOk());
        ++facades;
        const double angle = std::acos(std::min(1.0, std::abs(plane.normal.dot(n)))) * 180 / M_PI;
        worst_facade_deg = std::max(worst_facade_deg, angle);
        // 2 deg: a 1 m patch of points with 2 cm noise (averaged into 5 cm
        // voxels) constrains the normal to a fraction of a degree; 2 deg
        // leaves room for a voxel row of a neighbouring surface.
        EXPECT_LE(angle, 2.0) << pano.name << " az " << az << " z " << z << " rms " << plane.rms_m;
        EXPECT_NEAR(std::abs((plane.point - hit.point).dot(n)), 0.0, 0.03);
        EXPECT_GE(plane.num_points, 10);
      }
    }
    Rng rng(3);
    for (int k = 0; k < 20; ++k) {
      const Eigen::Vector3d p(c.x() + rng.Uniform(-6, 6), c.y() + rng.Uniform(-6, 6), 0.0);
      synth::SceneHit hit;
      // Only open ground: the vertical ray from above must reach z = 0.
      if (!scene_->Trace(p + Eigen::Vector3d(0, 0, 30), -Eigen::Vector3d::UnitZ(), 40, &hit) ||
          hit.kind != synth::SurfaceKind::kGround) {
        continue;
      }
      Plane plane;
      const absl::Status status = map_->LocalPlane(p, 0.5, &plane);
      if (absl::IsNotFound(status)) continue;  // under a car or in a lidar shadow
      ASSERT_THAT(status, IsOk());
      const double angle = std::acos(std::min(1.0, plane.normal.z())) * 180 / M_PI;
      worst_ground_deg = std::max(worst_ground_deg, angle);
      // 1 deg: a flat road with thousands of points; the sign is +z by contract.
      EXPECT_LE(angle, 1.0) << pano.name;
      EXPECT_NEAR(plane.point.z(), 0.0, 0.03);
    }
  }
  std::printf("[accuracy] LocalPlane: %d facade planes (%d glass/no-data points skipped), worst facade normal %.2f deg, "
              "worst ground normal %.2f deg\n",
              facades, facade_not_found, worst_facade_deg, worst_ground_deg);
  EXPECT_GE(facades, 20);
  Plane unused;
  EXPECT_THAT(map_->LocalPlane(Eigen::Vector3d(1e5, 0, 0), 0.5, &unused), StatusIs(absl::StatusCode::kNotFound, HasSubstr("0 lidar points")));
  EXPECT_THAT(map_->LocalPlane(Eigen::Vector3d::Zero(), 0.0, &unused), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("radius_m")));
}

// DepthAt on hand-made depth maps: exact on a slanted plane (inverse depth
// linear in the image), refuses steps, holes and the image border.
TEST(DepthMapTest, DepthAtFollowsPlanesAndRefusesSteps) {
  DepthMap plane;
  plane.width = 40;
  plane.height = 30;
  plane.depth_m.resize(40 * 30);
  // Ground seen at a grazing angle: 1/z = 0.002 + 0.004 * row (z from 500 m
  // down to 8 m, 4-40% per pixel), plus a slight horizontal slope.
  auto inverse = [](double x, double y) { return 0.002 + 0.004 * y + 0.0001 * x; };
  for (int row = 0; row < 30; ++row) {
    for (int col = 0; col < 40; ++col) plane.depth_m[row * 40 + col] = static_cast<float>(1.0 / inverse(col, row));
  }
  EXPECT_EQ(plane.NumValid(), 1200u);
  for (const Eigen::Vector2d& p : {Eigen::Vector2d(10, 10), Eigen::Vector2d(10.3, 20.45), Eigen::Vector2d(5.5, 3.5)}) {
    const auto d = plane.DepthAt(p.x(), p.y());
    ASSERT_TRUE(d.has_value()) << p.transpose();
    EXPECT_NEAR(*d, 1.0 / inverse(p.x(), p.y()), 1e-4 / inverse(p.x(), p.y())) << p.transpose();
  }
  EXPECT_FALSE(plane.DepthAt(0, 10).has_value());     // no 3x3 at the border
  EXPECT_FALSE(plane.DepthAt(10, -0.6).has_value());  // outside the image
  DepthMap step = plane;
  for (int row = 0; row < 30; ++row) {
    for (int col = 0; col < 40; ++col) step.depth_m[row * 40 + col] = col < 20 ? 5.f : 6.f;
  }
  EXPECT_TRUE(step.DepthAt(10, 10).has_value());
  EXPECT_FALSE(step.DepthAt(19, 10).has_value());
  EXPECT_FALSE(step.DepthAt(20, 10).has_value());
  EXPECT_FALSE(step.DepthAt(19.5, 10).has_value());
  DepthMap hole = plane;
  hole.depth_m[10 * 40 + 10] = 0;
  EXPECT_FALSE(hole.DepthAt(11, 11).has_value());
  EXPECT_TRUE(hole.DepthAt(13, 13).has_value());
  // 2% + 3 cm: one pixel off by 5% at 10 m is refused, by 1% accepted.
  DepthMap flat = plane;
  std::fill(flat.depth_m.begin(), flat.depth_m.end(), 10.f);
  flat.depth_m[10 * 40 + 10] = 10.5f;
  EXPECT_FALSE(flat.DepthAt(10, 10).has_value());
  flat.depth_m[10 * 40 + 10] = 10.1f;
  EXPECT_TRUE(flat.DepthAt(10, 10).has_value());
}

// ---------------------------------------------------------------------------
// Real terrain: ISPRS filter-test samples (airborne), ground labelled.

struct Key {
  double x, y, z;
  bool operator==(const Key& o) const { return x == o.x && y == o.y && z == o.z; }
};
struct KeyHash {
  size_t operator()(const Key& k) const {
    uint64_t a, b, c;
    std::memcpy(&a, &k.x, 8);
    std::memcpy(&b, &k.y, 8);
    std::memcpy(&c, &k.z, 8);
    return static_cast<size_t>(HashCombine(HashCombine(a, b), c));
  }
};

struct GroundScore {
  double precision = 0, recall = 0;
  size_t labelled_ground = 0, matched = 0, points = 0;
};

// Ground truth: a point is ground when its coordinates appear in the
// "-ground" file (the same float32 values, so matching is exact: origin +
// offset reproduces the stored value). Every point of the full file is
// classified with LidarMap::IsGround, the rule behind ground_flags(), so
// outliers removed before segmentation are still scored.
GroundScore ScoreTerrain(const std::string& name, const LidarPreprocessOptions& options) {
  GroundScore score;
  const fs::path root = fs::path(ARMAP_SHARED_DATASETS) / "pcl_data" / "terrain";
  auto all = io::ReadPointCloud(root / (name + ".pcd"));
  auto ground = io::ReadPointCloud(root / (name + "-ground.pcd"));
  EXPECT_THAT(all.status(), IsOk());
  EXPECT_THAT(ground.status(), IsOk());
  if (!all.ok() || !ground.ok()) return score;
  std::unordered_map<Key, int, KeyHash> labelled;
  for (size_t i = 0; i < ground->size(); ++i) {
    const Eigen::Vector3d p = ground->Point(i);
    ++labelled[{p.x(), p.y(), p.z()}];
  }
  score.labelled_ground = ground->size();
  const PointCloud copy = *all;
  LidarPreprocessSummary summary;
  auto t0 = Clock::now();
  auto map = PreprocessLidarCloud(*std::move(all), options, &summary);
  EXPECT_THAT(map.status(), IsOk());
  if (!map.ok()) return score;
  std::printf("[timing] %s: %.2f s\n  %s\n", name.c_str(), Seconds(t0), summary.BriefReport().c_str());
  size_t tp = 0, fp = 0, fn = 0;
  for (size_t i = 0; i < copy.size(); ++i) {
    const Eigen::Vector3d p = copy.Point(i);
    auto it = labelled.find({p.x(), p.y(), p.z()});
    const bool truth = it != labelled.end() && it->second > 0;
    if (truth) {
      --it->second;
      ++score.matched;
    }
    const bool predicted = map->IsGround(p);
    tp += truth && predicted;
    fp += !truth && predicted;
    fn += truth && !predicted;
  }
  score.points = copy.size();
  score.precision = static_cast<double>(tp) / std::max<size_t>(1, tp + fp);
  score.recall = static_cast<double>(tp) / std::max<size_t>(1, tp + fn);
  std::printf("[accuracy] %s ground: %zu points, %zu labelled ground (%zu matched); precision %.4f, recall %.4f "
              "(type I error %.2f%%, type II error %.2f%%)\n",
              name.c_str(), score.points, score.labelled_ground, score.matched, score.precision, score.recall,
              100 * (1 - score.recall), 100.0 * fp / std::max<size_t>(1, score.points - score.matched));
  return score;
}

// Airborne settings: 1-3.5 m point spacing (2.5 m cells hold a few points),
// hillsides steeper than 40 deg in places, buildings up to ~60 m across
// (window), and ~15 cm ALS noise plus terrain curvature within the 7.5 m
// patch of a cell plane (0.75 m tolerance). Chosen among a handful of
// settings on these two samples, so the scores are not out-of-sample.
LidarPreprocessOptions AirborneOptions() {
  LidarPreprocessOptions o;
  o.sor_neighbors = 8;
  o.sor_stddev = 3.0;
  o.ground_cell_m = 2.5;
  o.ground_max_height_m = 0.75;
  o.ground_max_slope_deg = 50;
  o.ground_max_window_m = 60;
  o.ground_max_step_m = 2.5;
  o.ground_min_component_m2 = 100;
  o.index_cell_m = 2.5;
  return o;
}

TEST(TerrainGroundTest, IsprsSamplesAgreeWithReferenceLabels) {
  const GroundScore s11 = ScoreTerrain("samp11-utm", AirborneOptions());
  const GroundScore s52 = ScoreTerrain("samp52-utm", AirborneOptions());
  // Every labelled ground point must be found in the full cloud, or the
  // scores below are meaningless.
  EXPECT_EQ(s11.matched, s11.labelled_ground);
  EXPECT_EQ(s52.matched, s52.labelled_ground);
  // Thresholds. samp11 (hillside with buildings and vegetation) is the
  // sample on which the filters compared by Sithole & Vosselman (2004) err
  // most; samp52 (steep slopes, low vegetation) is 89% ground. We measure
  // samp11 P 0.93 / R 0.79 (total error ~15%) and samp52 P 0.98 / R 0.93
  // (~8%). The bars keep a few points of margin below that: >= 90% of the
  // flagged points must be ground (what later stages build on: a false
  // ground point bends the terrain, a missed one only thins it), and
  // >= 75% / 90% of the ground must be found.
  EXPECT_GE(s11.precision, 0.90);
  EXPECT_GE(s11.recall, 0.75);
  EXPECT_GE(s52.precision, 0.95);
  EXPECT_GE(s52.recall, 0.90);
}

// ---------------------------------------------------------------------------
// Bad input.

TEST(LidarInputTest, NoFilesIsInvalidArgument) {
  EXPECT_THAT(PreprocessLidar({}, LidarPreprocessOptions(), nullptr).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no lidar files")));
}

TEST(LidarInputTest, EmptyCloudFileIsAnErrorNamingTheFile) {
  const fs::path dir = TempDir("empty");
  fs::create_directories(dir);
  const fs::path empty_ply = dir / "no_points.ply";
  ASSERT_THAT(io::WritePlyBinary(empty_ply, PointCloud()), IsOk());
  EXPECT_THAT(PreprocessLidar({empty_ply}, LidarPreprocessOptions(), nullptr).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no_points.ply")));
  const fs::path zero_bytes = dir / "zero_bytes.ply";
  std::ofstream(zero_bytes).close();
  EXPECT_THAT(PreprocessLidar({zero_bytes}, LidarPreprocessOptions(), nullptr).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("zero_bytes.ply")));
  const absl::Status missing = PreprocessLidar({dir / "missing.pcd"}, LidarPreprocessOptions(), nullptr).status();
  EXPECT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.message()), HasSubstr("missing.pcd"));
  fs::remove_all(dir);
}

TEST(LidarInputTest, BoxInTheAirHasNoGround) {
  // The six faces of a 3 m box floating 10 m up, 5 cm spacing, 1 cm noise.
  PointCloud cloud;
  Rng rng(5);
  const double step = 0.05;
  for (int face = 0; face < 6; ++face) {
    for (double a = 0; a <= 3.0 + 1e-9; a += step) {
      for (double b = 0; b <= 3.0 + 1e-9; b += step) {
        Eigen::Vector3d p;
        const double fixed = (face % 2) ? 3.0 : 0.0;
        if (face < 2) p = Eigen::Vector3d(fixed, a, b);
        else if (face < 4) p = Eigen::Vector3d(a, fixed, b);
        else p = Eigen::Vector3d(a, b, fixed);
        p += Eigen::Vector3d(100, 200, 10) + 0.01 * Eigen::Vector3d(rng.Normal(), rng.Normal(), rng.Normal());
        cloud.points.push_back(p.cast<float>());
      }
    }
  }
  LidarPreprocessSummary summary;
  auto map = PreprocessLidarCloud(std::move(cloud), LidarPreprocessOptions(), &summary);
  ASSERT_THAT(map.status(), IsOk());
  EXPECT_EQ(map->num_ground(), 0u);
  EXPECT_EQ(summary.num_ground, 0u);
  EXPECT_GT(summary.num_downsampled, 10000u);
  ASSERT_FALSE(summary.warnings.empty());
  EXPECT_THAT(summary.warnings.back(), HasSubstr("no ground"));
  EXPECT_FALSE(map->GroundHeightAt(101.5, 201.5).has_value());
  // Queries still work on a map without ground.
  Plane plane;
  ASSERT_THAT(map->LocalPlane(Eigen::Vector3d(101.5, 201.5, 13.0), 0.5, &plane), IsOk());
  EXPECT_GT(std::abs(plane.normal.z()), 0.999);
}

TEST(LidarInputTest, NonFinitePointsAreDropped) {
  PointCloud cloud;
  for (int i = 0; i < 40; ++i) {
    for (int j = 0; j < 40; ++j) cloud.points.emplace_back(0.1f * i, 0.1f * j, 0.f);
  }
  cloud.points.emplace_back(std::nanf(""), 0.f, 0.f);
  cloud.points.emplace_back(0.f, std::numeric_limits<float>::infinity(), 0.f);
  LidarPreprocessSummary summary;
  auto map = PreprocessLidarCloud(std::move(cloud), LidarPreprocessOptions(), &summary);
  ASSERT_THAT(map.status(), IsOk());
  EXPECT_EQ(summary.num_non_finite_dropped, 2u);
  EXPECT_EQ(map->full_cloud().size(), 1600u);
  PointCloud only_nan;
  only_nan.points.emplace_back(std::nanf(""), 0.f, 0.f);
  EXPECT_THAT(PreprocessLidarCloud(std::move(only_nan), LidarPreprocessOptions(), nullptr).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no finite")));
}

TEST(LidarInputTest, ValidateNamesTheField) {
  auto expect_field = [](LidarPreprocessOptions o, const std::string& field) {
    EXPECT_THAT(o.Validate(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("LidarPreprocessOptions::" + field)));
    // The pipeline entry points validate before touching files.
    EXPECT_THAT(PreprocessLidar({"/nonexistent.ply"}, o, nullptr).status(),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(field)));
  };
  LidarPreprocessOptions o;
  EXPECT_THAT(o.Validate(), IsOk());
  o.voxel_size_m = 0;
  expect_field(o, "voxel_size_m");
  o = LidarPreprocessOptions();
  o.sor_neighbors = -1;
  expect_field(o, "sor_neighbors");
  o = LidarPreprocessOptions();
  o.sor_stddev = std::nan("");
  expect_field(o, "sor_stddev");
  o = LidarPreprocessOptions();
  o.ground_cell_m = 0;
  expect_field(o, "ground_cell_m");
  o = LidarPreprocessOptions();
  o.ground_max_height_m = -0.1;
  expect_field(o, "ground_max_height_m");
  o = LidarPreprocessOptions();
  o.ground_max_slope_deg = 90;
  expect_field(o, "ground_max_slope_deg");
  o = LidarPreprocessOptions();
  o.ground_max_window_m = 0.5;
  expect_field(o, "ground_max_window_m");
  o = LidarPreprocessOptions();
  o.ground_max_step_m = 0.1;
  expect_field(o, "ground_max_step_m");
  o = LidarPreprocessOptions();
  o.ground_min_component_m2 = -1;
  expect_field(o, "ground_min_component_m2");
  o = LidarPreprocessOptions();
  o.index_cell_m = 0.01;
  expect_field(o, "index_cell_m");
}

// ---------------------------------------------------------------------------
// Scale check, run by hand: ARMAP_LIDAR_BENCH_DIR=/tmp/city ./lidar_test
// --gtest_filter=*DefaultCity* generates the default synthetic city there
// (once) and prints preprocessing / depth timings and peak memory.

long PeakRssMb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6) / 1024;
  }
  return -1;
}

TEST(LidarBenchmark, DefaultCity) {
  const char* env = std::getenv("ARMAP_LIDAR_BENCH_DIR");
  if (!env) GTEST_SKIP() << "set ARMAP_LIDAR_BENCH_DIR to run";
  const fs::path dir = env;
  if (!fs::exists(dir / "gt" / "panos_gt.csv")) {
    synth::CaptureOptions o;
    o.out_dir = dir;
    o.overwrite = true;
    o.num_panos = 40;
    o.num_queries = 0;
    o.pano_width_px = 256;
    o.photo_root = ARMAP_SHARED_DATASETS;
    ASSERT_THAT(synth::GenerateCapture(o).status(), IsOk());
  }
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir / "lidar")) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  std::printf("[bench] peak RSS before: %ld MB\n", PeakRssMb());
  LidarPreprocessSummary summary;
  auto map = PreprocessLidar(files, LidarPreprocessOptions(), &summary);
  ASSERT_THAT(map.status(), IsOk());
  std::printf("[bench] %s\n[bench] peak RSS after preprocessing: %ld MB\n", summary.BriefReport().c_str(), PeakRssMb());
  auto panos = io::ReadTrajectoryCsv(dir / "gt" / "panos_gt.csv");
  ASSERT_THAT(panos.status(), IsOk());
  for (const Camera& camera : {Camera::Pinhole(320, 240, 160, 160, 159.5, 119.5), Camera::Pinhole(1920, 1080, 1000, 1000, 959.5, 539.5)}) {
    DepthRenderStats stats;
    auto depth = RenderDepth(*map, camera, (*panos)[panos->size() / 2].world_from_rig.Inverse(), DepthOptions(), &stats);
    ASSERT_THAT(depth.status(), IsOk());
    std::printf("[bench] RenderDepth %dx%d: %.3f s (splat %.3f, occlusion %.3f, refine %.3f), %zu points tested, "
                "%zu valid pixels\n",
                camera.width, camera.height, stats.seconds, stats.splat_seconds, stats.occlusion_seconds,
                stats.refine_seconds, stats.num_points_tested, depth->NumValid());
  }
  Rng rng(1);
  const auto t0 = Clock::now();
  int found = 0;
  for (int i = 0; i < 10000; ++i) {
    Plane plane;
    const Eigen::Vector3d p = map->cloud().Point(rng.UniformInt(0, static_cast<int>(map->cloud().size()) - 1));
    found += map->LocalPlane(p, 0.5, &plane).ok();
  }
  std::printf("[bench] 10000 LocalPlane queries (r = 0.5 m): %.3f s, %d found\n", Seconds(t0), found);
}

}  // namespace
}  // namespace armap::mapping
