#include "mapping/colmap/colmap_sfm.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <string>
#include <system_error>
#include <tuple>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/io/colmap_model.h"
#include "core/logging.h"
#include "core/status.h"
#include "mapping/colmap/from_colmap_internal.h"
#include "mapping/colmap/image_metadata.h"
#include "mapping/colmap/process.h"

namespace armap::mapping {
namespace {

namespace fs = std::filesystem;

// What COLMAP's image reader accepts (FreeImage); we list the common ones.
bool IsPhoto(const fs::path& path) {
  const std::string ext = absl::AsciiStrToLower(path.extension().string());
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".tif" || ext == ".tiff" || ext == ".bmp";
}

absl::StatusOr<std::vector<std::string>> ListPhotos(const fs::path& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return absl::NotFoundError(absl::StrCat(dir.string(), ": images directory not found"));
  std::vector<std::string> names;
  for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
    if (e.is_regular_file() && IsPhoto(e.path())) names.push_back(fs::relative(e.path(), dir).generic_string());
  }
  if (ec) return absl::PermissionDeniedError(absl::StrCat(dir.string(), ": cannot list: ", ec.message()));
  std::sort(names.begin(), names.end());
  if (names.empty()) {
    return absl::NotFoundError(absl::StrCat(dir.string(), ": no photos (.jpg, .jpeg, .png, .tif, .bmp)"));
  }
  return names;
}

struct SubModel {
  std::string name;  // "0", "1", ...
  size_t images = 0;
  size_t points = 0;
};

}  // namespace

absl::Status ColmapSfmRequest::Validate() const {
  if (images_dir.empty()) return absl::InvalidArgumentError("ColmapSfmRequest::images_dir is empty");
  if (out_dir.empty()) return absl::InvalidArgumentError("ColmapSfmRequest::out_dir is empty");
  if (num_threads < 1) {
    return absl::InvalidArgumentError(absl::StrCat("ColmapSfmRequest::num_threads = ", num_threads, "; must be >= 1"));
  }
  if (matcher != "exhaustive" && matcher != "sequential") {
    return absl::InvalidArgumentError(
        absl::StrCat("ColmapSfmRequest::matcher = '", matcher, "'; must be 'exhaustive' or 'sequential'"));
  }
  if (max_image_size_px < 16) {
    return absl::InvalidArgumentError(
        absl::StrCat("ColmapSfmRequest::max_image_size_px = ", max_image_size_px, "; must be >= 16"));
  }
  if (max_num_features < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("ColmapSfmRequest::max_num_features = ", max_num_features, "; must be >= 1"));
  }
  if (io::FindColmapCameraModel(camera_model) == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("ColmapSfmRequest::camera_model = '", camera_model, "' is not a COLMAP camera model"));
  }
  return absl::OkStatus();
}

absl::StatusOr<OrderedJson> RunColmapSfm(const ColmapSfmRequest& request, const FromColmapOptions& options) {
  ARMAP_RETURN_IF_ERROR(request.Validate());
  ARMAP_RETURN_IF_ERROR(options.Validate());
  // Cheap checks before minutes of COLMAP.
  ARMAP_ASSIGN_OR_RETURN(const fs::path colmap, FindExecutable(request.colmap_binary));
  std::error_code ec;
  if (fs::exists(request.out_dir, ec) && !request.overwrite) {
    return absl::AlreadyExistsError(absl::StrCat(request.out_dir.string(), ": exists (use --overwrite to replace it)"));
  }
  ARMAP_ASSIGN_OR_RETURN(const std::vector<std::string> photos, ListPhotos(request.images_dir));

  // One shared camera when the photos agree on size and on what EXIF says
  // about the camera; otherwise COLMAP estimates one camera per photo.
  std::set<std::tuple<int, int, std::string, std::string, double>> kinds;
  for (const std::string& name : photos) {
    ARMAP_ASSIGN_OR_RETURN(ImageMetadata meta, ReadImageMetadata(request.images_dir / name));
    kinds.emplace(meta.width, meta.height, meta.make, meta.model, meta.focal_length_mm);
  }
  const bool single_camera = kinds.size() == 1 && std::get<0>(*kinds.begin()) > 0;

  fs::path out = request.out_dir.lexically_normal();
  if (!out.has_filename()) out = out.parent_path();  // "map/" -> "map"
  const fs::path workspace =
      !request.workspace_dir.empty() ? request.workspace_dir : fs::path(out.string() + ".colmap");
  const fs::path database = workspace / "database.db";
  const fs::path sparse = workspace / "sparse";
  const fs::path log = workspace / "colmap.log";
  // A fresh start: a stale database would mix old and new photos.
  for (const fs::path& p :
       {database, fs::path(database.string() + "-wal"), fs::path(database.string() + "-shm"), sparse, log}) {
    fs::remove_all(p, ec);
    if (ec) return absl::PermissionDeniedError(absl::StrCat(p.string(), ": cannot remove: ", ec.message()));
  }
  fs::create_directories(sparse, ec);
  if (ec) return absl::PermissionDeniedError(absl::StrCat(sparse.string(), ": cannot create: ", ec.message()));

  const std::string threads = std::to_string(request.num_threads);
  const std::string normalization = options.database_descriptor_normalization;
  struct Step {
    std::string name;
    std::vector<std::string> argv;
  };
  std::vector<Step> steps;
  steps.push_back({"feature_extractor",
                   {colmap.string(),
                    "feature_extractor",
                    "--database_path",
                    database.string(),
                    "--image_path",
                    request.images_dir.string(),
                    "--ImageReader.camera_model",
                    request.camera_model,
                    "--ImageReader.single_camera",
                    single_camera ? "1" : "0",
                    "--SiftExtraction.use_gpu",
                    "0",
                    "--SiftExtraction.num_threads",
                    threads,
                    "--SiftExtraction.max_image_size",
                    std::to_string(request.max_image_size_px),
                    "--SiftExtraction.max_num_features",
                    std::to_string(request.max_num_features),
                    "--descriptor_normalization",
                    normalization}});
  const std::string matcher = request.matcher + "_matcher";
  steps.push_back({matcher,
                   {colmap.string(), matcher, "--database_path", database.string(), "--SiftMatching.use_gpu", "0",
                    "--SiftMatching.num_threads", threads}});
  steps.push_back({"mapper",
                   {colmap.string(), "mapper", "--database_path", database.string(), "--image_path",
                    request.images_dir.string(), "--output_path", sparse.string(), "--Mapper.num_threads", threads}});

  internal::UpstreamInfo upstream;
  OrderedJson step_report = OrderedJson::object();
  ProcessOptions process;
  process.log_path = log;
  process.env["QT_QPA_PLATFORM"] = "offscreen";  // harmless, and keeps Qt off any display
  process.timeout_s = request.step_timeout_s;
  for (const Step& step : steps) {
    ARMAP_LOG_INFO("colmap {} ({} photos; log: {})", step.name, photos.size(), log.string());
    ARMAP_ASSIGN_OR_RETURN(const ProcessResult result, RunProcess(step.argv, process));
    upstream.stages[absl::StrCat("colmap_", step.name)] = {{"seconds", result.seconds}};
    step_report[step.name] = {{"seconds", result.seconds}, {"result", result.Describe()}};
    if (!result.ok()) {
      return absl::InternalError(
          absl::StrCat("colmap ", step.name, " failed (", result.Describe(), "); see ", log.string()));
    }
  }

  // The largest sub-model (most registered images, then most points).
  std::vector<SubModel> models;
  for (const auto& e : fs::directory_iterator(sparse, ec)) {
    if (!e.is_directory()) continue;
    auto model = io::ReadColmapModel(e.path());
    if (!model.ok()) {
      return Annotate(model.status(), absl::StrCat("colmap mapper output (see ", log.string(), ")"));
    }
    models.push_back({e.path().filename().string(), model->images.size(), model->points3D.size()});
  }
  if (models.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("colmap mapper reconstructed nothing from the ", photos.size(),
                                                      " photos in ", request.images_dir.string(), "; see ",
                                                      log.string()));
  }
  std::sort(models.begin(), models.end(), [](const SubModel& a, const SubModel& b) {
    return std::tie(b.images, b.points, a.name) < std::tie(a.images, a.points, b.name);
  });
  const SubModel& best = models.front();

  OrderedJson sub_models = OrderedJson::array();
  for (const SubModel& m : models)
    sub_models.push_back({{"name", m.name}, {"images", m.images}, {"points3D", m.points}});
  upstream.report = {{"binary", colmap.string()},
                     {"workspace", fs::absolute(workspace).string()},
                     {"log", fs::absolute(log).string()},
                     {"photos", photos.size()},
                     {"single_camera", single_camera},
                     {"steps", step_report},
                     {"sub_models", sub_models},
                     {"chosen_sub_model", best.name},
                     {"registered_photos", best.images},
                     {"registered_fraction", static_cast<double>(best.images) / static_cast<double>(photos.size())}};
  OrderedJson argv_json = OrderedJson::object();
  for (const Step& step : steps) argv_json[step.name] = step.argv;
  upstream.config = {{"matcher", request.matcher},
                     {"num_threads", request.num_threads},
                     {"max_image_size_px", request.max_image_size_px},
                     {"max_num_features", request.max_num_features},
                     {"camera_model", request.camera_model},
                     {"commands", argv_json}};

  FromColmapRequest build;
  build.model_dir = sparse / best.name;
  build.database_path = database;
  build.images_dir = request.images_dir;
  build.out_dir = request.out_dir;
  build.overwrite = request.overwrite;
  build.map_id = request.map_id;
  return internal::BuildMapFromColmap(build, options, upstream);
}

}  // namespace armap::mapping
