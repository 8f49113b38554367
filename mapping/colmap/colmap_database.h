// Read-only access to a COLMAP 3.8 SQLite database (database.db): images,
// cameras, keypoints and SIFT descriptors, converted to armap's conventions.
// Debian ships no COLMAP headers; the schema follows COLMAP 3.8's
// src/base/database.cc.
//
// Conventions (checked against COLMAP's source and its binary; see
// colmap_database_test.cc):
//  - Keypoints. COLMAP stores x, y with the top-left pixel's centre at
//    (0.5, 0.5) (feature/types.h; sift.cc adds 0.5 to VLFeat's
//    integer-centred coordinates). armap puts pixel (c, r)'s centre at
//    (c, r) (core/camera.h), so 0.5 is subtracted. The blob has 2 (x, y),
//    4 (x, y, scale, orientation) or 6 (x, y, a11, a12, a21, a22) float32
//    columns; scale is the mean column norm of the affine shape and the
//    orientation atan2(a21, a11), as COLMAP computes them.
//  - Descriptors. N x 128 uint8 = round(512 * v) clamped to 255 (COLMAP's
//    FeatureDescriptorsToUnsignedByte), in Lowe's (UBC) bin order, which is
//    also OpenCV's. `colmap feature_extractor --descriptor_normalization`
//    decides v: "l1_root" (the 3.8 default) stores RootSIFT, quantised
//    exactly as features::SiftToRootSift does, so the bytes are kept;
//    "l2" stores L2-normalised SIFT, which is de-quantised and passed
//    through SiftToRootSift.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/features/feature_set.h"

namespace armap::mapping {

// COLMAP's image and camera ids (util/types.h).
using colmap_image_t = uint32_t;
using colmap_camera_t = uint32_t;

struct ColmapDbImage {
  colmap_image_t image_id = 0;
  std::string name;  // path relative to the image folder
  colmap_camera_t camera_id = 0;
};

struct ColmapDbCamera {
  colmap_camera_t camera_id = 0;
  int model_id = -1;  // COLMAP's CameraModelId (io::FindColmapCameraModelById)
  int width = 0;
  int height = 0;
  std::vector<double> params;
  bool prior_focal_length = false;
};

// How `colmap feature_extractor --descriptor_normalization` normalised the
// stored descriptors.
enum class ColmapDescriptorNormalization { kL1Root, kL2 };
// "l1_root" / "l2" (COLMAP's option values); InvalidArgument otherwise.
absl::StatusOr<ColmapDescriptorNormalization> ParseColmapDescriptorNormalization(const std::string& name);
std::string ColmapDescriptorNormalizationName(ColmapDescriptorNormalization normalization);

class ColmapDatabase {
 public:
  // Opens read-only. NotFound for a missing file; InvalidArgument (naming
  // the file) for one that is not SQLite or lacks COLMAP's tables.
  static absl::StatusOr<ColmapDatabase> Open(const std::filesystem::path& path);

  ColmapDatabase(ColmapDatabase&&) noexcept;
  ColmapDatabase& operator=(ColmapDatabase&&) noexcept;
  ColmapDatabase(const ColmapDatabase&) = delete;
  ColmapDatabase& operator=(const ColmapDatabase&) = delete;
  ~ColmapDatabase();

  const std::filesystem::path& path() const;

  // Sorted by image_id.
  absl::StatusOr<std::vector<ColmapDbImage>> ReadImages() const;
  // Sorted by camera_id.
  absl::StatusOr<std::vector<ColmapDbCamera>> ReadCameras() const;
  // Rows of the image's keypoints blob (0 without one), without reading it.
  absl::StatusOr<int64_t> NumKeypoints(colmap_image_t image_id) const;
  // Keypoints in armap's pixel convention (see the top of this file). An
  // image without a keypoints row has none. DataLoss (naming the database
  // and image) for a malformed blob.
  absl::StatusOr<std::vector<features::Keypoint>> ReadKeypoints(colmap_image_t image_id) const;
  // Keypoints plus RootSIFT uint8 descriptors (dim 128), row i of each
  // belonging to keypoint i (COLMAP's point2D_idx). DataLoss when the
  // descriptor rows do not match the keypoints or are not 128 wide.
  absl::StatusOr<features::FeatureSet> ReadFeatures(colmap_image_t image_id,
                                                    ColmapDescriptorNormalization normalization) const;

 private:
  struct Impl;
  explicit ColmapDatabase(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace armap::mapping
