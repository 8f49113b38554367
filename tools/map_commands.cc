// armap map build: capture folder -> map package.
#include <cstdio>

#include "core/json.h"
#include "core/logging.h"
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
}

}  // namespace armap::tools
