// armap eval whitemodel: the whitemodel product of a map package against ground truth.
#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_format.h"
#include "core/json.h"
#include "core/logging.h"
#include "mapping/products/whitemodel.h"
#include "tools/commands.h"

namespace armap::tools {

namespace {

struct EvalWhiteModelFlags {
  std::string map_dir;
  std::string gt;
  std::string json_out;
};

std::string Markdown(const OrderedJson& r) {
  auto num = [](const OrderedJson& v, const char* fmt) {
    return v.is_number() ? absl::StrFormat(fmt, v.get<double>()) : std::string("-");
  };
  std::string s = "| figure | all gt buildings | observed |\n|---|---|---|\n";
  const OrderedJson& o = r["observed"];
  s += absl::StrFormat("| buildings_gt | %d | %d |\n", r["buildings_gt"].get<int>(), o["buildings_gt"].get<int>());
  s += absl::StrFormat("| buildings_found (IoU >= 0.5) | %d | %d |\n", r["buildings_found"].get<int>(),
                       o["buildings_found"].get<int>());
  s += "| footprint_iou_median | " + num(r["footprint_iou_median"], "%.3f") + " | " + num(o["footprint_iou_median"], "%.3f") + " |\n";
  s += "| footprint_iou_p10 | " + num(r["footprint_iou_p10"], "%.3f") + " | " + num(o["footprint_iou_p10"], "%.3f") + " |\n";
  s += "| height_err_median_m | " + num(r["height_err_median_m"], "%.2f") + " | " + num(o["height_err_median_m"], "%.2f") + " |\n";
  s += "| vertex_reduction_ratio | " + num(r["vertex_reduction_ratio"], "%.3f") + " | |\n";
  s += "\n| gt id | observed | IoU | gt height m | model height m | gt lod | model lod |\n|---|---|---|---|---|---|---|\n";
  for (const OrderedJson& b : r["buildings"]) {
    s += absl::StrFormat("| %d | %.2f | %.3f | %.2f | %s | %d | %s |\n", b["gt_id"].get<int>(),
                         b["observed_outline_fraction"].get<double>(), b["iou"].get<double>(), b["gt_height_m"].get<double>(),
                         b.contains("model_height_m") ? absl::StrFormat("%.2f", b["model_height_m"].get<double>()) : "-",
                         b["gt_lod"].get<int>(), b.contains("model_lod") ? absl::StrCat(b["model_lod"].get<int>()) : "-");
  }
  return s;
}

int RunEvalWhiteModel(const EvalWhiteModelFlags& f) {
  absl::StatusOr<OrderedJson> report = mapping::EvaluateWhiteModels(f.map_dir, f.gt);
  if (!report.ok()) {
    ARMAP_LOG_ERROR("eval whitemodel: {}", report.status().message());
    return 1;
  }
  (*report)["armap_version"] = VersionString();
  (*report)["map_dir"] = f.map_dir;
  (*report)["gt"] = f.gt;
  std::printf("\n%s", Markdown(*report).c_str());
  std::fflush(stdout);
  if (!f.json_out.empty()) {
    const absl::Status s = WriteJsonFile(f.json_out, *report);
    if (!s.ok()) {
      ARMAP_LOG_ERROR("eval whitemodel: {}", s.message());
      return 1;
    }
  }
  return 0;
}

}  // namespace

void RegisterWhiteModelCommands(CLI::App& app, int* exit_code) {
  CLI::App* eval = EvalGroup(app);
  CLI::App* ew = eval->add_subcommand(
      "whitemodel", "White models of a map package against gt buildings: found, footprint IoU, height error, vertex reduction");
  auto f = std::make_shared<EvalWhiteModelFlags>();
  ew->add_option("--map", f->map_dir, "Map package folder (reads whitemodel/{full,simplified}.geojson)")->required();
  ew->add_option("--gt", f->gt, "Ground truth: the capture's gt/ folder or gt/buildings.geojson")->required();
  ew->add_option("--json", f->json_out, "Write the figures as JSON here");
  ew->callback([=] { *exit_code = RunEvalWhiteModel(*f); });
}

}  // namespace armap::tools
