// Renderer micro-benchmark: seconds per panorama and per query image on the
// default synthetic city (seed 1), with the share of time in each pass.
// Usage: render_bench [pano_width=2048] [repeats=3]
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "core/camera.h"
#include "datasets/synthetic/appearance.h"
#include "datasets/synthetic/capture_generator.h"
#include "datasets/synthetic/city_model.h"
#include "datasets/synthetic/render.h"
#include "datasets/synthetic/scene.h"

int main(int argc, char** argv) {
  using namespace armap;
  using namespace armap::synth;
  const int width = argc > 1 ? std::atoi(argv[1]) : 2048;
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 3;
  const City city = GenerateCity(CityOptions{});
  const Scene scene(city);
  auto appearance = Appearance::Create(scene, DefaultPhotoRoot());
  if (!appearance.ok()) {
    std::fprintf(stderr, "%s\n", std::string(appearance.status().message()).c_str());
    return 1;
  }
  const Renderer renderer(scene, **appearance);
  Eigen::Vector2d p, h;
  city.route.Sample(30.0, &p, &h);
  Eigen::Matrix3d r;
  r << Eigen::Vector3d(h.y(), -h.x(), 0), Eigen::Vector3d(0, 0, -1), Eigen::Vector3d(h.x(), h.y(), 0);
  const Rigid3d cam_from_world = Rigid3d(Eigen::Quaterniond(r), Eigen::Vector3d(p.x(), p.y(), 2.5)).Inverse();
  auto time = [&](const Camera& camera, bool aa) {
    RenderOptions options;
    options.antialias = aa;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < repeats; ++i) renderer.Render(camera, cam_from_world, options);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / repeats;
  };
  const Camera pano = Camera::Equirectangular(width, width / 2);
  const Camera phone = Camera::Pinhole(1280, 960, 1000, 1000, 639.5, 479.5);
  std::printf("| image | s (antialiased) | s (1 sample) |\n|---|---|---|\n");
  std::printf("| panorama %dx%d | %.3f | %.3f |\n", width, width / 2, time(pano, true), time(pano, false));
  std::printf("| query 1280x960 | %.3f | %.3f |\n", time(phone, true), time(phone, false));
  return 0;
}
