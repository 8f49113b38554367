#include "mapping/pipeline/views.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

#include "datasets/synthetic/appearance.h"
#include "datasets/synthetic/capture_generator.h"
#include "datasets/synthetic/render.h"

namespace armap::mapping {
namespace {

// A view cut from a rendered panorama must match the same view rendered
// directly: this pins the rig conventions (yaw direction, up view, seam).
TEST(ViewRigTest, CutViewsMatchDirectRenders) {
  synth::CityOptions city_options;
  city_options.size_m = 80;
  const synth::City city = synth::GenerateCity(city_options);
  const synth::Scene scene(city);
  auto appearance = synth::Appearance::Create(scene, ARMAP_SHARED_DATASETS);
  ASSERT_TRUE(appearance.ok());
  const synth::Renderer renderer(scene, **appearance);
  Eigen::Vector2d p, h;
  city.route.Sample(20.0, &p, &h);
  Eigen::Matrix3d world_r_rig;
  world_r_rig << Eigen::Vector3d(h.y(), -h.x(), 0), Eigen::Vector3d(0, 0, -1), Eigen::Vector3d(h.x(), h.y(), 0);
  const Rigid3d rig_from_world = Rigid3d(Eigen::Quaterniond(world_r_rig), Eigen::Vector3d(p.x(), p.y(), 2.5)).Inverse();
  synth::RenderOptions ro;
  ro.vignetting = 0;
  const cv::Mat pano = renderer.Render(Camera::Equirectangular(1024, 512), rig_from_world, ro);
  ViewRigOptions options;
  options.size_px = 160;
  const ViewRig rig(options, 1024, 512);
  ASSERT_EQ(rig.views().size(), 9u);
  // 1024 px over 2 pi is twice the 160 px views' 80 px per radian: reduced once.
  EXPECT_EQ(rig.pyramid_levels(), 1);
  for (size_t v = 0; v < rig.views().size(); ++v) {
    const cv::Mat cut = rig.Cut(pano, v);
    const cv::Mat direct = renderer.Render(rig.views()[v].camera, rig.views()[v].cam_from_rig * rig_from_world, ro);
    cv::Mat a, b, diff;
    cv::GaussianBlur(cut, a, cv::Size(5, 5), 1.5);
    cv::GaussianBlur(direct, b, cv::Size(5, 5), 1.5);
    cv::absdiff(a, b, diff);
    // Resampling blurs a little; a wrong direction or flip differs by tens of grey levels.
    EXPECT_LT(cv::mean(diff)[0], 8.0) << rig.views()[v].suffix;
  }
}

// A panorama finer than the views is reduced before resampling; the reduction
// must keep pixel centres where the equirectangular model puts them, or every
// view is rotated by a fraction of a pixel (an alignment bias). The panorama
// holds a smooth function of its pixel coordinates, so each view pixel must
// read that function at the panorama pixel its ray projects to.
TEST(ViewRigTest, ReducedPanoramaKeepsPixelCentres) {
  constexpr int kWidth = 4096, kHeight = 2048;
  const auto value = [](double x, double y) { return 100.0 + 50.0 * std::sin(8.0 * M_PI * x / kWidth) + 0.02 * y; };
  cv::Mat pano(kHeight, kWidth, CV_32F);
  for (int r = 0; r < kHeight; ++r) {
    for (int c = 0; c < kWidth; ++c) pano.at<float>(r, c) = static_cast<float>(value(c, r));
  }
  const ViewRig rig(ViewRigOptions{}, kWidth, kHeight);
  ASSERT_EQ(rig.pyramid_levels(), 1);  // 4096 / 2 pi = 652 px per radian; views 320
  const Camera full = Camera::Equirectangular(kWidth, kHeight);
  const std::vector<cv::Mat> cuts = rig.CutAll(pano);
  ASSERT_EQ(cuts.size(), rig.views().size());
  for (size_t v = 0; v < cuts.size(); ++v) {
    const VirtualView& view = rig.views()[v];
    const Eigen::Quaterniond rig_r_cam = view.cam_from_rig.rotation.conjugate();
    double max_err = 0;
    for (int r = 8; r < view.camera.height - 8; r += 7) {
      for (int c = 8; c < view.camera.width - 8; c += 7) {
        Eigen::Vector2d p;
        ASSERT_TRUE(full.Project(rig_r_cam * view.camera.Unproject(Eigen::Vector2d(c, r)), &p));
        if (p.x() < 2 || p.x() > kWidth - 3) continue;  // the seam wraps; the value does not
        max_err = std::max(max_err, std::abs(cuts[v].at<float>(r, c) - value(p.x(), p.y())));
      }
    }
    // Interpolating the sine (4 periods) costs < 0.01; a quarter reduced pixel
    // of shift (pyrDown's centre convention) costs up to 0.15.
    EXPECT_LT(max_err, 0.03) << view.suffix;
  }
}

}  // namespace
}  // namespace armap::mapping
