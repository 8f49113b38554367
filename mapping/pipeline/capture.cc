#include "mapping/pipeline/capture.h"

#include <algorithm>

#include <opencv2/imgcodecs.hpp>

#include "absl/strings/str_cat.h"
#include "core/files.h"
#include "core/logging.h"
#include "core/status.h"

namespace armap::mapping {

absl::Status IngestOptions::Validate() const {
  if (!(max_pano_gap_m > 0)) {
    return absl::InvalidArgumentError(absl::StrCat("IngestOptions::max_pano_gap_m = ", max_pano_gap_m, "; must be > 0"));
  }
  return absl::OkStatus();
}

OrderedJson QualityReport::ToJson() const { return OrderedJson{{"warnings", warnings}}; }

bool LooksLikeCompleteJpeg(const std::string& bytes) {
  if (bytes.size() < 4 || static_cast<uint8_t>(bytes[0]) != 0xFF || static_cast<uint8_t>(bytes[1]) != 0xD8) return false;
  size_t end = bytes.size();
  while (end > 2 && bytes[end - 1] == 0) --end;  // some writers pad with zeros
  return end >= 4 && static_cast<uint8_t>(bytes[end - 2]) == 0xFF && static_cast<uint8_t>(bytes[end - 1]) == 0xD9;
}

absl::StatusOr<Capture> IngestCapture(const std::filesystem::path& dir, const IngestOptions& options,
                                      QualityReport* report) {
  ARMAP_RETURN_IF_ERROR(options.Validate());
  Capture capture;
  capture.dir = dir;
  if (!std::filesystem::is_directory(dir)) return absl::NotFoundError(absl::StrCat(dir.string(), ": capture folder not found"));
  const std::filesystem::path meta_path = dir / "capture.json";
  ARMAP_ASSIGN_OR_RETURN(Json meta, ReadJsonFile(meta_path));
  const std::string where = meta_path.string();
  ARMAP_ASSIGN_OR_RETURN(Json origin, GetJsonField<Json>(meta, "origin", where));
  ARMAP_ASSIGN_OR_RETURN(capture.origin.lat_deg, GetJsonField<double>(origin, "lat", where + ": origin"));
  ARMAP_ASSIGN_OR_RETURN(capture.origin.lon_deg, GetJsonField<double>(origin, "lon", where + ": origin"));
  ARMAP_ASSIGN_OR_RETURN(capture.origin.alt_m, GetJsonField<double>(origin, "alt", where + ": origin"));
  if (std::abs(capture.origin.lat_deg) > 90 || std::abs(capture.origin.lon_deg) > 180) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": origin (", capture.origin.lat_deg, ", ",
                                                   capture.origin.lon_deg, ") is not a WGS84 position"));
  }
  ARMAP_ASSIGN_OR_RETURN(Json pano_meta, GetJsonField<Json>(meta, "panorama", where));
  ARMAP_ASSIGN_OR_RETURN(capture.pano_width_px, GetJsonField<int>(pano_meta, "width", where + ": panorama"));
  ARMAP_ASSIGN_OR_RETURN(capture.pano_height_px, GetJsonField<int>(pano_meta, "height", where + ": panorama"));
  ARMAP_ASSIGN_OR_RETURN(std::string projection, GetJsonField<std::string>(pano_meta, "projection", where + ": panorama"));
  if (projection != "equirectangular") {
    return absl::InvalidArgumentError(absl::StrCat(where, ": panorama.projection '", projection,
                                                   "' is not supported (equirectangular only)"));
  }
  if (capture.pano_width_px != 2 * capture.pano_height_px || capture.pano_width_px < 64) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": panorama size ", capture.pano_width_px, "x",
                                                   capture.pano_height_px, " is not a 2:1 equirectangular image"));
  }

  ARMAP_ASSIGN_OR_RETURN(std::vector<io::PoseStamped> poses, io::ReadTrajectoryCsv(dir / "trajectory.csv"));
  Progress progress("ingest panoramas", static_cast<long>(poses.size()));
  for (size_t i = 0; i < poses.size(); ++i) {
    CapturePano pano{poses[i].name, poses[i].timestamp_s, poses[i].world_from_rig, dir / "panos" / (poses[i].name + ".jpg")};
    const std::string row = absl::StrCat("trajectory.csv row ", i + 2, " ('", pano.name, "')");
    auto bytes = ReadFileToString(pano.image);
    if (!bytes.ok()) return absl::NotFoundError(absl::StrCat(pano.image.string(), ": missing panorama for ", row));
    if (!LooksLikeCompleteJpeg(*bytes)) {
      return absl::DataLossError(absl::StrCat(pano.image.string(), ": corrupt or truncated JPEG (", row, ")"));
    }
    const cv::Mat image = cv::imdecode(cv::Mat(1, static_cast<int>(bytes->size()), CV_8U, bytes->data()), cv::IMREAD_COLOR);
    if (image.empty()) return absl::DataLossError(absl::StrCat(pano.image.string(), ": cannot decode JPEG (", row, ")"));
    if (image.cols != capture.pano_width_px || image.rows != capture.pano_height_px) {
      return absl::InvalidArgumentError(absl::StrCat(pano.image.string(), ": size ", image.cols, "x", image.rows,
                                                     " differs from capture.json's ", capture.pano_width_px, "x",
                                                     capture.pano_height_px));
    }
    if (i > 0) {
      const double gap = (pano.world_from_rig.translation - capture.panos.back().world_from_rig.translation).norm();
      if (gap > options.max_pano_gap_m) {
        report->warnings.push_back(absl::StrCat(row, ": ", std::lround(gap), " m from the previous panorama (coverage gap)"));
      }
    }
    capture.panos.push_back(std::move(pano));
    progress.Add();
  }
  progress.Done();

  const std::filesystem::path lidar_dir = dir / "lidar";
  if (std::filesystem::is_directory(lidar_dir)) {
    for (const auto& e : std::filesystem::directory_iterator(lidar_dir)) {
      std::string ext = e.path().extension().string();
      std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
      if (ext == ".ply" || ext == ".pcd" || ext == ".las" || ext == ".laz") capture.lidar_files.push_back(e.path());
    }
  }
  std::sort(capture.lidar_files.begin(), capture.lidar_files.end());
  if (capture.lidar_files.empty()) {
    return absl::NotFoundError(absl::StrCat(lidar_dir.string(), ": no lidar point clouds (.ply, .pcd, .las)"));
  }

  const std::filesystem::path gt = dir / "gt" / "panos_gt.csv";
  if (std::filesystem::exists(gt)) {
    ARMAP_ASSIGN_OR_RETURN(capture.panos_gt, io::ReadTrajectoryCsv(gt));
    if (capture.panos_gt->size() != capture.panos.size()) {
      return absl::InvalidArgumentError(absl::StrCat(gt.string(), ": ", capture.panos_gt->size(),
                                                     " rows, trajectory.csv has ", capture.panos.size()));
    }
  }
  ARMAP_LOG_INFO("ingest: {} panoramas {}x{}, {} lidar files{}", capture.panos.size(), capture.pano_width_px,
                 capture.pano_height_px, capture.lidar_files.size(), capture.panos_gt ? ", ground truth present" : "");
  return capture;
}

}  // namespace armap::mapping
