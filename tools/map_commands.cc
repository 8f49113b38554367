// armap map build: capture folder -> map package.
#include <cstdio>

#include "core/json.h"
#include "core/logging.h"
#include "mapping/colmap/colmap_sfm.h"
#include "mapping/colmap/from_colmap.h"
#include "mapping/pipeline/map_builder.h"
#include "tools/commands.h"

namespace armap::tools {
namespace {

void PrintBuildTable(const OrderedJson& report) {
  std::printf("\n%-34s %14s\n", "map build", "value");
  for (const auto& [stage, s] : report["stages"].items()) {
    std::printf("%-34s %14.2f%s\n", ("seconds: " + stage).c_str(), s["seconds"].get<double>(),
                s.value("skipped", false) ? "  (cached)" : "");
  }
  for (const auto& [k, v] : report["counts"].items()) std::printf("%-34s %14lld\n", k.c_str(), v.get<long long>());
  if (report.contains("alignment")) {
    for (const auto& [k, v] : report["alignment"].items()) {
      if (v.is_number()) std::printf("%-34s %14.4f\n", ("alignment: " + k).c_str(), v.get<double>());
    }
  }
  for (const auto& [k, v] : report["privacy"].items()) std::printf("%-34s %14lld\n", ("privacy: " + k).c_str(), v.get<long long>());
  for (const auto& [k, v] : report["size_bytes"].items()) std::printf("%-34s %14.0f\n", ("bytes: " + k).c_str(), v.get<double>());
  std::printf("%-34s %14zu\n", "quality warnings", report["quality"]["warnings"].size());
}

}  // namespace

void RegisterMapCommands(CLI::App& app, int* exit_code) {
  CLI::App* map = app.add_subcommand("map", "Build map packages from captures");
  map->require_subcommand(1);
  CLI::App* build = map->add_subcommand("build", "Capture folder (lidar, panoramas, trajectory) -> feature map package");
  auto request = std::make_shared<mapping::MapBuildRequest>();
  auto config = std::make_shared<std::string>();
  auto threads = std::make_shared<int>(2);
  build->add_option("--capture", request->capture_dir, "Capture folder")->required();
  build->add_option("--out", request->out_dir, "Output map package folder")->required();
  build->add_option("--workspace", request->workspace_dir, "Workspace for intermediate results (default: <out>.workspace)");
  build->add_option("--config", *config, "JSON config overriding the defaults (unknown keys are errors)");
  build->add_option("--threads", *threads, "Worker threads")->capture_default_str();
  build->add_flag("--overwrite", request->overwrite, "Replace the output and recompute every stage");
  build->callback([=] {
    mapping::MapBuildOptions options;
    if (!config->empty()) {
      auto json = ReadJsonFile(*config);
      auto parsed = json.ok() ? mapping::MapBuildOptions::FromJson(*json, *config) : absl::StatusOr<mapping::MapBuildOptions>(json.status());
      if (!parsed.ok()) {
        ARMAP_LOG_ERROR("map build: {}", parsed.status().message());
        *exit_code = 1;
        return;
      }
      options = *parsed;
    }
    options.num_threads = *threads;
    auto report = mapping::BuildMap(*request, options);
    if (!report.ok()) {
      ARMAP_LOG_ERROR("map build: {}", report.status().message());
      *exit_code = 1;
      return;
    }
    PrintBuildTable(*report);
    ARMAP_LOG_INFO("map package written to {} (report: {}/report.json)", request->out_dir.string(), request->out_dir.string());
  });

  CLI::App* from_colmap = map->add_subcommand("from-colmap", "COLMAP reconstruction (+ database) -> map package");
  auto fc = std::make_shared<mapping::FromColmapRequest>();
  from_colmap->add_option("--model", fc->model_dir, "COLMAP sparse model folder (text or binary)")->required();
  from_colmap->add_option("--database", fc->database_path, "COLMAP database.db (descriptors); without it descriptors are extracted from the images");
  from_colmap->add_option("--images", fc->images_dir, "The photos")->required();
  from_colmap->add_option("--out", fc->out_dir, "Output map package folder")->required();
  from_colmap->add_option("--map-id", fc->map_id, "Map id (default: the output folder's name)");
  from_colmap->add_flag("--overwrite", fc->overwrite, "Replace an existing package");
  from_colmap->callback([=] {
    auto report = mapping::BuildMapFromColmap(*fc, mapping::FromColmapOptions{});
    if (!report.ok()) {
      ARMAP_LOG_ERROR("map from-colmap: {}", report.status().message());
      *exit_code = 1;
      return;
    }
    std::printf("%s\n", report->dump(2).c_str());
  });

  CLI::App* sfm = map->add_subcommand("sfm", "Photos only: COLMAP SfM (CPU) then from-colmap -> map package");
  auto sr = std::make_shared<mapping::ColmapSfmRequest>();
  sfm->add_option("--images", sr->images_dir, "Folder of photos")->required();
  sfm->add_option("--out", sr->out_dir, "Output map package folder")->required();
  sfm->add_option("--workspace", sr->workspace_dir, "COLMAP workspace (default: <out>.colmap)");
  sfm->add_option("--matcher", sr->matcher, "exhaustive or sequential")->capture_default_str();
  sfm->add_option("--threads", sr->num_threads, "Threads")->capture_default_str();
  sfm->add_option("--colmap", sr->colmap_binary, "The colmap program")->capture_default_str();
  sfm->add_flag("--overwrite", sr->overwrite, "Replace an existing package");
  sfm->callback([=] {
    auto report = mapping::RunColmapSfm(*sr, mapping::FromColmapOptions{});
    if (!report.ok()) {
      ARMAP_LOG_ERROR("map sfm: {}", report.status().message());
      *exit_code = 1;
      return;
    }
    std::printf("%s\n", report->dump(2).c_str());
  });
}

}  // namespace armap::tools
