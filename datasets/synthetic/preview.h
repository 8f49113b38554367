// A PNG contact sheet of a generated capture: top-down map, panoramas, query
// photos and a close-up of a shop sign, for a person to check at a glance.
#pragma once

#include <filesystem>

#include "absl/status/status.h"
#include "datasets/synthetic/city_model.h"
#include "datasets/synthetic/render.h"
#include "datasets/synthetic/scene.h"

namespace armap::synth {

absl::Status WritePreview(const City& city, const Renderer& renderer,
                          const std::filesystem::path& capture_dir, const std::filesystem::path& png_path);

// Top-down map of the city (ground classes, footprints, route, signs), `px` square.
cv::Mat DrawCityMap(const City& city, int px);

}  // namespace armap::synth
