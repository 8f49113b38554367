// `armap map build`: capture folder -> map package, as resumable stages over
// a workspace: ingest, lidar, privacy, views, depth, features, matching,
// alignment, landmarks, retrieval (the feature map), then the map products
// whitemodel, roads, pois and the overview PNG, then package.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/features/extractor.h"
#include "core/features/matching.h"
#include "core/features/vlad.h"
#include "core/json.h"
#include "core/map/overview.h"
#include "mapping/lidar/depth_map.h"
#include "mapping/lidar/lidar_map.h"
#include "mapping/pipeline/alignment.h"
#include "mapping/pipeline/capture.h"
#include "mapping/pipeline/privacy.h"
#include "mapping/pipeline/views.h"
#include "mapping/products/pois.h"
#include "mapping/products/roads.h"
#include "mapping/products/whitemodel.h"

namespace armap::mapping {

struct MatchingOptions {
  // Each panorama is matched with its N nearest panoramas by measured
  // position (not capture order: loops and revisits are matched too), up to
  // max_pano_distance_m away.
  int neighbour_panos = 4;
  double max_pano_distance_m = 30.0;
  float max_ratio = 0.8f;             // Lowe's ratio test
  // Views of two panoramas are matched when they look at the same lidar
  // surfaces: at least this many keypoints with lidar depth of one project
  // into the other (measured poses, landmark depth range; both ways summed).
  int min_covisible_keypoints = 50;
  // And when their optical axes are at most this far apart (180 = any: a
  // view and the opposite-facing view of the next panorama share the
  // ground and facades between them, seen from mirrored viewpoints).
  double max_view_angle_deg = 180.0;
  // Matches must agree with the lidar-predicted position (measured poses
  // err by ~0.5 deg, i.e. ~3 px in a 640 px / 90 deg view; allow margin).
  double guide_radius_px = 12.0;
  absl::Status Validate() const;
};

struct LandmarkOptions {
  double min_depth_m = 1.0;
  double max_depth_m = 60.0;
  // Observations of one track must agree in 3D within this (plus 2% of depth).
  double max_track_spread_m = 0.15;
  absl::Status Validate() const;
};

struct MapBuildOptions {
  std::string map_id;                  // default: the capture folder's name
  int64_t map_version = 1;
  IngestOptions ingest;
  // 8 neighbours halve outlier removal on the ~25 M points of a city block.
  // (10 cm voxels were faster still but cost alignment accuracy: the lidar
  // planes that anchor landmarks got coarser, 1.9 -> 5.5 cm median.)
  LidarPreprocessOptions lidar = [] {
    LidarPreprocessOptions o;
    o.sor_neighbors = 8;
    return o;
  }();
  PrivacyOptions privacy;
  ViewRigOptions views;
  // Landmarks farther than ~60 m are not used; rendering less is faster.
  DepthOptions depth = [] {
    DepthOptions o;
    o.max_range_m = 60.0;
    return o;
  }();
  features::ExtractorOptions features;
  MatchingOptions matching;
  AlignmentOptions alignment;
  LandmarkOptions landmarks;
  features::VladOptions retrieval;
  WhiteModelOptions whitemodel;
  RoadNetworkOptions roads;
  PoiOptions pois;
  map::OverviewOptions overview;
  int jpeg_quality = 95;               // workspace images
  int num_threads = 2;

  absl::Status Validate() const;
  OrderedJson ToJson() const;
  // Overrides the defaults with a JSON config; unknown keys are errors that
  // name the key (a typo must not be ignored silently).
  static absl::StatusOr<MapBuildOptions> FromJson(const Json& json, const std::string& where);
};

struct MapBuildRequest {
  std::filesystem::path capture_dir;
  std::filesystem::path out_dir;
  std::filesystem::path workspace_dir;  // default: <out>.workspace
  bool overwrite = false;
  // Stages to run again even when up to date (`armap map whitemodel|roads|
  // pois`); the product stages after a rerun one run again too. The package
  // is then republished over the existing one.
  std::vector<std::string> rerun_stages;
};

// The product stages, in run order (each reads the ones before it).
inline constexpr const char* kProductStages[] = {"whitemodel", "roads", "pois", "overview"};

// Runs (or resumes) the build. Returns the report that is also written to
// MAP/report.json (keys are a contract: see the mapping issue).
absl::StatusOr<OrderedJson> BuildMap(const MapBuildRequest& request, const MapBuildOptions& options);

}  // namespace armap::mapping
