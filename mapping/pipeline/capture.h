// Ingest and quality check of a capture folder (ARCHITECTURE.md): every
// file readable, a panorama for every trajectory row, sane poses. Fatal
// problems are errors naming the file and row; the rest are warnings that
// go into the build report.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/geo.h"
#include "core/io/trajectory.h"
#include "core/json.h"

namespace armap::mapping {

struct CapturePano {
  std::string name;
  double timestamp_s = 0;
  Rigid3d world_from_rig;        // as measured (trajectory.csv)
  std::filesystem::path image;   // panos/NAME.jpg
};

struct Capture {
  std::filesystem::path dir;
  GeoPoint origin;
  int pano_width_px = 0, pano_height_px = 0;
  std::vector<CapturePano> panos;
  std::vector<std::filesystem::path> lidar_files;
  // Synthetic captures carry the truth; real ones do not.
  std::optional<std::vector<io::PoseStamped>> panos_gt;
};

struct IngestOptions {
  // Largest accepted gap between consecutive panoramas; beyond it the
  // pipeline warns that coverage is broken.
  double max_pano_gap_m = 25.0;
  absl::Status Validate() const;
};

struct QualityReport {
  std::vector<std::string> warnings;
  OrderedJson ToJson() const;
};

// Loads and checks a capture folder. Decodes every panorama once (corrupt or
// truncated JPEGs are fatal). Lidar files are listed here and read by the
// lidar stage.
absl::StatusOr<Capture> IngestCapture(const std::filesystem::path& dir, const IngestOptions& options,
                                      QualityReport* report);

// True when the bytes look like a complete JPEG (SOI at the start, EOI at the
// end, allowing trailing padding) — libjpeg decodes truncated files with only
// a warning, so decoding alone does not catch them.
bool LooksLikeCompleteJpeg(const std::string& bytes);

}  // namespace armap::mapping
