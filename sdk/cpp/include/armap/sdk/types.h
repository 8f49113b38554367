// Plain data of the armap client: requests, results and map descriptions as
// the visual positioning API (proto/armap/v1/localization.proto) defines
// them, without gRPC or protobuf types, so that any transport (the gRPC
// Client, the C ABI, the WebAssembly SDK over HTTP/JSON) can share them.
//
// Conventions (as in the API): the map frame is local ENU in metres about
// the map's origin; transforms are named target_from_source and satisfy
// point_in_target = rotation * point_in_source + translation; quaternions are
// [w, x, y, z]; camera frame x right, y down, z forward; pixel centres at
// integer coordinates; angles in degrees.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "armap/sdk/core/geometry.h"

namespace armap::sdk {

// The SDK's version ("MAJOR.MINOR.PATCH").
const char* Version();

// Rigid3, GeoPoint, GeoPose: armap/sdk/core/geometry.h (the portable core).

// "PINHOLE" (fx fy cx cy) or "OPENCV" (fx fy cx cy k1 k2 p1 p2), at the
// resolution of the image or of the keypoints.
struct Camera {
  std::string model = "PINHOLE";
  uint32_t width = 0;
  uint32_t height = 0;
  std::vector<double> params;
};

// What the phone knows before localizing; every part is optional.
struct Prior {
  // GPS / network fix and its horizontal 1-sigma accuracy (0 means 10 m).
  std::optional<GeoPoint> position;
  double accuracy_m = 0;
  // Accelerometer "down" in the camera frame (any length).
  std::optional<std::array<double, 3>> gravity_in_cam;
  // A previous pose in the map frame and its accuracy (0 means 2 m).
  std::optional<Rigid3> cam_from_world;
  double cam_from_world_accuracy_m = 0;
};

struct LocalizeRequest {
  // Empty selects the only map when the server serves one.
  std::string map_id;
  Camera camera;
  // Exactly one input: an encoded image (JPEG or PNG) ...
  std::string image;
  // ... or features extracted on the phone with the map's extractor
  // (MapInfo::extractor): keypoints n x 4 (x, y in pixels, scale sigma in
  // pixels, orientation in radians), descriptors n x descriptor_dim uint8,
  // row-major.
  std::vector<float> keypoints;
  std::vector<uint8_t> descriptors;
  uint32_t descriptor_dim = 0;
  Prior prior;
  // Echoed in the result and the server's log line.
  std::string request_id;
  // Deadline of this call; 0 uses ClientOptions::timeout_ms.
  int64_t timeout_ms = 0;
};

// Why a valid query was not localized (values equal the API's
// FailureReason and the C ABI's ArmapFailureReason).
enum class FailureReason : int32_t {
  kNone = 0,
  kNoCandidates = 1,
  kTooFewFeatures = 2,
  kTooFewMatches = 3,
  kTooFewInliers = 4,
  kDegenerateGeometry = 5,
  kLowConfidence = 6,
};
const char* FailureReasonName(FailureReason reason);

struct StageTiming {
  std::string stage;  // "decode", "extract", "retrieve", "match", "pose", "refine", ...
  double ms = 0;
};

// A localization outcome. success == false is not an error: the request was
// valid but no confident pose was found (see failure_reason).
struct LocalizeResult {
  bool success = false;
  FailureReason failure_reason = FailureReason::kNone;
  std::string failure_message;
  Rigid3 cam_from_world;  // map frame; valid when success
  GeoPose geo_pose;       // valid when success
  double confidence = 0;  // [0, 1]
  int32_t num_features = 0;
  int32_t num_retrieved_views = 0;
  int32_t num_matches = 0;
  int32_t num_inliers = 0;
  double reprojection_rms_px = 0;
  std::vector<StageTiming> stages;
  double server_ms = 0;  // server wall time, decoded request to response
  double client_ms = 0;  // round trip measured by the client
  std::string map_id;
  int64_t map_version = 0;
  std::string request_id;
};

// The feature extractor a map was built with; phone-side extraction must
// use the same settings.
struct ExtractorInfo {
  std::string type;  // "rootsift" or "sift"
  int32_t max_features = 0;
  double contrast_threshold = 0;
  double edge_threshold = 0;
  int32_t octave_layers = 0;
};

struct MapInfo {
  std::string map_id;
  int64_t map_version = 0;
  std::string created_utc;
  GeoPoint origin;  // of the map's ENU frame
  std::array<double, 3> bbox_min_m{};
  std::array<double, 3> bbox_max_m{};
  int64_t num_views = 0;
  int64_t num_landmarks = 0;
  ExtractorInfo extractor;
};

// Client-side checks before anything is sent: exactly one input (image or
// features), consistent feature array sizes, and the encoded request
// payload at most max_message_bytes (0 = no limit). InvalidArgument naming
// the field otherwise.
[[nodiscard]] absl::Status ValidateLocalizeRequest(const LocalizeRequest& request, int64_t max_message_bytes);

}  // namespace armap::sdk
