#include "datasets/synthetic/preview.h"

#include <algorithm>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace armap::synth {
namespace {

void Label(cv::Mat& img, const std::string& text, cv::Point at) {
  cv::putText(img, text, at, cv::FONT_HERSHEY_SIMPLEX, 0.6, cv::Scalar(0, 0, 0), 3, cv::LINE_AA);
  cv::putText(img, text, at, cv::FONT_HERSHEY_SIMPLEX, 0.6, cv::Scalar(255, 255, 255), 1, cv::LINE_AA);
}

void Paste(cv::Mat& canvas, const cv::Mat& img, int x, int y, int w, int h, const std::string& label) {
  if (img.empty()) return;
  cv::Mat resized;
  cv::resize(img, resized, cv::Size(w, h), 0, 0, cv::INTER_AREA);
  resized.copyTo(canvas(cv::Rect(x, y, w, h)));
  Label(canvas, label, cv::Point(x + 8, y + 22));
}

}  // namespace

cv::Mat DrawCityMap(const City& city, int px) {
  cv::Mat map(px, px, CV_8UC3);
  const double half = city.half_size_m;
  auto to_px = [&](const Eigen::Vector2d& p) {
    return cv::Point(static_cast<int>((p.x() + half) / (2 * half) * px), static_cast<int>((half - p.y()) / (2 * half) * px));
  };
  for (int r = 0; r < px; ++r) {
    for (int c = 0; c < px; ++c) {
      const Eigen::Vector2d p(-half + (c + 0.5) * 2 * half / px, half - (r + 0.5) * 2 * half / px);
      cv::Vec3b color;
      switch (city.GroundAt(p)) {
        case City::Ground::kRoad: color = {70, 70, 70}; break;
        case City::Ground::kCrossing: color = {200, 200, 200}; break;
        case City::Ground::kSidewalk: color = {150, 160, 175}; break;
        case City::Ground::kLot: color = {190, 205, 195}; break;
      }
      map.at<cv::Vec3b>(r, c) = color;
    }
  }
  for (const Building& b : city.buildings) {
    for (const BuildingPart& part : b.parts) {
      std::vector<cv::Point> poly;
      for (const auto& p : part.polygon) poly.push_back(to_px(p));
      const int shade = 230 - static_cast<int>(std::min(120.0, part.top_m) * 1.2);
      cv::fillConvexPoly(map, poly, cv::Scalar(shade, shade - 10, shade - 25), cv::LINE_AA);
    }
    std::vector<cv::Point> outline;
    for (const auto& p : b.footprint) outline.push_back(to_px(p));
    cv::polylines(map, std::vector<std::vector<cv::Point>>{outline}, true, cv::Scalar(40, 40, 40), 1, cv::LINE_AA);
  }
  for (const WalkEdge& e : city.walk_edges) {
    cv::line(map, to_px(city.walk_nodes[e.from].position), to_px(city.walk_nodes[e.to].position),
             e.kind == "crossing" ? cv::Scalar(0, 160, 255) : cv::Scalar(0, 200, 0), 1, cv::LINE_AA);
  }
  std::vector<cv::Point> route;
  for (const auto& p : city.route.points) route.push_back(to_px(p));
  cv::polylines(map, std::vector<std::vector<cv::Point>>{route}, city.route.closed, cv::Scalar(255, 80, 0), 2, cv::LINE_AA);
  for (const Sign& s : city.signs) cv::circle(map, to_px(s.centre.head<2>()), 3, cv::Scalar(0, 0, 230), -1, cv::LINE_AA);
  // Scale bar (50 m) and north arrow.
  const int bar = static_cast<int>(50.0 / (2 * half) * px);
  cv::line(map, cv::Point(12, px - 14), cv::Point(12 + bar, px - 14), cv::Scalar(0, 0, 0), 3);
  cv::putText(map, "50 m", cv::Point(14, px - 20), cv::FONT_HERSHEY_SIMPLEX, 0.45, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  cv::arrowedLine(map, cv::Point(px - 20, 50), cv::Point(px - 20, 14), cv::Scalar(0, 0, 0), 2, cv::LINE_AA, 0, 0.3);
  cv::putText(map, "N", cv::Point(px - 26, 66), cv::FONT_HERSHEY_SIMPLEX, 0.5, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  return map;
}

absl::Status WritePreview(const City& city, const Renderer& renderer,
                          const std::filesystem::path& capture_dir, const std::filesystem::path& png_path) {
  const int W = 2048;
  cv::Mat canvas(512 + 384 + 512 + 384, W, CV_8UC3, cv::Scalar(30, 30, 30));
  // Row 1: map, first panorama, a sign close-up.
  Paste(canvas, DrawCityMap(city, 512), 0, 0, 512, 512, "map: route (blue), walk network, signs (red)");
  std::vector<std::filesystem::path> panos, queries;
  for (const auto& e : std::filesystem::directory_iterator(capture_dir / "panos")) panos.push_back(e.path());
  for (const auto& e : std::filesystem::directory_iterator(capture_dir / "queries")) queries.push_back(e.path());
  std::sort(panos.begin(), panos.end());
  std::sort(queries.begin(), queries.end());
  if (!panos.empty()) Paste(canvas, cv::imread(panos[0].string()), 512, 0, 1024, 512, panos[0].filename().string());
  if (!city.signs.empty()) {
    // Stand on the sidewalk 7 m in front of a sign, 1.6 m high, and look at it.
    const Sign& s = city.signs[city.signs.size() / 2];
    const Eigen::Vector3d eye = s.centre + s.outward * 7.0 - Eigen::Vector3d(0, 0, s.centre.z() - 1.6);
    const Eigen::Vector3d f = (s.centre - eye).normalized();
    const Eigen::Vector3d right = f.cross(Eigen::Vector3d::UnitZ()).normalized(), down = f.cross(right);
    Eigen::Matrix3d world_r_cam;
    world_r_cam << right, down, f;
    const Camera cam = Camera::Pinhole(512, 384, 500, 500, 255.5, 191.5);
    RenderOptions ro;
    const cv::Mat closeup = renderer.Render(cam, Rigid3d(Eigen::Quaterniond(world_r_cam), eye).Inverse(), ro);
    Paste(canvas, closeup, 1536, 0, 512, 384, absl::StrCat("sign: ", s.name_en));
  }
  // Row 2: four queries.
  for (int k = 0; k < 4 && k < static_cast<int>(queries.size()); ++k) {
    const auto& q = queries[k * std::max<size_t>(1, queries.size() / 4)];
    Paste(canvas, cv::imread(q.string()), k * 512, 512, 512, 384, q.filename().string());
  }
  // Row 3: two more panoramas.
  for (int k = 0; k < 2 && panos.size() > 1; ++k) {
    const auto& p = panos[(k + 1) * panos.size() / 3];
    Paste(canvas, cv::imread(p.string()), k * 1024, 896, 1024, 512, p.filename().string());
  }
  // Row 4: four more queries.
  for (int k = 0; k < 4 && static_cast<int>(queries.size()) > 4; ++k) {
    const auto& q = queries[(k * queries.size() / 4 + queries.size() / 8) % queries.size()];
    Paste(canvas, cv::imread(q.string()), k * 512, 1408, 512, 384, q.filename().string());
  }
  if (!cv::imwrite(png_path.string(), canvas)) return absl::DataLossError(absl::StrCat(png_path.string(), ": cannot write PNG"));
  return absl::OkStatus();
}

}  // namespace armap::synth
