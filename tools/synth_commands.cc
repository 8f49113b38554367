// armap synth city: the synthetic capture generator.
#include <cstdio>

#include "absl/strings/str_format.h"
#include "core/json.h"
#include "core/logging.h"
#include "datasets/synthetic/capture_generator.h"
#include "tools/commands.h"

namespace armap::tools {
namespace {

void PrintSummary(const synth::CaptureSummary& s) {
  std::printf("\n%-28s %12s\n", "synthetic city", "value");
  std::printf("%-28s %12d\n", "buildings", s.num_buildings);
  std::printf("%-28s %12d\n", "shop signs (POIs)", s.num_signs);
  std::printf("%-28s %12d\n", "panoramas", s.num_panos);
  std::printf("%-28s %12d\n", "queries", s.num_queries);
  std::printf("%-28s %12ld\n", "lidar points", s.num_lidar_points);
  std::printf("%-28s %12.1f\n", "route length (m)", s.route_length_m);
  for (const auto& [stage, seconds] : s.stage_seconds) std::printf("%-28s %12.2f\n", ("seconds: " + stage).c_str(), seconds);
  std::printf("%-28s %12.3f\n", absl::StrFormat("s / pano (%dx%d)", s.pano_width_px, s.pano_height_px).c_str(),
              s.seconds_per_pano);
  std::printf("%-28s %12.3f\n", absl::StrFormat("s / query (%dx%d)", s.query_width_px, s.query_height_px).c_str(),
              s.seconds_per_query);
  std::printf("%-28s %12.2f\n", "total seconds", s.total_seconds);
}

}  // namespace

void RegisterSynthCommands(CLI::App& app, int* exit_code) {
  CLI::App* synth = app.add_subcommand("synth", "Synthetic data with full ground truth");
  synth->require_subcommand(1);
  CLI::App* city = synth->add_subcommand(
      "city", "Generate a synthetic city capture folder (lidar, panoramas, trajectory, phone queries) with gt/");
  auto options = std::make_shared<synth::CaptureOptions>();
  auto report = std::make_shared<std::string>();
  auto photos = std::make_shared<std::string>();
  auto lat = std::make_shared<double>(options->city.origin.lat_deg);
  auto lon = std::make_shared<double>(options->city.origin.lon_deg);
  city->add_option("--seed", options->city.seed, "Random seed; the same seed gives byte-identical output")->capture_default_str();
  city->add_option("--out", options->out_dir, "Output capture folder")->required();
  city->add_option("--size-m", options->city.size_m, "Side of the square city, metres")->capture_default_str();
  city->add_option("--panos", options->num_panos, "Number of panoramas along the route")->capture_default_str();
  city->add_option("--queries", options->num_queries, "Number of phone query photos")->capture_default_str();
  city->add_option("--pano-width", options->pano_width_px, "Panorama width in pixels (height = width/2)")->capture_default_str();
  city->add_option("--query-width", options->query_width_px, "Query photo width")->capture_default_str();
  city->add_option("--query-height", options->query_height_px, "Query photo height")->capture_default_str();
  city->add_option("--lat", *lat, "Origin latitude (WGS84)")->capture_default_str();
  city->add_option("--lon", *lon, "Origin longitude (WGS84)")->capture_default_str();
  city->add_option("--alt", options->city.origin.alt_m, "Origin altitude, metres (WGS84 ellipsoid)")->capture_default_str();
  city->add_option("--lidar-beams", options->lidar.beams, "Lidar beams")->capture_default_str();
  city->add_option("--lidar-azimuth-res-deg", options->lidar.azimuth_resolution_deg,
                   "Lidar azimuth step (sets density)")->capture_default_str();
  city->add_option("--speed-mps", options->vehicle_speed_mps, "Mapping vehicle speed")->capture_default_str();
  city->add_option("--photos", *photos, "Folder of real photographs for facade detail (default: ../shared/datasets)");
  city->add_flag("--preview", options->preview, "Also write preview.png, a contact sheet");
  city->add_flag("--overwrite", options->overwrite, "Replace an existing output folder");
  city->add_option("--report", *report, "Write timings and counts as JSON to this file");
  city->callback([=] {
    options->city.origin.lat_deg = *lat;
    options->city.origin.lon_deg = *lon;
    options->photo_root = photos->empty() ? synth::DefaultPhotoRoot() : std::filesystem::path(*photos);
    auto summary = synth::GenerateCapture(*options);
    if (!summary.ok()) {
      ARMAP_LOG_ERROR("synth city: {}", summary.status().message());
      *exit_code = 1;
      return;
    }
    PrintSummary(*summary);
    if (!report->empty()) {
      const absl::Status s = WriteJsonFile(*report, synth::CaptureSummaryJson(*summary));
      if (!s.ok()) {
        ARMAP_LOG_ERROR("synth city: {}", s.message());
        *exit_code = 1;
        return;
      }
    }
    ARMAP_LOG_INFO("capture written to {}", options->out_dir.string());
  });
}

}  // namespace armap::tools
