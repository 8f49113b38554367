#include "core/map/overview.h"

#include <algorithm>
#include <cmath>

#include <Eigen/Geometry>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"
#include "core/files.h"

namespace armap::map {
namespace {

cv::Scalar Bgr(const std::array<uint8_t, 3>& rgb) { return cv::Scalar(rgb[2], rgb[1], rgb[0]); }

// A "nice" scale bar length (1, 2 or 5 times a power of ten) near target_m.
double NiceLength(double target_m) {
  const double p = std::pow(10.0, std::floor(std::log10(target_m)));
  for (double m : {5.0, 2.0, 1.0}) {
    if (m * p <= target_m) return m * p;
  }
  return p;
}

// Map frame -> pixel of an overview.
cv::Point Pixel(const OverviewFrame& f, const Eigen::Vector2d& p) {
  return cv::Point(static_cast<int>(std::lround((p.x() - f.min_x_m) / f.metres_per_pixel)),
                   static_cast<int>(std::lround((f.max_y_m - p.y()) / f.metres_per_pixel)));
}

void DrawLinesAndMarkers(const OverviewLayers& layers, const OverviewFrame& f, cv::Mat* img) {
  for (const auto& l : layers.lines) {
    std::vector<cv::Point> pts;
    for (const auto& p : l.points) pts.push_back(Pixel(f, p));
    if (pts.size() >= 2) cv::polylines(*img, pts, false, Bgr(l.rgb), std::max(1, l.width_px), cv::LINE_AA);
  }
  for (const auto& m : layers.markers) {
    const cv::Point q = Pixel(f, m.position);
    cv::circle(*img, q, 5, cv::Scalar(255, 255, 255), -1, cv::LINE_AA);
    cv::circle(*img, q, 4, Bgr(m.rgb), -1, cv::LINE_AA);
    if (!m.label.empty()) {
      cv::putText(*img, m.label, q + cv::Point(7, 4), cv::FONT_HERSHEY_SIMPLEX, 0.4, cv::Scalar(255, 255, 255), 3, cv::LINE_AA);
      cv::putText(*img, m.label, q + cv::Point(7, 4), cv::FONT_HERSHEY_SIMPLEX, 0.4, Bgr(m.rgb) * 0.6, 1, cv::LINE_AA);
    }
  }
}

absl::Status EncodePng(const cv::Mat& img, const std::filesystem::path& path) {
  std::vector<uchar> png;
  if (!cv::imencode(".png", img, png)) return absl::InternalError(absl::StrCat(path.string(), ": PNG encoding failed"));
  return WriteFileAtomic(path, std::string_view(reinterpret_cast<const char*>(png.data()), png.size()));
}

}  // namespace

OrderedJson OverviewFrame::ToJson() const {
  return OrderedJson{{"frame", "map (ENU metres); pixel (0, 0) corner at (min_x_m, max_y_m), x right = east, y down = south"},
                     {"min_x_m", min_x_m}, {"max_y_m", max_y_m}, {"metres_per_pixel", metres_per_pixel},
                     {"width_px", width_px}, {"height_px", height_px}};
}

absl::StatusOr<OverviewFrame> OverviewFrame::FromJson(const Json& json, const std::string& where) {
  OverviewFrame f;
  try {
    f.min_x_m = json.at("min_x_m").get<double>();
    f.max_y_m = json.at("max_y_m").get<double>();
    f.metres_per_pixel = json.at("metres_per_pixel").get<double>();
    f.width_px = json.at("width_px").get<int>();
    f.height_px = json.at("height_px").get<int>();
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": not an overview frame: ", e.what()));
  }
  if (!(f.metres_per_pixel > 0) || f.width_px <= 0 || f.height_px <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": metres_per_pixel and the size must be > 0"));
  }
  return f;
}

absl::Status DrawOnOverviewPng(const std::filesystem::path& overview_png, const OverviewFrame& frame,
                               const OverviewLayers& layers, const std::filesystem::path& out) {
  cv::Mat img = cv::imread(overview_png.string(), cv::IMREAD_COLOR);
  if (img.empty()) return absl::NotFoundError(absl::StrCat(overview_png.string(), ": cannot read the overview PNG"));
  if (img.cols != frame.width_px || img.rows != frame.height_px) {
    return absl::InvalidArgumentError(absl::StrCat(overview_png.string(), ": is ", img.cols, " x ", img.rows,
                                                   " px but its frame says ", frame.width_px, " x ", frame.height_px));
  }
  DrawLinesAndMarkers(layers, frame, &img);
  if (!layers.title.empty()) {
    cv::putText(img, layers.title, cv::Point(10, 40), cv::FONT_HERSHEY_SIMPLEX, 0.5, cv::Scalar(160, 60, 20), 1, cv::LINE_AA);
  }
  return EncodePng(img, out);
}

absl::Status OverviewOptions::Validate() const {
  if (!(metres_per_pixel > 0.001 && metres_per_pixel < 100)) {
    return absl::InvalidArgumentError(absl::StrCat("OverviewOptions::metres_per_pixel = ", metres_per_pixel, "; must be in (0.001, 100)"));
  }
  if (!(margin_m >= 0)) return absl::InvalidArgumentError("OverviewOptions::margin_m must be >= 0");
  if (max_side_px < 64 || max_side_px > 32768) return absl::InvalidArgumentError("OverviewOptions::max_side_px must be in [64, 32768]");
  return absl::OkStatus();
}

absl::Status WriteOverviewPng(const OverviewLayers& layers, const OverviewOptions& options,
                              const std::filesystem::path& path, OverviewFrame* frame_out) {
  if (absl::Status s = options.Validate(); !s.ok()) return s;
  if (layers.ground_brightness.size() != layers.ground_points.size()) {
    return absl::InvalidArgumentError("OverviewLayers: ground_brightness must have one value per ground point");
  }
  Eigen::AlignedBox2d box;
  for (const auto& p : layers.ground_points) box.extend(p.cast<double>());
  for (const auto& f : layers.footprints) for (const auto& p : f) box.extend(p);
  for (const auto& l : layers.lines) for (const auto& p : l.points) box.extend(p);
  for (const auto& m : layers.markers) box.extend(m.position);
  if (box.isEmpty()) return absl::InvalidArgumentError(absl::StrCat(path.string(), ": overview has nothing to draw"));
  box.extend(box.min() - Eigen::Vector2d::Constant(options.margin_m));
  box.extend(box.max() + Eigen::Vector2d::Constant(options.margin_m));
  const Eigen::Vector2d size_m = box.sizes();
  const double mpp = std::max(options.metres_per_pixel, size_m.maxCoeff() / options.max_side_px);
  const int width = std::max(64, static_cast<int>(std::ceil(size_m.x() / mpp)));
  const int height = std::max(64, static_cast<int>(std::ceil(size_m.y() / mpp)));
  const OverviewFrame frame{box.min().x(), box.max().y(), mpp, width, height};
  auto px = [&](const Eigen::Vector2d& p) { return Pixel(frame, p); };

  // Base: mean brightness of the ground points per pixel, unseen pixels white.
  cv::Mat sum(height, width, CV_32F, cv::Scalar(0)), count(height, width, CV_32F, cv::Scalar(0));
  for (size_t i = 0; i < layers.ground_points.size(); ++i) {
    const cv::Point q = px(layers.ground_points[i].cast<double>());
    if (q.x < 0 || q.y < 0 || q.x >= width || q.y >= height) continue;
    sum.at<float>(q) += std::clamp(layers.ground_brightness[i], 0.0f, 1.0f);
    count.at<float>(q) += 1;
  }
  cv::Mat base(height, width, CV_8UC3, cv::Scalar(255, 255, 255));
  for (int r = 0; r < height; ++r) {
    for (int c = 0; c < width; ++c) {
      const float n = count.at<float>(r, c);
      if (n > 0) {
        const auto v = static_cast<uint8_t>(110 + 120 * sum.at<float>(r, c) / n);
        base.at<cv::Vec3b>(r, c) = cv::Vec3b(v, v, v);
      }
    }
  }
  cv::Mat img = base.clone();
  // Footprints: translucent blue fill, dark outline.
  std::vector<std::vector<cv::Point>> polys;
  for (const auto& f : layers.footprints) {
    std::vector<cv::Point> poly;
    for (const auto& p : f) poly.push_back(px(p));
    if (poly.size() >= 3) polys.push_back(std::move(poly));
  }
  cv::Mat fill = img.clone();
  cv::fillPoly(fill, polys, cv::Scalar(200, 150, 90), cv::LINE_AA);
  cv::addWeighted(fill, 0.55, img, 0.45, 0, img);
  cv::polylines(img, polys, true, cv::Scalar(110, 60, 20), 2, cv::LINE_AA);
  DrawLinesAndMarkers(layers, frame, &img);
  // Scale bar (bottom left) and north arrow (top right).
  const double bar_m = NiceLength(0.25 * size_m.x());
  const int bar_px = static_cast<int>(std::lround(bar_m / mpp));
  const cv::Point bar0(15, height - 20), bar1(15 + bar_px, height - 20);
  cv::rectangle(img, bar0 + cv::Point(-5, -22), bar1 + cv::Point(5, 8), cv::Scalar(255, 255, 255), -1);
  cv::line(img, bar0, bar1, cv::Scalar(0, 0, 0), 3);
  cv::line(img, bar0, bar0 + cv::Point(0, -8), cv::Scalar(0, 0, 0), 2);
  cv::line(img, bar1, bar1 + cv::Point(0, -8), cv::Scalar(0, 0, 0), 2);
  cv::putText(img, absl::StrCat(bar_m, " m"), bar0 + cv::Point(2, -8), cv::FONT_HERSHEY_SIMPLEX, 0.45, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  const cv::Point tip(width - 25, 15), foot(width - 25, 55);
  cv::arrowedLine(img, foot, tip, cv::Scalar(0, 0, 0), 3, cv::LINE_AA, 0, 0.35);
  cv::putText(img, "N", foot + cv::Point(-6, 18), cv::FONT_HERSHEY_SIMPLEX, 0.55, cv::Scalar(0, 0, 0), 2, cv::LINE_AA);
  if (!layers.title.empty()) {
    cv::putText(img, layers.title, cv::Point(10, 20), cv::FONT_HERSHEY_SIMPLEX, 0.5, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  }
  if (frame_out != nullptr) *frame_out = frame;
  return EncodePng(img, path);
}

}  // namespace armap::map
