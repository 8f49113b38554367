#include "localization/localizer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <unordered_map>

#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/camera_angles.h"
#include "core/features/matching.h"
#include "core/features/retrieval.h"
#include "core/features/vlad.h"
#include "core/json.h"
#include "core/logging.h"
#include "core/map/map_data.h"
#include "core/map/package.h"
#include "core/status.h"
#include "localization/absolute_pose.h"
#include "localization/image_decode.h"

namespace armap::loc {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Marks each landmark once per pass without clearing between passes: a pass
// bumps the epoch, and only an epoch wrap (or a new map size) clears.
class LandmarkStamp {
 public:
  void NewPass(size_t num_landmarks) {
    if (stamp_.size() != num_landmarks || ++epoch_ == 0) {
      stamp_.assign(num_landmarks, 0);
      epoch_ = 1;
    }
  }
  bool Seen(uint32_t landmark) const { return stamp_[landmark] == epoch_; }
  void Mark(uint32_t landmark) { stamp_[landmark] = epoch_; }

 private:
  std::vector<uint32_t> stamp_;
  uint32_t epoch_ = 0;
};

// A camera scaled by sx, sy (pixel centres at integer coordinates, so the
// principal point maps as (c + 0.5) * s - 0.5).
Camera ScaleCamera(const Camera& camera, double sx, double sy, int width, int height) {
  Camera out = camera;
  out.width = width;
  out.height = height;
  out.params[0] *= sx;
  out.params[1] *= sy;
  out.params[2] = (camera.params[2] + 0.5) * sx - 0.5;
  out.params[3] = (camera.params[3] + 0.5) * sy - 0.5;
  return out;
}

absl::Status ValidateQueryCamera(const Camera& camera) {
  if (!camera.IsPerspective()) {
    return absl::InvalidArgumentError("camera: model must be PINHOLE or OPENCV for a query");
  }
  if (camera.width <= 0 || camera.height <= 0 || camera.width > Localizer::kMaxImageSidePx ||
      camera.height > Localizer::kMaxImageSidePx) {
    return absl::InvalidArgumentError(absl::StrCat("camera: size ", camera.width, " x ", camera.height,
                                                   " is outside [1, ", Localizer::kMaxImageSidePx, "]"));
  }
  if (static_cast<int>(camera.params.size()) != Camera::NumParams(camera.model)) {
    return absl::InvalidArgumentError(absl::StrCat("camera: ", camera.ModelName(), " needs ",
                                                   Camera::NumParams(camera.model), " params, got ", camera.params.size()));
  }
  for (size_t i = 0; i < camera.params.size(); ++i) {
    if (!std::isfinite(camera.params[i])) {
      return absl::InvalidArgumentError(absl::StrCat("camera: params[", i, "] is not finite"));
    }
  }
  if (!(camera.params[0] > 0) || !(camera.params[1] > 0)) {
    return absl::InvalidArgumentError(absl::StrCat("camera: focal lengths must be > 0 (fx = ", camera.params[0],
                                                   ", fy = ", camera.params[1], ")"));
  }
  return absl::OkStatus();
}

// Union-find over retrieved views for covisibility grouping.
struct DisjointSets {
  explicit DisjointSets(size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }
  size_t Find(size_t i) { return parent[i] == i ? i : parent[i] = Find(parent[i]); }
  void Join(size_t a, size_t b) { parent[Find(a)] = Find(b); }
  std::vector<size_t> parent;
};

}  // namespace

const char* FailureReasonName(FailureReason reason) {
  switch (reason) {
    case FailureReason::kNone: return "none";
    case FailureReason::kNoCandidates: return "no_candidates";
    case FailureReason::kTooFewFeatures: return "too_few_features";
    case FailureReason::kTooFewMatches: return "too_few_matches";
    case FailureReason::kTooFewInliers: return "too_few_inliers";
    case FailureReason::kDegenerateGeometry: return "degenerate_geometry";
    case FailureReason::kLowConfidence: return "low_confidence";
  }
  return "unknown";
}

GeoPose GeoPoseFromCamFromWorld(const Rigid3d& cam_from_world, const EnuFrame& map_frame) {
  const Rigid3d world_from_cam = cam_from_world.Inverse();
  const CameraAnglesDeg angles = CameraAnglesFromEnuFromCam(world_from_cam.rotation.toRotationMatrix());
  GeoPose g;
  g.position = map_frame.Wgs84FromEnu(world_from_cam.translation);
  g.heading_deg = angles.heading_deg;
  g.pitch_deg = angles.pitch_deg;
  g.roll_deg = angles.roll_deg;
  return g;
}

absl::Status Localizer::Options::Validate() const {
  auto bad = [](const char* field, double value, const char* rule) {
    return absl::InvalidArgumentError(absl::StrCat("Localizer::Options::", field, " = ", value, "; must be ", rule));
  };
  if (max_image_size_px != 0 && max_image_size_px < 64) return bad("max_image_size_px", max_image_size_px, "0 or >= 64");
  if (max_features < 16) return bad("max_features", max_features, ">= 16");
  if (!(query_contrast_threshold >= 0 && query_contrast_threshold < 1)) {
    return bad("query_contrast_threshold", query_contrast_threshold, "0 (the map's) or in (0, 1)");
  }
  if (query_sift_implementation != "armap" && query_sift_implementation != "opencv") {
    return absl::InvalidArgumentError(absl::StrCat("Localizer::Options::query_sift_implementation = '",
                                                   query_sift_implementation, "'; must be 'armap' or 'opencv'"));
  }
  if (num_retrieved < 1) return bad("num_retrieved", num_retrieved, "> 0");
  if (!(min_search_radius_m > 0)) return bad("min_search_radius_m", min_search_radius_m, "> 0");
  if (!(search_sigmas > 0)) return bad("search_sigmas", search_sigmas, "> 0");
  if (!(widen_factor >= 1)) return bad("widen_factor", widen_factor, ">= 1");
  if (max_groups < 1) return bad("max_groups", max_groups, ">= 1");
  if (!(max_ratio > 0 && max_ratio <= 1)) return bad("max_ratio", max_ratio, "in (0, 1]");
  if (!(max_reproj_error_px > 0)) return bad("max_reproj_error_px", max_reproj_error_px, "> 0");
  if (max_ransac_iterations < 1) return bad("max_ransac_iterations", max_ransac_iterations, ">= 1");
  if (min_inliers < 6) return bad("min_inliers", min_inliers, ">= 6");
  if (!(min_confidence >= 0 && min_confidence <= 1)) return bad("min_confidence", min_confidence, "in [0, 1]");
  if (!(max_gravity_error_deg > 0)) return bad("max_gravity_error_deg", max_gravity_error_deg, "> 0");
  if (!(guided_view_radius_m > 0)) return bad("guided_view_radius_m", guided_view_radius_m, "> 0");
  if (!(guided_max_descriptor_distance > 0 && guided_max_descriptor_distance <= 2)) {
    return bad("guided_max_descriptor_distance", guided_max_descriptor_distance, "in (0, 2]");
  }
  if (!(predicted_max_angle_deg > 0 && predicted_max_angle_deg <= 90)) {
    return bad("predicted_max_angle_deg", predicted_max_angle_deg, "in (0, 90]");
  }
  if (!(predicted_max_scale >= 1)) return bad("predicted_max_scale", predicted_max_scale, ">= 1");
  if (absl::Status s = region.Validate(); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("Localizer::Options::region: ", s.message()));
  }
  return absl::OkStatus();
}

struct Localizer::Impl {
  Options options;
  MapInfo info;
  std::unique_ptr<EnuFrame> frame;
  std::vector<map::MapView> views;
  std::vector<Eigen::Vector3d> view_centres;
  map::Landmarks landmarks;
  // CSR: landmarks seen by view v are view_landmarks[view_begin[v] .. view_begin[v + 1]).
  std::vector<uint32_t> view_begin;
  std::vector<uint32_t> view_landmarks;
  features::VladCodebook codebook;
  features::RetrievalIndex index;
  std::unique_ptr<features::FeatureExtractor> extractor;

  absl::StatusOr<LocalizeResult> Localize(const Query& query) const;
  // The query's features in the pixels of *camera: extracted from the
  // decoded, downscaled image (camera scaled to match), or the phone's own,
  // checked. Appends the decode/extract timings.
  absl::Status PrepareFeatures(const Query& query, features::FeatureSet* feats, Camera* camera,
                               std::vector<std::pair<std::string, double>>* stage_ms) const;
  // Views to search: near the prior, or all. Empty when the prior is far
  // from every view.
  std::vector<uint32_t> CandidateViews(const QueryPrior& prior, double radius_scale) const;
  // Where the prior puts the camera in the map frame (x, y) and its
  // horizontal sigma; none without a position or pose prior.
  struct PriorCentre {
    Eigen::Vector2d xy;
    double sigma_m = 0;
  };
  std::optional<PriorCentre> PriorCentreInMap(const QueryPrior& prior) const;
  // Views that see too few landmarks to localize against (sky, a blank
  // wall) are never retrieved: they would only crowd out useful ones.
  bool ViewIsUseful(uint32_t v) const { return view_begin[v + 1] - view_begin[v] >= kMinLandmarksPerView; }
  static constexpr uint32_t kMinLandmarksPerView = 20;
  // A pose supported by a set of inliers.
  struct PoseCandidate {
    int num_inliers = 0;
    Rigid3d cam_from_world;
    double rms_px = 0;
    double inlier_hull_area = 0;  // convex hull of the inliers, normalised plane
    double score = 0;             // inliers less the prior's penalty (see SearchViews)
  };
  struct SearchTimings {
    double retrieve_ms = 0, match_ms = 0, pose_ms = 0;
  };
  // The outcome of retrieval + matching + pose over the views near a prior.
  struct Search {
    int num_retrieved = 0;
    int num_matches = 0;  // most matches of any group
    PoseCandidate best;
    // The best score of a candidate that disagrees with `best` (> 1 m or
    // > 5 deg apart): evidence of an ambiguous place (repeated facades).
    double rival_score = 0;
    // The most inliers of any disagreeing candidate, before the prior's say:
    // the prior may pick between similar candidates, never overrule much
    // stronger image evidence with confidence.
    int strongest_rival_inliers = 0;
  };
  Search SearchViews(const features::FeatureSet& feats, const std::vector<Eigen::Vector2d>& normalized,
                     double focal_px, const QueryPrior& prior, double radius_scale, SearchTimings* timings) const;
  // Pose-guided recount (active search): the landmarks seen by the map's
  // views within guided_view_radius_m of the candidate's camera are
  // projected with its pose; a query feature counts when the nearest
  // descriptor among the landmarks projected within max_reproj_error_px of
  // it is close (guided_max_descriptor_distance) and passes the ratio test
  // among them. At a repeated facade the wrong place explains the repeated
  // part of the photo only, the right place that part and the rest; the
  // retrieved group's own count cannot tell, because the ratio test there
  // removes matches whose twin is in the same group.
  // Returns (query feature, landmark) pairs, by feature.
  std::vector<std::pair<uint32_t, uint32_t>> GuidedInliers(const Rigid3d& cam_from_world, const features::FeatureSet& query_features,
                                      const std::vector<Eigen::Vector2d>& normalized, double focal_px) const;
  // Projections (normalised plane, within [lo, hi)) of the landmarks the map
  // predicts to be visible from the pose: seen by a map view within
  // guided_view_radius_m that looked at the landmark from a similar
  // direction and distance (predicted_max_angle_deg, predicted_max_scale),
  // so neither occluded nor at another scale from there.
  std::vector<Eigen::Vector2d> PredictedProjections(const Rigid3d& cam_from_world, const Eigen::Vector2d& lo,
                                                    const Eigen::Vector2d& hi) const;
  // Matching and pose against the landmarks of one covisibility group: the
  // best pose, and a second one from the matches the first leaves out.
  std::vector<PoseCandidate> LocalizeInGroup(const features::FeatureSet& query_features,
                                             const std::vector<Eigen::Vector2d>& normalized,
                                             const std::vector<uint32_t>& group, double focal_px,
                                             const QueryPrior& prior, int* num_matches, double* match_ms,
                                             double* pose_ms) const;
};

Localizer::Localizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Localizer::~Localizer() = default;
const MapInfo& Localizer::info() const { return impl_->info; }
const Localizer::Options& Localizer::options() const { return impl_->options; }

absl::StatusOr<std::unique_ptr<Localizer>> Localizer::Load(const fs::path& map_dir, const Options& options) {
  ARMAP_RETURN_IF_ERROR(options.Validate());
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  ARMAP_ASSIGN_OR_RETURN(map::Manifest manifest, map::ReadManifest(map_dir));
  ARMAP_RETURN_IF_ERROR(map::VerifyPackage(map_dir, manifest));
  ARMAP_ASSIGN_OR_RETURN(impl->views, map::ReadViews(map_dir / "views.json"));
  ARMAP_ASSIGN_OR_RETURN(impl->landmarks, map::ReadLandmarks(map_dir / "landmarks.bin"));
  ARMAP_RETURN_IF_ERROR(Annotate(impl->landmarks.Validate(impl->views.size()), (map_dir / "landmarks.bin").string()));
  ARMAP_ASSIGN_OR_RETURN(impl->codebook, features::VladCodebook::Load(map_dir / "retrieval" / "codebook.bin"));
  ARMAP_ASSIGN_OR_RETURN(impl->index, features::RetrievalIndex::Load(map_dir / "retrieval" / "index.faiss"));
  if (impl->index.size() != impl->views.size()) {
    return absl::DataLossError(absl::StrCat((map_dir / "retrieval" / "index.faiss").string(), ": holds ",
                                            impl->index.size(), " views, views.json ", impl->views.size()));
  }
  if (impl->index.descriptor_size() != impl->codebook.descriptor_size()) {
    return absl::DataLossError(absl::StrCat(map_dir.string(), ": retrieval index and codebook sizes differ"));
  }
  for (size_t i = 0; i < impl->views.size(); ++i) {
    if (impl->views[i].id != i) {
      return absl::DataLossError(absl::StrCat((map_dir / "views.json").string(), ": view ", i, " has id ",
                                              impl->views[i].id, " (ids must be positions)"));
    }
  }
  // The extractor the map was built with (config.json, when the package has it).
  features::ExtractorOptions extractor = impl->info.extractor;
  if (fs::exists(map_dir / "config.json")) {
    ARMAP_ASSIGN_OR_RETURN(Json config, ReadJsonFile(map_dir / "config.json"));
    if (config.contains("features") && config["features"].is_object()) {
      const Json& f = config["features"];
      extractor.type = f.value("type", extractor.type);
      extractor.max_features = f.value("max_features", extractor.max_features);
      extractor.contrast_threshold = f.value("contrast_threshold", extractor.contrast_threshold);
      extractor.edge_threshold = f.value("edge_threshold", extractor.edge_threshold);
      extractor.octave_layers = f.value("octave_layers", extractor.octave_layers);
    }
  }
  ARMAP_RETURN_IF_ERROR(Annotate(extractor.Validate(), (map_dir / "config.json").string()));
  features::ExtractorOptions query_extractor = extractor;
  query_extractor.max_features = options.max_features;
  if (options.query_contrast_threshold > 0) query_extractor.contrast_threshold = options.query_contrast_threshold;
  query_extractor.implementation = options.query_sift_implementation;
  ARMAP_ASSIGN_OR_RETURN(impl->extractor, features::FeatureExtractor::Create(query_extractor));
  if (impl->landmarks.descriptor_dim != impl->codebook.dim()) {
    return absl::DataLossError(absl::StrCat(map_dir.string(), ": landmark descriptors have dim ",
                                            impl->landmarks.descriptor_dim, ", the codebook ", impl->codebook.dim()));
  }

  MapInfo& info = impl->info;
  info.map_id = manifest.map_id;
  info.map_version = manifest.map_version;
  info.created_utc = manifest.created_utc;
  info.origin = manifest.origin;
  info.bbox_min_m = manifest.bbox_min_m;
  info.bbox_max_m = manifest.bbox_max_m;
  info.num_views = static_cast<int64_t>(impl->views.size());
  info.num_landmarks = static_cast<int64_t>(impl->landmarks.size());
  info.extractor = extractor;
  impl->frame = std::make_unique<EnuFrame>(manifest.origin);

  for (const map::MapView& v : impl->views) impl->view_centres.push_back(CameraCenter(v.cam_from_world));
  // Invert the landmark -> views CSR into view -> landmarks.
  const map::Landmarks& lm = impl->landmarks;
  impl->view_begin.assign(impl->views.size() + 1, 0);
  for (map::view_t v : lm.obs_view) ++impl->view_begin[v + 1];
  for (size_t v = 0; v < impl->views.size(); ++v) impl->view_begin[v + 1] += impl->view_begin[v];
  impl->view_landmarks.resize(lm.num_observations());
  std::vector<uint32_t> fill(impl->view_begin.begin(), impl->view_begin.end() - 1);
  for (size_t i = 0; i < lm.size(); ++i) {
    for (uint32_t o = lm.obs_begin[i]; o < lm.obs_begin[i + 1]; ++o) {
      impl->view_landmarks[fill[lm.obs_view[o]]++] = static_cast<uint32_t>(i);
    }
  }
  return std::unique_ptr<Localizer>(new Localizer(std::move(impl)));
}

absl::StatusOr<LocalizeResult> Localizer::Localize(const Query& query) const { return impl_->Localize(query); }

std::optional<Localizer::Impl::PriorCentre> Localizer::Impl::PriorCentreInMap(const QueryPrior& prior) const {
  if (prior.has_cam_from_world) return PriorCentre{CameraCenter(prior.cam_from_world).head<2>(), prior.cam_from_world_accuracy_m};
  if (prior.has_position) return PriorCentre{frame->EnuFromWgs84(prior.position).head<2>(), prior.accuracy_m};
  return std::nullopt;
}

std::vector<uint32_t> Localizer::Impl::CandidateViews(const QueryPrior& prior, double radius_scale) const {
  std::vector<uint32_t> out;
  const std::optional<PriorCentre> centre = PriorCentreInMap(prior);
  const double radius_m =
      centre ? radius_scale * std::max(options.min_search_radius_m, options.search_sigmas * centre->sigma_m) : 0.0;
  for (uint32_t v = 0; v < views.size(); ++v) {
    if (!ViewIsUseful(v)) continue;
    if (!centre || (view_centres[v].head<2>() - centre->xy).norm() <= radius_m) out.push_back(v);
  }
  return out;
}

std::vector<std::pair<uint32_t, uint32_t>> Localizer::Impl::GuidedInliers(
    const Rigid3d& cam_from_world, const features::FeatureSet& query_features,
    const std::vector<Eigen::Vector2d>& normalized, double focal_px) const {
  std::vector<std::pair<uint32_t, uint32_t>> explained;
  if (normalized.empty()) return explained;
  const Eigen::Vector3d centre = CameraCenter(cam_from_world);
  // Landmarks seen from near the pose, each once (a per-thread stamp per
  // landmark instead of sorting: this runs a dozen times per query).
  thread_local LandmarkStamp stamp;
  stamp.NewPass(landmarks.size());
  std::vector<uint32_t> nearby;
  const double radius2_m = options.guided_view_radius_m * options.guided_view_radius_m;
  for (uint32_t v = 0; v < views.size(); ++v) {
    if ((view_centres[v].head<2>() - centre.head<2>()).squaredNorm() > radius2_m) continue;
    for (uint32_t o = view_begin[v]; o < view_begin[v + 1]; ++o) {
      const uint32_t l = view_landmarks[o];
      if (!stamp.Seen(l)) {
        stamp.Mark(l);
        nearby.push_back(l);
      }
    }
  }

  // Bucket their projections on the normalised plane in cells one search
  // radius wide (CSR), over the area the query's features cover.
  const double radius = options.max_reproj_error_px / focal_px;
  Eigen::Vector2d lo = normalized.front(), hi = normalized.front();
  for (const Eigen::Vector2d& n : normalized) {
    lo = lo.cwiseMin(n);
    hi = hi.cwiseMax(n);
  }
  lo.array() -= radius;
  hi.array() += radius;
  const int cols = std::max(1, static_cast<int>(std::ceil((hi.x() - lo.x()) / radius)));
  const int rows = std::max(1, static_cast<int>(std::ceil((hi.y() - lo.y()) / radius)));
  if (static_cast<int64_t>(cols) * rows > 4'000'000) return explained;  // a degenerate pose's huge spread
  struct Projected {
    uint32_t landmark;
    uint32_t cell;
    Eigen::Vector2f n;
  };
  std::vector<Projected> projected;
  projected.reserve(nearby.size());
  const Eigen::Matrix3d rotation = cam_from_world.rotation.toRotationMatrix();
  for (uint32_t l : nearby) {
    const Eigen::Vector3d p = rotation * landmarks.positions[l] + cam_from_world.translation;
    if (p.z() < 0.1) continue;
    const Eigen::Vector2d n = p.head<2>() / p.z();
    if (n.x() < lo.x() || n.y() < lo.y() || n.x() >= hi.x() || n.y() >= hi.y()) continue;
    const int cx = std::min(cols - 1, static_cast<int>((n.x() - lo.x()) / radius));
    const int cy = std::min(rows - 1, static_cast<int>((n.y() - lo.y()) / radius));
    projected.push_back({l, static_cast<uint32_t>(cy * cols + cx), n.cast<float>()});
  }
  std::vector<uint32_t> cell_begin(static_cast<size_t>(cols) * rows + 1, 0);
  for (const Projected& p : projected) ++cell_begin[p.cell + 1];
  for (size_t c = 1; c < cell_begin.size(); ++c) cell_begin[c] += cell_begin[c - 1];
  std::vector<Projected> by_cell(projected.size());
  {
    std::vector<uint32_t> fill(cell_begin.begin(), cell_begin.end() - 1);
    for (const Projected& p : projected) by_cell[fill[p.cell]++] = p;
  }

  // Descriptors are unit vectors scaled by 512 (RootSIFT, uint8).
  const int dim = landmarks.descriptor_dim;
  const double max_d2 = std::pow(options.guided_max_descriptor_distance * 512.0, 2);
  const double ratio2 = static_cast<double>(options.max_ratio) * options.max_ratio;
  const double radius2 = radius * radius;
  std::vector<std::pair<uint32_t, uint32_t>> matched;  // (landmark, feature)
  for (size_t i = 0; i < normalized.size(); ++i) {
    const Eigen::Vector2d& n = normalized[i];
    const int cx = static_cast<int>((n.x() - lo.x()) / radius);
    const int cy = static_cast<int>((n.y() - lo.y()) / radius);
    const uint8_t* q = query_features.descriptors.data() + i * static_cast<size_t>(dim);
    int64_t best = std::numeric_limits<int64_t>::max(), second = best;
    uint32_t best_landmark = 0;
    for (int y = std::max(0, cy - 1); y <= std::min(rows - 1, cy + 1); ++y) {
      for (int x = std::max(0, cx - 1); x <= std::min(cols - 1, cx + 1); ++x) {
        const size_t cell = static_cast<size_t>(y) * cols + x;
        for (uint32_t e = cell_begin[cell]; e < cell_begin[cell + 1]; ++e) {
          const uint32_t l = by_cell[e].landmark;
          if ((by_cell[e].n.cast<double>() - n).squaredNorm() > radius2) continue;
          const uint8_t* t = landmarks.descriptor(l);
          int64_t d2 = 0;
          for (int k = 0; k < dim; ++k) {
            const int d = static_cast<int>(q[k]) - static_cast<int>(t[k]);
            d2 += d * d;
          }
          if (d2 < best) {
            second = best;
            best = d2;
            best_landmark = l;
          } else if (d2 < second) {
            second = d2;
          }
        }
      }
    }
    if (best > max_d2) continue;
    if (second != std::numeric_limits<int64_t>::max() && best > ratio2 * second) continue;
    matched.emplace_back(best_landmark, static_cast<uint32_t>(i));
  }
  // A landmark explains one feature (its first).
  std::sort(matched.begin(), matched.end());
  for (size_t k = 0; k < matched.size(); ++k) {
    if (k == 0 || matched[k].first != matched[k - 1].first) explained.emplace_back(matched[k].second, matched[k].first);
  }
  std::sort(explained.begin(), explained.end());
  return explained;
}

std::vector<Eigen::Vector2d> Localizer::Impl::PredictedProjections(const Rigid3d& cam_from_world,
                                                                   const Eigen::Vector2d& lo,
                                                                   const Eigen::Vector2d& hi) const {
  std::vector<Eigen::Vector2d> out;
  const Eigen::Vector3d centre = CameraCenter(cam_from_world);
  const Eigen::Matrix3d rotation = cam_from_world.rotation.toRotationMatrix();
  const double radius2_m = options.guided_view_radius_m * options.guided_view_radius_m;
  const double cos_max = std::cos(options.predicted_max_angle_deg * M_PI / 180.0);
  const double max_scale = options.predicted_max_scale;
  // Each landmark once (a per-thread stamp, as in GuidedInliers).
  thread_local LandmarkStamp stamp;
  stamp.NewPass(landmarks.size());
  for (uint32_t v = 0; v < views.size(); ++v) {
    if ((view_centres[v].head<2>() - centre.head<2>()).squaredNorm() > radius2_m) continue;
    for (uint32_t o = view_begin[v]; o < view_begin[v + 1]; ++o) {
      const uint32_t l = view_landmarks[o];
      if (stamp.Seen(l)) continue;
      const Eigen::Vector3d& x = landmarks.positions[l];
      const Eigen::Vector3d p = rotation * x + cam_from_world.translation;
      if (p.z() < 0.1) continue;
      const Eigen::Vector2d n = p.head<2>() / p.z();
      if (n.x() < lo.x() || n.y() < lo.y() || n.x() >= hi.x() || n.y() >= hi.y()) continue;
      const Eigen::Vector3d from_pose = x - centre, from_view = x - view_centres[v];
      const double d_pose = from_pose.norm(), d_view = from_view.norm();
      if (d_pose > max_scale * d_view || d_view > max_scale * d_pose) continue;
      if (from_pose.dot(from_view) < cos_max * d_pose * d_view) continue;
      // Another view of the same landmark may still pass.
      stamp.Mark(l);
      out.push_back(n);
    }
  }
  return out;
}

std::vector<Localizer::Impl::PoseCandidate> Localizer::Impl::LocalizeInGroup(
    const features::FeatureSet& query_features, const std::vector<Eigen::Vector2d>& normalized,
    const std::vector<uint32_t>& group, double focal_px, const QueryPrior& prior, int* num_matches, double* match_ms,
    double* pose_ms) const {
  std::vector<PoseCandidate> out;
  auto t0 = Clock::now();
  // The landmarks the group's views see, each once.
  std::vector<uint32_t> candidates;
  for (uint32_t v : group) {
    candidates.insert(candidates.end(), view_landmarks.begin() + view_begin[v], view_landmarks.begin() + view_begin[v + 1]);
  }
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  features::FeatureSet train;
  train.dim = landmarks.descriptor_dim;
  train.keypoints.resize(candidates.size());
  train.descriptors.resize(candidates.size() * static_cast<size_t>(train.dim));
  for (size_t i = 0; i < candidates.size(); ++i) {
    std::copy_n(landmarks.descriptor(candidates[i]), train.dim, train.descriptors.data() + i * train.dim);
  }
  features::MatchOptions mo;
  mo.max_ratio = options.max_ratio;
  mo.mutual = options.mutual_check;
  auto matches = features::MatchDescriptors(query_features, train, mo);
  *match_ms += MsSince(t0);
  if (!matches.ok()) return out;
  *num_matches = static_cast<int>(matches->size());
  if (*num_matches < options.min_inliers) return out;

  t0 = Clock::now();
  PoseCorrespondences c;
  for (const features::Match& m : *matches) {
    c.normalized.push_back(normalized[m.query]);
    c.point_in_world.push_back(landmarks.positions[candidates[m.train]]);
  }
  AbsolutePoseOptions po;
  po.min_iterations = 50;
  po.focal_px = focal_px;
  po.max_error_px = options.max_reproj_error_px;
  po.max_iterations = options.max_ransac_iterations;
  po.min_inliers = options.min_inliers;
  po.has_gravity = prior.has_gravity;
  po.gravity_in_cam = prior.gravity_in_cam;
  po.max_gravity_error_deg = options.max_gravity_error_deg;
  for (int round = 0; round < 2 && static_cast<int>(c.size()) >= options.min_inliers; ++round) {
    // The rival search on the leftovers is mostly outliers: a rival worth
    // knowing about has a decent inlier ratio and shows up early.
    if (round == 1) po.max_iterations = std::min(po.max_iterations, 300);
    const AbsolutePoseResult pose = EstimateAbsolutePose(c, po);
    if (!pose.found) break;
    PoseCandidate candidate;
    candidate.num_inliers = pose.num_inliers;
    candidate.rms_px = pose.rms_error_px;
    candidate.cam_from_world = pose.cam_from_world;
    // Spread of the inliers: the area of their convex hull.
    std::vector<cv::Point2f> pts;
    PoseCorrespondences rest;
    for (size_t k = 0; k < c.size(); ++k) {
      if (pose.inlier_mask[k]) {
        pts.emplace_back(static_cast<float>(c.normalized[k].x()), static_cast<float>(c.normalized[k].y()));
      } else {
        rest.normalized.push_back(c.normalized[k]);
        rest.point_in_world.push_back(c.point_in_world[k]);
      }
    }
    if (pts.size() >= 3) {
      std::vector<cv::Point2f> hull;
      cv::convexHull(pts, hull);
      candidate.inlier_hull_area = cv::contourArea(hull);
    }
    out.push_back(candidate);
    c = std::move(rest);  // the second round looks for a rival among the rest
  }
  *pose_ms += MsSince(t0);
  return out;
}

Localizer::Impl::Search Localizer::Impl::SearchViews(const features::FeatureSet& feats,
                                                     const std::vector<Eigen::Vector2d>& normalized, double focal_px,
                                                     const QueryPrior& prior, double radius_scale,
                                                     SearchTimings* timings) const {
  Search search;
  auto t0 = Clock::now();
  const std::vector<uint32_t> allowed = CandidateViews(prior, radius_scale);
  if (allowed.empty()) {
    timings->retrieve_ms += MsSince(t0);
    return search;
  }
  const std::vector<float> global = codebook.Encode(feats);
  const std::vector<features::RetrievalIndex::Result> retrieved = index.Search(global, options.num_retrieved, &allowed);
  search.num_retrieved = static_cast<int>(retrieved.size());
  // Covisibility groups: retrieved views that share landmarks, in the order
  // of their best-ranked member (hloc's covisibility clustering).
  std::vector<std::vector<uint32_t>> groups;
  {
    DisjointSets sets(retrieved.size());
    std::unordered_map<uint32_t, size_t> first_seen;
    for (size_t r = 0; r < retrieved.size(); ++r) {
      const uint32_t v = retrieved[r].id;
      for (uint32_t o = view_begin[v]; o < view_begin[v + 1]; ++o) {
        auto [it, inserted] = first_seen.emplace(view_landmarks[o], r);
        if (!inserted) sets.Join(r, it->second);
      }
    }
    std::unordered_map<size_t, size_t> group_of_root;
    for (size_t r = 0; r < retrieved.size(); ++r) {
      const size_t root = options.covisibility_groups ? sets.Find(r) : 0;
      auto [it, inserted] = group_of_root.emplace(root, groups.size());
      if (inserted) groups.emplace_back();
      groups[it->second].push_back(retrieved[r].id);
    }
  }
  timings->retrieve_ms += MsSince(t0);

  // The prior's say: a candidate d metres from where the phone believes it
  // is loses (d / sigma)^2 inliers' worth of score, so that of two similar
  // candidates (repeated facades) the plausible one wins.
  const std::optional<PriorCentre> centre = PriorCentreInMap(prior);
  std::vector<PoseCandidate> candidates;
  for (size_t g = 0; g < groups.size() && static_cast<int>(g) < options.max_groups; ++g) {
    int num_matches = 0;
    for (PoseCandidate& p : LocalizeInGroup(feats, normalized, groups[g], focal_px, prior, &num_matches,
                                            &timings->match_ms, &timings->pose_ms)) {
      p.score = p.num_inliers;
      if (centre) {
        const double d = (CameraCenter(p.cam_from_world).head<2>() - centre->xy).norm() / std::max(centre->sigma_m, 1.0);
        p.score -= options.prior_weight * d * d;
      }
      const Eigen::Vector3d c = CameraCenter(p.cam_from_world);
      ARMAP_LOG_DEBUG("localize: radius x{} group {} ({} views, first {}) matches {} inliers {} score {:.1f} centre ({:.1f}, {:.1f}, {:.1f})",
                      radius_scale, g, groups[g].size(), views[groups[g][0]].name, num_matches, p.num_inliers, p.score,
                      c.x(), c.y(), c.z());
      candidates.push_back(p);
    }
    search.num_matches = std::max(search.num_matches, num_matches);
  }
  auto disagree = [](const PoseCandidate& a, const PoseCandidate& b) {
    return (CameraCenter(a.cam_from_world) - CameraCenter(b.cam_from_world)).norm() > 1.0 ||
           RotationErrorDeg(a.cam_from_world.rotation, b.cam_from_world.rotation) > 5.0;
  };
  bool have_best = false;
  for (const PoseCandidate& p : candidates) {
    if (!have_best || p.score > search.best.score) search.best = p;
    have_best = true;
  }
  for (const PoseCandidate& p : candidates) {
    if (!disagree(p, search.best)) continue;
    search.rival_score = std::max(search.rival_score, p.score);
    search.strongest_rival_inliers = std::max(search.strongest_rival_inliers, p.num_inliers);
  }
  // Disagreeing candidates with real support: recount each against all
  // the landmarks near it and decide on those counts. A rival then counts
  // only with what it explains and the best does not: an alias of the
  // right place at a repeated facade explains a subset of the photo.
  // Only then: recounting a lone weak winner would lift a slightly wrong
  // pose (a metre off in a sparse map) to full confidence as readily as a
  // right one.
  if (options.guided_recount && search.strongest_rival_inliers >= options.min_inliers) {
    auto t_guided = Clock::now();
    // Candidates that agree with a stronger one add nothing to the choice.
    std::sort(candidates.begin(), candidates.end(),
              [](const PoseCandidate& a, const PoseCandidate& b) { return a.score > b.score; });
    std::vector<PoseCandidate> distinct;
    for (const PoseCandidate& p : candidates) {
      if (std::none_of(distinct.begin(), distinct.end(), [&](const PoseCandidate& d) { return !disagree(p, d); })) {
        distinct.push_back(p);
      }
    }
    candidates = std::move(distinct);
    std::vector<std::vector<std::pair<uint32_t, uint32_t>>> explained(candidates.size());
    std::vector<double> penalty(candidates.size());
    for (size_t k = 0; k < candidates.size(); ++k) {
      PoseCandidate& p = candidates[k];
      penalty[k] = p.num_inliers - p.score;  // the prior's say, as before
      explained[k] = GuidedInliers(p.cam_from_world, feats, normalized, focal_px);
      p.num_inliers = std::max(p.num_inliers, static_cast<int>(explained[k].size()));
      p.score = p.num_inliers - penalty[k];
    }
    size_t best_k = 0;
    for (size_t k = 1; k < candidates.size(); ++k) {
      if (candidates[k].score > candidates[best_k].score) best_k = k;
    }
    // The winner's pose, refined on everything it explains, counted again.
    PoseCandidate& winner = candidates[best_k];
    if (static_cast<int>(explained[best_k].size()) >= options.min_inliers) {
      PoseCorrespondences c;
      for (const auto& [f, l] : explained[best_k]) {
        c.normalized.push_back(normalized[f]);
        c.point_in_world.push_back(landmarks.positions[l]);
      }
      AbsolutePoseOptions refine;
      refine.focal_px = focal_px;
      refine.max_error_px = options.max_reproj_error_px;
      refine.has_gravity = prior.has_gravity;
      refine.gravity_in_cam = prior.gravity_in_cam;
      double rms_px = 0;
      const Rigid3d refined =
          RefineAbsolutePose(c, std::vector<char>(c.size(), 1), winner.cam_from_world, refine, &rms_px);
      auto again = GuidedInliers(refined, feats, normalized, focal_px);
      if (again.size() > explained[best_k].size()) {
        winner.cam_from_world = refined;
        winner.rms_px = rms_px;
        explained[best_k] = std::move(again);
        winner.num_inliers = std::max(winner.num_inliers, static_cast<int>(explained[best_k].size()));
        winner.score = winner.num_inliers - penalty[best_k];
      }
    }
    search.best = winner;
    search.rival_score = 0;
    search.strongest_rival_inliers = 0;
    // A rival counts with what it explains and the winner does not.
    Eigen::Vector2d lo = normalized.front(), hi = normalized.front();
    for (const Eigen::Vector2d& n : normalized) {
      lo = lo.cwiseMin(n);
      hi = hi.cwiseMax(n);
    }
    std::optional<CandidateEvidence> winner_evidence;
    for (size_t k = 0; k < candidates.size(); ++k) {
      if (k == best_k || !disagree(candidates[k], search.best)) continue;
      int exclusive = 0;
      auto w = explained[best_k].begin();
      for (const auto& [f, l] : explained[k]) {
        while (w != explained[best_k].end() && w->first < f) ++w;
        if (w == explained[best_k].end() || w->first != f) ++exclusive;
      }
      // The image regions that tell the two apart weigh the rival's support.
      double factor = 1.0;
      if (options.region_evidence) {
        if (!winner_evidence) {
          winner_evidence.emplace();
          winner_evidence->predicted = PredictedProjections(search.best.cam_from_world, lo, hi);
          for (const auto& [f, l] : explained[best_k]) winner_evidence->explained.push_back(normalized[f]);
        }
        CandidateEvidence rival;
        rival.predicted = PredictedProjections(candidates[k].cam_from_world, lo, hi);
        for (const auto& [f, l] : explained[k]) rival.explained.push_back(normalized[f]);
        const RegionEvidence evidence = RegionEvidenceFor(*winner_evidence, rival, lo, hi, options.region);
        factor = evidence.rival_factor;
        ARMAP_LOG_DEBUG("localize: region evidence: {} cells against the rival, {} against the best, factor {:.2f}",
                        evidence.against_rival, evidence.against_winner, factor);
      }
      ARMAP_LOG_DEBUG("localize: rival with {} guided inliers, {} not explained by the best ({} guided)",
                      explained[k].size(), exclusive, explained[best_k].size());
      const int weighed = static_cast<int>(std::lround(factor * exclusive));
      search.rival_score = std::max(search.rival_score, weighed - penalty[k]);
      search.strongest_rival_inliers = std::max(search.strongest_rival_inliers, weighed);
    }
    ARMAP_LOG_DEBUG("localize: guided recount of {} candidates in {:.1f} ms", candidates.size(), MsSince(t_guided));
    timings->pose_ms += MsSince(t_guided);
  }
  return search;
}

absl::Status Localizer::Impl::PrepareFeatures(const Query& query, features::FeatureSet* feats, Camera* camera,
                                              std::vector<std::pair<std::string, double>>* stage_ms) const {
  if (!query.image_bytes.empty()) {
    auto t0 = Clock::now();
    ARMAP_ASSIGN_OR_RETURN(const ImageHeader header, ReadImageHeader(query.image_bytes));
    if (static_cast<int64_t>(header.width) * header.height > Localizer::kMaxImagePixels ||
        header.width > Localizer::kMaxImageSidePx || header.height > Localizer::kMaxImageSidePx) {
      return absl::InvalidArgumentError(absl::StrCat("image: ", header.width, " x ", header.height,
                                                     " exceeds the limit of ", Localizer::kMaxImagePixels, " pixels"));
    }
    if (header.width != camera->width || header.height != camera->height) {
      return absl::InvalidArgumentError(absl::StrCat("image is ", header.width, " x ", header.height,
                                                     " but the camera says ", camera->width, " x ", camera->height));
    }
    ARMAP_ASSIGN_OR_RETURN(const GrayImage gray,
                           DecodeGray(query.image_bytes, header, options.max_image_size_px, options.jpeg_dct_scaling));
    if (gray.width != camera->width || gray.height != camera->height) {
      *camera = ScaleCamera(*camera, gray.scale_x, gray.scale_y, gray.width, gray.height);
    }
    stage_ms->emplace_back("decode", MsSince(t0));
    t0 = Clock::now();
    features::ImageView view{gray.pixels.data(), gray.width, gray.height, 1, static_cast<size_t>(gray.width)};
    ARMAP_ASSIGN_OR_RETURN(*feats, extractor->Extract(view));
    stage_ms->emplace_back("extract", MsSince(t0));
  } else {
    *feats = query.features;
    ARMAP_RETURN_IF_ERROR(feats->CheckConsistent("features"));
    if (feats->dim != landmarks.descriptor_dim) {
      return absl::InvalidArgumentError(absl::StrCat("features: descriptor_dim = ", feats->dim, "; the map uses ",
                                                     landmarks.descriptor_dim));
    }
    for (size_t i = 0; i < feats->size(); ++i) {
      const features::Keypoint& k = feats->keypoints[i];
      if (!std::isfinite(k.x) || !std::isfinite(k.y) || k.x < -0.5f || k.y < -0.5f || k.x > camera->width ||
          k.y > camera->height) {
        return absl::InvalidArgumentError(absl::StrCat("features: keypoint ", i, " (", k.x, ", ", k.y,
                                                       ") is outside the ", camera->width, " x ", camera->height, " image"));
      }
    }
    if (static_cast<int>(feats->size()) > 4 * options.max_features) {
      return absl::InvalidArgumentError(absl::StrCat("features: ", feats->size(), " keypoints; at most ",
                                                     4 * options.max_features, " accepted"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<LocalizeResult> Localizer::Impl::Localize(const Query& query) const {
  const auto start = Clock::now();
  LocalizeResult result;
  result.map_id = info.map_id;
  result.map_version = info.map_version;
  ARMAP_RETURN_IF_ERROR(ValidateQueryCamera(query.camera));
  const bool has_image = !query.image_bytes.empty();
  const bool has_features = !query.features.empty() || !query.features.descriptors.empty();
  if (has_image == has_features) {
    return absl::InvalidArgumentError(has_image ? "query: give an image or features, not both"
                                                : "query: neither an image nor features given");
  }
  if (query.prior.has_gravity && !(query.prior.gravity_in_cam.allFinite() && query.prior.gravity_in_cam.norm() > 1e-6)) {
    return absl::InvalidArgumentError("prior: gravity_in_cam must be a finite non-zero vector");
  }
  if (query.prior.has_position &&
      !(std::isfinite(query.prior.position.lat_deg) && std::isfinite(query.prior.position.lon_deg) &&
        std::abs(query.prior.position.lat_deg) <= 90 && std::abs(query.prior.position.lon_deg) <= 180)) {
    return absl::InvalidArgumentError("prior: position lat/lon out of range");
  }
  if (query.prior.has_position && !(query.prior.accuracy_m > 0 && std::isfinite(query.prior.accuracy_m))) {
    return absl::InvalidArgumentError(absl::StrCat("prior: accuracy_m = ", query.prior.accuracy_m, "; must be > 0"));
  }

  // Features in the camera's (possibly downscaled) pixels.
  features::FeatureSet feats;
  Camera camera = query.camera;
  ARMAP_RETURN_IF_ERROR(PrepareFeatures(query, &feats, &camera, &result.stage_ms));
  result.num_features = static_cast<int>(feats.size());
  auto finish = [&](FailureReason reason, std::string message) {
    result.success = reason == FailureReason::kNone;
    result.failure_reason = reason;
    result.failure_message = std::move(message);
    result.total_ms = MsSince(start);
    return result;
  };
  if (result.num_features < options.min_inliers) {
    return finish(FailureReason::kTooFewFeatures, absl::StrCat(result.num_features, " features in the image"));
  }
  // Thresholds are stated for the reference resolution (longer side
  // max_image_size_px), so client-side features at full resolution get the
  // same angular tolerance.
  const int max_side = std::max(camera.width, camera.height);
  const double resolution_scale =
      options.max_image_size_px > 0 ? std::min(1.0, static_cast<double>(options.max_image_size_px) / max_side) : 1.0;
  const double focal_px = 0.5 * (camera.params[0] + camera.params[1]) * resolution_scale;
  std::vector<Eigen::Vector2d> normalized(feats.size());
  for (size_t i = 0; i < feats.size(); ++i) {
    const Eigen::Vector3d ray = camera.Unproject(Eigen::Vector2d(feats.keypoints[i].x, feats.keypoints[i].y));
    normalized[i] = ray.head<2>() / ray.z();
  }

  // Search near the prior; when that finds no clear pose and the prior may
  // be wrong (GPS outliers of tens of metres between towers), search once
  // more with the radius widened.
  SearchTimings timings;
  Search search = SearchViews(feats, normalized, focal_px, query.prior, 1.0, &timings);
  const bool weak = search.best.num_inliers < 2 * options.min_inliers;
  if (weak && (query.prior.has_position || query.prior.has_cam_from_world)) {
    Search wide = SearchViews(feats, normalized, focal_px, query.prior, options.widen_factor, &timings);
    if (wide.best.num_inliers > search.best.num_inliers) search = std::move(wide);
  }
  result.stage_ms.emplace_back("retrieve", timings.retrieve_ms);
  result.stage_ms.emplace_back("match", timings.match_ms);
  result.stage_ms.emplace_back("pose", timings.pose_ms);
  result.num_retrieved_views = search.num_retrieved;
  result.num_matches = search.num_matches;
  result.num_inliers = search.best.num_inliers;
  result.cam_from_world = search.best.cam_from_world;
  result.reprojection_rms_px = search.best.rms_px;
  const double best_hull_area = search.best.inlier_hull_area;

  if (search.num_retrieved == 0) {
    return finish(FailureReason::kNoCandidates, "no map view within the prior's search radius");
  }
  if (result.num_matches < options.min_inliers) {
    return finish(FailureReason::kTooFewMatches, absl::StrCat(result.num_matches, " matches to the map"));
  }
  if (result.num_inliers < options.min_inliers) {
    return finish(FailureReason::kTooFewInliers,
                  absl::StrCat(result.num_inliers, " inliers of ", result.num_matches, " matches"));
  }
  // Confidence: enough inliers, spread over the image, and no rival pose of
  // similar support elsewhere (repeated facades). The hull area is on the
  // normalised plane; the image's own area there is w * h / f^2.
  const double image_area = static_cast<double>(camera.width) * camera.height /
                            (camera.params[0] * camera.params[1]);
  const double spread = std::min(1.0, best_hull_area / image_area);
  // The inlier count's say: with min_inliers 15, 25 inliers give 0.6 and
  // 40 give 0.89. A pose from barely more than min_inliers (about 20) can
  // be a metre and a few degrees off in a sparse map, so alone it does not
  // reach the default min_confidence of 0.5.
  const double count_term = 1.0 - std::exp(-(result.num_inliers - options.min_inliers + 1) / 12.0);
  const double spread_term = std::min(1.0, spread / 0.03);
  const double rivalry = search.rival_score > 0 ? search.rival_score / std::max(1.0, search.best.score) : 0.0;
  const double rival_term = std::clamp(1.0 - (rivalry - 0.3) / 0.4, 0.0, 1.0);
  const double dominance = search.strongest_rival_inliers > 0
                               ? static_cast<double>(result.num_inliers) / search.strongest_rival_inliers
                               : 2.0;
  const double dominance_term = std::clamp((dominance - 0.5) / 0.5, 0.0, 1.0);
  result.confidence = std::clamp(count_term * spread_term * rival_term * dominance_term, 0.0, 1.0);
  // A pose outside the mapped area (plus a margin) is not trusted.
  const Eigen::Vector3d centre = CameraCenter(result.cam_from_world);
  const Eigen::Vector3d margin(50, 50, 30);
  const bool inside = (centre.array() >= (info.bbox_min_m - margin).array()).all() &&
                      (centre.array() <= (info.bbox_max_m + margin).array()).all();
  if (!inside) result.confidence *= 0.1;
  result.geo_pose = GeoPoseFromCamFromWorld(result.cam_from_world, *frame);
  if (spread < 0.01) {
    return finish(FailureReason::kDegenerateGeometry,
                  absl::StrCat(result.num_inliers, " inliers covering ", spread * 100, "% of the image"));
  }
  if (result.confidence < options.min_confidence) {
    return finish(FailureReason::kLowConfidence,
                  absl::StrCat("confidence ", result.confidence, " (", result.num_inliers, " inliers, spread ",
                               spread, ", rival pose with ", search.strongest_rival_inliers, " inliers",
                               inside ? "" : ", outside the map", ")"));
  }
  return finish(FailureReason::kNone, "");
}

}  // namespace armap::loc
