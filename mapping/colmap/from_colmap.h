// A COLMAP sparse model -> an armap map package, the same files and formats
// the lidar pipeline writes (manifest.json, views.json, landmarks.bin,
// retrieval/codebook.bin, retrieval/index.faiss, config.json, report.json),
// so the localizer loads either kind.
//
//   views      the registered images: camera via io::ToCamera (principal
//              point moved to armap's pixel convention), name = source =
//              the image name, cam_from_world from the model
//   landmarks  points3D; observations = (view, points2D pixel - 0.5) of the
//              track; descriptor = the track's observation descriptor
//              closest to the track's mean descriptor (as the lidar
//              pipeline does)
//   retrieval  a VLAD codebook trained on all registered images'
//              descriptors, one VLAD vector per view, a RetrievalIndex
//   map frame  local ENU in metres when the photos' EXIF GPS allows a
//              similarity fit (georegistration.h); otherwise the model's own
//              frame and units (report: georegistration.method = "none")
//
// Where descriptors come from:
//   - With a database (database_path): COLMAP's own SIFT, row
//     point2D_idx of the image's keypoints (colmap_database.h). The database
//     must be the one the model was built from: keypoint counts and
//     positions are checked against points2D.
//   - Without one: features::FeatureExtractor runs on each registered photo
//     and every points2D takes the descriptor of the nearest detected
//     keypoint within max_keypoint_distance_px (2 px). Observations with no
//     keypoint that close are dropped, and landmarks left with no
//     observation are dropped; the report counts both. Re-detection is not
//     COLMAP's detector, so some observations go (lund_door: ~17%), but
//     nearly every landmark keeps another observation of its track. Peak
//     memory is the SIFT pyramid, ~0.5 GB per thread for a 2.5 MP photo.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/features/extractor.h"
#include "core/features/vlad.h"
#include "core/json.h"
#include "mapping/colmap/georegistration.h"

namespace armap::mapping {

struct FromColmapRequest {
  // cameras/images/points3D as .bin or .txt (io::ReadColmapModel).
  std::filesystem::path model_dir;
  // COLMAP database the model was built from; empty = none.
  std::filesystem::path database_path;
  // The photos (image names in the model are relative to it). Needed for
  // EXIF GPS and, without a database, for descriptors.
  std::filesystem::path images_dir;
  // The map package to write.
  std::filesystem::path out_dir;
  bool overwrite = false;
  // Default: out_dir's folder name.
  std::string map_id;
};

struct FromColmapOptions {
  int64_t map_version = 1;
  // How the database's descriptors were stored: "l1_root" (COLMAP 3.8's
  // default) or "l2" (`--descriptor_normalization l2`).
  std::string database_descriptor_normalization = "l1_root";
  // Without a database: the detector run on the photos. No practical cap:
  // COLMAP drops the finest scale levels to meet its feature budget, our
  // extractor drops the weakest responses, so a cap loses COLMAP's weak
  // points first (lund_door: 16,000 per photo finds 40% of the observations,
  // all ~41,000 find 83%).
  features::ExtractorOptions features = DefaultFeatures();
  // Without a database: how far a points2D may be from the detected
  // keypoint that lends it a descriptor, pixels. The same extremum found by
  // two SIFT implementations agrees to ~0.1 px; 2 px allows for a
  // neighbouring scale level without catching a different corner.
  double max_keypoint_distance_px = 2.0;
  // VLAD codebook. retrieval.num_clusters is an upper bound: a small model
  // gets max(1, min(num_clusters, descriptors / min_descriptors_per_cluster))
  // clusters, so that each centroid is trained on enough descriptors.
  features::VladOptions retrieval;
  int min_descriptors_per_cluster = 50;
  GeoRegistrationOptions georegistration;
  // Threads for feature extraction (no database).
  int num_threads = 2;

  static features::ExtractorOptions DefaultFeatures() {
    features::ExtractorOptions o;
    o.max_features = 200000;
    return o;
  }
  absl::Status Validate() const;
  OrderedJson ToJson() const;
};

// Builds the package (atomically, via map::PackageWriter) and returns the
// report that is also written as report.json. Report keys: counts.{views,
// landmarks, observations, ...}, size_bytes.{total, descriptors, index},
// stages.<name>.seconds, georegistration.{method, images_with_gps, scale,
// rms_residual_m, ...}, descriptors.{source, ...}.
// Errors name the file or field: NotFound for a model_dir without a model
// or a missing database/photo, InvalidArgument for a file that is not a
// COLMAP database or an unusable camera model, FailedPrecondition for a
// database that does not belong to the model, AlreadyExists for an
// existing out_dir without overwrite.
absl::StatusOr<OrderedJson> BuildMapFromColmap(const FromColmapRequest& request, const FromColmapOptions& options);

}  // namespace armap::mapping
