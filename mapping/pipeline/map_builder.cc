#include "mapping/pipeline/map_builder.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <numeric>
#include <set>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/features/retrieval.h"
#include "core/files.h"
#include "core/io/trajectory.h"
#include "core/logging.h"
#include "core/map/map_data.h"
#include "core/map/package.h"
#include "core/status.h"
#include "mapping/pipeline/workspace.h"

#ifndef ARMAP_VERSION
#define ARMAP_VERSION "dev"
#endif

namespace armap::mapping {
namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

// ---------------------------------------------------------------------------
// Options <-> JSON: one list of fields serves both directions.

template <typename V>
void VisitFields(MapBuildOptions& o, V&& v) {
  v("map_id", o.map_id);
  v("map_version", o.map_version);
  v("jpeg_quality", o.jpeg_quality);
  v("num_threads", o.num_threads);
  v("ingest.max_pano_gap_m", o.ingest.max_pano_gap_m);
  v("lidar.voxel_size_m", o.lidar.voxel_size_m);
  v("lidar.sor_neighbors", o.lidar.sor_neighbors);
  v("lidar.sor_stddev", o.lidar.sor_stddev);
  v("lidar.ground_cell_m", o.lidar.ground_cell_m);
  v("lidar.ground_max_height_m", o.lidar.ground_max_height_m);
  v("lidar.ground_max_slope_deg", o.lidar.ground_max_slope_deg);
  v("privacy.cascade_dir", o.privacy.cascade_dir);
  v("privacy.min_neighbors", o.privacy.min_neighbors);
  v("privacy.min_size_px", o.privacy.min_size_px);
  v("privacy.max_abs_elevation_deg", o.privacy.max_abs_elevation_deg);
  v("views.num_horizontal", o.views.num_horizontal);
  v("views.include_up", o.views.include_up);
  v("views.size_px", o.views.size_px);
  v("views.fov_deg", o.views.fov_deg);
  v("depth.max_range_m", o.depth.max_range_m);
  v("features.type", o.features.type);
  v("features.max_features", o.features.max_features);
  v("features.contrast_threshold", o.features.contrast_threshold);
  v("features.edge_threshold", o.features.edge_threshold);
  v("features.octave_layers", o.features.octave_layers);
  v("matching.neighbour_panos", o.matching.neighbour_panos);
  v("matching.max_ratio", o.matching.max_ratio);
  v("matching.max_pano_distance_m", o.matching.max_pano_distance_m);
  v("matching.max_view_angle_deg", o.matching.max_view_angle_deg);
  v("matching.min_covisible_keypoints", o.matching.min_covisible_keypoints);
  v("matching.guide_radius_px", o.matching.guide_radius_px);
  v("alignment.reprojection_loss_px", o.alignment.reprojection_loss_px);
  v("alignment.plane_sigma_m", o.alignment.plane_sigma_m);
  v("alignment.plane_loss_m", o.alignment.plane_loss_m);
  v("alignment.prior_position_sigma_m", o.alignment.prior_position_sigma_m);
  v("alignment.prior_rotation_sigma_deg", o.alignment.prior_rotation_sigma_deg);
  v("alignment.max_reprojection_error_px", o.alignment.max_reprojection_error_px);
  v("alignment.rounds", o.alignment.rounds);
  v("alignment.max_iterations", o.alignment.max_iterations);
  v("landmarks.min_depth_m", o.landmarks.min_depth_m);
  v("landmarks.max_depth_m", o.landmarks.max_depth_m);
  v("landmarks.max_track_spread_m", o.landmarks.max_track_spread_m);
  v("retrieval.num_clusters", o.retrieval.num_clusters);
  v("retrieval.kmeans_iterations", o.retrieval.kmeans_iterations);
  v("retrieval.max_training_descriptors", o.retrieval.max_training_descriptors);
  v("retrieval.seed", o.retrieval.seed);
  v("whitemodel.simplified_tolerance_m", o.whitemodel.simplified_tolerance_m);
  v("roads.simplify_tolerance_m", o.roads.simplify_tolerance_m);
  v("pois.tesseract_languages", o.pois.tesseract_languages);
  v("pois.tesseract_fallback_languages", o.pois.tesseract_fallback_languages);
  v("overview.metres_per_pixel", o.overview.metres_per_pixel);
  v("overview.margin_m", o.overview.margin_m);
  v("overview.max_side_px", o.overview.max_side_px);
}

OrderedJson* Slot(OrderedJson* root, const std::string& dotted) {
  OrderedJson* node = root;
  for (absl::string_view part : absl::StrSplit(dotted, '.')) node = &(*node)[std::string(part)];
  return node;
}

void Flatten(const Json& j, const std::string& prefix, std::map<std::string, Json>* out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) Flatten(v, prefix.empty() ? k : prefix + "." + k, out);
  } else {
    (*out)[prefix] = j;
  }
}

// ---------------------------------------------------------------------------
// Workspace files.

constexpr char kFeaturesMagic[8] = {'A', 'R', 'M', 'A', 'P', 'F', 'T', '1'};

// Features of one view plus the lidar depth at each keypoint (0 = none).
struct ViewFeatures {
  features::FeatureSet features;
  std::vector<float> depth_m;
};

absl::Status WriteViewFeatures(const fs::path& path, const ViewFeatures& vf) {
  std::string out(kFeaturesMagic, sizeof(kFeaturesMagic));
  const uint32_t n = static_cast<uint32_t>(vf.features.size()), dim = static_cast<uint32_t>(vf.features.dim);
  out.append(reinterpret_cast<const char*>(&n), 4);
  out.append(reinterpret_cast<const char*>(&dim), 4);
  out.append(reinterpret_cast<const char*>(vf.features.keypoints.data()), n * sizeof(features::Keypoint));
  out.append(reinterpret_cast<const char*>(vf.features.descriptors.data()), vf.features.descriptors.size());
  out.append(reinterpret_cast<const char*>(vf.depth_m.data()), n * sizeof(float));
  return WriteFileAtomic(path, out);
}

absl::StatusOr<ViewFeatures> ReadViewFeatures(const fs::path& path) {
  ARMAP_ASSIGN_OR_RETURN(std::string data, ReadFileToString(path));
  if (data.size() < 16 || std::memcmp(data.data(), kFeaturesMagic, 8) != 0) {
    return absl::DataLossError(absl::StrCat(path.string(), ": not a features file"));
  }
  uint32_t n, dim;
  std::memcpy(&n, data.data() + 8, 4);
  std::memcpy(&dim, data.data() + 12, 4);
  const size_t expected = 16 + n * (sizeof(features::Keypoint) + dim + sizeof(float));
  if (data.size() != expected) return absl::DataLossError(absl::StrCat(path.string(), ": truncated"));
  ViewFeatures vf;
  vf.features.dim = static_cast<int>(dim);
  vf.features.keypoints.resize(n);
  vf.features.descriptors.resize(static_cast<size_t>(n) * dim);
  vf.depth_m.resize(n);
  const char* p = data.data() + 16;
  std::memcpy(vf.features.keypoints.data(), p, n * sizeof(features::Keypoint));
  p += n * sizeof(features::Keypoint);
  std::memcpy(vf.features.descriptors.data(), p, vf.features.descriptors.size());
  p += vf.features.descriptors.size();
  std::memcpy(vf.depth_m.data(), p, n * sizeof(float));
  return vf;
}

// Tracks: global keypoint ids, each track as a uint32 count then its ids.
absl::Status WriteTracks(const fs::path& path, const std::vector<std::vector<uint32_t>>& tracks) {
  std::string out;
  for (const std::vector<uint32_t>& ids : tracks) {
    const uint32_t n = static_cast<uint32_t>(ids.size());
    out.append(reinterpret_cast<const char*>(&n), 4);
    out.append(reinterpret_cast<const char*>(ids.data()), 4ull * n);
  }
  return WriteFileAtomic(path, out);
}

absl::StatusOr<std::vector<std::vector<uint32_t>>> ReadTracks(const fs::path& path) {
  ARMAP_ASSIGN_OR_RETURN(std::string data, ReadFileToString(path));
  std::vector<std::vector<uint32_t>> tracks;
  for (size_t pos = 0; pos < data.size();) {
    uint32_t n;
    if (pos + 4 > data.size()) return absl::DataLossError(absl::StrCat(path.string(), ": truncated"));
    std::memcpy(&n, data.data() + pos, 4);
    pos += 4;
    if (pos + 4ull * n > data.size()) return absl::DataLossError(absl::StrCat(path.string(), ": truncated"));
    std::vector<uint32_t>& ids = tracks.emplace_back(n);
    std::memcpy(ids.data(), data.data() + pos, 4ull * n);
    pos += 4ull * n;
  }
  return tracks;
}

// Depth maps are stored as 16-bit PNG in 2 mm units (up to 131 m).
constexpr double kDepthUnitM = 0.002;

absl::Status WriteDepthPng(const fs::path& path, const DepthMap& depth) {
  cv::Mat img(depth.height, depth.width, CV_16U);
  for (int r = 0; r < depth.height; ++r) {
    for (int c = 0; c < depth.width; ++c) {
      const double d = depth.depth_m[static_cast<size_t>(r) * depth.width + c];
      img.at<uint16_t>(r, c) = static_cast<uint16_t>(std::clamp(std::lround(d / kDepthUnitM), 0L, 65535L));
    }
  }
  if (!cv::imwrite(path.string(), img)) return absl::DataLossError(absl::StrCat(path.string(), ": cannot write"));
  return absl::OkStatus();
}

absl::StatusOr<DepthMap> ReadDepthPng(const fs::path& path) {
  const cv::Mat img = cv::imread(path.string(), cv::IMREAD_UNCHANGED);
  if (img.empty() || img.type() != CV_16U) return absl::DataLossError(absl::StrCat(path.string(), ": not a depth PNG"));
  DepthMap depth;
  depth.width = img.cols;
  depth.height = img.rows;
  depth.depth_m.resize(static_cast<size_t>(img.cols) * img.rows);
  for (int r = 0; r < img.rows; ++r) {
    for (int c = 0; c < img.cols; ++c) depth.depth_m[static_cast<size_t>(r) * img.cols + c] = img.at<uint16_t>(r, c) * kDepthUnitM;
  }
  return depth;
}

features::ImageView ViewOf(const cv::Mat& img) {
  return features::ImageView{img.data, img.cols, img.rows, img.channels(), img.step[0]};
}

double Median(std::vector<double> v) {
  if (v.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
  return v[v.size() / 2];
}

// Copies the files of a finished stage folder (not its stage.json) into `to`.
absl::Status CopyStageOutput(const fs::path& stage_dir, const fs::path& to) {
  std::error_code ec;
  fs::create_directories(to, ec);
  if (ec) return absl::InternalError(absl::StrCat(to.string(), ": cannot create: ", ec.message()));
  for (const auto& e : fs::recursive_directory_iterator(stage_dir)) {
    if (!e.is_regular_file() || e.path().filename() == "stage.json") continue;
    const fs::path target = to / fs::relative(e.path(), stage_dir);
    fs::create_directories(target.parent_path(), ec);
    fs::copy_file(e.path(), target, fs::copy_options::overwrite_existing, ec);
    if (ec) return absl::InternalError(absl::StrCat(e.path().string(), ": cannot copy into the package: ", ec.message()));
  }
  return absl::OkStatus();
}

uint64_t DirectorySize(const fs::path& dir) {
  uint64_t total = 0;
  if (!fs::exists(dir)) return 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) total += e.file_size();
  }
  return total;
}

OrderedJson LidarSummaryJson(const LidarPreprocessSummary& s) {
  OrderedJson seconds = OrderedJson::object();
  for (const auto& [k, v] : s.stage_seconds) seconds[k] = v;
  return OrderedJson{{"files", s.num_files}, {"points_read", s.num_points_read}, {"full_resolution", s.num_full},
                     {"downsampled", s.num_downsampled}, {"outliers_removed", s.num_outliers},
                     {"ground", s.num_ground}, {"non_ground", s.num_non_ground}, {"seconds", seconds},
                     {"warnings", s.warnings}};
}

// Global keypoint ids: keypoint k of view v is offset[v] + k.
struct KeypointIds {
  explicit KeypointIds(const std::vector<ViewFeatures>& all) : offset(all.size() + 1, 0) {
    for (size_t i = 0; i < all.size(); ++i) offset[i + 1] = offset[i] + static_cast<uint32_t>(all[i].features.size());
  }
  uint32_t Total() const { return offset.back(); }
  size_t ViewOf(uint32_t id) const {
    return static_cast<size_t>(std::upper_bound(offset.begin(), offset.end(), id) - offset.begin() - 1);
  }
  std::vector<uint32_t> offset;
};

// Union-find over global keypoint ids, for tracks.
class DisjointSets {
 public:
  explicit DisjointSets(size_t n) : parent_(n) { std::iota(parent_.begin(), parent_.end(), 0u); }
  uint32_t Find(uint32_t x) {
    while (parent_[x] != x) x = parent_[x] = parent_[parent_[x]];
    return x;
  }
  void Union(uint32_t a, uint32_t b) {
    a = Find(a);
    b = Find(b);
    if (a != b) parent_[std::max(a, b)] = std::min(a, b);
  }

 private:
  std::vector<uint32_t> parent_;
};

// ---------------------------------------------------------------------------
// The build.

class Builder {
 public:
  Builder(const MapBuildRequest& request, const MapBuildOptions& options, Workspace ws)
      : request_(request), options_(options), ws_(std::move(ws)) {}

  absl::StatusOr<OrderedJson> Run();

 private:
  // Runs `body` unless the stage is done with the same fingerprint.
  absl::Status Stage(const std::string& name, const OrderedJson& config, const std::function<absl::StatusOr<OrderedJson>()>& body);
  absl::Status EnsureLidar();
  fs::path ViewImagePath(size_t pano, size_t view) const {
    return ws_.StageDir("views") / capture_.panos[pano].name / (rig_->views()[view].suffix + ".jpg");
  }
  fs::path DepthPath(const std::string& stage, size_t pano, size_t view) const {
    return ws_.StageDir(stage) / capture_.panos[pano].name / (rig_->views()[view].suffix + ".png");
  }
  fs::path FeaturesPath(size_t pano, size_t view) const {
    return ws_.StageDir("features") / capture_.panos[pano].name / (rig_->views()[view].suffix + ".bin");
  }
  Rigid3d CamFromWorld(const std::vector<Rigid3d>& world_from_rig, size_t pano, size_t view) const {
    return rig_->views()[view].cam_from_rig * world_from_rig[pano].Inverse();
  }
  std::vector<Rigid3d> MeasuredPoses() const {
    std::vector<Rigid3d> poses;
    for (const CapturePano& p : capture_.panos) poses.push_back(p.world_from_rig);
    return poses;
  }
  absl::StatusOr<std::vector<Rigid3d>> RefinedPoses() const;
  // The map-frame point of keypoint k of view `view_global` at its lidar
  // depth, or nullopt without depth.
  std::optional<Eigen::Vector3d> KeypointInWorld(const ViewFeatures& vf, size_t view_global, size_t k,
                                                 const std::vector<Rigid3d>& world_from_rig) const {
    const float d = vf.depth_m[k];
    if (d <= 0) return std::nullopt;
    const size_t nv = rig_->views().size(), p = view_global / nv, v = view_global % nv;
    const auto& kp = vf.features.keypoints[k];
    const Eigen::Vector3d ray = rig_->views()[v].camera.Unproject(Eigen::Vector2d(kp.x, kp.y));
    return CamFromWorld(world_from_rig, p, v).Inverse() * (ray * (d / ray.z()));
  }
  absl::StatusOr<std::vector<ViewFeatures>> LoadAllFeatures() const;

  absl::StatusOr<OrderedJson> RunPrivacy();
  absl::StatusOr<OrderedJson> RunViews();
  absl::StatusOr<OrderedJson> RunDepth();
  absl::StatusOr<OrderedJson> RunFeatures();
  absl::StatusOr<OrderedJson> RunMatching();
  absl::StatusOr<OrderedJson> RunAlignment();
  absl::StatusOr<OrderedJson> RunLandmarks();
  absl::StatusOr<OrderedJson> RunRetrieval();
  // The map products (mapping/products), over the lidar and the aligned panoramas.
  absl::StatusOr<ProductInputs> LoadProductInputs() const;
  absl::StatusOr<OrderedJson> RunWhiteModel();
  // The full white-model level the whitemodel stage left in the workspace.
  absl::StatusOr<WhiteModelLevel> WorkspaceBuildings(const EnuFrame& frame) const {
    return ReadWhiteModelGeoJson(ws_.StageDir("whitemodel") / "full.geojson", frame);
  }
  absl::StatusOr<OrderedJson> RunRoads();
  absl::StatusOr<OrderedJson> RunPois();
  absl::StatusOr<OrderedJson> RunOverview();

  const MapBuildRequest& request_;
  MapBuildOptions options_;
  Workspace ws_;
  Capture capture_;
  QualityReport quality_;
  std::unique_ptr<ViewRig> rig_;
  std::optional<LidarMap> lidar_;
  LidarPreprocessSummary lidar_summary_;
  std::string upstream_fingerprint_;
  OrderedJson stages_ = OrderedJson::object();
  std::map<std::string, OrderedJson> summaries_;
  bool rerunning_products_ = false;
};

absl::Status Builder::Stage(const std::string& name, const OrderedJson& config,
                            const std::function<absl::StatusOr<OrderedJson>()>& body) {
  const std::string fp = Fingerprint(OrderedJson{{"upstream", upstream_fingerprint_}, {"config", config}});
  upstream_fingerprint_ = fp;
  const auto& rerun = request_.rerun_stages;
  if (std::find(rerun.begin(), rerun.end(), name) != rerun.end()) rerunning_products_ = true;
  const bool is_product = std::find(std::begin(kProductStages), std::end(kProductStages), name) != std::end(kProductStages);
  if (ws_.IsDone(name, fp) && !(is_product && rerunning_products_)) {
    ARMAP_ASSIGN_OR_RETURN(OrderedJson record, ws_.StageRecord(name));
    stages_[name] = {{"seconds", record["seconds"]}, {"skipped", true}};
    summaries_[name] = record["summary"];
    ARMAP_LOG_INFO("stage {}: up to date, skipped", name);
    return absl::OkStatus();
  }
  ARMAP_LOG_INFO("stage {}: running", name);
  ARMAP_RETURN_IF_ERROR(ws_.Begin(name));
  const auto start = Clock::now();
  auto summary = body();
  if (!summary.ok()) return Annotate(summary.status(), absl::StrCat("stage ", name));
  const double seconds = Seconds(start);
  ARMAP_RETURN_IF_ERROR(ws_.Finish(name, fp, seconds, *summary));
  stages_[name] = {{"seconds", seconds}, {"skipped", false}};
  summaries_[name] = *summary;
  ARMAP_LOG_INFO("stage {}: done in {:.1f} s", name, seconds);
  return absl::OkStatus();
}

absl::Status Builder::EnsureLidar() {
  if (lidar_) return absl::OkStatus();
  const auto start = Clock::now();
  ARMAP_ASSIGN_OR_RETURN(LidarMap map, PreprocessLidar(capture_.lidar_files, options_.lidar, &lidar_summary_));
  lidar_.emplace(std::move(map));
  for (const std::string& w : lidar_summary_.warnings) quality_.warnings.push_back("lidar: " + w);
  // Coverage check: every panorama should have lidar around it.
  for (const CapturePano& p : capture_.panos) {
    if (lidar_->PointsNear(p.world_from_rig.translation, 15.0).empty()) {
      quality_.warnings.push_back(absl::StrCat(p.name, ": no lidar points within 15 m (depth and alignment will be weak)"));
    }
  }
  ARMAP_LOG_INFO("lidar ready in {:.1f} s", Seconds(start));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Rigid3d>> Builder::RefinedPoses() const {
  ARMAP_ASSIGN_OR_RETURN(std::vector<io::PoseStamped> rows, io::ReadTrajectoryCsv(ws_.StageDir("alignment") / "poses.csv"));
  if (rows.size() != capture_.panos.size()) return absl::DataLossError("alignment/poses.csv does not match the capture");
  std::vector<Rigid3d> poses;
  for (const auto& r : rows) poses.push_back(r.world_from_rig);
  return poses;
}

absl::StatusOr<std::vector<ViewFeatures>> Builder::LoadAllFeatures() const {
  const size_t nv = rig_->views().size();
  std::vector<ViewFeatures> all(capture_.panos.size() * nv);
  for (size_t p = 0; p < capture_.panos.size(); ++p) {
    for (size_t v = 0; v < nv; ++v) {
      ARMAP_ASSIGN_OR_RETURN(all[p * nv + v], ReadViewFeatures(FeaturesPath(p, v)));
    }
  }
  return all;
}

absl::StatusOr<OrderedJson> Builder::RunPrivacy() {
  ARMAP_ASSIGN_OR_RETURN(std::unique_ptr<PrivacyFilter> filter, PrivacyFilter::Create(options_.privacy));
  int faces = 0, plates = 0;
  Progress progress("privacy", static_cast<long>(capture_.panos.size()));
  for (const CapturePano& p : capture_.panos) {
    cv::Mat image = cv::imread(p.image.string(), cv::IMREAD_COLOR);
    if (image.empty()) return absl::DataLossError(absl::StrCat(p.image.string(), ": cannot decode"));
    const PrivacyCounts counts = filter->Apply(image);
    faces += counts.faces;
    plates += counts.plates;
    const fs::path out = ws_.StageDir("privacy") / (p.name + ".jpg");
    if (!cv::imwrite(out.string(), image, {cv::IMWRITE_JPEG_QUALITY, options_.jpeg_quality})) {
      return absl::DataLossError(absl::StrCat(out.string(), ": cannot write"));
    }
    progress.Add();
  }
  return OrderedJson{{"faces", faces}, {"plates", plates}};
}

absl::StatusOr<OrderedJson> Builder::RunViews() {
  const size_t nv = rig_->views().size();
  Progress progress("views", static_cast<long>(capture_.panos.size()));
  absl::Status status;
#pragma omp parallel for schedule(dynamic, 1) num_threads(options_.num_threads)
  for (size_t p = 0; p < capture_.panos.size(); ++p) {
    const fs::path in = ws_.StageDir("privacy") / (capture_.panos[p].name + ".jpg");
    const cv::Mat pano = cv::imread(in.string(), cv::IMREAD_COLOR);
    std::error_code ec;
    fs::create_directories(ws_.StageDir("views") / capture_.panos[p].name, ec);
    bool ok = !pano.empty();
    const std::vector<cv::Mat> views = ok ? rig_->CutAll(pano) : std::vector<cv::Mat>();
    for (size_t v = 0; v < views.size() && ok; ++v) {
      ok = cv::imwrite(ViewImagePath(p, v).string(), views[v], {cv::IMWRITE_JPEG_QUALITY, options_.jpeg_quality});
    }
    if (!ok) {
#pragma omp critical
      status = absl::DataLossError(absl::StrCat(in.string(), ": cannot cut views"));
    }
    progress.Add();
  }
  ARMAP_RETURN_IF_ERROR(status);
  return OrderedJson{{"views", capture_.panos.size() * nv}, {"views_per_pano", nv}};
}

absl::StatusOr<OrderedJson> Builder::RunDepth() {
  ARMAP_RETURN_IF_ERROR(EnsureLidar());
  const size_t nv = rig_->views().size();
  const std::vector<Rigid3d> poses = MeasuredPoses();
  long valid = 0, total = 0;
  const size_t n = capture_.panos.size() * nv;
  for (const CapturePano& p : capture_.panos) {
    std::error_code ec;
    fs::create_directories(ws_.StageDir("depth") / p.name, ec);
  }
  absl::Status status;
  Progress progress("depth", static_cast<long>(n));
#pragma omp parallel for schedule(dynamic, 1) num_threads(options_.num_threads) reduction(+ : valid, total)
  for (size_t i = 0; i < n; ++i) {
    const size_t p = i / nv, v = i % nv;
    absl::Status s = [&]() -> absl::Status {
      ARMAP_ASSIGN_OR_RETURN(DepthMap depth, RenderDepth(*lidar_, rig_->views()[v].camera, CamFromWorld(poses, p, v), options_.depth));
      for (float d : depth.depth_m) valid += d > 0;
      total += static_cast<long>(depth.depth_m.size());
      return WriteDepthPng(DepthPath("depth", p, v), depth);
    }();
    if (!s.ok()) {
#pragma omp critical
      status = s;
    }
    progress.Add();
  }
  ARMAP_RETURN_IF_ERROR(status);
  return OrderedJson{{"valid_pixel_fraction", total ? static_cast<double>(valid) / total : 0.0},
                     {"lidar", LidarSummaryJson(lidar_summary_)}};
}

absl::StatusOr<OrderedJson> Builder::RunFeatures() {
  ARMAP_ASSIGN_OR_RETURN(std::unique_ptr<features::FeatureExtractor> extractor, features::FeatureExtractor::Create(options_.features));
  const size_t nv = rig_->views().size();
  const size_t n = capture_.panos.size() * nv;
  std::vector<long> counts(n, 0), with_depth(n, 0);
  absl::Status status;
  Progress progress("features", static_cast<long>(n));
#pragma omp parallel for schedule(dynamic, 1) num_threads(options_.num_threads)
  for (size_t i = 0; i < n; ++i) {
    const size_t p = i / nv, v = i % nv;
    absl::Status s = [&]() -> absl::Status {
      const cv::Mat image = cv::imread(ViewImagePath(p, v).string(), cv::IMREAD_GRAYSCALE);
      if (image.empty()) return absl::DataLossError(absl::StrCat(ViewImagePath(p, v).string(), ": cannot read"));
      ARMAP_ASSIGN_OR_RETURN(DepthMap depth, ReadDepthPng(DepthPath("depth", p, v)));
      ViewFeatures vf;
      ARMAP_ASSIGN_OR_RETURN(vf.features, extractor->Extract(ViewOf(image)));
      vf.depth_m.resize(vf.features.size(), 0.0f);
      for (size_t k = 0; k < vf.features.size(); ++k) {
        const auto d = depth.DepthAt(vf.features.keypoints[k].x, vf.features.keypoints[k].y);
        if (d) vf.depth_m[k] = static_cast<float>(*d);
      }
      counts[i] = static_cast<long>(vf.features.size());
      for (float d : vf.depth_m) with_depth[i] += d > 0;
      std::error_code ec;
      fs::create_directories(FeaturesPath(p, v).parent_path(), ec);
      return WriteViewFeatures(FeaturesPath(p, v), vf);
    }();
    if (!s.ok()) {
#pragma omp critical
      status = s;
    }
    progress.Add();
  }
  ARMAP_RETURN_IF_ERROR(status);
  const long total = std::accumulate(counts.begin(), counts.end(), 0L);
  const long depth_total = std::accumulate(with_depth.begin(), with_depth.end(), 0L);
  return OrderedJson{{"keypoints", total}, {"keypoints_with_depth", depth_total},
                     {"mean_per_view", n ? static_cast<double>(total) / n : 0.0}};
}

absl::StatusOr<OrderedJson> Builder::RunMatching() {
  ARMAP_ASSIGN_OR_RETURN(std::vector<ViewFeatures> all, LoadAllFeatures());
  const size_t nv = rig_->views().size(), np = capture_.panos.size();
  const std::vector<Rigid3d> measured = MeasuredPoses();
  // Global keypoint ids.
  const KeypointIds keypoint_ids(all);
  const std::vector<uint32_t>& offset = keypoint_ids.offset;
  auto point_of = [&](size_t view_global, size_t k, const std::vector<Rigid3d>& poses) {
    return KeypointInWorld(all[view_global], view_global, k, poses);
  };
  // Candidate view pairs. Panoramas: each with its nearest neighbours by
  // measured position (so a loop or a revisit is matched like consecutive
  // panoramas). Views: those that look at the same lidar surfaces, whatever
  // the angle between their axes -- a view and the opposite-facing view of
  // the next panorama see the ground and facades between them from mirrored
  // viewpoints, the best-conditioned matches there are.
  struct Pair { size_t a, b; };
  std::vector<Pair> pairs;
  const MatchingOptions& mopt = options_.matching;
  std::vector<std::pair<size_t, size_t>> pano_pairs;
  {
    std::set<std::pair<size_t, size_t>> seen;
    for (size_t i = 0; i < np; ++i) {
      std::vector<std::pair<double, size_t>> by_distance;
      for (size_t j = 0; j < np; ++j) {
        const double d = (measured[i].translation - measured[j].translation).norm();
        if (j != i && d <= mopt.max_pano_distance_m) by_distance.push_back({d, j});
      }
      std::sort(by_distance.begin(), by_distance.end());
      if (by_distance.size() > static_cast<size_t>(mopt.neighbour_panos)) by_distance.resize(mopt.neighbour_panos);
      for (const auto& [d, j] : by_distance) {
        if (seen.insert({std::min(i, j), std::max(i, j)}).second) pano_pairs.push_back({std::min(i, j), std::max(i, j)});
      }
    }
    std::sort(pano_pairs.begin(), pano_pairs.end());
  }
  const double max_cos = std::cos(mopt.max_view_angle_deg * M_PI / 180);
  // Co-visibility: keypoints of one view (with lidar depth) that project into
  // the other, in front of it and within the depth range, counted both ways.
  auto covisible = [&](size_t va_global, size_t vb_global) {
    const size_t pb = vb_global / nv, vb = vb_global % nv;
    const ViewFeatures& vf = all[va_global];
    const Camera& cam = rig_->views()[vb].camera;
    const Rigid3d cam_from_world = CamFromWorld(measured, pb, vb);
    const size_t step = std::max<size_t>(1, vf.features.size() / 400);
    int count = 0;
    for (size_t k = 0; k < vf.features.size(); k += step) {
      const auto x = point_of(va_global, k, measured);
      if (!x) continue;
      const Eigen::Vector3d in_cam = cam_from_world * *x;
      Eigen::Vector2d pix;
      if (in_cam.z() < options_.landmarks.min_depth_m || in_cam.z() > options_.landmarks.max_depth_m) continue;
      if (cam.Project(in_cam, &pix) && cam.InImage(pix)) count += static_cast<int>(step);
    }
    return count;
  };
  for (const auto& [i, j] : pano_pairs) {
    for (size_t a = 0; a < nv; ++a) {
      const Eigen::Vector3d za = CamFromWorld(measured, i, a).rotation.conjugate() * Eigen::Vector3d::UnitZ();
      for (size_t b = 0; b < nv; ++b) {
        const Eigen::Vector3d zb = CamFromWorld(measured, j, b).rotation.conjugate() * Eigen::Vector3d::UnitZ();
        if (mopt.max_view_angle_deg < 180 && za.dot(zb) < max_cos) continue;
        const size_t ga = i * nv + a, gb = j * nv + b;
        if (covisible(ga, gb) + covisible(gb, ga) >= mopt.min_covisible_keypoints) pairs.push_back({ga, gb});
      }
    }
  }
  features::MatchOptions mo;
  mo.max_ratio = options_.matching.max_ratio;
  std::vector<std::vector<std::pair<uint32_t, uint32_t>>> verified(pairs.size());
  absl::Status status;
  Progress progress("matching", static_cast<long>(pairs.size()));
#pragma omp parallel for schedule(dynamic, 1) num_threads(options_.num_threads)
  for (size_t pi = 0; pi < pairs.size(); ++pi) {
    const Pair& pr = pairs[pi];
    auto matches = features::MatchDescriptors(all[pr.a].features, all[pr.b].features, mo);
    if (!matches.ok()) {
#pragma omp critical
      status = matches.status();
      continue;
    }
    // Guided verification with lidar depth and the measured poses.
    const size_t pb = pr.b / nv, vb = pr.b % nv, pa = pr.a / nv, va = pr.a % nv;
    for (const features::Match& m : *matches) {
      auto check = [&](size_t from, size_t k, size_t to_p, size_t to_v, const features::Keypoint& target) {
        const auto x = point_of(from, k, measured);
        if (!x) return -1;  // unknown
        Eigen::Vector2d pix;
        if (!rig_->views()[to_v].camera.Project(CamFromWorld(measured, to_p, to_v) * *x, &pix)) return 0;
        return (pix - Eigen::Vector2d(target.x, target.y)).norm() <= options_.matching.guide_radius_px ? 1 : 0;
      };
      int ok = check(pr.a, m.query, pb, vb, all[pr.b].features.keypoints[m.train]);
      if (ok < 0) ok = check(pr.b, m.train, pa, va, all[pr.a].features.keypoints[m.query]);
      if (ok == 1) verified[pi].push_back({offset[pr.a] + m.query, offset[pr.b] + m.train});
    }
    progress.Add();
  }
  ARMAP_RETURN_IF_ERROR(status);
  progress.Done();
  DisjointSets sets(keypoint_ids.Total());
  long num_matches = 0;
  for (const auto& v : verified) {
    for (const auto& [a, b] : v) sets.Union(a, b);
    num_matches += static_cast<long>(v.size());
  }
  // Tracks: components with >= 2 keypoints, at most one per view.
  std::map<uint32_t, std::vector<uint32_t>> components;
  for (size_t vg = 0; vg < all.size(); ++vg) {
    for (uint32_t k = 0; k < all[vg].features.size(); ++k) {
      const uint32_t id = offset[vg] + k;
      const uint32_t root = sets.Find(id);
      if (root != id || components.count(root)) components[root].push_back(id);
    }
  }
  auto view_of = [&](uint32_t id) { return keypoint_ids.ViewOf(id); };
  std::vector<std::vector<uint32_t>> track_ids;
  for (auto& [root, ids] : components) {
    if (ids.size() < 2) continue;
    std::vector<size_t> views;
    for (uint32_t id : ids) views.push_back(view_of(id));
    std::sort(views.begin(), views.end());
    if (std::adjacent_find(views.begin(), views.end()) != views.end()) continue;  // ambiguous
    std::vector<Eigen::Vector3d> xs;
    for (uint32_t id : ids) {
      const size_t vg = view_of(id);
      if (auto x = point_of(vg, id - offset[vg], measured)) xs.push_back(*x);
    }
    if (xs.empty()) continue;
    Eigen::Vector3d mean = Eigen::Vector3d::Zero();
    for (const auto& x : xs) mean += x;
    mean /= static_cast<double>(xs.size());
    double spread = 0;
    for (const auto& x : xs) spread = std::max(spread, (x - mean).norm());
    const double range = (mean - measured[view_of(ids[0]) / nv].translation).norm();
    if (spread > options_.landmarks.max_track_spread_m + 0.02 * range) continue;
    track_ids.push_back(ids);
  }
  ARMAP_RETURN_IF_ERROR(WriteTracks(ws_.StageDir("matching") / "tracks.bin", track_ids));
  return OrderedJson{{"pano_pairs", pano_pairs.size()}, {"view_pairs", pairs.size()}, {"verified_matches", num_matches},
                     {"tracks", track_ids.size()}};
}

absl::StatusOr<OrderedJson> Builder::RunAlignment() {
  ARMAP_RETURN_IF_ERROR(EnsureLidar());
  ARMAP_ASSIGN_OR_RETURN(std::vector<ViewFeatures> all, LoadAllFeatures());
  ARMAP_ASSIGN_OR_RETURN(std::vector<std::vector<uint32_t>> track_ids, ReadTracks(ws_.StageDir("matching") / "tracks.bin"));
  const size_t nv = rig_->views().size(), np = capture_.panos.size();
  const std::vector<Rigid3d> measured = MeasuredPoses();
  const KeypointIds keypoint_ids(all);
  const std::vector<uint32_t>& offset = keypoint_ids.offset;
  AlignmentInput input;
  input.world_from_rig = measured;

  for (const VirtualView& v : rig_->views()) {
    input.view_cameras.push_back(v.camera);
    input.view_cam_from_rig.push_back(v.cam_from_rig);
  }
  for (const std::vector<uint32_t>& ids : track_ids) {
    AlignmentTrack track;
    Eigen::Vector3d sum = Eigen::Vector3d::Zero();
    int num_points = 0;
    for (uint32_t id : ids) {
      if (id >= keypoint_ids.Total()) return absl::DataLossError("matching/tracks.bin does not match the features");
      const size_t vg = keypoint_ids.ViewOf(id), k = id - offset[vg];
      const auto& kp = all[vg].features.keypoints[k];
      track.observations.push_back({static_cast<uint32_t>(vg / nv), static_cast<uint32_t>(vg % nv), Eigen::Vector2d(kp.x, kp.y)});
      if (auto x = KeypointInWorld(all[vg], vg, k, measured)) {
        sum += *x;
        ++num_points;
      }
    }
    if (num_points == 0) return absl::DataLossError("matching/tracks.bin: a track without lidar depth");
    track.initial_point = sum / num_points;
    input.tracks.push_back(std::move(track));
  }
  const LidarMap& lidar = *lidar_;
  input.lidar_plane = [&lidar](const Eigen::Vector3d& x, SurfacePlane* plane) {
    Plane fit;
    if (!lidar.LocalPlane(x, 0.3, &fit).ok() || fit.rms_m > 0.03 || fit.num_points < 8) return false;
    plane->point = fit.point;
    plane->normal = fit.normal;
    plane->rms_m = fit.rms_m;
    return true;
  };
  AlignmentOptions ao = options_.alignment;
  ao.num_threads = options_.num_threads;
  std::vector<Eigen::Vector3d> points;
  AlignmentSummary summary;
  ARMAP_ASSIGN_OR_RETURN(std::vector<Rigid3d> refined, AlignPanoramas(input, ao, &points, &summary));
  ARMAP_LOG_INFO("{}", summary.BriefReport());
  // Save poses and the tracks that survived.
  std::vector<io::PoseStamped> rows;
  for (size_t p = 0; p < np; ++p) rows.push_back({capture_.panos[p].name, capture_.panos[p].timestamp_s, refined[p]});
  ARMAP_RETURN_IF_ERROR(io::WriteTrajectoryCsv(ws_.StageDir("alignment") / "poses.csv", rows));
  std::vector<std::vector<uint32_t>> kept_ids;
  for (size_t t = 0; t < track_ids.size(); ++t) {
    if (points[t].allFinite()) kept_ids.push_back(track_ids[t]);
  }
  ARMAP_RETURN_IF_ERROR(WriteTracks(ws_.StageDir("alignment") / "tracks.bin", kept_ids));
  OrderedJson out{{"tracks", input.tracks.size()}, {"tracks_kept", kept_ids.size()}, {"observations", summary.num_observations}, {"anchored", summary.num_anchored},
                  {"anchored_level", summary.num_anchored_level},
                  {"rms_px_before", summary.initial_rms_px}, {"rms_px_after", summary.final_rms_px},
                  {"solver_seconds", summary.seconds}};
  if (capture_.panos_gt) {
    std::vector<double> pos_before, pos_after, rot_before, rot_after;
    for (size_t p = 0; p < np; ++p) {
      const Rigid3d& gt = (*capture_.panos_gt)[p].world_from_rig;
      pos_before.push_back((measured[p].translation - gt.translation).norm());
      pos_after.push_back((refined[p].translation - gt.translation).norm());
      rot_before.push_back(RotationErrorDeg(measured[p].rotation, gt.rotation));
      rot_after.push_back(RotationErrorDeg(refined[p].rotation, gt.rotation));
    }
    out["gt"] = {{"median_pos_err_m_before", Median(pos_before)}, {"median_pos_err_m_after", Median(pos_after)},
                 {"median_rot_err_deg_before", Median(rot_before)}, {"median_rot_err_deg_after", Median(rot_after)}};
  }
  return out;
}

absl::StatusOr<OrderedJson> Builder::RunLandmarks() {
  ARMAP_RETURN_IF_ERROR(EnsureLidar());
  ARMAP_ASSIGN_OR_RETURN(std::vector<ViewFeatures> all, LoadAllFeatures());
  ARMAP_ASSIGN_OR_RETURN(std::vector<Rigid3d> poses, RefinedPoses());
  const size_t nv = rig_->views().size(), np = capture_.panos.size();
  // Depth again, with the refined poses: centimetre landmarks need the
  // depth looked up where the keypoint really is.
  Progress progress("landmark depth", static_cast<long>(np * nv));
  absl::Status status;
#pragma omp parallel for schedule(dynamic, 1) num_threads(options_.num_threads)
  for (size_t i = 0; i < np * nv; ++i) {
    const size_t p = i / nv, v = i % nv;
    ViewFeatures& vf = all[i];
    std::vector<Eigen::Vector2d> pixels;
    pixels.reserve(vf.features.size());
    for (const auto& kp : vf.features.keypoints) pixels.emplace_back(kp.x, kp.y);
    // Depth only where the keypoints are: the same values as a whole depth
    // map's DepthAt, without refining the pixels no keypoint reads.
    auto depth = RenderDepthAt(*lidar_, rig_->views()[v].camera, CamFromWorld(poses, p, v), pixels, options_.depth);
    if (!depth.ok()) {
#pragma omp critical
      status = depth.status();
      continue;
    }
    for (size_t k = 0; k < vf.features.size(); ++k) {
      const std::optional<double>& d = (*depth)[k];
      vf.depth_m[k] = d ? static_cast<float>(*d) : 0.0f;
    }
    progress.Add();
  }
  ARMAP_RETURN_IF_ERROR(status);
  progress.Done();
  const KeypointIds keypoint_ids(all);
  const std::vector<uint32_t>& offset = keypoint_ids.offset;
  auto view_of = [&](uint32_t id) { return keypoint_ids.ViewOf(id); };
  auto point_of = [&](uint32_t id) -> std::optional<Eigen::Vector3d> {
    const size_t vg = view_of(id), k = id - offset[vg];
    const float d = all[vg].depth_m[k];
    if (d < options_.landmarks.min_depth_m || d > options_.landmarks.max_depth_m) return std::nullopt;
    return KeypointInWorld(all[vg], vg, k, poses);
  };
  map::Landmarks landmarks;
  std::vector<bool> used(keypoint_ids.Total(), false);
  // Multi-view tracks from the alignment stage.
  ARMAP_ASSIGN_OR_RETURN(std::vector<std::vector<uint32_t>> tracks, ReadTracks(ws_.StageDir("alignment") / "tracks.bin"));
  long multi = 0;
  for (const std::vector<uint32_t>& ids : tracks) {
    for (uint32_t id : ids) {
      if (id >= keypoint_ids.Total()) return absl::DataLossError("alignment/tracks.bin does not match the features");
    }
    std::vector<Eigen::Vector3d> xs;
    for (uint32_t id : ids) {
      if (auto x = point_of(id)) xs.push_back(*x);
    }
    if (xs.empty()) continue;
    Eigen::Vector3d mean = Eigen::Vector3d::Zero();
    for (const auto& x : xs) mean += x;
    mean /= static_cast<double>(xs.size());
    double spread = 0;
    for (const auto& x : xs) spread = std::max(spread, (x - mean).norm());
    if (spread > options_.landmarks.max_track_spread_m) continue;
    // Representative descriptor: the observation closest to the mean descriptor.
    std::vector<float> mean_desc(128, 0.0f);
    for (uint32_t id : ids) {
      const size_t vg = view_of(id);
      const uint8_t* d = all[vg].features.descriptor(id - offset[vg]);
      for (int c = 0; c < 128; ++c) mean_desc[c] += d[c];
    }
    uint32_t best = ids[0];
    double best_dist = 1e30;
    for (uint32_t id : ids) {
      const size_t vg = view_of(id);
      const uint8_t* d = all[vg].features.descriptor(id - offset[vg]);
      double dist = 0;
      for (int c = 0; c < 128; ++c) dist += std::pow(d[c] - mean_desc[c] / ids.size(), 2);
      if (dist < best_dist) {
        best_dist = dist;
        best = id;
      }
    }
    std::vector<map::view_t> views;
    std::vector<Eigen::Vector2f> pixels;
    for (uint32_t id : ids) {
      const size_t vg = view_of(id);
      const auto& kp = all[vg].features.keypoints[id - offset[vg]];
      views.push_back(static_cast<map::view_t>(vg));
      pixels.emplace_back(kp.x, kp.y);
      used[id] = true;
    }
    const size_t bvg = view_of(best);
    landmarks.Add(mean, all[bvg].features.descriptor(best - offset[bvg]), views, pixels);
    ++multi;
  }
  // Every other keypoint with lidar depth is a landmark too: the lidar gives
  // its 3D position without a second view.
  for (uint32_t id = 0; id < keypoint_ids.Total(); ++id) {
    if (used[id]) continue;
    const auto x = point_of(id);
    if (!x) continue;
    const size_t vg = view_of(id);
    const auto& kp = all[vg].features.keypoints[id - offset[vg]];
    landmarks.Add(*x, all[vg].features.descriptor(id - offset[vg]), {static_cast<map::view_t>(vg)}, {Eigen::Vector2f(kp.x, kp.y)});
  }
  std::vector<map::MapView> views;
  for (size_t p = 0; p < np; ++p) {
    for (size_t v = 0; v < nv; ++v) {
      map::MapView mv;
      mv.id = static_cast<map::view_t>(p * nv + v);
      mv.name = capture_.panos[p].name + "/" + rig_->views()[v].suffix;
      mv.source = capture_.panos[p].name;
      mv.camera = rig_->views()[v].camera;
      mv.cam_from_world = CamFromWorld(poses, p, v);
      views.push_back(mv);
    }
  }
  ARMAP_RETURN_IF_ERROR(landmarks.Validate(views.size()));
  ARMAP_RETURN_IF_ERROR(map::WriteLandmarks(ws_.StageDir("landmarks") / "landmarks.bin", landmarks));
  ARMAP_RETURN_IF_ERROR(map::WriteViews(ws_.StageDir("landmarks") / "views.json", views));
  return OrderedJson{{"landmarks", landmarks.size()}, {"multi_view_landmarks", multi},
                     {"observations", landmarks.num_observations()}, {"views", views.size()}};
}

absl::StatusOr<OrderedJson> Builder::RunRetrieval() {
  ARMAP_ASSIGN_OR_RETURN(std::vector<ViewFeatures> all, LoadAllFeatures());
  std::vector<const features::FeatureSet*> sets;
  for (const ViewFeatures& vf : all) sets.push_back(&vf.features);
  ARMAP_ASSIGN_OR_RETURN(features::VladCodebook codebook, features::VladCodebook::Train(sets, options_.retrieval));
  std::vector<std::vector<float>> descriptors;
  for (const ViewFeatures& vf : all) descriptors.push_back(codebook.Encode(vf.features));
  ARMAP_ASSIGN_OR_RETURN(features::RetrievalIndex index, features::RetrievalIndex::Build(codebook.descriptor_size(), descriptors));
  ARMAP_RETURN_IF_ERROR(codebook.Save(ws_.StageDir("retrieval") / "codebook.bin"));
  ARMAP_RETURN_IF_ERROR(index.Save(ws_.StageDir("retrieval") / "index.faiss"));
  return OrderedJson{{"views", all.size()}, {"clusters", codebook.num_clusters()}, {"descriptor_size", codebook.descriptor_size()}};
}

absl::StatusOr<ProductInputs> Builder::LoadProductInputs() const {
  ARMAP_ASSIGN_OR_RETURN(std::vector<Rigid3d> poses, RefinedPoses());
  ProductInputs inputs;
  inputs.num_threads = options_.num_threads;
  for (size_t p = 0; p < capture_.panos.size(); ++p) {
    PanoramaInput pano;
    pano.name = capture_.panos[p].name;
    pano.image = ws_.StageDir("privacy") / (pano.name + ".jpg");
    pano.camera = Camera::Equirectangular(capture_.pano_width_px, capture_.pano_height_px);
    pano.world_from_rig = poses[p];
    pano.timestamp_s = capture_.panos[p].timestamp_s;
    inputs.route_positions.push_back(poses[p].translation);
    inputs.panos.push_back(std::move(pano));
  }
  return inputs;
}

absl::StatusOr<OrderedJson> Builder::RunWhiteModel() {
  ARMAP_RETURN_IF_ERROR(EnsureLidar());
  ARMAP_ASSIGN_OR_RETURN(ProductInputs inputs, LoadProductInputs());
  ARMAP_ASSIGN_OR_RETURN(WhiteModelResult models, BuildWhiteModels(*lidar_, inputs, options_.whitemodel));
  ARMAP_RETURN_IF_ERROR(WriteWhiteModels(models, EnuFrame(capture_.origin), ws_.StageDir("whitemodel")));
  ARMAP_LOG_INFO("white models: {} buildings, {} -> {} vertices (simplified, {} m tolerance)", models.full.buildings.size(),
                 models.full.NumVertices(), models.simplified.NumVertices(), models.simplified.tolerance_m);
  return models.summary;
}

absl::StatusOr<OrderedJson> Builder::RunRoads() {
  ARMAP_RETURN_IF_ERROR(EnsureLidar());
  ARMAP_ASSIGN_OR_RETURN(ProductInputs inputs, LoadProductInputs());
  const EnuFrame frame(capture_.origin);
  ARMAP_ASSIGN_OR_RETURN(WhiteModelLevel buildings, WorkspaceBuildings(frame));
  ARMAP_ASSIGN_OR_RETURN(RoadNetwork network, BuildRoadNetwork(*lidar_, inputs, buildings, options_.roads));
  ARMAP_RETURN_IF_ERROR(WriteRoadNetwork(network, frame, ws_.StageDir("roads")));
  ARMAP_LOG_INFO("pedestrian network: {} nodes, {} edges, {:.0f} m", network.nodes.size(), network.edges.size(), network.TotalLengthM());
  return network.summary;
}

absl::StatusOr<OrderedJson> Builder::RunPois() {
  ARMAP_RETURN_IF_ERROR(EnsureLidar());
  ARMAP_ASSIGN_OR_RETURN(ProductInputs inputs, LoadProductInputs());
  const EnuFrame frame(capture_.origin);
  ARMAP_ASSIGN_OR_RETURN(WhiteModelLevel buildings, WorkspaceBuildings(frame));
  ARMAP_ASSIGN_OR_RETURN(PoiSet pois, DetectPois(*lidar_, inputs, buildings, options_.pois));
  ARMAP_RETURN_IF_ERROR(WritePois(pois, frame, ws_.StageDir("pois")));
  ARMAP_LOG_INFO("POIs: {}", pois.pois.size());
  return pois.summary;
}

absl::StatusOr<OrderedJson> Builder::RunOverview() {
  ARMAP_RETURN_IF_ERROR(EnsureLidar());
  const EnuFrame frame(capture_.origin);
  ARMAP_ASSIGN_OR_RETURN(WhiteModelLevel buildings, WorkspaceBuildings(frame));
  ARMAP_ASSIGN_OR_RETURN(RoadNetwork network, ReadRoadNetwork(ws_.StageDir("roads") / "network.geojson", frame));
  ARMAP_ASSIGN_OR_RETURN(PoiSet pois, ReadPois(ws_.StageDir("pois") / "pois.geojson", frame));
  map::OverviewLayers layers;
  const PointCloud& cloud = lidar_->cloud();
  const std::vector<uint8_t>& ground = lidar_->ground_flags();
  // Ground intensity, normalised by its own 2nd..98th percentile range.
  std::vector<float> values;
  for (size_t i = 0; i < cloud.points.size(); ++i) {
    if (ground[i]) values.push_back(cloud.HasIntensity() ? cloud.intensity[i] : 0.5f);
  }
  std::vector<float> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  const float lo = sorted.empty() ? 0.0f : sorted[sorted.size() / 50];
  const float hi = sorted.empty() ? 1.0f : sorted[sorted.size() * 49 / 50];
  for (size_t i = 0, j = 0; i < cloud.points.size(); ++i) {
    if (!ground[i]) continue;
    const Eigen::Vector3d p = cloud.origin + cloud.points[i].cast<double>();
    layers.ground_points.emplace_back(static_cast<float>(p.x()), static_cast<float>(p.y()));
    layers.ground_brightness.push_back(hi > lo ? (values[j] - lo) / (hi - lo) : 0.5f);
    ++j;
  }
  for (const BuildingModel& b : buildings.buildings) layers.footprints.push_back(b.footprint);
  for (const WalkNetworkEdge& e : network.edges) {
    map::OverviewLayers::Line line;
    for (const Eigen::Vector3d& p : e.polyline) line.points.push_back(p.head<2>());
    line.rgb = e.kind == "crossing" ? std::array<uint8_t, 3>{230, 170, 0} : std::array<uint8_t, 3>{40, 160, 60};
    line.width_px = 3;
    layers.lines.push_back(std::move(line));
  }
  for (const Poi& poi : pois.pois) {
    layers.markers.push_back({poi.position.head<2>(), poi.name_en.empty() ? poi.category : poi.name_en, {220, 30, 30}});
  }
  layers.title = absl::StrCat("armap overview: ", buildings.buildings.size(), " buildings, ", network.edges.size(),
                              " walkway edges, ", pois.pois.size(), " POIs");
  map::OverviewFrame placement;
  ARMAP_RETURN_IF_ERROR(map::WriteOverviewPng(layers, options_.overview, ws_.StageDir("overview") / "overview.png", &placement));
  ARMAP_RETURN_IF_ERROR(WriteJsonFile(ws_.StageDir("overview") / "overview.json", placement.ToJson()));
  return OrderedJson{{"buildings", buildings.buildings.size()}, {"edges", network.edges.size()}, {"pois", pois.pois.size()}};
}

absl::StatusOr<OrderedJson> Builder::Run() {
  // Ingest runs every time: it is the check that the capture is sane, and
  // its fingerprint (the capture's files) gates every later stage.
  auto start = Clock::now();
  ARMAP_ASSIGN_OR_RETURN(capture_, IngestCapture(request_.capture_dir, options_.ingest, &quality_));
  rig_ = std::make_unique<ViewRig>(options_.views, capture_.pano_width_px, capture_.pano_height_px);
  OrderedJson capture_id{{"capture", fs::absolute(request_.capture_dir).string()}, {"panos", capture_.panos.size()}};
  ARMAP_ASSIGN_OR_RETURN(capture_id["trajectory_sha256"], map::Sha256OfFile(request_.capture_dir / "trajectory.csv"));
  for (const auto& f : capture_.lidar_files) capture_id["lidar"].push_back({f.filename().string(), fs::file_size(f)});
  upstream_fingerprint_ = Fingerprint(capture_id);
  stages_["ingest"] = {{"seconds", Seconds(start)}, {"skipped", false}};

  OrderedJson config = options_.ToJson();
  ARMAP_RETURN_IF_ERROR(Stage("privacy", config["privacy"], [&] { return RunPrivacy(); }));
  ARMAP_RETURN_IF_ERROR(Stage("views", config["views"], [&] { return RunViews(); }));
  ARMAP_RETURN_IF_ERROR(Stage("depth", {config["lidar"], config["depth"]}, [&] { return RunDepth(); }));
  ARMAP_RETURN_IF_ERROR(Stage("features", config["features"], [&] { return RunFeatures(); }));
  ARMAP_RETURN_IF_ERROR(Stage("matching", {config["matching"], config["landmarks"]}, [&] { return RunMatching(); }));
  ARMAP_RETURN_IF_ERROR(Stage("alignment", config["alignment"], [&] { return RunAlignment(); }));
  ARMAP_RETURN_IF_ERROR(Stage("landmarks", config["landmarks"], [&] { return RunLandmarks(); }));
  ARMAP_RETURN_IF_ERROR(Stage("retrieval", config["retrieval"], [&] { return RunRetrieval(); }));
  ARMAP_RETURN_IF_ERROR(Stage("whitemodel", config["whitemodel"], [&] { return RunWhiteModel(); }));
  ARMAP_RETURN_IF_ERROR(Stage("roads", config["roads"], [&] { return RunRoads(); }));
  ARMAP_RETURN_IF_ERROR(Stage("pois", config["pois"], [&] { return RunPois(); }));
  ARMAP_RETURN_IF_ERROR(Stage("overview", config["overview"], [&] { return RunOverview(); }));
  if (lidar_) {
    stages_["lidar"] = {{"seconds", lidar_summary_.stage_seconds["total"]}, {"skipped", false}};
  } else {
    stages_["lidar"] = {{"seconds", summaries_["depth"]["lidar"]["seconds"].value("total", 0.0)}, {"skipped", true}};
  }

  // Package.
  start = Clock::now();
  const bool republish = request_.overwrite || !request_.rerun_stages.empty();
  ARMAP_ASSIGN_OR_RETURN(map::PackageWriter writer, map::PackageWriter::Begin(request_.out_dir, republish));
  const fs::path staging = writer.staging_dir();
  fs::create_directories(staging / "retrieval");
  for (const auto& [from, to] : std::vector<std::pair<fs::path, fs::path>>{
           {ws_.StageDir("landmarks") / "landmarks.bin", staging / "landmarks.bin"},
           {ws_.StageDir("landmarks") / "views.json", staging / "views.json"},
           {ws_.StageDir("retrieval") / "codebook.bin", staging / "retrieval" / "codebook.bin"},
           {ws_.StageDir("retrieval") / "index.faiss", staging / "retrieval" / "index.faiss"}}) {
    std::error_code ec;
    fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
    if (ec) return absl::InternalError(absl::StrCat(from.string(), ": cannot copy into the package: ", ec.message()));
  }
  // The products: every file a product stage wrote, less its stage record.
  for (const char* product : {"whitemodel", "roads", "pois"}) {
    ARMAP_RETURN_IF_ERROR(CopyStageOutput(ws_.StageDir(product), staging / product));
  }
  ARMAP_RETURN_IF_ERROR(CopyStageOutput(ws_.StageDir("overview"), staging));
  ARMAP_ASSIGN_OR_RETURN(map::Landmarks landmarks, map::ReadLandmarks(staging / "landmarks.bin"));
  ARMAP_ASSIGN_OR_RETURN(std::vector<map::MapView> views, map::ReadViews(staging / "views.json"));
  ARMAP_RETURN_IF_ERROR(WriteJsonFile(staging / "config.json", config));
  ARMAP_RETURN_IF_ERROR(WriteJsonFile(staging / "quality.json", quality_.ToJson()));

  map::Manifest manifest;
  manifest.map_id = options_.map_id.empty() ? fs::absolute(request_.capture_dir).filename().string() : options_.map_id;
  manifest.map_version = options_.map_version;
  manifest.created_by = std::string("armap ") + ARMAP_VERSION;
  manifest.origin = capture_.origin;
  Eigen::AlignedBox3d box;
  for (const auto& x : landmarks.positions) box.extend(x);
  for (const auto& v : views) box.extend(CameraCenter(v.cam_from_world));
  manifest.bbox_min_m = box.min();
  manifest.bbox_max_m = box.max();
  manifest.counts = {{"panos", static_cast<int64_t>(capture_.panos.size())}, {"views", static_cast<int64_t>(views.size())},
                     {"landmarks", static_cast<int64_t>(landmarks.size())},
                     {"observations", static_cast<int64_t>(landmarks.num_observations())}};

  // The report (contract keys: stages.<name>.seconds, counts.*, alignment.*,
  // privacy.*, size_bytes.*).
  OrderedJson report;
  report["armap_version"] = ARMAP_VERSION;
  report["map_id"] = manifest.map_id;
  report["map_version"] = manifest.map_version;
  report["capture"] = fs::absolute(request_.capture_dir).string();
  report["workspace"] = fs::absolute(ws_.dir()).string();
  stages_["package"] = {{"seconds", Seconds(start)}, {"skipped", false}};
  report["stages"] = stages_;
  const long lidar_points = lidar_ ? static_cast<long>(lidar_summary_.num_points_read)
                                   : summaries_["depth"]["lidar"].value("points_read", 0L);
  report["counts"] = {{"panos", capture_.panos.size()}, {"views", views.size()}, {"landmarks", landmarks.size()},
                      {"observations", landmarks.num_observations()}, {"lidar_points", lidar_points}};
  if (summaries_["alignment"].contains("gt")) report["alignment"] = summaries_["alignment"]["gt"];
  for (const char* key : {"tracks", "tracks_kept", "observations", "anchored", "rms_px_before", "rms_px_after"}) {
    if (summaries_["alignment"].contains(key)) report["alignment"][key] = summaries_["alignment"][key];
  }
  report["privacy"] = summaries_["privacy"];
  for (const char* product : {"whitemodel", "roads", "pois"}) report[product] = summaries_[product];
  const uint64_t descriptor_bytes = landmarks.descriptors.size();
  const uint64_t index_bytes = fs::file_size(staging / "retrieval" / "index.faiss") + fs::file_size(staging / "retrieval" / "codebook.bin");
  const uint64_t total_bytes = DirectorySize(staging);
  report["size_bytes"] = {{"total", total_bytes}, {"descriptors", descriptor_bytes}, {"index", index_bytes},
                          {"whitemodel", DirectorySize(staging / "whitemodel")}, {"roads", DirectorySize(staging / "roads")},
                          {"pois", DirectorySize(staging / "pois")},
                          {"per_pano", total_bytes / std::max<size_t>(1, capture_.panos.size())},
                          {"per_1000_landmarks", landmarks.size() ? 1000.0 * total_bytes / landmarks.size() : 0.0}};
  report["quality"] = quality_.ToJson();
  report["stage_summaries"] = summaries_;
  double build_seconds = 0;
  // "lidar" is part of the stage that first needed the lidar map (depth on
  // a fresh build); counting it again would inflate the total.
  for (const auto& [name, s] : stages_.items()) {
    if (name != "lidar") build_seconds += s["seconds"].get<double>();
  }
  report["seconds_total"] = build_seconds;
  report["seconds_per_pano"] = build_seconds / std::max<size_t>(1, capture_.panos.size());
  ARMAP_RETURN_IF_ERROR(WriteJsonFile(staging / "report.json", report));
  ARMAP_RETURN_IF_ERROR(writer.Commit(manifest));
  ARMAP_RETURN_IF_ERROR(WriteJsonFile(ws_.dir() / "report.json", report));
  return report;
}

}  // namespace

absl::Status MatchingOptions::Validate() const {
  if (neighbour_panos < 1) return absl::InvalidArgumentError(absl::StrCat("MatchingOptions::neighbour_panos = ", neighbour_panos, "; must be >= 1"));
  if (!(max_ratio > 0 && max_ratio <= 1)) return absl::InvalidArgumentError(absl::StrCat("MatchingOptions::max_ratio = ", max_ratio, "; must be in (0, 1]"));
  if (!(max_view_angle_deg > 0 && max_view_angle_deg <= 180)) return absl::InvalidArgumentError("MatchingOptions::max_view_angle_deg must be in (0, 180]");
  if (!(max_pano_distance_m > 0)) return absl::InvalidArgumentError("MatchingOptions::max_pano_distance_m must be > 0");
  if (min_covisible_keypoints < 1) return absl::InvalidArgumentError("MatchingOptions::min_covisible_keypoints must be >= 1");
  if (!(guide_radius_px > 0)) return absl::InvalidArgumentError("MatchingOptions::guide_radius_px must be > 0");
  return absl::OkStatus();
}

absl::Status LandmarkOptions::Validate() const {
  if (!(min_depth_m > 0 && max_depth_m > min_depth_m)) {
    return absl::InvalidArgumentError(absl::StrCat("LandmarkOptions: depth range [", min_depth_m, ", ", max_depth_m, "] is empty"));
  }
  if (!(max_track_spread_m > 0)) return absl::InvalidArgumentError("LandmarkOptions::max_track_spread_m must be > 0");
  return absl::OkStatus();
}

absl::Status MapBuildOptions::Validate() const {
  ARMAP_RETURN_IF_ERROR(ingest.Validate());
  ARMAP_RETURN_IF_ERROR(lidar.Validate());
  ARMAP_RETURN_IF_ERROR(privacy.Validate());
  ARMAP_RETURN_IF_ERROR(views.Validate());
  ARMAP_RETURN_IF_ERROR(depth.Validate());
  ARMAP_RETURN_IF_ERROR(features.Validate());
  ARMAP_RETURN_IF_ERROR(matching.Validate());
  ARMAP_RETURN_IF_ERROR(alignment.Validate());
  ARMAP_RETURN_IF_ERROR(landmarks.Validate());
  ARMAP_RETURN_IF_ERROR(retrieval.Validate());
  ARMAP_RETURN_IF_ERROR(whitemodel.Validate());
  ARMAP_RETURN_IF_ERROR(roads.Validate());
  ARMAP_RETURN_IF_ERROR(pois.Validate());
  ARMAP_RETURN_IF_ERROR(overview.Validate());
  if (jpeg_quality < 50 || jpeg_quality > 100) return absl::InvalidArgumentError("MapBuildOptions::jpeg_quality must be in [50, 100]");
  if (num_threads < 1 || num_threads > 256) return absl::InvalidArgumentError("MapBuildOptions::num_threads must be in [1, 256]");
  if (map_version < 1) return absl::InvalidArgumentError("MapBuildOptions::map_version must be >= 1");
  return absl::OkStatus();
}

OrderedJson MapBuildOptions::ToJson() const {
  OrderedJson out = OrderedJson::object();
  MapBuildOptions copy = *this;
  VisitFields(copy, [&](const std::string& key, auto& field) { *Slot(&out, key) = field; });
  return out;
}

absl::StatusOr<MapBuildOptions> MapBuildOptions::FromJson(const Json& json, const std::string& where) {
  if (!json.is_object()) return absl::InvalidArgumentError(absl::StrCat(where, ": a config must be a JSON object"));
  std::map<std::string, Json> flat;
  Flatten(json, "", &flat);
  MapBuildOptions o;
  absl::Status status;
  VisitFields(o, [&](const std::string& key, auto& field) {
    auto it = flat.find(key);
    if (it == flat.end() || !status.ok()) return;
    try {
      field = it->second.get<std::decay_t<decltype(field)>>();
    } catch (const nlohmann::json::exception&) {
      status = absl::InvalidArgumentError(absl::StrCat(where, ": '", key, "' has the wrong type"));
    }
    flat.erase(it);
  });
  ARMAP_RETURN_IF_ERROR(status);
  if (!flat.empty()) return absl::InvalidArgumentError(absl::StrCat(where, ": unknown config key '", flat.begin()->first, "'"));
  ARMAP_RETURN_IF_ERROR(o.Validate());
  return o;
}

absl::StatusOr<OrderedJson> BuildMap(const MapBuildRequest& request, const MapBuildOptions& options) {
  ARMAP_RETURN_IF_ERROR(options.Validate());
  if (request.capture_dir.empty() || request.out_dir.empty()) return absl::InvalidArgumentError("--capture and --out are required");
  std::error_code ec;
  if (fs::exists(request.out_dir, ec) && !request.overwrite && request.rerun_stages.empty()) {
    return absl::AlreadyExistsError(absl::StrCat(request.out_dir.string(), ": exists (use --overwrite to replace it)"));
  }
  const fs::path ws_dir = request.workspace_dir.empty() ? fs::path(request.out_dir.string() + ".workspace") : request.workspace_dir;
  ARMAP_ASSIGN_OR_RETURN(Workspace ws, Workspace::Open(ws_dir, request.overwrite));
  ARMAP_RETURN_IF_ERROR(WriteJsonFile(ws.dir() / "config.json", options.ToJson()));
  Builder builder(request, options, std::move(ws));
  return builder.Run();
}

}  // namespace armap::mapping
