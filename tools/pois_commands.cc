// armap eval pois: the pois product of a map package against ground truth.
#include <cstdio>
#include <memory>
#include <string>

#include "core/json.h"
#include "core/logging.h"
#include "mapping/products/pois.h"
#include "tools/commands.h"

namespace armap::tools {

void RegisterPoisCommands(CLI::App& app, int* exit_code) {
  CLI::App* eval = EvalGroup(app);
  CLI::App* ep = eval->add_subcommand(
      "pois", "POIs of a map package against ground truth: precision, recall (within 2 m, name CER <= 0.2), name CER, "
              "position error");
  auto map_dir = std::make_shared<std::string>();
  auto gt = std::make_shared<std::string>();
  auto json_out = std::make_shared<std::string>();
  ep->add_option("--map", *map_dir, "Map package folder (with pois/pois.geojson)")->required();
  ep->add_option("--gt", *gt, "Ground truth: the capture's gt/ folder or gt/pois.geojson")->required();
  ep->add_option("--json", *json_out, "Write the figures as JSON here");
  ep->callback([=] {
    auto report = mapping::EvaluatePois(*map_dir, *gt);
    if (!report.ok()) {
      ARMAP_LOG_ERROR("eval pois: {}", report.status().message());
      *exit_code = 1;
      return;
    }
    (*report)["armap_version"] = VersionString();
    std::printf("\n%s", mapping::PoiEvalMarkdown(*report).c_str());
    std::fflush(stdout);
    if (!json_out->empty()) {
      const absl::Status s = WriteJsonFile(*json_out, *report);
      if (!s.ok()) {
        ARMAP_LOG_ERROR("eval pois: {}", s.message());
        *exit_code = 1;
      }
    }
  });
}

}  // namespace armap::tools
