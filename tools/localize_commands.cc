// armap localize / armap eval localize: visual positioning against a map
// package, in-process or through a running server (via the C++ SDK).
#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/files.h"
#include "core/json.h"
#include "core/logging.h"
#include "core/pose_json.h"
#include "core/status.h"
#include "localization/evaluation.h"
#include "localization/image_decode.h"
#include "localization/localizer.h"
#include "tools/commands.h"
#include "tools/localize_remote.h"

namespace armap::tools {
namespace {

namespace fs = std::filesystem;

loc::EvalAnswer AnswerFromResult(const loc::LocalizeResult& r) {
  loc::EvalAnswer a;
  a.success = r.success;
  a.confidence = r.confidence;
  a.cam_from_world = r.cam_from_world;
  a.failure_reason = loc::FailureReasonName(r.failure_reason);
  a.num_inliers = r.num_inliers;
  a.latency_ms = r.total_ms;
  a.stage_ms = r.stage_ms;
  return a;
}

struct EvalFlags {
  std::string map_dir;
  std::string queries;
  std::string gt;
  std::string server;
  std::string json_out;
  int limit = 0;
  loc::Localizer::Options localizer;
};

// The localizer's tuning knobs on the command line (defaults shown by --help).
void AddLocalizerFlags(CLI::App* app, loc::Localizer::Options* o) {
  app->add_option("--max-image-px", o->max_image_size_px, "Downscale query photos to this longer side (0: keep)")->capture_default_str();
  app->add_option("--max-features", o->max_features, "Features per query photo")->capture_default_str();
  app->add_option("--query-contrast", o->query_contrast_threshold,
                  "SIFT contrast threshold for query photos (0: the map's)")->capture_default_str();
  app->add_option("--query-sift", o->query_sift_implementation, "SIFT implementation for query photos")
      ->check(CLI::IsMember({"armap", "opencv"}))
      ->capture_default_str();
  app->add_option("--num-retrieved", o->num_retrieved, "Views kept after retrieval")->capture_default_str();
  app->add_option("--ratio", o->max_ratio, "Lowe ratio for matching")->capture_default_str();
  app->add_option("--mutual", o->mutual_check, "Mutual nearest-neighbour check (0/1)")->capture_default_str();
  app->add_option("--max-reproj-px", o->max_reproj_error_px, "RANSAC inlier threshold, pixels")->capture_default_str();
  app->add_option("--min-inliers", o->min_inliers, "Inliers needed for a pose")->capture_default_str();
  app->add_option("--covisibility-groups", o->covisibility_groups, "Group retrieved views by covisibility (0/1)")->capture_default_str();
  app->add_option("--max-groups", o->max_groups, "Covisibility groups matched per query")->capture_default_str();
  app->add_option("--min-confidence", o->min_confidence, "Confidence needed for a success")->capture_default_str();
  app->add_option("--guided-recount", o->guided_recount,
                  "Recount disagreeing pose candidates against the landmarks near each (0/1)")->capture_default_str();
  app->add_option("--guided-radius-m", o->guided_view_radius_m,
                  "Map views this close to a candidate supply its guided recount")->capture_default_str();
  app->add_option("--region-evidence", o->region_evidence,
                  "Weigh a rival pose by the image regions that tell it from the best (0/1)")->capture_default_str();
}

int RunEvalLocalize(const EvalFlags& f) {
  auto queries = loc::ReadQueriesFile(f.queries);
  if (!queries.ok()) {
    ARMAP_LOG_ERROR("eval localize: {}", queries.status().message());
    return 1;
  }
  auto truth = loc::ReadGroundTruthQueries(f.gt);
  if (!truth.ok()) {
    ARMAP_LOG_ERROR("eval localize: {}", truth.status().message());
    return 1;
  }
  std::map<std::string, loc::GroundTruthQuery> truth_by_name;
  for (const auto& g : *truth) truth_by_name[g.name] = g;

  std::unique_ptr<loc::Localizer> localizer;
  std::unique_ptr<RemoteLocalizer> remote;
  std::string map_id;
  int64_t map_version = 0;
  if (f.server.empty()) {
    auto l = loc::Localizer::Load(f.map_dir, f.localizer);
    if (!l.ok()) {
      ARMAP_LOG_ERROR("eval localize: {}", l.status().message());
      return 1;
    }
    localizer = std::move(*l);
    map_id = localizer->info().map_id;
    map_version = localizer->info().map_version;
  } else {
    auto r = RemoteLocalizer::Connect(f.server, f.map_dir);
    if (!r.ok()) {
      ARMAP_LOG_ERROR("eval localize: {}", r.status().message());
      return 1;
    }
    remote = std::move(*r);
    map_id = remote->map_id();
    map_version = remote->map_version();
  }

  loc::LocalizationEvaluation evaluation;
  const size_t n = f.limit > 0 ? std::min<size_t>(f.limit, queries->size()) : queries->size();
  Progress progress("localize", static_cast<long>(n));
  for (size_t i = 0; i < n; ++i) {
    const loc::NamedQuery& q = (*queries)[i];
    auto it = truth_by_name.find(q.name);
    if (it == truth_by_name.end()) {
      ARMAP_LOG_ERROR("eval localize: query '{}' has no ground truth in {}", q.name, f.gt);
      return 1;
    }
    absl::StatusOr<loc::EvalAnswer> answer;
    if (localizer) {
      auto r = localizer->Localize(q.query);
      answer = r.ok() ? absl::StatusOr<loc::EvalAnswer>(AnswerFromResult(*r)) : r.status();
    } else {
      answer = remote->Localize(q.name, q.query);
    }
    if (!answer.ok()) {
      ARMAP_LOG_ERROR("eval localize: query '{}': {}", q.name, answer.status().message());
      return 1;
    }
    evaluation.Add(it->second, *answer);
    progress.Add();
  }
  progress.Done();
  OrderedJson report = evaluation.ToJson();
  report["armap_version"] = VersionString();
  report["map_id"] = map_id;
  report["map_version"] = map_version;
  report["mode"] = f.server.empty() ? "in-process" : "server " + f.server;
  report["queries_file"] = f.queries;
  std::printf("\n%s", evaluation.ToMarkdown().c_str());
  std::fflush(stdout);
  if (!f.json_out.empty()) {
    const absl::Status s = WriteJsonFile(f.json_out, report);
    if (!s.ok()) {
      ARMAP_LOG_ERROR("eval localize: {}", s.message());
      return 1;
    }
  }
  return 0;
}

}  // namespace

void RegisterLocalizeCommands(CLI::App& app, int* exit_code) {
  // armap localize: one photo.
  CLI::App* localize = app.add_subcommand("localize", "Localize one photo against a map package (prints JSON)");
  auto map_dir = std::make_shared<std::string>();
  auto image = std::make_shared<std::string>();
  auto camera_model = std::make_shared<std::string>("PINHOLE");
  auto params = std::make_shared<std::vector<double>>();
  auto prior = std::make_shared<std::vector<double>>();
  auto accuracy = std::make_shared<double>(10.0);
  auto options = std::make_shared<loc::Localizer::Options>();
  AddLocalizerFlags(localize, options.get());
  localize->add_option("--map", *map_dir, "Map package folder")->required();
  localize->add_option("--image", *image, "JPEG or PNG photo")->required();
  localize->add_option("--camera-model", *camera_model, "PINHOLE or OPENCV")->capture_default_str();
  localize->add_option("--params", *params, "Intrinsics: fx fy cx cy [k1 k2 p1 p2], pixels")->required()->expected(4, 8);
  localize->add_option("--prior", *prior, "GPS prior: lat lon (degrees)")->expected(2);
  localize->add_option("--accuracy-m", *accuracy, "GPS prior 1-sigma, metres")->capture_default_str();
  localize->callback([=] {
    auto bytes = ReadFileToString(*image);
    auto fail = [&](const absl::Status& s) {
      ARMAP_LOG_ERROR("localize: {}", s.message());
      *exit_code = 1;
    };
    if (!bytes.ok()) return fail(bytes.status());
    auto localizer = loc::Localizer::Load(*map_dir, *options);
    if (!localizer.ok()) return fail(localizer.status());
    loc::Query q;
    q.image_bytes = std::move(*bytes);
    // The image's own size, read from its header, goes with the intrinsics.
    auto header = loc::ReadImageHeader(q.image_bytes);
    if (!header.ok()) return fail(Annotate(header.status(), *image));
    auto camera = Camera::Create(*camera_model, header->width, header->height, *params);
    if (!camera.ok()) return fail(camera.status());
    q.camera = *camera;
    if (prior->size() == 2) {
      q.prior.has_position = true;
      q.prior.position = {(*prior)[0], (*prior)[1], 0};
      q.prior.accuracy_m = *accuracy;
    }
    auto r = (*localizer)->Localize(q);
    if (!r.ok()) return fail(r.status());
    OrderedJson out{{"success", r->success},
                    {"failure_reason", loc::FailureReasonName(r->failure_reason)},
                    {"failure_message", r->failure_message},
                    {"confidence", r->confidence},
                    {"cam_from_world", PoseToJson(r->cam_from_world)},
                    {"geo_pose", {{"lat", r->geo_pose.position.lat_deg}, {"lon", r->geo_pose.position.lon_deg},
                                  {"alt", r->geo_pose.position.alt_m}, {"heading_deg", r->geo_pose.heading_deg},
                                  {"pitch_deg", r->geo_pose.pitch_deg}, {"roll_deg", r->geo_pose.roll_deg}}},
                    {"num_features", r->num_features},
                    {"num_matches", r->num_matches},
                    {"num_inliers", r->num_inliers},
                    {"total_ms", r->total_ms},
                    {"map_id", r->map_id},
                    {"map_version", r->map_version}};
    for (const auto& [stage, ms] : r->stage_ms) out["stages_ms"][stage] = ms;
    std::printf("%s\n", out.dump(2).c_str());
    if (!r->success) *exit_code = 3;  // valid request, not localized
  });

  // armap eval localize.
  CLI::App* eval = EvalGroup(app);
  CLI::App* el = eval->add_subcommand("localize", "Recall, accuracy and latency of visual positioning on queries with ground truth");
  auto f = std::make_shared<EvalFlags>();
  el->add_option("--map", f->map_dir, "Map package folder (its id selects the map on a server)")->required();
  el->add_option("--queries", f->queries, "queries.json of a capture")->required();
  el->add_option("--gt", f->gt, "Ground truth (gt/queries_gt.json)")->required();
  el->add_option("--server", f->server, "HOST:PORT of a running armap serve (default: in-process)");
  el->add_option("--json", f->json_out, "Write the figures as JSON here");
  el->add_option("--limit", f->limit, "Evaluate only the first N queries");
  AddLocalizerFlags(el, &f->localizer);
  el->callback([=] { *exit_code = RunEvalLocalize(*f); });
}

}  // namespace armap::tools
