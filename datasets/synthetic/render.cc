#include "datasets/synthetic/render.h"

#include <cmath>

#include <opencv2/imgproc.hpp>

#include "core/random.h"

namespace armap::synth {
namespace {

using Vec3 = Eigen::Vector3d;

// Exponential tone curve then sRGB-like gamma: soft highlights like a phone.
double ToneMap(double linear) {
  const double v = 1.0 - std::exp(-1.8 * std::max(0.0, linear));
  return std::pow(v, 1.0 / 2.2);
}

}  // namespace

Vec3 Renderer::Radiance(const Vec3& origin, const Vec3& dir, double pixel_angle_rad, const ExtraGeometry* extra,
                        SceneHit* hit) const {
  if (!scene_.Trace(origin, dir, 2000.0, hit, extra)) return appearance_.Sky(dir);
  const Vec3& n = hit->normal;
  const double cos_incidence = std::max(0.15, std::abs(dir.dot(n)));
  const double footprint_m = hit->t * pixel_angle_rad / cos_incidence;
  const SurfaceSample s = appearance_.Evaluate(*hit, footprint_m, extra);
  const Vec3& sun = scene_.city().sun_direction;
  const double ndl = n.dot(sun);
  double sun_visible = 0.0;
  if (ndl > 0 && !scene_.Occluded(hit->point + n * 0.02, sun, 1000.0, extra)) sun_visible = 1.0;
  // Sky light: upward-facing surfaces see the whole sky, walls half of it;
  // corners near the ground get less (a cheap ambient occlusion).
  double sky_share = 0.55 + 0.45 * n.z();
  if (hit->kind != SurfaceKind::kGround && hit->point.z() < 2.0) sky_share *= 0.6 + 0.2 * hit->point.z();
  const Vec3 sun_irradiance(1.9, 1.8, 1.6);
  const Vec3 sky_irradiance(0.36, 0.42, 0.52);
  const Vec3 bounce(0.08, 0.08, 0.075);
  Vec3 radiance = s.albedo.cwiseProduct(sun_irradiance * (std::max(0.0, ndl) * sun_visible) + sky_irradiance * sky_share + bounce);
  if (s.glass) {
    const Vec3 reflected = dir - 2.0 * dir.dot(n) * n;
    const Vec3 env = reflected.z() >= 0 ? appearance_.Sky(reflected) : Vec3(0.15, 0.15, 0.15);
    const double fresnel = s.reflectivity * (0.5 + 0.5 * std::pow(1.0 - std::abs(dir.dot(n)), 3.0));
    radiance = radiance * (1.0 - fresnel) + env * fresnel;
  }
  return radiance;
}

cv::Mat Renderer::Render(const Camera& camera, const Rigid3d& cam_from_world, const RenderOptions& options,
                         const ExtraGeometry* extra) const {
  const int w = camera.width, h = camera.height;
  const Rigid3d world_from_cam = cam_from_world.Inverse();
  const Eigen::Matrix3d world_r_cam = world_from_cam.rotation.toRotationMatrix();
  const Vec3 origin = world_from_cam.translation;
  const double pixel_angle = camera.IsPerspective() ? 1.0 / camera.FocalLengthX() : 2.0 * M_PI / w;

  cv::Mat radiance(h, w, CV_32FC3);
  std::vector<int64_t> keys(static_cast<size_t>(w) * h);
  auto shade = [&](double x, double y, SceneHit* hit) {
    const Vec3 dir = world_r_cam * camera.Unproject(Eigen::Vector2d(x, y));
    return Radiance(origin, dir, pixel_angle, extra, hit);
  };
#pragma omp parallel for schedule(dynamic, 4)
  for (int r = 0; r < h; ++r) {
    for (int c = 0; c < w; ++c) {
      SceneHit hit;
      const Vec3 l = shade(c, r, &hit);
      radiance.at<cv::Vec3f>(r, c) = cv::Vec3f(l.z(), l.y(), l.x());
      keys[static_cast<size_t>(r) * w + c] = hit.key;
    }
  }
  if (options.antialias) {
    // Supersample only where the primitive changes: geometric edges are
    // where single-sample rendering aliases; textures are filtered already.
    static const double kOffsets[4][2] = {{-0.25, -0.25}, {0.25, -0.25}, {-0.25, 0.25}, {0.25, 0.25}};
    cv::Mat refined = radiance.clone();
#pragma omp parallel for schedule(dynamic, 4)
    for (int r = 0; r < h; ++r) {
      for (int c = 0; c < w; ++c) {
        const int64_t k = keys[static_cast<size_t>(r) * w + c];
        const bool edge = (c > 0 && keys[static_cast<size_t>(r) * w + c - 1] != k) ||
                          (c + 1 < w && keys[static_cast<size_t>(r) * w + c + 1] != k) ||
                          (r > 0 && keys[static_cast<size_t>(r - 1) * w + c] != k) ||
                          (r + 1 < h && keys[static_cast<size_t>(r + 1) * w + c] != k);
        if (!edge) continue;
        cv::Vec3f acc = radiance.at<cv::Vec3f>(r, c);
        for (const auto& o : kOffsets) {
          SceneHit hit;
          const Vec3 l = shade(c + o[0], r + o[1], &hit);
          acc += cv::Vec3f(l.z(), l.y(), l.x());
        }
        refined.at<cv::Vec3f>(r, c) = acc * 0.2f;
      }
    }
    radiance = refined;
  }
  if (options.lens_blur_sigma_px > 0) cv::GaussianBlur(radiance, radiance, cv::Size(0, 0), options.lens_blur_sigma_px);
  if (options.motion_blur_px >= 1.0) {
    const int len = static_cast<int>(std::ceil(options.motion_blur_px)) | 1;
    cv::Mat kernel = cv::Mat::zeros(len, len, CV_32F);
    const double ca = std::cos(options.motion_blur_angle_rad), sa = std::sin(options.motion_blur_angle_rad);
    for (int i = 0; i < 4 * len; ++i) {
      const double t = (i / (4.0 * len - 1) - 0.5) * options.motion_blur_px;
      const int x = static_cast<int>(std::lround(len / 2 + t * ca)), y = static_cast<int>(std::lround(len / 2 + t * sa));
      if (x >= 0 && y >= 0 && x < len && y < len) kernel.at<float>(y, x) += 1.0f;
    }
    kernel /= cv::sum(kernel)[0];
    cv::filter2D(radiance, radiance, -1, kernel, cv::Point(-1, -1), 0, cv::BORDER_REFLECT);
  }
  cv::Mat out(h, w, CV_8UC3);
  const Vec3 gain = options.white_balance * options.exposure;
#pragma omp parallel for schedule(static)
  for (int r = 0; r < h; ++r) {
    Rng rng(options.noise_seed, static_cast<uint64_t>(r));
    for (int c = 0; c < w; ++c) {
      const cv::Vec3f l = radiance.at<cv::Vec3f>(r, c);
      double v = 1.0;
      if (options.vignetting > 0 && camera.IsPerspective()) {
        const double dx = (c - 0.5 * w) / (0.5 * w), dy = (r - 0.5 * h) / (0.5 * w);
        v = 1.0 - options.vignetting * (dx * dx + dy * dy) * 0.5;
      }
      cv::Vec3b& px = out.at<cv::Vec3b>(r, c);
      for (int ch = 0; ch < 3; ++ch) {  // BGR
        double value = 255.0 * ToneMap(l[ch] * gain[2 - ch] * v);
        if (options.noise_sigma > 0) value += 255.0 * options.noise_sigma * rng.Normal();
        px[ch] = cv::saturate_cast<uint8_t>(value);
      }
    }
  }
  return out;
}

}  // namespace armap::synth
