// armap eval roads: the roads product of a map package against ground truth.
#include <cstdio>
#include <memory>
#include <string>

#include "core/json.h"
#include "core/logging.h"
#include "mapping/products/roads.h"
#include "tools/commands.h"

namespace armap::tools {

namespace {

struct EvalRoadsFlags {
  std::string map_dir;
  std::string gt;
  std::string json_out;
};

int RunEvalRoads(const EvalRoadsFlags& f) {
  absl::StatusOr<OrderedJson> report = mapping::EvaluateRoadNetwork(f.map_dir, f.gt);
  if (!report.ok()) {
    ARMAP_LOG_ERROR("eval roads: {}", report.status().message());
    return 1;
  }
  (*report)["armap_version"] = VersionString();
  std::printf("\n%s", mapping::RoadEvaluationMarkdown(*report).c_str());
  std::fflush(stdout);
  if (!f.json_out.empty()) {
    const absl::Status s = WriteJsonFile(f.json_out, *report);
    if (!s.ok()) {
      ARMAP_LOG_ERROR("eval roads: {}", s.message());
      return 1;
    }
  }
  return 0;
}

}  // namespace

void RegisterRoadsCommands(CLI::App& app, int* exit_code) {
  CLI::App* eval = EvalGroup(app);
  CLI::App* er = eval->add_subcommand(
      "roads", "Pedestrian network of a map package against ground truth (length precision/recall within 2 m, "
               "junction recall, mean offset; over the mapped area and the whole GT)");
  auto f = std::make_shared<EvalRoadsFlags>();
  er->add_option("--map", f->map_dir, "Map package folder (reads roads/network.geojson and roads/coverage.geojson)")->required();
  er->add_option("--gt", f->gt, "Ground truth: the capture's gt/ folder or gt/roads.geojson")->required();
  er->add_option("--json", f->json_out, "Write the figures as JSON here");
  er->callback([=] { *exit_code = RunEvalRoads(*f); });
}

}  // namespace armap::tools
