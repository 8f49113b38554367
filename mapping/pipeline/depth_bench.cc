// Depth-render benchmark (not a test): loads a capture's lidar as the map
// builder does and renders the virtual views of its first panoramas with the
// measured poses, printing where the time goes (splat, occlusion, sub-pixel
// refinement) and a checksum of the depth maps, so that a speed change can be
// shown to leave the output unchanged.
//
// Usage: depth_bench CAPTURE_DIR [NUM_PANOS=4] [MAX_RANGE_M=60]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/logging.h"
#include "core/random.h"
#include "mapping/lidar/depth_map.h"
#include "mapping/lidar/lidar_map.h"
#include "mapping/pipeline/capture.h"
#include "mapping/pipeline/views.h"

namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

int Run(int argc, char** argv) {
  using namespace armap;
  using namespace armap::mapping;
  if (argc < 2 || argc > 4) {
    std::fprintf(stderr, "usage: %s CAPTURE_DIR [NUM_PANOS=4] [MAX_RANGE_M=60]\n", argv[0]);
    return 2;
  }
  const int num_panos = argc > 2 ? std::atoi(argv[2]) : 4;
  DepthOptions depth;
  depth.max_range_m = argc > 3 ? std::atof(argv[3]) : 60.0;  // the map builder's default config
  if (num_panos < 1) {
    std::fprintf(stderr, "NUM_PANOS = %s; must be >= 1\n", argv[2]);
    return 2;
  }
  QualityReport quality;
  auto capture = IngestCapture(argv[1], IngestOptions(), &quality);
  if (!capture.ok()) {
    std::fprintf(stderr, "%s\n", std::string(capture.status().message()).c_str());
    return 1;
  }
  auto start = std::chrono::steady_clock::now();
  LidarPreprocessSummary summary;
  auto lidar = PreprocessLidar(capture->lidar_files, LidarPreprocessOptions(), &summary);
  if (!lidar.ok()) {
    std::fprintf(stderr, "%s\n", std::string(lidar.status().message()).c_str());
    return 1;
  }
  std::printf("lidar: %.1f s\n", Seconds(start));
  const ViewRig rig(ViewRigOptions(), capture->pano_width_px, capture->pano_height_px);
  DepthRenderStats total;
  double checksum = 0;
  size_t valid = 0, views = 0;
  start = std::chrono::steady_clock::now();
  for (int p = 0; p < num_panos && p < static_cast<int>(capture->panos.size()); ++p) {
    for (const VirtualView& v : rig.views()) {
      DepthRenderStats st;
      auto map = RenderDepth(*lidar, v.camera, v.cam_from_rig * capture->panos[p].world_from_rig.Inverse(), depth, &st);
      if (!map.ok()) {
        std::fprintf(stderr, "%s\n", std::string(map.status().message()).c_str());
        return 1;
      }
      for (size_t k = 0; k < map->depth_m.size(); ++k) checksum += map->depth_m[k] * static_cast<double>(1 + k % 7);
      valid += map->NumValid();
      total.num_points_tested += st.num_points_tested;
      total.num_points_splatted += st.num_points_splatted;
      total.splat_seconds += st.splat_seconds;
      total.occlusion_seconds += st.occlusion_seconds;
      total.refine_seconds += st.refine_seconds;
      total.seconds += st.seconds;
      ++views;
    }
  }
  const double wall = Seconds(start);
  // The landmark stage's use: depth at 2,000 keypoints per view (here at
  // random positions) without refining the pixels no keypoint reads.
  start = std::chrono::steady_clock::now();
  Rng rng(1, 2);
  size_t answered = 0;
  for (int p = 0; p < num_panos && p < static_cast<int>(capture->panos.size()); ++p) {
    for (const VirtualView& v : rig.views()) {
      std::vector<Eigen::Vector2d> pixels;
      for (int k = 0; k < 2000; ++k) pixels.emplace_back(rng.Uniform(0, v.camera.width - 1), rng.Uniform(0, v.camera.height - 1));
      auto at = RenderDepthAt(*lidar, v.camera, v.cam_from_rig * capture->panos[p].world_from_rig.Inverse(), pixels, depth);
      if (!at.ok()) {
        std::fprintf(stderr, "%s\n", std::string(at.status().message()).c_str());
        return 1;
      }
      for (const auto& d : *at) answered += d.has_value();
    }
  }
  const double wall_at = Seconds(start);
  std::printf("%zu views in %.2f s (%.3f s per view): splat %.3f, occlusion %.3f, refine %.3f s per view\n", views, wall,
              wall / views, total.splat_seconds / views, total.occlusion_seconds / views, total.refine_seconds / views);
  std::printf("points tested %.2fM, splatted %.2fM per view; valid pixels %zu; checksum %.6f\n",
              total.num_points_tested / 1e6 / views, total.num_points_splatted / 1e6 / views, valid, checksum);
  std::printf("RenderDepthAt, 2000 pixels per view: %.3f s per view (%zu answered)\n", wall_at / views, answered);
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return Run(argc, argv); }
