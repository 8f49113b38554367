// POIs from shop signs: text found in the panoramas, read with Tesseract
// (chi_sim+eng), placed in 3D from the lidar, merged across panoramas, named
// and categorised; GeoJSON.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/geo.h"
#include "core/json.h"
#include "mapping/lidar/lidar_map.h"
#include "mapping/products/products_input.h"
#include "mapping/products/whitemodel.h"

namespace armap::mapping {

struct PoiOptions {
  std::string tesseract_languages = "chi_sim+eng";
  std::filesystem::path tessdata_dir;  // empty: Tesseract's default
  absl::Status Validate() const;
};

struct Poi {
  int id = 0;
  std::string name;        // best reading (UTF-8)
  std::string name_en;     // English reading when the sign has one
  std::string category;    // e.g. "restaurant", "pharmacy"; "" when unknown
  double confidence = 0.0; // 0..1
  Eigen::Vector3d position = Eigen::Vector3d::Zero();  // map frame
  std::vector<std::string> panoramas;                  // that saw it
};

struct PoiSet {
  std::vector<Poi> pois;
  OrderedJson summary;  // counts and timings, goes into report.json "pois"
};

absl::StatusOr<PoiSet> DetectPois(const LidarMap& lidar, const ProductInputs& inputs,
                                  const WhiteModelLevel& buildings, const PoiOptions& options);

// DIR/pois.geojson (WGS84 Points; name, name_en, category, confidence,
// position_enu, panoramas).
absl::Status WritePois(const PoiSet& pois, const EnuFrame& frame, const std::filesystem::path& dir);
absl::StatusOr<PoiSet> ReadPois(const std::filesystem::path& pois_geojson, const EnuFrame& frame);

// `armap eval pois`. Contract keys: precision, recall, name_cer_median,
// position_err_median_m.
absl::StatusOr<OrderedJson> EvaluatePois(const std::filesystem::path& map_dir, const std::filesystem::path& gt);

}  // namespace armap::mapping
