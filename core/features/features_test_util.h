// Helpers for the core/features tests: the lund_door photos (an ordered walk
// past a church door, see ../shared/datasets/lund_door_colmap/SOURCE.md)
// and OpenCV <-> ImageView glue. Not a public API.
#pragma once

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/features/extractor.h"

namespace armap::features::testing {

inline std::filesystem::path LundDoorImage(int index_1_based) {
  char name[32];
  std::snprintf(name, sizeof(name), "DSC_%04d.JPG", index_1_based);
  return std::filesystem::path(ARMAP_SHARED_DATASETS) / "lund_door_colmap" / "images" / name;
}

inline bool HaveLundDoor() { return std::filesystem::exists(LundDoorImage(1)); }

// Grayscale, optionally resized by `scale` (INTER_AREA).
inline cv::Mat LoadGray(const std::filesystem::path& path, double scale = 1.0) {
  cv::Mat gray = cv::imread(path.string(), cv::IMREAD_GRAYSCALE);
  if (!gray.empty() && scale != 1.0) {
    cv::Mat resized;
    cv::resize(gray, resized, cv::Size(), scale, scale, cv::INTER_AREA);
    return resized;
  }
  return gray;
}

inline ImageView ViewOf(const cv::Mat& mat) {
  ImageView view;
  view.data = mat.data;
  view.width = mat.cols;
  view.height = mat.rows;
  view.channels = mat.channels();
  view.stride_bytes = mat.step[0];
  return view;
}

inline double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace armap::features::testing
