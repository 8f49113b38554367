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
  // Read a Chinese line that the primary languages read with a character
  // under min_char_confidence (also as a raw line); empty: none. HanS is
  // Tesseract's script-level model for simplified Han (Debian
  // tesseract-ocr-script-hans).
  std::string tesseract_fallback_languages = "HanS";
  std::filesystem::path tessdata_dir;  // empty: Tesseract's default
  // Boards are looked for in the lidar: faces standing proud of a facade by
  // min_relief_m..max_relief_m (box signs, light boxes), between these
  // heights above the ground, this wide.
  double min_sign_height_m = 2.0;
  double max_sign_height_m = 7.0;
  double min_relief_m = 0.05;
  double max_relief_m = 0.25;
  double min_board_width_m = 1.2;
  double max_board_width_m = 8.0;
  // Panoramas that read a board: within this distance, seeing its face at
  // most this far off its normal; the best max_views_per_sign of them
  // (smallest foreshortened distance).
  double max_view_distance_m = 35.0;
  double max_view_angle_deg = 70.0;
  int max_views_per_sign = 6;
  // A view is not read when lidar points between it and the board hide
  // more than this share of the board's face.
  double max_occluded_fraction = 0.1;
  // Pixel size of the fronto-parallel crop of a board read by Tesseract.
  double rectified_resolution_m = 0.015;
  // A POI is kept when the confidence of its name (Tesseract's confidence,
  // weighted by the agreement of the views) reaches this.
  double min_confidence = 0.35;
  // ... and every character of a Chinese name has, in some view that agrees
  // with the name, a Tesseract symbol confidence of at least this. (Default
  // city: the 16 right names' least sure characters were 0.96-1.0, the 13
  // wrong ones' 0.65-0.89; a second seed agreed.)
  double min_char_confidence = 0.93;
  // ... and at least this when only one view reads the name (no second
  // view vouches for it; default city: single-view right names 0.967-0.99,
  // a wrong one 0.942).
  double min_char_confidence_single_view = 0.95;
  // When set, the rectified crops are written there (NAME_PANO.png).
  std::filesystem::path debug_dir;
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
// MAP's POIs are read from MAP/pois/pois.geojson (else MAP/pois.geojson or
// MAP/products/pois[/pois].geojson); GT is gt/ or gt/pois.geojson. Also
// reports the keys over all gt ("all_gt") and states its rules ("rules").
absl::StatusOr<OrderedJson> EvaluatePois(const std::filesystem::path& map_dir, const std::filesystem::path& gt);
// The figures of EvaluatePois as a markdown table.
std::string PoiEvalMarkdown(const OrderedJson& report);

}  // namespace armap::mapping
