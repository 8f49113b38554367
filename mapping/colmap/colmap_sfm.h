// Photos -> map package through the `colmap` program (COLMAP 3.8, CPU only):
//
//   colmap feature_extractor   SIFT on the CPU (--SiftExtraction.use_gpu 0:
//                              the GPU path aborts without a display, see
//                              TOOLCHAIN.md section 4); one shared camera
//                              when all photos have the same size and EXIF
//                              make/model/focal length
//   colmap exhaustive_matcher  (or sequential_matcher), --SiftMatching.use_gpu 0
//   colmap mapper              incremental SfM into WORKSPACE/sparse/N
//
// then the sub-model with the most registered images goes through
// BuildMapFromColmap with the database. Each step runs without a shell
// (posix_spawn, argument vector); its stdout and stderr go to
// WORKSPACE/colmap.log, and a failing step's error names the step and the
// log.
#pragma once

#include <filesystem>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/json.h"
#include "mapping/colmap/from_colmap.h"

namespace armap::mapping {

struct ColmapSfmRequest {
  std::filesystem::path images_dir;
  std::filesystem::path out_dir;        // the map package
  std::filesystem::path workspace_dir;  // database.db, sparse/, colmap.log; default <out_dir>.colmap
  // Replace an existing package; a workspace is always started afresh.
  bool overwrite = false;
  std::string colmap_binary = "colmap";  // a name looked up in PATH, or a path
  int num_threads = 2;
  std::string matcher = "exhaustive";  // "exhaustive" or "sequential" (photos ordered by name)
  // COLMAP's SiftExtraction.max_image_size: larger photos are downscaled for
  // detection (keypoints are reported at full resolution). COLMAP's default.
  int max_image_size_px = 3200;
  // COLMAP's SiftExtraction.max_num_features (its default).
  int max_num_features = 8192;
  // COLMAP's ImageReader.camera_model.
  std::string camera_model = "SIMPLE_RADIAL";
  // Per COLMAP step; <= 0: no limit.
  double step_timeout_s = 0;
  std::string map_id;  // default: out_dir's folder name

  absl::Status Validate() const;
};

// Returns the package's report (report.json) with report.colmap describing
// the run (steps, sub-models, registered photos, log path) and
// stages.colmap_<step>.seconds. Errors: FailedPrecondition naming the
// binary when `colmap` cannot be found or run; Internal naming the step and
// the log when a step fails; FailedPrecondition when COLMAP reconstructs
// nothing; NotFound for an images_dir without photos; plus
// BuildMapFromColmap's.
absl::StatusOr<OrderedJson> RunColmapSfm(const ColmapSfmRequest& request,
                                         const FromColmapOptions& options = FromColmapOptions());

}  // namespace armap::mapping
