#include "datasets/synthetic/appearance.h"

#include <algorithm>
#include <cmath>
#include <mutex>

#include <opencv2/freetype.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"
#include "core/logging.h"
#include "core/random.h"

namespace armap::synth {
namespace {

using Vec3 = Eigen::Vector3d;

constexpr int kPatchPx = 256;

double Hash01(uint64_t seed, int64_t x, int64_t y) {
  return static_cast<double>(HashCombine(seed, static_cast<uint64_t>(x) * 0x9E3779B1ull ^ static_cast<uint64_t>(y)) >> 11) *
         (1.0 / 9007199254740992.0);
}

double SmoothStep(double e0, double e1, double x) {
  const double t = std::clamp((x - e0) / (e1 - e0), 0.0, 1.0);
  return t * t * (3 - 2 * t);
}

// Coverage of the box [lo, hi] by a pixel footprint centred at x: a box
// filter in closed form, which antialiases window grids and markings.
double BoxCoverage(double x, double lo, double hi, double footprint) {
  const double w = std::max(footprint, 1e-6);
  const double a = std::clamp((x + 0.5 * w - lo) / w, 0.0, 1.0);
  const double b = std::clamp((x + 0.5 * w - hi) / w, 0.0, 1.0);
  return a - b;
}

// Coverage of a periodic box pattern: the part of each period [0, period)
// in [lo, hi]; blends to the mean fraction when the footprint spans a period.
double PeriodicCoverage(double x, double period, double lo, double hi, double footprint) {
  const double mean = (hi - lo) / period;
  if (footprint > period) return mean;
  const double local = x - period * std::floor(x / period);
  double c = BoxCoverage(local, lo, hi, footprint) + BoxCoverage(local, lo + period, hi + period, footprint) +
             BoxCoverage(local, lo - period, hi - period, footprint);
  const double blend = SmoothStep(0.5 * period, period, footprint);
  return (1 - blend) * c + blend * mean;
}

Vec3 Mix(const Vec3& a, const Vec3& b, double t) { return a + (b - a) * t; }

std::vector<std::filesystem::path> FindPhotos(const std::filesystem::path& root) {
  std::vector<std::filesystem::path> photos;
  std::error_code ec;
  if (root.empty() || !std::filesystem::is_directory(root, ec)) return photos;
  for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    const std::string path = it->path().string();
    std::string ext = it->path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
    // Masks and tiny icons are not photographs.
    if ((ext == ".jpg" || ext == ".jpeg") && path.find("mask") == std::string::npos &&
        it->file_size() > 100 * 1024) {
      photos.push_back(it->path());
    }
  }
  std::sort(photos.begin(), photos.end());
  return photos;
}

void BuildMips(const cv::Mat& base, std::vector<cv::Mat>* levels) {
  levels->push_back(base);
  while (levels->back().cols > 4) {
    cv::Mat down;
    cv::pyrDown(levels->back(), down);
    levels->push_back(down);
  }
}

}  // namespace

double ValueNoise(uint64_t seed, double x, double y) {
  const double fx = std::floor(x), fy = std::floor(y);
  const int64_t ix = static_cast<int64_t>(fx), iy = static_cast<int64_t>(fy);
  const double tx = x - fx, ty = y - fy;
  const double sx = tx * tx * (3 - 2 * tx), sy = ty * ty * (3 - 2 * ty);
  const double a = Hash01(seed, ix, iy), b = Hash01(seed, ix + 1, iy);
  const double c = Hash01(seed, ix, iy + 1), d = Hash01(seed, ix + 1, iy + 1);
  return (a + (b - a) * sx) + ((c + (d - c) * sx) - (a + (b - a) * sx)) * sy;
}

double Fbm(uint64_t seed, double x, double y, int octaves) {
  double sum = 0, amp = 0.5, norm = 0;
  for (int o = 0; o < octaves; ++o) {
    sum += amp * ValueNoise(seed + o, x, y);
    norm += amp;
    x *= 2.03;
    y *= 2.03;
    amp *= 0.5;
  }
  return sum / norm;
}

PhotoPatchLibrary PhotoPatchLibrary::FromPatches(const std::vector<cv::Mat>& patches) {
  PhotoPatchLibrary lib;
  for (const cv::Mat& patch : patches) {
    lib.levels_.emplace_back();
    BuildMips(patch, &lib.levels_.back());
  }
  return lib;
}

PhotoPatchLibrary PhotoPatchLibrary::Create(const std::filesystem::path& photo_root, uint64_t seed, int num_patches,
                                            int max_images) {
  PhotoPatchLibrary lib;
  Rng rng(seed, 77);
  std::vector<std::filesystem::path> photos = FindPhotos(photo_root);
  // Choose a seed-dependent subset to bound load time.
  for (size_t i = photos.size(); i > 1; --i) std::swap(photos[i - 1], photos[rng.UniformInt(0, static_cast<int>(i) - 1)]);
  if (static_cast<int>(photos.size()) > max_images) photos.resize(max_images);
  std::vector<cv::Mat> images;
  for (const auto& path : photos) {
    cv::Mat img = cv::imread(path.string(), cv::IMREAD_REDUCED_COLOR_2);
    if (img.empty() || img.cols < 200 || img.rows < 200) continue;
    images.push_back(img);
    lib.sources_.push_back(path.filename().string());
  }
  lib.from_photos_ = !images.empty();
  if (!lib.from_photos_) {
    ARMAP_LOG_WARN("no photographs found under '{}': facade detail falls back to procedural noise (less realistic)",
                   photo_root.string());
  }
  for (int p = 0; p < num_patches; ++p) {
    cv::Mat patch(kPatchPx, kPatchPx, CV_32FC3);
    if (lib.from_photos_) {
      const cv::Mat& img = images[rng.UniformInt(0, static_cast<int>(images.size()) - 1)];
      const int side = static_cast<int>(std::min(img.cols, img.rows) * rng.Uniform(0.2, 0.45));
      const int x = rng.UniformInt(0, img.cols - side), y = rng.UniformInt(0, img.rows - side);
      cv::Mat crop;
      cv::resize(img(cv::Rect(x, y, side, side)), crop, cv::Size(kPatchPx, kPatchPx), 0, 0, cv::INTER_AREA);
      crop.convertTo(crop, CV_32FC3, 1.0 / 255.0);
      cv::pow(crop, 2.2, crop);  // sRGB -> linear (approximately)
      // Divide out the low frequencies (illumination, large objects) to keep
      // the photo's fine structure as a multiplicative detail map.
      cv::Mat low;
      cv::GaussianBlur(crop, low, cv::Size(0, 0), 24.0);
      cv::Mat detail = crop / (low + cv::Scalar::all(0.02));
      // Keep mostly luminance detail: the facade palette sets the colour.
      cv::Mat gray;
      cv::cvtColor(detail, gray, cv::COLOR_BGR2GRAY);
      cv::Mat gray3;
      cv::cvtColor(gray, gray3, cv::COLOR_GRAY2BGR);
      cv::addWeighted(gray3, 0.75, detail, 0.25, 0.0, detail);
      // Normalise the contrast: a wrought-iron door and a plaster wall must
      // both become plausible material detail (std 0.33 around 1.0).
      cv::Scalar mean, stddev;
      cv::meanStdDev(gray, mean, stddev);
      const double gain = 0.33 / std::max(0.02, stddev[0]);
      detail = (detail - cv::Scalar::all(mean[0])) * gain + cv::Scalar::all(1.0);
      cv::min(cv::max(detail, 0.3), 2.0, patch);
    } else {
      for (int r = 0; r < kPatchPx; ++r) {
        for (int c = 0; c < kPatchPx; ++c) {
          const float v = static_cast<float>(0.55 + 0.9 * Fbm(seed + p * 13, c / 16.0, r / 16.0, 5));
          patch.at<cv::Vec3f>(r, c) = cv::Vec3f(v, v, v);
        }
      }
    }
    lib.levels_.emplace_back();
    BuildMips(patch, &lib.levels_.back());
  }
  return lib;
}

Vec3 PhotoPatchLibrary::Sample(int patch, double u, double v, double footprint) const {
  const auto& mips = levels_[static_cast<size_t>(patch) % levels_.size()];
  const double footprint_px = std::max(1.0, footprint * kPatchPx);
  const int level = std::min(static_cast<int>(mips.size()) - 1, static_cast<int>(std::log2(footprint_px)));
  const cv::Mat& img = mips[level];
  const int n = img.cols;
  // pyrDown centres texel j of a level on texel 2j of the level above, so
  // level L's texel j holds the detail at level-0 texel 2^L j, not at
  // 2^L (j + 0.5) - 0.5: reading it at u * n - 0.5 shifted every feature by
  // (2^L - 1) / 2 level-0 texels towards +u, +v (a quarter to half an image
  // pixel, varying with distance). Texel j's detail sits at u = (j + 0.5 * n / n0) / n.
  const double texel_centre = 0.5 * n / mips[0].cols;
  // Mirrored repeat about the patch's edges (u = 0, 1): no seams where tiles
  // meet. Mirroring the texel index instead (x -> 2n - x) put every
  // mirrored tile one texel of the level off, again a shift with distance.
  auto mirror = [](double t) {
    const double m = t - 2.0 * std::floor(0.5 * t);  // [0, 2)
    return m < 1.0 ? m : 2.0 - m;                    // [0, 1]
  };
  const double x = mirror(u) * n - texel_centre, y = mirror(v) * n - texel_centre;  // [-0.5, n - 0.5]
  const double xf = std::floor(x), yf = std::floor(y);
  const int x0 = std::clamp(static_cast<int>(xf), 0, n - 1), x1 = std::clamp(static_cast<int>(xf) + 1, 0, n - 1);
  const int y0 = std::clamp(static_cast<int>(yf), 0, n - 1), y1 = std::clamp(static_cast<int>(yf) + 1, 0, n - 1);
  const double fx = x - xf, fy = y - yf;
  const cv::Vec3f a = img.at<cv::Vec3f>(y0, x0), b = img.at<cv::Vec3f>(y0, x1);
  const cv::Vec3f c = img.at<cv::Vec3f>(y1, x0), d = img.at<cv::Vec3f>(y1, x1);
  const cv::Vec3f top = a * (1 - fx) + b * fx, bottom = c * (1 - fx) + d * fx;
  const cv::Vec3f m = top * (1 - fy) + bottom * fy;
  return Vec3(m[2], m[1], m[0]);  // BGR -> RGB
}

Vec3 PhotoPatchLibrary::SampleAperiodic(uint64_t seed, int patch, double u, double v, double footprint) const {
  // Cells are centred on integer (u, v); each pixel blends the 4 nearest.
  const double cu = u - 0.5, cv = v - 0.5;
  const double fu = std::floor(cu), fv = std::floor(cv);
  const double tu = SmoothStep(0.0, 1.0, cu - fu), tv = SmoothStep(0.0, 1.0, cv - fv);
  Vec3 sum = Vec3::Zero();
  double sum_w2 = 0.0;
  for (int du = 0; du <= 1; ++du) {
    for (int dv = 0; dv <= 1; ++dv) {
      const double w = (du ? tu : 1 - tu) * (dv ? tv : 1 - tv);
      if (w < 1e-4) continue;
      const int64_t iu = static_cast<int64_t>(fu) + du, iv = static_cast<int64_t>(fv) + dv;
      const double ou = Hash01(seed, iu, iv) * 7.31, ov = Hash01(seed + 1, iu, iv) * 5.17;
      sum += w * (Sample(patch, u + ou, v + ov, footprint) - Vec3::Ones());
      sum_w2 += w * w;
    }
  }
  // Blending independent samples averages contrast away; rescale by the
  // weights' norm to keep the detail's variance.
  return Vec3::Ones() + sum / std::sqrt(std::max(sum_w2, 1e-6));
}

absl::StatusOr<cv::Mat> DrawSign(const Sign& sign, int pixels_per_m) {
  static const char* kFonts[] = {"/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
                                 "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
                                 "/usr/share/fonts/opentype/noto/NotoSerifCJK-Bold.ttc"};
  static std::mutex mutex;  // FreeType faces are not thread-safe
  static cv::Ptr<cv::freetype::FreeType2> font;
  std::lock_guard<std::mutex> lock(mutex);
  if (!font) {
    for (const char* path : kFonts) {
      if (!std::filesystem::exists(path)) continue;
      font = cv::freetype::createFreeType2();
      font->loadFontData(path, 0);
      break;
    }
    if (!font) {
      return absl::FailedPreconditionError(
          "no CJK font found (looked for Noto Sans CJK under /usr/share/fonts/opentype/noto); install fonts-noto-cjk");
    }
  }
  const int w = std::max(32, static_cast<int>(sign.width_m * pixels_per_m));
  const int h = std::max(12, static_cast<int>(sign.height_m * pixels_per_m));
  auto bgr = [](const Vec3& rgb) { return cv::Scalar(rgb.z() * 255, rgb.y() * 255, rgb.x() * 255); };
  cv::Mat img(h, w, CV_8UC3, bgr(sign.background_rgb));
  cv::rectangle(img, cv::Rect(0, 0, w, h), bgr(sign.text_rgb * 0.8 + sign.background_rgb * 0.2), std::max(2, h / 30));
  auto draw_fitted = [&](const std::string& text, double max_height_px, double centre_y) {
    int height = static_cast<int>(max_height_px);
    int baseline = 0;
    cv::Size size = font->getTextSize(text, height, -1, &baseline);
    if (size.width > 0.9 * w) {
      height = static_cast<int>(height * 0.9 * w / size.width);
      size = font->getTextSize(text, height, -1, &baseline);
    }
    const cv::Point origin((w - size.width) / 2, static_cast<int>(centre_y + size.height / 2.0));
    font->putText(img, text, origin, height, bgr(sign.text_rgb), -1, cv::LINE_AA, true);
  };
  draw_fitted(sign.name_zh, 0.55 * h, 0.38 * h);
  draw_fitted(sign.name_en, 0.2 * h, 0.8 * h);
  return img;
}

absl::StatusOr<std::unique_ptr<Appearance>> Appearance::Create(const Scene& scene,
                                                               const std::filesystem::path& photo_root) {
  std::unique_ptr<Appearance> a(new Appearance(scene));
  a->patches_ = PhotoPatchLibrary::Create(photo_root, scene.city().options.seed, 48, 14);
  for (const Sign& sign : scene.city().signs) {
    auto img = DrawSign(sign, 120);
    if (!img.ok()) return img.status();
    cv::Mat linear;
    img->convertTo(linear, CV_32FC3, 1.0 / 255.0);
    cv::pow(linear, 2.2, linear);
    a->sign_textures_.push_back(linear);
  }
  return a;
}

Vec3 Appearance::Sky(const Vec3& d) const {
  const double elevation = std::max(0.0, d.z());
  const Vec3 horizon(0.80, 0.86, 0.93), zenith(0.28, 0.47, 0.80);
  Vec3 sky = Mix(horizon, zenith, std::pow(elevation, 0.6));
  if (d.z() < 0) sky = Mix(horizon, Vec3(0.4, 0.4, 0.4), std::min(1.0, -d.z() * 4));
  // Clouds: fractal noise on the sky dome, thicker near the horizon.
  const double s = 1.0 / std::max(0.08, d.z() + 0.05);
  const double cloud = SmoothStep(0.35, 0.85, Fbm(scene_.city().options.seed * 31 + 7, d.x() * s * 1.5, d.y() * s * 1.5, 6));
  sky = Mix(sky, Vec3(0.95, 0.95, 0.97), 0.85 * cloud);
  const double sun = std::max(0.0, d.dot(scene_.city().sun_direction));
  sky += Vec3(1.0, 0.9, 0.7) * (0.35 * std::pow(sun, 8) + 6.0 * std::pow(sun, 800));
  return sky;
}

SurfaceSample Appearance::Facade(const Building& b, const Surface& s, const Vec3& p, double fp) const {
  const FacadeStyle& st = b.style;
  const uint64_t seed = HashCombine(scene_.city().options.seed, 1000 + b.id);
  const double u = (p - s.origin).dot(s.u_axis);
  const double z = p.z();
  SurfaceSample out;
  // Wall: palette colour x real-photo detail x large-scale weathering.
  const double tu = (u + 97.0 * (seed % 101)) / st.texture_scale_m, tv = z / st.texture_scale_m;
  const Vec3 detail = patches_.SampleAperiodic(seed, st.material_patch, tu, tv, fp / st.texture_scale_m);
  const double stains = 1.0 - st.weathering * 0.35 * SmoothStep(0.45, 0.9, Fbm(seed, u * 0.35, z * 0.06, 4));
  const double blotches = 0.88 + 0.24 * Fbm(seed + 9, u * 0.12, z * 0.12, 3);
  Vec3 wall = st.base_rgb.cwiseProduct(detail) * stains * blotches;
  // Darker base course and a parapet band.
  if (z < 0.6) wall *= 0.7;
  out.albedo = wall;
  out.intensity = std::clamp(wall.mean() * 0.9, 0.05, 1.0);

  // Ground floor: shop fronts (large glazing, a door per bay).
  const double bay = st.window_spacing_m * (z < st.ground_floor_height_m ? 2.0 : 1.0);
  const int bay_index = static_cast<int>(std::floor(u / bay));
  const double lu = u - bay_index * bay;
  double wx0, wx1, wz0, wz1;
  int level;
  double lz;
  if (z < st.ground_floor_height_m) {
    level = -1;
    lz = z;
    wx0 = 0.12 * bay;
    wx1 = 0.88 * bay;
    wz0 = 0.15;
    wz1 = st.ground_floor_height_m - 1.4;  // leave room for the sign band
  } else {
    level = static_cast<int>(std::floor((z - st.ground_floor_height_m) / st.floor_height_m));
    lz = z - st.ground_floor_height_m - level * st.floor_height_m;
    wx0 = 0.5 * bay * (1 - st.window_width_frac);
    wx1 = bay - wx0;
    wz0 = 0.5 * st.floor_height_m * (1 - st.window_height_frac) + 0.2;
    wz1 = wz0 + st.floor_height_m * st.window_height_frac;
  }
  // Windows stop below the roof line of the part this wall belongs to.
  const double roof_clear = b.height_m - z;
  if (roof_clear < 1.0 && level >= 0) return out;
  const double cover = BoxCoverage(lu, wx0, wx1, fp) * BoxCoverage(lz, wz0, wz1, fp);
  const double frame = BoxCoverage(lu, wx0 - 0.1, wx1 + 0.1, fp) * BoxCoverage(lz, wz0 - 0.1, wz1 + 0.12, fp) - cover;
  if (cover + frame <= 1e-3) {
    // Horizontal floor bands between storeys.
    if (level >= 0 && lz > st.floor_height_m - 0.25) out.albedo = wall * 0.82;
    return out;
  }
  const uint64_t win = HashCombine(seed, static_cast<uint64_t>((bay_index + 5000) * 7919 + (level + 10)));
  const double r = Hash01(win, 1, 2);
  Vec3 interior;
  if (level < 0) {
    // Lit shop interior: soft clutter of goods in a per-shop tint.
    const Vec3 tint(0.6 + 0.4 * Hash01(win, 11, 1), 0.6 + 0.4 * Hash01(win, 12, 1), 0.6 + 0.4 * Hash01(win, 13, 1));
    const double clutter = Fbm(win, lu * 3.0, lz * 3.0, 4);
    interior = tint * (0.12 + 0.35 * r) * (0.4 + 1.2 * clutter);
  } else if (r < 0.35) {
    interior = Vec3(0.03, 0.03, 0.035);  // dark room
  } else if (r < 0.75) {
    const double c = Hash01(win, 3, 4);
    interior = Vec3(0.35 + 0.3 * c, 0.33 + 0.2 * c, 0.28) * (0.5 + 0.5 * Hash01(win, 5, 6));  // curtains
    // Curtain folds.
    interior *= 0.8 + 0.2 * std::sin(lu * 14.0 + 6 * Hash01(win, 7, 8));
  } else {
    interior = Vec3(0.12, 0.11, 0.1);  // blinds
    interior *= 0.75 + 0.25 * (std::fmod(lz * 12.0, 1.0) < 0.5 ? 1.0 : 0.0);
  }
  const Vec3 glass = st.glass_rgb.cwiseProduct(Vec3(1, 1, 1)) * 0.5 + interior.cwiseProduct(Vec3(0.7, 0.75, 0.8));
  out.albedo = wall * std::max(0.0, 1.0 - cover - frame) + st.frame_rgb * frame + glass * cover;
  if (cover > 0.5) {
    out.glass = true;
    out.reflectivity = level < 0 ? 0.12 : st.curtain_wall ? 0.55 : 0.3;
  }
  return out;
}

SurfaceSample Appearance::Ground(const Vec3& p, double fp) const {
  const City& city = scene_.city();
  const uint64_t seed = HashCombine(city.options.seed, 77777);
  const Eigen::Vector2d xy = p.head<2>();
  SurfaceSample out;
  // Fine grain (1 m per patch) plus a coarser layer (4 m) from another photo.
  const Vec3 fine = patches_.SampleAperiodic(seed, 3, xy.x(), xy.y(), fp);
  const Vec3 coarse = patches_.SampleAperiodic(seed + 5, 4, xy.x() / 4.0, xy.y() / 4.0, fp / 4.0);
  const double grain = 1.0 + 0.85 * (fine.mean() - 1.0) + 0.35 * (coarse.mean() - 1.0);
  const double patches = 0.85 + 0.3 * Fbm(seed, xy.x() * 0.08, xy.y() * 0.08, 4);
  const City::Ground kind = city.GroundAt(xy);
  const Street* street = city.StreetAt(xy);
  double along = 0, across = 0;
  if (street) {
    along = street->along_x ? xy.x() : xy.y();
    across = (street->along_x ? xy.y() : xy.x()) - street->position_m;
  }
  switch (kind) {
    case City::Ground::kRoad:
    case City::Ground::kCrossing: {
      Vec3 asphalt = Vec3(0.13, 0.13, 0.135) * grain * patches;
      double paint = 0;
      if (kind == City::Ground::kCrossing) {
        paint = PeriodicCoverage(across, 1.0, 0.0, 0.5, fp);
      } else {
        // Is this inside the junction box (on both carriageways)? No markings there.
        bool junction = false;
        for (const Street& o : city.streets) {
          if (o.along_x != street->along_x &&
              std::abs((o.along_x ? xy.y() : xy.x()) - o.position_m) < o.road_half_width_m + o.sidewalk_width_m) {
            junction = true;
          }
        }
        if (!junction) {
          paint += BoxCoverage(across, -0.08, 0.08, fp) * PeriodicCoverage(along, 9.0, 0.0, 4.5, fp);
          const double hw = street->road_half_width_m;
          paint += BoxCoverage(std::abs(across), hw - 0.45, hw - 0.3, fp);
        }
      }
      paint = std::min(1.0, paint) * (0.75 + 0.25 * Fbm(seed + 3, xy.x() * 2, xy.y() * 2, 3));  // worn paint
      out.albedo = Mix(asphalt, Vec3(0.75, 0.75, 0.72), paint);
      out.intensity = 0.08 + 0.6 * paint;
      return out;
    }
    case City::Ground::kSidewalk: {
      const double d = std::abs(across) - street->road_half_width_m;
      if (d < 0.2) {
        out.albedo = Vec3(0.5, 0.5, 0.48) * grain;  // kerb stones
        out.intensity = 0.35;
        return out;
      }
      const double tile = 0.5;
      const int64_t ta = static_cast<int64_t>(std::floor(along / tile)), tb = static_cast<int64_t>(std::floor(across / tile));
      const double joint = 1.0 - 0.5 * (PeriodicCoverage(along, tile, 0, 0.02, fp) + PeriodicCoverage(across, tile, 0, 0.02, fp));
      const Vec3 base = street->id % 2 ? Vec3(0.42, 0.3, 0.26) : Vec3(0.45, 0.44, 0.42);
      const double tile_var = fp < tile ? 0.85 + 0.3 * Hash01(seed + street->id, ta, tb) : 1.0;
      out.albedo = base * tile_var * joint * grain * patches;
      out.intensity = 0.3;
      return out;
    }
    case City::Ground::kLot: {
      const double grass = SmoothStep(0.55, 0.62, Fbm(seed + 11, xy.x() * 0.05, xy.y() * 0.05, 3));
      const Vec3 paving = Vec3(0.5, 0.48, 0.44) * (1.0 - 0.3 * PeriodicCoverage(xy.x(), 1.2, 0, 0.03, fp)) *
                          (1.0 - 0.3 * PeriodicCoverage(xy.y(), 1.2, 0, 0.03, fp));
      const Vec3 lawn = Vec3(0.12, 0.22, 0.07) * (0.7 + 0.6 * Fbm(seed + 12, xy.x() * 3, xy.y() * 3, 3));
      out.albedo = Mix(paving, lawn, grass) * grain * patches;
      out.intensity = 0.25;
      return out;
    }
  }
  return out;
}

SurfaceSample Appearance::Evaluate(const SceneHit& hit, double fp, const ExtraGeometry* extra) const {
  SurfaceSample out;
  if (hit.kind == SurfaceKind::kGround) return Ground(hit.point, fp);
  const Surface& s = hit.surface >= 0 ? scene_.surface(hit.surface) : extra->surfaces[-2 - hit.surface];
  const uint64_t seed = scene_.city().options.seed;
  switch (s.kind) {
    case SurfaceKind::kFacade:
      return Facade(scene_.city().buildings[s.object], s, hit.point, fp);
    case SurfaceKind::kRoof: {
      const Vec3 d = patches_.SampleAperiodic(seed + s.object, 7 + s.object, hit.point.x() / 4.0, hit.point.y() / 4.0, fp / 4.0);
      out.albedo = Vec3(0.42, 0.41, 0.4).cwiseProduct(d) * (0.8 + 0.4 * Fbm(seed + s.object, hit.point.x() * 0.2, hit.point.y() * 0.2, 3));
      out.intensity = 0.35;
      return out;
    }
    case SurfaceKind::kSign: {
      const cv::Mat& tex = sign_textures_[s.object];
      const Sign& sign = scene_.city().signs[s.object];
      const double u = (hit.point - s.origin).dot(s.u_axis) / sign.width_m;
      const double v = 1.0 - (hit.point.z() - s.origin.z()) / sign.height_m;
      const int x = std::clamp(static_cast<int>(u * tex.cols), 0, tex.cols - 1);
      const int y = std::clamp(static_cast<int>(v * tex.rows), 0, tex.rows - 1);
      // Box-filter the texture over the footprint (signs are seen from afar).
      const int radius = std::clamp(static_cast<int>(0.5 * fp * tex.cols / sign.width_m), 0, 8);
      cv::Vec3f acc(0, 0, 0);
      int n = 0;
      for (int dy = -radius; dy <= radius; dy += std::max(1, radius / 2)) {
        for (int dx = -radius; dx <= radius; dx += std::max(1, radius / 2)) {
          acc += tex.at<cv::Vec3f>(std::clamp(y + dy, 0, tex.rows - 1), std::clamp(x + dx, 0, tex.cols - 1));
          ++n;
        }
      }
      acc *= 1.0f / n;
      out.albedo = Vec3(acc[2], acc[1], acc[0]);
      out.intensity = 0.6;
      return out;
    }
    case SurfaceKind::kCrown: {
      const Vec3& q = hit.point;
      const double leaves = Fbm(seed + 500 + s.object, q.x() * 3 + q.z() * 2, q.y() * 3 - q.z() * 2, 4);
      out.albedo = s.rgb * (0.35 + 1.3 * leaves);
      out.intensity = 0.4;
      return out;
    }
    case SurfaceKind::kCarGlass:
      out.albedo = s.rgb;
      out.glass = true;
      out.reflectivity = 0.35;
      return out;
    case SurfaceKind::kPanel:
      // A plain hoarding: almost uniform, as a blank wall at arm's length is.
      out.albedo = s.rgb * (0.97 + 0.06 * ValueNoise(seed, hit.point.x() * 0.7, hit.point.z() * 0.7));
      out.intensity = 0.5;
      return out;
    default:
      out.albedo = s.rgb * (0.85 + 0.3 * Fbm(seed + 900 + s.object, hit.point.x() * 2 + hit.point.z(), hit.point.y() * 2, 2));
      out.intensity = std::clamp(s.rgb.mean(), 0.1, 0.9);
      return out;
  }
}

}  // namespace armap::synth
