// Pose fusion on simulated AR walks, against the naive baseline (snap
// map_from_session to every fix). Prints, per walk and overall, the error of
// a world-anchored point 5-10 m ahead as drawn in the camera (median, p95,
// max) and its largest frame-to-frame jump; goals: median <= 10 cm, no jump
// over 5 cm.
//
//   pose_fusion_bench [--seeds N] [--minutes M] [--drift F] [--yaw-drift DEG_PER_MIN] [--outliers F]
//                     [--fix-sigma-m S] [--fix-sigma-deg S] [--json OUT]
//
// Tracking drifts F (default 0.01) of the distance walked plus a smooth yaw
// drift (1-sigma rate 0.5 deg/min); a fix every 5 s with 3 cm / 0.3 deg noise per axis,
// 0.3-0.7 s latency and 5% outliers 2-10 m (and up to 20 deg) off.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "armap/sdk/pose_fusion.h"
#include "sdk/cpp/fusion_sim.h"

namespace {

using armap::sdk::FixOutcome;
using armap::sdk::testing::Quantile;
using armap::sdk::testing::TrackErrors;

struct Figures {
  double median_m = 0, p95_m = 0, max_m = 0, max_jump_m = 0, p99_jump_m = 0;
  double frames_over_5cm_jump = 0;  // count
};

Figures Summarise(const std::vector<double>& error, const std::vector<double>& jump) {
  Figures f;
  f.median_m = Quantile(error, 0.5);
  f.p95_m = Quantile(error, 0.95);
  f.max_m = error.empty() ? 0 : *std::max_element(error.begin(), error.end());
  f.max_jump_m = jump.empty() ? 0 : *std::max_element(jump.begin(), jump.end());
  f.p99_jump_m = Quantile(jump, 0.99);
  for (double j : jump) f.frames_over_5cm_jump += j > 0.05 ? 1 : 0;
  return f;
}

nlohmann::json ToJson(const Figures& f) {
  return {{"median_m", f.median_m},     {"p95_m", f.p95_m},           {"max_m", f.max_m},
          {"max_jump_m", f.max_jump_m}, {"p99_jump_m", f.p99_jump_m}, {"frames_jump_over_5cm", f.frames_over_5cm_jump}};
}

void Append(std::vector<double>* to, const std::vector<double>& from) { to->insert(to->end(), from.begin(), from.end()); }

}  // namespace

int main(int argc, char** argv) {
  int seeds = 5;
  double minutes = 4;
  std::string json_path;
  armap::sdk::testing::WalkOptions walk_options;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--seeds") seeds = std::atoi(next());
    else if (a == "--minutes") minutes = std::atof(next());
    else if (a == "--drift") walk_options.drift_fraction = std::atof(next());
    else if (a == "--outliers") walk_options.outlier_fraction = std::atof(next());
    else if (a == "--yaw-drift") walk_options.yaw_drift_deg_per_min = std::atof(next());
    else if (a == "--fix-sigma-m") walk_options.fix_position_sigma_m = std::atof(next());
    else if (a == "--fix-sigma-deg") walk_options.fix_rotation_sigma_deg = std::atof(next());
    else if (a == "--json") json_path = next();
    else {
      std::fprintf(stderr, "usage: pose_fusion_bench [--seeds N] [--minutes M] [--drift F] [--yaw-drift DEG_PER_MIN] [--outliers F] [--fix-sigma-m S] "
                   "[--fix-sigma-deg S] [--json OUT]\n");
      return 2;
    }
  }
  if (seeds < 1 || minutes <= 0) {
    std::fprintf(stderr, "--seeds must be >= 1 and --minutes > 0\n");
    return 2;
  }
  walk_options.duration_s = minutes * 60;
  const armap::sdk::PoseFusionOptions fusion_options;

  std::printf("pose fusion: %d walks of %.1f min, drift %.1f%% of distance + %.1f deg/min yaw, fix every %.0f s "
              "(%.0f cm, %.1f deg noise; %.0f%% outliers %.0f-%.0f m)\n",
              seeds, minutes, 100 * walk_options.drift_fraction, walk_options.yaw_drift_deg_per_min,
              walk_options.fix_interval_s, 100 * walk_options.fix_position_sigma_m,
              walk_options.fix_rotation_sigma_deg, 100 * walk_options.outlier_fraction, walk_options.outlier_min_m,
              walk_options.outlier_max_m);
  std::printf("error of a point 5-10 m ahead drawn in the camera (cm)\n\n");
  std::printf("| seed | method | median | p95 | max | max jump | p99 jump | frames jump > 5 cm | fixes "
              "(outliers) | rejected (outliers among them) | resets |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|\n");

  nlohmann::json walks = nlohmann::json::array();
  std::vector<double> all_fusion_error, all_fusion_jump, all_naive_error, all_naive_jump;
  int total_fixes = 0, total_outliers = 0, total_rejected = 0, total_rejected_outliers = 0, total_resets = 0;
  bool ok = true;
  for (int seed = 1; seed <= seeds; ++seed) {
    walk_options.seed = static_cast<uint32_t>(seed);
    const armap::sdk::testing::Walk walk = armap::sdk::testing::SimulateWalk(walk_options);
    const TrackErrors fusion = armap::sdk::testing::RunFusion(walk, fusion_options);
    const TrackErrors naive = armap::sdk::testing::RunNaive(walk, walk_options.rate_hz);
    ok = ok && fusion.ok;
    int outliers = 0, rejected = 0, rejected_outliers = 0, resets = 0;
    for (size_t i = 0; i < walk.fixes.size(); ++i) {
      outliers += walk.fixes[i].outlier;
      if (i < fusion.outcomes.size()) {
        rejected += fusion.outcomes[i] == FixOutcome::kRejected;
        rejected_outliers += fusion.outcomes[i] == FixOutcome::kRejected && walk.fixes[i].outlier;
        resets += fusion.outcomes[i] == FixOutcome::kReset;
      }
    }
    const Figures f = Summarise(fusion.error_m, fusion.jump_m);
    const Figures n = Summarise(naive.error_m, naive.jump_m);
    std::printf("| %d | fusion | %.1f | %.1f | %.1f | %.2f | %.2f | %.0f | %zu (%d) | %d (%d) | %d |\n", seed,
                100 * f.median_m, 100 * f.p95_m, 100 * f.max_m, 100 * f.max_jump_m, 100 * f.p99_jump_m,
                f.frames_over_5cm_jump, walk.fixes.size(), outliers, rejected, rejected_outliers, resets);
    std::printf("| %d | naive | %.1f | %.1f | %.1f | %.2f | %.2f | %.0f | | | |\n", seed, 100 * n.median_m,
                100 * n.p95_m, 100 * n.max_m, 100 * n.max_jump_m, 100 * n.p99_jump_m, n.frames_over_5cm_jump);
    walks.push_back({{"seed", seed},
                     {"frames", walk.frames.size()},
                     {"fixes", walk.fixes.size()},
                     {"outliers", outliers},
                     {"rejected", rejected},
                     {"rejected_outliers", rejected_outliers},
                     {"resets", resets},
                     {"fusion", ToJson(f)},
                     {"naive", ToJson(n)}});
    Append(&all_fusion_error, fusion.error_m);
    Append(&all_fusion_jump, fusion.jump_m);
    Append(&all_naive_error, naive.error_m);
    Append(&all_naive_jump, naive.jump_m);
    total_fixes += static_cast<int>(walk.fixes.size());
    total_outliers += outliers;
    total_rejected += rejected;
    total_rejected_outliers += rejected_outliers;
    total_resets += resets;
  }
  const Figures f = Summarise(all_fusion_error, all_fusion_jump);
  const Figures n = Summarise(all_naive_error, all_naive_jump);
  std::printf("| all | fusion | %.1f | %.1f | %.1f | %.2f | %.2f | %.0f | %d (%d) | %d (%d) | %d |\n", 100 * f.median_m,
              100 * f.p95_m, 100 * f.max_m, 100 * f.max_jump_m, 100 * f.p99_jump_m, f.frames_over_5cm_jump,
              total_fixes, total_outliers, total_rejected, total_rejected_outliers, total_resets);
  std::printf("| all | naive | %.1f | %.1f | %.1f | %.2f | %.2f | %.0f | | | |\n", 100 * n.median_m, 100 * n.p95_m,
              100 * n.max_m, 100 * n.max_jump_m, 100 * n.p99_jump_m, n.frames_over_5cm_jump);
  const bool median_goal = f.median_m <= 0.10;
  const bool jump_goal = f.max_jump_m <= 0.05;
  std::printf("\ngoals: median <= 10 cm: %s (%.1f cm); no jump > 5 cm: %s (max %.2f cm)\n", median_goal ? "met" : "MISSED",
              100 * f.median_m, jump_goal ? "met" : "MISSED", 100 * f.max_jump_m);

  if (!json_path.empty()) {
    nlohmann::json out = {
        {"walks", walks},
        {"config",
         {{"seeds", seeds},
          {"minutes", minutes},
          {"drift_fraction", walk_options.drift_fraction},
          {"yaw_drift_deg_per_min", walk_options.yaw_drift_deg_per_min},
          {"fix_interval_s", walk_options.fix_interval_s},
          {"fix_position_sigma_m", walk_options.fix_position_sigma_m},
          {"fix_rotation_sigma_deg", walk_options.fix_rotation_sigma_deg},
          {"outlier_fraction", walk_options.outlier_fraction}}},
        {"fusion", ToJson(f)},
        {"naive", ToJson(n)},
        {"fixes", total_fixes},
        {"outliers", total_outliers},
        {"rejected", total_rejected},
        {"rejected_outliers", total_rejected_outliers},
        {"resets", total_resets},
        {"goals", {{"median_le_10cm", median_goal}, {"max_jump_le_5cm", jump_goal}}}};
    std::ofstream(json_path) << out.dump(2) << "\n";
    std::printf("wrote %s\n", json_path.c_str());
  }
  return ok ? 0 : 1;
}
