#include "core/map/overview.h"

#include <filesystem>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

namespace armap::map {
namespace {

namespace fs = std::filesystem;

fs::path TempPng(const std::string& name) {
  return fs::temp_directory_path() / (name + "_" + std::to_string(::getpid()) + ".png");
}

TEST(OverviewTest, FramesEveryLayerAtTheRequestedScale) {
  OverviewLayers layers;
  for (int i = 0; i <= 100; ++i) {
    layers.ground_points.emplace_back(static_cast<float>(i), 0.0f);
    layers.ground_brightness.push_back(0.5f);
  }
  layers.footprints.push_back({{10, 10}, {30, 10}, {30, 40}, {10, 40}});
  layers.lines.push_back({{{0, 50}, {100, 50}}, {40, 160, 60}, 2});
  layers.markers.push_back({{50, 20}, "Cafe", {220, 30, 30}});
  OverviewOptions options;
  options.metres_per_pixel = 0.5;
  options.margin_m = 5;
  const fs::path path = TempPng("overview");
  ASSERT_TRUE(WriteOverviewPng(layers, options, path).ok());
  const cv::Mat img = cv::imread(path.string(), cv::IMREAD_COLOR);
  ASSERT_FALSE(img.empty());
  // x spans [-5, 105] m, y spans [-5, 55] m at 0.5 m per pixel.
  EXPECT_EQ(img.cols, 220);
  EXPECT_EQ(img.rows, 120);
  // The footprint centre (20, 25) m is filled (blue-ish: B > R).
  const cv::Vec3b inside = img.at<cv::Vec3b>(static_cast<int>((55 - 25) / 0.5), static_cast<int>((20 + 5) / 0.5));
  EXPECT_GT(inside[0], inside[2] + 30);
  // The ground line at y = 0 is grey, not white.
  const cv::Vec3b ground = img.at<cv::Vec3b>(static_cast<int>((55 - 0) / 0.5), static_cast<int>((70 + 5) / 0.5));
  EXPECT_LT(ground[1], 240);
  fs::remove(path);
}

TEST(OverviewTest, LaterDrawingsLandOnTheSamePixels) {
  OverviewLayers base;
  base.footprints.push_back({{0, 0}, {40, 0}, {40, 40}, {0, 40}});
  OverviewOptions options;
  options.metres_per_pixel = 0.5;
  options.margin_m = 5;
  const fs::path png = TempPng("overview_base"), drawn = TempPng("overview_drawn");
  OverviewFrame frame;
  ASSERT_TRUE(WriteOverviewPng(base, options, png, &frame).ok());
  EXPECT_DOUBLE_EQ(frame.min_x_m, -5);
  EXPECT_DOUBLE_EQ(frame.max_y_m, 45);
  auto round_trip = OverviewFrame::FromJson(Json::parse(frame.ToJson().dump()), "overview.json");
  ASSERT_TRUE(round_trip.ok());
  // A red route along y = 20 m drawn afterwards.
  OverviewLayers route;
  route.lines.push_back({{{10, 20}, {30, 20}}, {255, 0, 0}, 5});
  ASSERT_TRUE(DrawOnOverviewPng(png, *round_trip, route, drawn).ok());
  const cv::Mat img = cv::imread(drawn.string(), cv::IMREAD_COLOR);
  const cv::Vec3b on_route = img.at<cv::Vec3b>(static_cast<int>((45 - 20) / 0.5), static_cast<int>((20 + 5) / 0.5));
  EXPECT_GT(on_route[2], 200);  // red
  EXPECT_LT(on_route[0], 60);
  // A frame that does not fit the image is refused.
  OverviewFrame wrong = *round_trip;
  wrong.width_px += 1;
  EXPECT_EQ(DrawOnOverviewPng(png, wrong, route, drawn).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(OverviewFrame::FromJson(Json::parse("{}"), "overview.json").ok());
  fs::remove(png);
  fs::remove(drawn);
}

TEST(OverviewTest, RefusesEmptyLayersAndBadOptions) {
  EXPECT_EQ(WriteOverviewPng({}, {}, TempPng("empty")).code(), absl::StatusCode::kInvalidArgument);
  OverviewLayers layers;
  layers.markers.push_back({{0, 0}, "", {0, 0, 0}});
  OverviewOptions bad;
  bad.metres_per_pixel = 0;
  EXPECT_EQ(WriteOverviewPng(layers, bad, TempPng("bad")).code(), absl::StatusCode::kInvalidArgument);
  layers.ground_points.emplace_back(0.0f, 0.0f);  // brightness missing
  EXPECT_EQ(WriteOverviewPng(layers, {}, TempPng("bad")).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace armap::map
