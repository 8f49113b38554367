#include "mapping/pipeline/views.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace armap::mapping
