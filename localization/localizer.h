// Visual positioning over one map package: a phone photo (or features the
// phone extracted) in, a 6DoF pose out.
//
//   retrieval  the query's VLAD descriptor against the map's views (FAISS),
//              restricted to views near the GPS prior when there is one;
//   matching   query features against the landmarks the retrieved views see
//              (ratio test, mutual check), grouped by covisibility;
//   pose       P3P in a locally optimised RANSAC (gravity-checked when the
//              phone gives gravity), then robust non-linear refinement;
//   verdict    a confidence from the inlier count and spread, or a failure
//              reason. An answer is either confident or marked failed: the
//              worst outcome for an inspector is a confident wrong pose.
//
// A Localizer is loaded once and shared read-only: Localize() is const and
// thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/camera.h"
#include "core/features/extractor.h"
#include "core/features/feature_set.h"
#include "core/geo.h"
#include "core/rigid3.h"
#include "localization/rival_evidence.h"

namespace armap::loc {

// Why a query was not localized. Not an error: the request was valid.
enum class FailureReason : int32_t {
  kNone = 0,
  kNoCandidates = 1,         // no map view near the prior / retrieval found nothing
  kTooFewFeatures = 2,       // the image has (almost) no texture
  kTooFewMatches = 3,        // features found, but too few match the map
  kTooFewInliers = 4,        // matches found, but no pose agrees with enough of them
  kDegenerateGeometry = 5,   // inliers bunched in one spot: the pose is not determined
  kLowConfidence = 6,        // a pose was found but does not pass the confidence bar
};
const char* FailureReasonName(FailureReason reason);

struct QueryPrior {
  // GPS (or network) position; horizontal 1-sigma accuracy in metres. A
  // large accuracy widens the search; no position searches the whole map.
  bool has_position = false;
  GeoPoint position;
  double accuracy_m = 10.0;
  // Gravity ("down", unit) in the camera frame, from the accelerometer.
  bool has_gravity = false;
  Eigen::Vector3d gravity_in_cam = Eigen::Vector3d(0, 1, 0);
  // A previous pose (e.g. the last fix of a continuous AR session) in the
  // map frame; used like a precise position prior of the given accuracy.
  bool has_cam_from_world = false;
  Rigid3d cam_from_world;
  double cam_from_world_accuracy_m = 2.0;
};

struct Query {
  // The camera that took the photo (pinhole or OpenCV model), at the
  // resolution of the image / of the keypoints.
  Camera camera;
  // Exactly one of: an encoded image (JPEG or PNG) ...
  std::string image_bytes;
  // ... or features extracted on the phone with the map's extractor options
  // (MapInfo::extractor), keypoints in the camera's pixels.
  features::FeatureSet features;
  QueryPrior prior;
};

// Geo pose of the camera: WGS84 position of its centre; heading is the
// azimuth of the optical axis (clockwise from north, [0, 360)), pitch its
// elevation above the horizon (up positive), roll the rotation about the
// optical axis (clockwise as the user sees it positive). Degrees.
struct GeoPose {
  GeoPoint position;
  double heading_deg = 0;
  double pitch_deg = 0;
  double roll_deg = 0;
};
GeoPose GeoPoseFromCamFromWorld(const Rigid3d& cam_from_world, const EnuFrame& map_frame);

struct LocalizeResult {
  bool success = false;
  FailureReason failure_reason = FailureReason::kNone;
  std::string failure_message;  // human-readable detail (counts), empty on success

  Rigid3d cam_from_world;  // map frame (ENU metres); valid when success
  GeoPose geo_pose;        // valid when success
  // In [0, 1]; success implies confidence >= Options::min_confidence.
  double confidence = 0;

  int num_features = 0;
  int num_retrieved_views = 0;
  int num_matches = 0;
  int num_inliers = 0;
  double reprojection_rms_px = 0;

  // Wall time per stage, milliseconds, in order: "decode", "extract",
  // "retrieve", "match", "pose" (RANSAC and refinement); stages not run
  // (e.g. decode/extract for phone-side features) are absent.
  std::vector<std::pair<std::string, double>> stage_ms;
  double total_ms = 0;

  std::string map_id;
  int64_t map_version = 0;
};

struct MapInfo {
  std::string map_id;
  int64_t map_version = 0;
  std::string created_utc;
  GeoPoint origin;
  Eigen::Vector3d bbox_min_m = Eigen::Vector3d::Zero();
  Eigen::Vector3d bbox_max_m = Eigen::Vector3d::Zero();
  int64_t num_views = 0;
  int64_t num_landmarks = 0;
  // The options the map's features were extracted with; phone-side
  // extraction must use the same (type, thresholds).
  features::ExtractorOptions extractor;
};

class Localizer {
 public:
  struct Options {
    // The query image is downscaled so that its longer side is at most this
    // (speed; the map's views are 640 px). 0 keeps the full resolution.
    int max_image_size_px = 640;
    // Decode a JPEG query straight to 1/2, 1/4 or 1/8 of its size (libjpeg's
    // DCT scaling) when that is still at least max_image_size_px, instead
    // of decoding it whole and area-reducing it. Off by default: it saves
    // only the inverse transform (entropy decoding dominates: about 3 of
    // 12.6 ms for a 1280 x 960 query on the loaded machine), and its
    // per-block reduced transform is not the box filter the thresholds were
    // set with: on the small test city a pose 1.15 m / 2.9 deg off gained
    // 2 inliers and crossed min_confidence (0.53; 0.44 refused otherwise),
    // while the default city's recall at (0.25 m, 2 deg) rose 99.0 -> 100%.
    bool jpeg_dct_scaling = false;
    // Features extracted from a query image.
    int max_features = 2000;
    // SIFT contrast threshold for query images; 0 uses the map's. A higher
    // one keeps only the stronger keypoints (their descriptors are the
    // same), which saves most of the extraction time spent on weak ones.
    double query_contrast_threshold = 0;
    // SIFT implementation for query images ("armap" or "opencv"). Both give
    // the same keypoints and descriptors (core/features/sift.h), so a map
    // built with either serves queries described by either; ours takes
    // about 0.6 of OpenCV's time on one core, most of a query's budget.
    std::string query_sift_implementation = "armap";
    // Views kept after retrieval (before covisibility grouping).
    int num_retrieved = 12;
    // Views whose centre is within max(min_search_radius_m,
    // search_sigmas * accuracy_m) of the prior are searched.
    double min_search_radius_m = 50.0;
    double search_sigmas = 3.0;
    // When the search near the prior finds no clear pose, it is repeated
    // once over a radius this many times larger.
    double widen_factor = 3.0;
    // Retrieved views are grouped by shared landmarks (covisibility) and
    // each of the first max_groups groups is matched on its own; a strong
    // pose from another group is a rival that lowers the confidence.
    bool covisibility_groups = true;
    int max_groups = 3;
    // Inliers' worth of score a pose candidate loses per squared sigma of
    // distance from the position prior (rival poses at repeated facades).
    double prior_weight = 3.0;
    // When pose candidates disagree (repeated facades), each is recounted
    // against every landmark seen from map views within
    // guided_view_radius_m of it, projected with its pose (active search),
    // and the choice and the confidence use those counts. A guided match
    // needs a descriptor distance (unit vectors) of at most
    // guided_max_descriptor_distance and passes max_ratio among the
    // landmarks projected near it.
    bool guided_recount = true;
    double guided_view_radius_m = 40.0;
    double guided_max_descriptor_distance = 0.7;
    // After the recount, a rival's support is scaled by the image regions
    // that tell it from the winner (rival_evidence.h): a landmark is
    // predicted visible from a candidate when a map view that sees it lies
    // within guided_view_radius_m and looked at it from within
    // predicted_max_angle_deg, from a distance within a factor
    // predicted_max_scale of the candidate's (so it is neither occluded
    // nor at another scale).
    bool region_evidence = true;
    double predicted_max_angle_deg = 30.0;
    double predicted_max_scale = 2.0;
    RegionEvidenceOptions region;
    // Lowe ratio for query-to-landmark matching.
    float max_ratio = 0.85f;
    // Keep a match only when the query feature is also the landmark's
    // nearest among the query's features.
    bool mutual_check = true;
    // RANSAC inlier threshold in pixels of the (downscaled) query image.
    double max_reproj_error_px = 4.0;
    int max_ransac_iterations = 2000;
    // A pose needs this many inliers to be considered at all ...
    int min_inliers = 15;
    // ... and this confidence to be reported as a success.
    double min_confidence = 0.5;
    // Gravity check: RANSAC hypotheses whose down direction is further than
    // this from the phone's gravity are rejected (when gravity is given).
    double max_gravity_error_deg = 5.0;

    // InvalidArgument naming the field, e.g.
    // "Localizer::Options::num_retrieved = 0; must be > 0".
    [[nodiscard]] absl::Status Validate() const;
  };

  // Loads and verifies the map package (manifest checksums, views,
  // landmarks, retrieval index). Errors name the file.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Localizer>> Load(const std::filesystem::path& map_dir,
                                                                       const Options& options);
  ~Localizer();
  Localizer(const Localizer&) = delete;
  Localizer& operator=(const Localizer&) = delete;

  // Thread-safe. InvalidArgument for a malformed query (undecodable image,
  // an image larger than kMaxImagePixels, zero/NaN intrinsics, features
  // with the wrong descriptor size, both or neither of image and
  // features); a valid query that cannot be localized returns OK with
  // success = false and a failure reason.
  [[nodiscard]] absl::StatusOr<LocalizeResult> Localize(const Query& query) const;

  const MapInfo& info() const;
  const Options& options() const;

  // Decoded images above this many pixels are refused (a JPEG header can
  // claim 60000 x 60000; the header is checked before decoding).
  static constexpr int64_t kMaxImagePixels = 40'000'000;
  static constexpr int kMaxImageSidePx = 16384;

 private:
  struct Impl;
  explicit Localizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace armap::loc
