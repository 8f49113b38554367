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
  CLI::App* build = map->add_subcommand("build", "Capture folder (lidar, panoramas, trajectory) -> map package (feature map, white models, pedestrian network, POIs)");
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

  // Reruns of one map product over an existing package and its workspace:
  // the product stage and the product stages after it run again (the
  // feature-map stages are reused), then the package is republished.
  const std::vector<std::pair<std::string, std::string>> products = {
      {"whitemodel", "Rerun the white models (then roads, POIs, overview) of a package"},
      {"roads", "Rerun the pedestrian network (then POIs, overview) of a package"},
      {"pois", "Rerun the POIs (then the overview) of a package"}};
  for (const auto& [stage, help] : products) {
    CLI::App* rerun = map->add_subcommand(stage, help);
    auto map_dir = std::make_shared<std::filesystem::path>();
    auto rr = std::make_shared<mapping::MapBuildRequest>();
    auto rerun_threads = std::make_shared<int>(2);
    rerun->add_option("--map", *map_dir, "Map package built by `armap map build`")->required();
    rerun->add_option("--capture", rr->capture_dir, "Capture folder (default: the one in MAP/report.json)");
    rerun->add_option("--workspace", rr->workspace_dir, "Build workspace (default: the one in MAP/report.json)");
    rerun->add_option("--threads", *rerun_threads, "Worker threads")->capture_default_str();
    rerun->callback([=, name = stage] {
      auto fail = [&](const absl::Status& s) {
        ARMAP_LOG_ERROR("map {}: {}", name, s.message());
        *exit_code = 1;
      };
      auto report = ReadJsonFile(*map_dir / "report.json");
      if (!report.ok()) return fail(report.status());
      auto config = ReadJsonFile(*map_dir / "config.json");
      if (!config.ok()) return fail(config.status());
      auto options = mapping::MapBuildOptions::FromJson(*config, (*map_dir / "config.json").string());
      if (!options.ok()) return fail(options.status());
      options->num_threads = *rerun_threads;
      mapping::MapBuildRequest request = *rr;
      request.out_dir = *map_dir;
      if (request.capture_dir.empty()) request.capture_dir = report->value("capture", std::string());
      if (request.workspace_dir.empty()) request.workspace_dir = report->value("workspace", map_dir->string() + ".workspace");
      if (request.capture_dir.empty()) return fail(absl::InvalidArgumentError((*map_dir / "report.json").string() + ": no \"capture\"; pass --capture"));
      if (!std::filesystem::is_directory(request.workspace_dir)) {
        return fail(absl::NotFoundError(request.workspace_dir.string() + ": build workspace not found (pass --workspace, or rebuild with `armap map build`)"));
      }
      request.rerun_stages = {name};
      auto rebuilt = mapping::BuildMap(request, *options);
      if (!rebuilt.ok()) return fail(rebuilt.status());
      PrintBuildTable(*rebuilt);
      ARMAP_LOG_INFO("map package {} republished with a new {}", map_dir->string(), name);
    });
  }
}

}  // namespace armap::tools
