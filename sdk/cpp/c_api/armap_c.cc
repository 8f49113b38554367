// The C ABI over armap::sdk::Client (see armap/armap_c.h for the rules).
// Every export catches everything: no exception crosses into C, C# or JS.
#include "armap/armap_c.h"

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>
#include <array>

#include "absl/status/status.h"
#include "armap/sdk/client.h"
#include "armap/sdk/pose_fusion.h"

namespace sdk = armap::sdk;

struct ArmapClient {
  std::unique_ptr<sdk::Client> client;
};

struct ArmapFusion {
  std::unique_ptr<sdk::PoseFusion> fusion;
};

struct ArmapRoute {
  std::vector<sdk::NavRoute> routes;
};

struct ArmapGuide {
  std::unique_ptr<sdk::GuideSession> session;
  sdk::NavRoute route;  // the current one (armap_guide_route)
};

struct ArmapStream {
  std::unique_ptr<sdk::LocalizeSession> session;
  int64_t max_message_bytes = 0;  // of the client that opened it
};

namespace {

// ---- ABI freeze: the documented layout (mirrored by C# and JS wrappers).

#define ARMAP_STATIC_ASSERT_CODE(name, absl_code) \
  static_assert(static_cast<int>(name) == static_cast<int>(absl::StatusCode::absl_code), #name)
ARMAP_STATIC_ASSERT_CODE(ARMAP_OK, kOk);
ARMAP_STATIC_ASSERT_CODE(ARMAP_CANCELLED, kCancelled);
ARMAP_STATIC_ASSERT_CODE(ARMAP_UNKNOWN, kUnknown);
ARMAP_STATIC_ASSERT_CODE(ARMAP_INVALID_ARGUMENT, kInvalidArgument);
ARMAP_STATIC_ASSERT_CODE(ARMAP_DEADLINE_EXCEEDED, kDeadlineExceeded);
ARMAP_STATIC_ASSERT_CODE(ARMAP_NOT_FOUND, kNotFound);
ARMAP_STATIC_ASSERT_CODE(ARMAP_ALREADY_EXISTS, kAlreadyExists);
ARMAP_STATIC_ASSERT_CODE(ARMAP_PERMISSION_DENIED, kPermissionDenied);
ARMAP_STATIC_ASSERT_CODE(ARMAP_RESOURCE_EXHAUSTED, kResourceExhausted);
ARMAP_STATIC_ASSERT_CODE(ARMAP_FAILED_PRECONDITION, kFailedPrecondition);
ARMAP_STATIC_ASSERT_CODE(ARMAP_ABORTED, kAborted);
ARMAP_STATIC_ASSERT_CODE(ARMAP_OUT_OF_RANGE, kOutOfRange);
ARMAP_STATIC_ASSERT_CODE(ARMAP_UNIMPLEMENTED, kUnimplemented);
ARMAP_STATIC_ASSERT_CODE(ARMAP_INTERNAL, kInternal);
ARMAP_STATIC_ASSERT_CODE(ARMAP_UNAVAILABLE, kUnavailable);
ARMAP_STATIC_ASSERT_CODE(ARMAP_DATA_LOSS, kDataLoss);
ARMAP_STATIC_ASSERT_CODE(ARMAP_UNAUTHENTICATED, kUnauthenticated);
#undef ARMAP_STATIC_ASSERT_CODE
static_assert(static_cast<int>(ARMAP_FAILURE_LOW_CONFIDENCE) == static_cast<int>(sdk::FailureReason::kLowConfidence));

static_assert(sizeof(ArmapRigid3) == 56);
static_assert(sizeof(ArmapGeoPose) == 48);
static_assert(sizeof(ArmapCamera) == 128);
static_assert(sizeof(ArmapPrior) == 136 && offsetof(ArmapPrior, cam_from_world) == 72);
static_assert(sizeof(ArmapClientOptions) == 24);
static_assert(sizeof(ArmapLocalizeParams) == 400 && offsetof(ArmapLocalizeParams, camera) == 136 &&
              offsetof(ArmapLocalizeParams, prior) == 264);
static_assert(sizeof(ArmapStageTiming) == 32);
static_assert(sizeof(ArmapLocalizeResult) == 944 && offsetof(ArmapLocalizeResult, cam_from_world) == 32 &&
              offsetof(ArmapLocalizeResult, map_version) == 168 && offsetof(ArmapLocalizeResult, stages) == 560);
static_assert(sizeof(ArmapMapInfo) == 240 && offsetof(ArmapMapInfo, num_views) == 184);
static_assert(sizeof(ArmapFusionOptions) == 168 && offsetof(ArmapFusionOptions, window_size) == 72 &&
              offsetof(ArmapFusionOptions, max_extrapolation_s) == 160);
static_assert(sizeof(ArmapFusionStats) == 96 && offsetof(ArmapFusionStats, pending_correction_m) == 56);
static_assert(static_cast<int>(ARMAP_SESSION_UP_Z) == static_cast<int>(sdk::SessionUpAxis::kZ) &&
              static_cast<int>(ARMAP_SESSION_UP_Y) == static_cast<int>(sdk::SessionUpAxis::kY));
static_assert(static_cast<int>(ARMAP_FIX_INITIALIZED) == static_cast<int>(sdk::FixOutcome::kInitialized) &&
              static_cast<int>(ARMAP_FIX_ACCEPTED) == static_cast<int>(sdk::FixOutcome::kAccepted) &&
              static_cast<int>(ARMAP_FIX_REJECTED) == static_cast<int>(sdk::FixOutcome::kRejected) &&
              static_cast<int>(ARMAP_FIX_RESET) == static_cast<int>(sdk::FixOutcome::kReset));

// The first published size of each caller struct; smaller ones are refused.
constexpr uint32_t kClientOptionsV1Size = 24;
constexpr uint32_t kLocalizeParamsV1Size = 400;
constexpr uint32_t kLocalizeResultV1Size = 944;
constexpr uint32_t kMapInfoV1Size = 240;
constexpr uint32_t kFusionOptionsV1Size = 168;
constexpr uint32_t kFusionStatsV1Size = 96;

// ---- thread-local last error (fixed storage: setting it never throws).

constexpr size_t kLastErrorSize = 1024;
thread_local char g_last_error[kLastErrorSize] = "";

void ClearError() noexcept { g_last_error[0] = '\0'; }

int32_t SetError(int32_t code, const char* message) noexcept {
  std::snprintf(g_last_error, kLastErrorSize, "%s", message != nullptr ? message : "");
  return code;
}

int32_t SetError(int32_t code, const std::string& message) noexcept { return SetError(code, message.c_str()); }

int32_t FromStatus(const absl::Status& status) noexcept {
  if (status.ok()) return ARMAP_OK;
  const absl::string_view message = status.message();
  std::snprintf(g_last_error, kLastErrorSize, "%.*s", static_cast<int>(std::min<size_t>(message.size(), kLastErrorSize)),
                message.data());
  if (g_last_error[0] == '\0') std::snprintf(g_last_error, kLastErrorSize, "error %d", static_cast<int>(status.code()));
  return static_cast<int32_t>(status.code());
}

int32_t NullArgument(const char* function, const char* parameter) noexcept {
  std::snprintf(g_last_error, kLastErrorSize, "%s: %s is NULL", function, parameter);
  return ARMAP_INVALID_ARGUMENT;
}

int32_t BadSize(const char* function, const char* parameter, uint32_t got, uint32_t min, const char* init) noexcept {
  std::snprintf(g_last_error, kLastErrorSize,
                "%s: %s->struct_size = %u; must be >= %u (initialise it with %s)", function, parameter,
                static_cast<unsigned>(got), static_cast<unsigned>(min), init);
  return ARMAP_INVALID_ARGUMENT;
}

#define ARMAP_C_TRY \
  try {             \
    ClearError();

#define ARMAP_C_CATCH(function)                                                              \
  }                                                                                          \
  catch (const std::exception& e) {                                                          \
    std::snprintf(g_last_error, kLastErrorSize, "%s: internal error: %s", function, e.what()); \
    return ARMAP_INTERNAL;                                                                   \
  }                                                                                          \
  catch (...) {                                                                              \
    std::snprintf(g_last_error, kLastErrorSize, "%s: internal error", function);             \
    return ARMAP_INTERNAL;                                                                   \
  }

// The body of every armap_*_init: zero the caller's struct, stamp its
// struct_size, then let `set_defaults` write the fields whose default is not
// zero.
template <typename Struct, typename SetDefaults>
int32_t InitStruct(const char* function, const char* parameter, Struct* s, SetDefaults set_defaults) noexcept {
  ARMAP_C_TRY
  if (s == nullptr) return NullArgument(function, parameter);
  std::memset(s, 0, sizeof(*s));
  s->struct_size = sizeof(*s);
  set_defaults(*s);
  return ARMAP_OK;
  ARMAP_C_CATCH(function)
}

template <typename Struct>
int32_t InitStruct(const char* function, const char* parameter, Struct* s) noexcept {
  return InitStruct(function, parameter, s, [](Struct&) {});
}

// Copies a string into a fixed char array, NUL-terminated, truncated at a
// UTF-8 character boundary.
void CopyString(const std::string& s, char* dst, size_t size) {
  size_t n = std::min(s.size(), size - 1);
  if (n < s.size()) {
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  }
  std::memcpy(dst, s.data(), n);
  std::memset(dst + n, 0, size - n);
}

// Reads a NUL-terminated string from a fixed char array.
bool ReadString(const char* src, size_t size, std::string* out) {
  const void* nul = std::memchr(src, '\0', size);
  if (nul == nullptr) return false;
  out->assign(src, static_cast<const char*>(nul) - src);
  return true;
}

// A caller struct copied into a zeroed full-size local (reading only the
// caller's struct_size bytes).
template <typename T>
T ReadStruct(const T* in) {
  static_assert(std::is_trivially_copyable_v<T>);
  T local;
  std::memset(&local, 0, sizeof(T));
  std::memcpy(&local, in, std::min<size_t>(in->struct_size, sizeof(T)));
  return local;
}

// Writes a full local struct into the caller's, keeping its struct_size and
// writing only that many bytes.
template <typename T>
void WriteStruct(T local, T* out) {
  static_assert(std::is_trivially_copyable_v<T>);
  const uint32_t size = out->struct_size;
  local.struct_size = size;
  std::memcpy(out, &local, std::min<size_t>(size, sizeof(T)));
}

// Zeroes the caller's result before anything can fail, so stale data is
// never mistaken for an answer.
template <typename T>
void ClearStruct(T* out) {
  T local;
  std::memset(&local, 0, sizeof(T));
  WriteStruct(local, out);
}

int32_t ToRequest(const char* function, const ArmapLocalizeParams* params_in, sdk::LocalizeRequest* request) {
  if (params_in->struct_size < kLocalizeParamsV1Size) {
    return BadSize(function, "params", params_in->struct_size, kLocalizeParamsV1Size, "armap_localize_params_init");
  }
  const ArmapLocalizeParams params = ReadStruct(params_in);
  if (params.timeout_ms < 0) {
    return SetError(ARMAP_INVALID_ARGUMENT, std::string(function) + ": params->timeout_ms = " +
                                                std::to_string(params.timeout_ms) + "; must be >= 0");
  }
  request->timeout_ms = params.timeout_ms;
  if (!ReadString(params.map_id, sizeof(params.map_id), &request->map_id)) {
    return SetError(ARMAP_INVALID_ARGUMENT, std::string(function) + ": params->map_id is not NUL-terminated");
  }
  if (!ReadString(params.request_id, sizeof(params.request_id), &request->request_id)) {
    return SetError(ARMAP_INVALID_ARGUMENT, std::string(function) + ": params->request_id is not NUL-terminated");
  }
  const ArmapCamera& camera = params.camera;
  if (!ReadString(camera.model, sizeof(camera.model), &request->camera.model)) {
    return SetError(ARMAP_INVALID_ARGUMENT, std::string(function) + ": params->camera.model is not NUL-terminated");
  }
  if (camera.num_params > ARMAP_MAX_CAMERA_PARAMS) {
    return SetError(ARMAP_INVALID_ARGUMENT, std::string(function) + ": params->camera.num_params = " +
                                                std::to_string(camera.num_params) + "; must be <= " +
                                                std::to_string(ARMAP_MAX_CAMERA_PARAMS));
  }
  request->camera.width = camera.width;
  request->camera.height = camera.height;
  request->camera.params.assign(camera.params, camera.params + camera.num_params);
  const ArmapPrior& prior = params.prior;
  if (prior.has_position) request->prior.position = sdk::GeoPoint{prior.lat_deg, prior.lon_deg, prior.alt_m};
  request->prior.accuracy_m = prior.accuracy_m;
  if (prior.has_gravity) {
    request->prior.gravity_in_cam = {prior.gravity_in_cam[0], prior.gravity_in_cam[1], prior.gravity_in_cam[2]};
  }
  if (prior.has_cam_from_world) {
    const ArmapRigid3& p = prior.cam_from_world;
    request->prior.cam_from_world = sdk::Rigid3{p.qw, p.qx, p.qy, p.qz, p.tx, p.ty, p.tz};
  }
  request->prior.cam_from_world_accuracy_m = prior.cam_from_world_accuracy_m;
  return ARMAP_OK;
}

void ToResult(const sdk::LocalizeResult& r, ArmapLocalizeResult* out) {
  ArmapLocalizeResult local;
  std::memset(&local, 0, sizeof(local));
  local.success = r.success ? 1 : 0;
  local.failure_reason = static_cast<int32_t>(r.failure_reason);
  local.num_features = r.num_features;
  local.num_retrieved_views = r.num_retrieved_views;
  local.num_matches = r.num_matches;
  local.num_inliers = r.num_inliers;
  const sdk::Rigid3& p = r.cam_from_world;
  local.cam_from_world = ArmapRigid3{p.qw, p.qx, p.qy, p.qz, p.tx, p.ty, p.tz};
  const sdk::GeoPose& g = r.geo_pose;
  local.geo_pose = ArmapGeoPose{g.position.lat_deg, g.position.lon_deg, g.position.alt_m,
                                g.heading_deg,      g.pitch_deg,        g.roll_deg};
  local.confidence = r.confidence;
  local.reprojection_rms_px = r.reprojection_rms_px;
  local.server_ms = r.server_ms;
  local.client_ms = r.client_ms;
  local.map_version = r.map_version;
  CopyString(r.map_id, local.map_id, sizeof(local.map_id));
  CopyString(r.request_id, local.request_id, sizeof(local.request_id));
  CopyString(r.failure_message, local.failure_message, sizeof(local.failure_message));
  const size_t num_stages = std::min<size_t>(r.stages.size(), ARMAP_MAX_STAGES);
  local.num_stages = static_cast<uint32_t>(num_stages);
  for (size_t i = 0; i < num_stages; ++i) {
    CopyString(r.stages[i].stage, local.stages[i].stage, sizeof(local.stages[i].stage));
    local.stages[i].ms = r.stages[i].ms;
  }
  WriteStruct(local, out);
}

void ToMapInfo(const sdk::MapInfo& m, ArmapMapInfo* out) {
  ArmapMapInfo local;
  std::memset(&local, 0, sizeof(local));
  CopyString(m.map_id, local.map_id, sizeof(local.map_id));
  local.map_version = m.map_version;
  CopyString(m.created_utc, local.created_utc, sizeof(local.created_utc));
  local.origin_lat_deg = m.origin.lat_deg;
  local.origin_lon_deg = m.origin.lon_deg;
  local.origin_alt_m = m.origin.alt_m;
  for (int i = 0; i < 3; ++i) {
    local.bbox_min_m[i] = m.bbox_min_m[i];
    local.bbox_max_m[i] = m.bbox_max_m[i];
  }
  local.num_views = m.num_views;
  local.num_landmarks = m.num_landmarks;
  CopyString(m.extractor.type, local.extractor_type, sizeof(local.extractor_type));
  local.extractor_max_features = m.extractor.max_features;
  local.extractor_octave_layers = m.extractor.octave_layers;
  local.extractor_contrast_threshold = m.extractor.contrast_threshold;
  local.extractor_edge_threshold = m.extractor.edge_threshold;
  WriteStruct(local, out);
}

// Checks the common arguments of the localize calls and builds the request.
int32_t PrepareLocalize(const char* function, const ArmapLocalizeParams* params, ArmapLocalizeResult* out,
                        sdk::LocalizeRequest* request) {
  if (params == nullptr) return NullArgument(function, "params");
  if (out == nullptr) return NullArgument(function, "out");
  if (out->struct_size < kLocalizeResultV1Size) {
    return BadSize(function, "out", out->struct_size, kLocalizeResultV1Size, "armap_localize_result_init");
  }
  ClearStruct(out);
  return ToRequest(function, params, request);
}

int32_t AddImage(const char* function, const uint8_t* image, size_t len, sdk::LocalizeRequest* request) {
  if (image == nullptr) return NullArgument(function, "image");
  if (len == 0) return SetError(ARMAP_INVALID_ARGUMENT, std::string(function) + ": len = 0; the image is empty");
  request->image.assign(reinterpret_cast<const char*>(image), len);
  return ARMAP_OK;
}

int32_t AddFeatures(const char* function, const float* keypoints, const uint8_t* descriptors, uint32_t n,
                    uint32_t dim, int64_t max_message_bytes, sdk::LocalizeRequest* request) {
  if (keypoints == nullptr) return NullArgument(function, "keypoints");
  if (descriptors == nullptr) return NullArgument(function, "descriptors");
  if (n == 0) return SetError(ARMAP_INVALID_ARGUMENT, std::string(function) + ": n = 0; no keypoints");
  if (dim == 0) return SetError(ARMAP_INVALID_ARGUMENT, std::string(function) + ": dim = 0; must be > 0");
  // Checked in 64 bits before allocating (size_t is 32 bits on wasm32).
  const uint64_t bytes = uint64_t{n} * 4 * sizeof(float) + uint64_t{n} * dim;
  if (bytes > static_cast<uint64_t>(max_message_bytes)) {
    return SetError(ARMAP_INVALID_ARGUMENT, std::string(function) + ": " + std::to_string(n) + " features of dim " +
                                                std::to_string(dim) + " are " + std::to_string(bytes) +
                                                " bytes; the limit is " + std::to_string(max_message_bytes) +
                                                " (max_message_bytes)");
  }
  request->keypoints.assign(keypoints, keypoints + size_t{n} * 4);
  request->descriptors.assign(descriptors, descriptors + size_t{n} * dim);
  request->descriptor_dim = dim;
  return ARMAP_OK;
}

sdk::Rigid3 FromC(const ArmapRigid3& p) { return sdk::Rigid3{p.qw, p.qx, p.qy, p.qz, p.tx, p.ty, p.tz}; }
ArmapRigid3 ToC(const sdk::Rigid3& p) { return ArmapRigid3{p.qw, p.qx, p.qy, p.qz, p.tx, p.ty, p.tz}; }

// Fusion options from the C struct: a zero field keeps the default.
sdk::PoseFusionOptions ToFusionOptions(const ArmapFusionOptions& o) {
  sdk::PoseFusionOptions out;
  out.session_up_axis = static_cast<sdk::SessionUpAxis>(o.session_up_axis);
  auto set = [](double value, double* field) {
    if (value != 0) *field = value;
  };
  set(o.fix_position_sigma_m, &out.fix_position_sigma_m);
  set(o.fix_yaw_sigma_deg, &out.fix_yaw_sigma_deg);
  set(o.min_confidence, &out.min_confidence);
  set(o.drift_fraction, &out.drift_fraction);
  set(o.drift_nonlinearity, &out.drift_nonlinearity);
  set(o.drift_m_per_s, &out.drift_m_per_s);
  set(o.yaw_drift_deg_per_m, &out.yaw_drift_deg_per_m);
  set(o.yaw_drift_deg_per_s, &out.yaw_drift_deg_per_s);
  if (o.window_size != 0) out.window_size = o.window_size;
  set(o.window_s, &out.window_s);
  set(o.gate_sigma, &out.gate_sigma);
  set(o.gate_floor_m, &out.gate_floor_m);
  set(o.gate_floor_deg, &out.gate_floor_deg);
  set(o.huber_k, &out.huber_k);
  set(o.max_drift_extrapolation_m, &out.max_drift_extrapolation_m);
  set(o.blend_time_s, &out.blend_time_s);
  set(o.max_correction_speed_mps, &out.max_correction_speed_mps);
  set(o.max_correction_yaw_rate_dps, &out.max_correction_yaw_rate_dps);
  set(o.tracking_history_s, &out.tracking_history_s);
  set(o.max_extrapolation_s, &out.max_extrapolation_s);
  return out;
}

// ---- navigation helpers

static_assert(sizeof(ArmapRouteParams) == 328 && offsetof(ArmapRouteParams, poi_name) == 184 &&
              offsetof(ArmapRouteParams, crossing_penalty_m) == 320);
static_assert(sizeof(ArmapRouteSummary) == 64 && offsetof(ArmapRouteSummary, start_snap_distance_m) == 48);
static_assert(sizeof(ArmapNavPose) == 56 && offsetof(ArmapNavPose, heading_deg) == 40);
static_assert(sizeof(ArmapGuideUpdate) == 592 && offsetof(ArmapGuideUpdate, progress_m) == 32 &&
              offsetof(ArmapGuideUpdate, prompt_zh) == 80 && offsetof(ArmapGuideUpdate, reroute_error) == 336);
static_assert(static_cast<int>(ARMAP_MANEUVER_DEPART) == static_cast<int>(sdk::ManeuverType::kDepart) &&
              static_cast<int>(ARMAP_MANEUVER_U_TURN) == static_cast<int>(sdk::ManeuverType::kUTurn) &&
              static_cast<int>(ARMAP_MANEUVER_ARRIVE) == static_cast<int>(sdk::ManeuverType::kArrive));

constexpr uint32_t kRouteParamsV1Size = 328;
constexpr uint32_t kRouteSummaryV1Size = 64;
constexpr uint32_t kNavPoseV1Size = 56;
constexpr uint32_t kGuideUpdateV1Size = 592;

// The fields shared by armap_route and armap_guide_open.
int32_t ToRouteParams(const char* function, const ArmapRouteParams* in, std::string* map_id, std::string* request_id,
                      int64_t* timeout_ms, std::string* poi_name, sdk::GeoPoint* destination,
                      sdk::RouteOptions* options) {
  if (in->struct_size < kRouteParamsV1Size) {
    return BadSize(function, "params", in->struct_size, kRouteParamsV1Size, "armap_route_params_init");
  }
  const ArmapRouteParams p = ReadStruct(in);
  if (p.timeout_ms < 0) {
    return SetError(ARMAP_INVALID_ARGUMENT, std::string(function) + ": params->timeout_ms = " +
                                                std::to_string(p.timeout_ms) + "; must be >= 0");
  }
  *timeout_ms = p.timeout_ms;
  if (!ReadString(p.map_id, sizeof(p.map_id), map_id)) {
    return SetError(ARMAP_INVALID_ARGUMENT, std::string(function) + ": params->map_id is not NUL-terminated");
  }
  if (!ReadString(p.request_id, sizeof(p.request_id), request_id)) {
    return SetError(ARMAP_INVALID_ARGUMENT, std::string(function) + ": params->request_id is not NUL-terminated");
  }
  if (!ReadString(p.poi_name, sizeof(p.poi_name), poi_name)) {
    return SetError(ARMAP_INVALID_ARGUMENT, std::string(function) + ": params->poi_name is not NUL-terminated");
  }
  if (p.has_destination) {
    poi_name->clear();
    *destination = sdk::GeoPoint{p.destination_lat_deg, p.destination_lon_deg, 0};
  }
  if (p.has_crossing_penalty) options->crossing_penalty_m = p.crossing_penalty_m;
  options->num_alternatives = p.num_alternatives;
  return ARMAP_OK;
}

int32_t ToNavPose(const char* function, const char* parameter, const ArmapNavPose* in, sdk::NavPose* out) {
  if (in->struct_size < kNavPoseV1Size) {
    return BadSize(function, parameter, in->struct_size, kNavPoseV1Size, "armap_nav_pose_init");
  }
  const ArmapNavPose p = ReadStruct(in);
  if (p.frame == ARMAP_POSE_MAP) {
    out->position_map = std::array<double, 3>{p.x, p.y, p.z};
  } else if (p.frame == ARMAP_POSE_WGS84) {
    out->position_wgs84 = sdk::GeoPoint{p.x, p.y, p.z};
  } else {
    return SetError(ARMAP_INVALID_ARGUMENT, std::string(function) + ": " + parameter + "->frame = " +
                                                std::to_string(p.frame) + "; must be an ArmapPoseFrame");
  }
  if (p.has_heading) out->heading_deg = p.heading_deg;
  out->time_s = p.time_s;
  return ARMAP_OK;
}

void ToGuideUpdate(const sdk::GuideUpdate& u, ArmapGuideUpdate* out) {
  ArmapGuideUpdate local;
  std::memset(&local, 0, sizeof(local));
  local.off_route = u.off_route ? 1 : 0;
  local.off_route_entered = u.off_route_entered ? 1 : 0;
  local.rerouted = u.rerouted ? 1 : 0;
  local.arrived = u.arrived ? 1 : 0;
  local.route_version = u.route_version;
  local.next_type = u.next ? static_cast<int32_t>(u.next->type) : 0;
  local.progress_m = u.progress_m;
  local.remaining_m = u.remaining_m;
  local.distance_to_route_m = u.distance_to_route_m;
  local.distance_to_next_m = u.distance_to_next_m;
  local.server_ms = u.server_ms;
  local.client_ms = u.client_ms;
  CopyString(u.prompt_zh, local.prompt_zh, sizeof(local.prompt_zh));
  CopyString(u.prompt_en, local.prompt_en, sizeof(local.prompt_en));
  CopyString(u.reroute_error, local.reroute_error, sizeof(local.reroute_error));
  WriteStruct(local, out);
}

int32_t RouteAt(const char* function, const ArmapRoute* route, uint32_t index, const sdk::NavRoute** out) {
  if (route == nullptr) return NullArgument(function, "route");
  if (index >= route->routes.size()) {
    return SetError(ARMAP_OUT_OF_RANGE, std::string(function) + ": index = " + std::to_string(index) +
                                            "; there are " + std::to_string(route->routes.size()) + " routes");
  }
  *out = &route->routes[index];
  return ARMAP_OK;
}

void CopyXyz(const std::array<double, 3>& p, double* d) {
  d[0] = p[0];
  d[1] = p[1];
  d[2] = p[2];
}

// Writes min(capacity, items) elements of `stride` values each.
template <typename Item, typename T, typename Fn>
int32_t CopyArray(const char* function, const std::vector<Item>& items, size_t stride, T* out, uint32_t capacity,
                  uint32_t* out_count, Fn&& fill) {
  if (out_count == nullptr) return NullArgument(function, "out_count");
  if (capacity > 0 && out == nullptr) return NullArgument(function, "out");
  *out_count = static_cast<uint32_t>(items.size());
  const size_t n = std::min<size_t>(capacity, items.size());
  for (size_t i = 0; i < n; ++i) fill(items[i], out + i * stride);
  return ARMAP_OK;
}

// The body of the armap_route_* array getters: route `index`'s `field`
// through CopyArray.
template <typename Item, typename T, typename Fn>
int32_t CopyRouteArray(const char* function, const ArmapRoute* route, uint32_t index,
                       std::vector<Item> sdk::NavRoute::*field, size_t stride, T* out, uint32_t capacity,
                       uint32_t* out_count, Fn&& fill) noexcept {
  ARMAP_C_TRY
  const sdk::NavRoute* r = nullptr;
  if (const int32_t rc = RouteAt(function, route, index, &r); rc != ARMAP_OK) return rc;
  return CopyArray(function, r->*field, stride, out, capacity, out_count, std::forward<Fn>(fill));
  ARMAP_C_CATCH(function)
}

const char* StatusName(int32_t code) {
  switch (code) {
    case ARMAP_OK: return "OK";
    case ARMAP_CANCELLED: return "CANCELLED";
    case ARMAP_UNKNOWN: return "UNKNOWN";
    case ARMAP_INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case ARMAP_DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case ARMAP_NOT_FOUND: return "NOT_FOUND";
    case ARMAP_ALREADY_EXISTS: return "ALREADY_EXISTS";
    case ARMAP_PERMISSION_DENIED: return "PERMISSION_DENIED";
    case ARMAP_RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case ARMAP_FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case ARMAP_ABORTED: return "ABORTED";
    case ARMAP_OUT_OF_RANGE: return "OUT_OF_RANGE";
    case ARMAP_UNIMPLEMENTED: return "UNIMPLEMENTED";
    case ARMAP_INTERNAL: return "INTERNAL";
    case ARMAP_UNAVAILABLE: return "UNAVAILABLE";
    case ARMAP_DATA_LOSS: return "DATA_LOSS";
    case ARMAP_UNAUTHENTICATED: return "UNAUTHENTICATED";
  }
  return "UNKNOWN_CODE";
}

}  // namespace

extern "C" {

ARMAP_EXPORT const char* armap_version(void) { return sdk::Version(); }

ARMAP_EXPORT const char* armap_last_error(void) { return g_last_error; }

ARMAP_EXPORT const char* armap_status_name(int32_t code) { return StatusName(code); }

ARMAP_EXPORT int32_t armap_client_options_init(ArmapClientOptions* options) {
  return InitStruct("armap_client_options_init", "options", options, [](ArmapClientOptions& s) {
    const sdk::ClientOptions defaults;
    s.max_message_bytes = defaults.max_message_bytes;
    s.timeout_ms = defaults.timeout_ms;
    s.connect_timeout_ms = defaults.connect_timeout_ms;
  });
}

ARMAP_EXPORT int32_t armap_localize_params_init(ArmapLocalizeParams* params) {
  return InitStruct("armap_localize_params_init", "params", params, [](ArmapLocalizeParams& s) {
    std::snprintf(s.camera.model, sizeof(s.camera.model), "PINHOLE");
    s.prior.cam_from_world.qw = 1;
  });
}

ARMAP_EXPORT int32_t armap_localize_result_init(ArmapLocalizeResult* result) {
  return InitStruct("armap_localize_result_init", "result", result, [](ArmapLocalizeResult& s) {
    s.cam_from_world.qw = 1;
  });
}

ARMAP_EXPORT int32_t armap_map_info_init(ArmapMapInfo* info) {
  return InitStruct("armap_map_info_init", "info", info);
}

ARMAP_EXPORT int32_t armap_fusion_options_init(ArmapFusionOptions* options) {
  return InitStruct("armap_fusion_options_init", "options", options, [](ArmapFusionOptions& s) {
    const sdk::PoseFusionOptions d;
    s.session_up_axis = static_cast<int32_t>(d.session_up_axis);
    s.fix_position_sigma_m = d.fix_position_sigma_m;
    s.fix_yaw_sigma_deg = d.fix_yaw_sigma_deg;
    s.min_confidence = d.min_confidence;
    s.drift_fraction = d.drift_fraction;
    s.drift_nonlinearity = d.drift_nonlinearity;
    s.drift_m_per_s = d.drift_m_per_s;
    s.yaw_drift_deg_per_m = d.yaw_drift_deg_per_m;
    s.yaw_drift_deg_per_s = d.yaw_drift_deg_per_s;
    s.window_size = d.window_size;
    s.window_s = d.window_s;
    s.gate_sigma = d.gate_sigma;
    s.gate_floor_m = d.gate_floor_m;
    s.gate_floor_deg = d.gate_floor_deg;
    s.huber_k = d.huber_k;
    s.max_drift_extrapolation_m = d.max_drift_extrapolation_m;
    s.blend_time_s = d.blend_time_s;
    s.max_correction_speed_mps = d.max_correction_speed_mps;
    s.max_correction_yaw_rate_dps = d.max_correction_yaw_rate_dps;
    s.tracking_history_s = d.tracking_history_s;
    s.max_extrapolation_s = d.max_extrapolation_s;
  });
}

ARMAP_EXPORT int32_t armap_fusion_stats_init(ArmapFusionStats* stats) {
  return InitStruct("armap_fusion_stats_init", "stats", stats);
}

ARMAP_EXPORT int32_t armap_client_connect(const char* target, const ArmapClientOptions* options_or_null,
                                          ArmapClient** out) {
  constexpr const char* kFn = "armap_client_connect";
  ARMAP_C_TRY
  if (out == nullptr) return NullArgument(kFn, "out");
  *out = nullptr;
  if (target == nullptr) return NullArgument(kFn, "target");
  sdk::ClientOptions options;
  if (options_or_null != nullptr) {
    if (options_or_null->struct_size < kClientOptionsV1Size) {
      return BadSize(kFn, "options", options_or_null->struct_size, kClientOptionsV1Size, "armap_client_options_init");
    }
    const ArmapClientOptions o = ReadStruct(options_or_null);
    if (o.timeout_ms != 0) options.timeout_ms = o.timeout_ms;
    if (o.max_message_bytes != 0) options.max_message_bytes = o.max_message_bytes;
    options.connect_timeout_ms = o.connect_timeout_ms;
  }
  auto client = sdk::Client::Connect(target, options);
  if (!client.ok()) return FromStatus(client.status());
  *out = new ArmapClient{std::move(*client)};
  return ARMAP_OK;
  ARMAP_C_CATCH(kFn)
}

ARMAP_EXPORT void armap_client_free(ArmapClient* client) {
  try {
    delete client;
  } catch (...) {
  }
}

ARMAP_EXPORT int32_t armap_client_wait_for_ready(const ArmapClient* client, int64_t timeout_ms) {
  constexpr const char* kFn = "armap_client_wait_for_ready";
  ARMAP_C_TRY
  if (client == nullptr) return NullArgument(kFn, "client");
  return FromStatus(client->client->WaitForReady(timeout_ms));
  ARMAP_C_CATCH(kFn)
}

ARMAP_EXPORT int32_t armap_client_localize_image(const ArmapClient* client, const ArmapLocalizeParams* params,
                                                 const uint8_t* image, size_t len, ArmapLocalizeResult* out) {
  constexpr const char* kFn = "armap_client_localize_image";
  ARMAP_C_TRY
  if (client == nullptr) return NullArgument(kFn, "client");
  sdk::LocalizeRequest request;
  if (int32_t code = PrepareLocalize(kFn, params, out, &request); code != ARMAP_OK) return code;
  if (int32_t code = AddImage(kFn, image, len, &request); code != ARMAP_OK) return code;
  auto result = client->client->Localize(request);
  if (!result.ok()) return FromStatus(result.status());
  ToResult(*result, out);
  return ARMAP_OK;
  ARMAP_C_CATCH(kFn)
}

ARMAP_EXPORT int32_t armap_client_localize_features(const ArmapClient* client, const ArmapLocalizeParams* params,
                                                    const float* keypoints, const uint8_t* descriptors, uint32_t n,
                                                    uint32_t dim, ArmapLocalizeResult* out) {
  constexpr const char* kFn = "armap_client_localize_features";
  ARMAP_C_TRY
  if (client == nullptr) return NullArgument(kFn, "client");
  sdk::LocalizeRequest request;
  if (int32_t code = PrepareLocalize(kFn, params, out, &request); code != ARMAP_OK) return code;
  if (int32_t code = AddFeatures(kFn, keypoints, descriptors, n, dim, client->client->options().max_message_bytes,
                                 &request);
      code != ARMAP_OK) {
    return code;
  }
  auto result = client->client->Localize(request);
  if (!result.ok()) return FromStatus(result.status());
  ToResult(*result, out);
  return ARMAP_OK;
  ARMAP_C_CATCH(kFn)
}

ARMAP_EXPORT int32_t armap_client_list_maps(const ArmapClient* client, ArmapMapInfo* maps, uint32_t capacity,
                                            uint32_t* out_count) {
  constexpr const char* kFn = "armap_client_list_maps";
  ARMAP_C_TRY
  if (client == nullptr) return NullArgument(kFn, "client");
  if (out_count == nullptr) return NullArgument(kFn, "out_count");
  *out_count = 0;
  if (capacity > 0 && maps == nullptr) return NullArgument(kFn, "maps (with capacity > 0)");
  const uint32_t stride = capacity > 0 ? maps[0].struct_size : 0;
  if (capacity > 0 && stride < kMapInfoV1Size) {
    return BadSize(kFn, "maps[0]", stride, kMapInfoV1Size, "armap_map_info_init");
  }
  auto list = client->client->ListMaps();
  if (!list.ok()) return FromStatus(list.status());
  *out_count = static_cast<uint32_t>(list->size());
  const size_t n = std::min<size_t>(capacity, list->size());
  for (size_t i = 0; i < n; ++i) {
    auto* element = reinterpret_cast<ArmapMapInfo*>(reinterpret_cast<char*>(maps) + i * stride);
    element->struct_size = stride;
    ToMapInfo((*list)[i], element);
  }
  return ARMAP_OK;
  ARMAP_C_CATCH(kFn)
}

ARMAP_EXPORT int32_t armap_client_get_map_info(const ArmapClient* client, const char* map_id, ArmapMapInfo* out) {
  constexpr const char* kFn = "armap_client_get_map_info";
  ARMAP_C_TRY
  if (client == nullptr) return NullArgument(kFn, "client");
  if (map_id == nullptr) return NullArgument(kFn, "map_id");
  if (out == nullptr) return NullArgument(kFn, "out");
  if (out->struct_size < kMapInfoV1Size) {
    return BadSize(kFn, "out", out->struct_size, kMapInfoV1Size, "armap_map_info_init");
  }
  ClearStruct(out);
  auto info = client->client->GetMapInfo(map_id);
  if (!info.ok()) return FromStatus(info.status());
  ToMapInfo(*info, out);
  return ARMAP_OK;
  ARMAP_C_CATCH(kFn)
}

ARMAP_EXPORT int32_t armap_client_open_stream(const ArmapClient* client, ArmapStream** out) {
  constexpr const char* kFn = "armap_client_open_stream";
  ARMAP_C_TRY
  if (out == nullptr) return NullArgument(kFn, "out");
  *out = nullptr;
  if (client == nullptr) return NullArgument(kFn, "client");
  auto session = client->client->OpenStream();
  if (!session.ok()) return FromStatus(session.status());
  *out = new ArmapStream{std::move(*session), client->client->options().max_message_bytes};
  return ARMAP_OK;
  ARMAP_C_CATCH(kFn)
}

ARMAP_EXPORT int32_t armap_stream_localize_image(ArmapStream* stream, const ArmapLocalizeParams* params,
                                                 const uint8_t* image, size_t len, ArmapLocalizeResult* out) {
  constexpr const char* kFn = "armap_stream_localize_image";
  ARMAP_C_TRY
  if (stream == nullptr) return NullArgument(kFn, "stream");
  sdk::LocalizeRequest request;
  if (int32_t code = PrepareLocalize(kFn, params, out, &request); code != ARMAP_OK) return code;
  if (int32_t code = AddImage(kFn, image, len, &request); code != ARMAP_OK) return code;
  auto result = stream->session->Localize(request);
  if (!result.ok()) return FromStatus(result.status());
  ToResult(*result, out);
  return ARMAP_OK;
  ARMAP_C_CATCH(kFn)
}

ARMAP_EXPORT int32_t armap_stream_localize_features(ArmapStream* stream, const ArmapLocalizeParams* params,
                                                    const float* keypoints, const uint8_t* descriptors, uint32_t n,
                                                    uint32_t dim, ArmapLocalizeResult* out) {
  constexpr const char* kFn = "armap_stream_localize_features";
  ARMAP_C_TRY
  if (stream == nullptr) return NullArgument(kFn, "stream");
  sdk::LocalizeRequest request;
  if (int32_t code = PrepareLocalize(kFn, params, out, &request); code != ARMAP_OK) return code;
  if (int32_t code = AddFeatures(kFn, keypoints, descriptors, n, dim, stream->max_message_bytes, &request);
      code != ARMAP_OK) {
    return code;
  }
  auto result = stream->session->Localize(request);
  if (!result.ok()) return FromStatus(result.status());
  ToResult(*result, out);
  return ARMAP_OK;
  ARMAP_C_CATCH(kFn)
}

ARMAP_EXPORT int32_t armap_stream_close(ArmapStream* stream) {
  constexpr const char* kFn = "armap_stream_close";
  ARMAP_C_TRY
  if (stream == nullptr) return NullArgument(kFn, "stream");
  return FromStatus(stream->session->Close());
  ARMAP_C_CATCH(kFn)
}

ARMAP_EXPORT void armap_stream_free(ArmapStream* stream) {
  try {
    delete stream;
  } catch (...) {
  }
}

ARMAP_EXPORT int32_t armap_fusion_create(const ArmapFusionOptions* options_or_null, ArmapFusion** out) {
  constexpr const char* kFn = "armap_fusion_create";
  ARMAP_C_TRY
  if (out == nullptr) return NullArgument(kFn, "out");
  *out = nullptr;
  sdk::PoseFusionOptions options;
  if (options_or_null != nullptr) {
    if (options_or_null->struct_size < kFusionOptionsV1Size) {
      return BadSize(kFn, "options", options_or_null->struct_size, kFusionOptionsV1Size, "armap_fusion_options_init");
    }
    options = ToFusionOptions(ReadStruct(options_or_null));
  }
  auto fusion = sdk::PoseFusion::Create(options);
  if (!fusion.ok()) return FromStatus(fusion.status());
  *out = new ArmapFusion{std::move(*fusion)};
  return ARMAP_OK;
  ARMAP_C_CATCH(kFn)
}

ARMAP_EXPORT void armap_fusion_free(ArmapFusion* fusion) {
  try {
    delete fusion;
  } catch (...) {
  }
}

ARMAP_EXPORT int32_t armap_fusion_add_tracking(ArmapFusion* fusion, double timestamp_s,
                                               const ArmapRigid3* session_from_cam) {
  constexpr const char* kFn = "armap_fusion_add_tracking";
  ARMAP_C_TRY
  if (fusion == nullptr) return NullArgument(kFn, "fusion");
  if (session_from_cam == nullptr) return NullArgument(kFn, "session_from_cam");
  return FromStatus(fusion->fusion->AddTracking(timestamp_s, FromC(*session_from_cam)));
  ARMAP_C_CATCH(kFn)
}

ARMAP_EXPORT int32_t armap_fusion_add_fix(ArmapFusion* fusion, double timestamp_s, const ArmapRigid3* map_from_cam,
                                          double confidence, int32_t* out_outcome) {
  constexpr const char* kFn = "armap_fusion_add_fix";
  ARMAP_C_TRY
  if (fusion == nullptr) return NullArgument(kFn, "fusion");
  if (map_from_cam == nullptr) return NullArgument(kFn, "map_from_cam");
  auto outcome = fusion->fusion->AddFix(timestamp_s, FromC(*map_from_cam), confidence);
  if (!outcome.ok()) return FromStatus(outcome.status());
  if (out_outcome != nullptr) *out_outcome = static_cast<int32_t>(*outcome);
  return ARMAP_OK;
  ARMAP_C_CATCH(kFn)
}

ARMAP_EXPORT int32_t armap_fusion_add_fix_sigma(ArmapFusion* fusion, double timestamp_s,
                                                const ArmapRigid3* map_from_cam, double position_sigma_m,
                                                double yaw_sigma_deg, int32_t* out_outcome) {
  constexpr const char* kFn = "armap_fusion_add_fix_sigma";
  ARMAP_C_TRY
  if (fusion == nullptr) return NullArgument(kFn, "fusion");
  if (map_from_cam == nullptr) return NullArgument(kFn, "map_from_cam");
  auto outcome = fusion->fusion->AddFixWithSigma(timestamp_s, FromC(*map_from_cam), position_sigma_m, yaw_sigma_deg);
  if (!outcome.ok()) return FromStatus(outcome.status());
  if (out_outcome != nullptr) *out_outcome = static_cast<int32_t>(*outcome);
  return ARMAP_OK;
  ARMAP_C_CATCH(kFn)
}

ARMAP_EXPORT int32_t armap_fusion_map_from_session(const ArmapFusion* fusion, ArmapRigid3* out) {
  constexpr const char* kFn = "armap_fusion_map_from_session";
  ARMAP_C_TRY
  if (fusion == nullptr) return NullArgument(kFn, "fusion");
  if (out == nullptr) return NullArgument(kFn, "out");
  auto pose = fusion->fusion->MapFromSession();
  if (!pose.ok()) return FromStatus(pose.status());
  *out = ToC(*pose);
  return ARMAP_OK;
  ARMAP_C_CATCH(kFn)
}

ARMAP_EXPORT int32_t armap_fusion_map_from_cam(const ArmapFusion* fusion, double timestamp_s, ArmapRigid3* out) {
  constexpr const char* kFn = "armap_fusion_map_from_cam";
  ARMAP_C_TRY
  if (fusion == nullptr) return NullArgument(kFn, "fusion");
  if (out == nullptr) return NullArgument(kFn, "out");
  auto pose = fusion->fusion->MapFromCam(timestamp_s);
  if (!pose.ok()) return FromStatus(pose.status());
  *out = ToC(*pose);
  return ARMAP_OK;
  ARMAP_C_CATCH(kFn)
}

ARMAP_EXPORT int32_t armap_fusion_get_stats(const ArmapFusion* fusion, ArmapFusionStats* out) {
  constexpr const char* kFn = "armap_fusion_get_stats";
  ARMAP_C_TRY
  if (fusion == nullptr) return NullArgument(kFn, "fusion");
  if (out == nullptr) return NullArgument(kFn, "out");
  if (out->struct_size < kFusionStatsV1Size) {
    return BadSize(kFn, "out", out->struct_size, kFusionStatsV1Size, "armap_fusion_stats_init");
  }
  const sdk::PoseFusionStats s = fusion->fusion->stats();
  ArmapFusionStats local;
  std::memset(&local, 0, sizeof(local));
  local.initialized = fusion->fusion->initialized() ? 1 : 0;
  local.num_tracking = s.num_tracking;
  local.num_fixes = s.num_fixes;
  local.num_accepted = s.num_accepted;
  local.num_rejected = s.num_rejected;
  local.num_resets = s.num_resets;
  local.window_inliers = s.window_inliers;
  local.pending_correction_m = s.pending_correction_m;
  local.pending_correction_deg = s.pending_correction_deg;
  local.position_sigma_m = s.position_sigma_m;
  local.yaw_sigma_deg = s.yaw_sigma_deg;
  local.drift_rate = s.drift_rate;
  WriteStruct(local, out);
  return ARMAP_OK;
  ARMAP_C_CATCH(kFn)
}

ARMAP_EXPORT int32_t armap_fusion_reset(ArmapFusion* fusion) {
  constexpr const char* kFn = "armap_fusion_reset";
  ARMAP_C_TRY
  if (fusion == nullptr) return NullArgument(kFn, "fusion");
  fusion->fusion->Reset();
  return ARMAP_OK;
  ARMAP_C_CATCH(kFn)
}

// ---- navigation

ARMAP_EXPORT int32_t armap_route_params_init(ArmapRouteParams* params) {
  return InitStruct("armap_route_params_init", "params", params);
}

ARMAP_EXPORT int32_t armap_route_summary_init(ArmapRouteSummary* summary) {
  return InitStruct("armap_route_summary_init", "summary", summary);
}

ARMAP_EXPORT int32_t armap_nav_pose_init(ArmapNavPose* pose) {
  return InitStruct("armap_nav_pose_init", "pose", pose);
}

ARMAP_EXPORT int32_t armap_guide_update_init(ArmapGuideUpdate* update) {
  return InitStruct("armap_guide_update_init", "update", update);
}

ARMAP_EXPORT int32_t armap_route(const ArmapClient* client, const ArmapRouteParams* params,
                                 const int64_t* avoid_edge_ids, uint32_t num_avoid, ArmapRoute** out) {
  constexpr const char* kFn = "armap_route";
  ARMAP_C_TRY
  if (out == nullptr) return NullArgument(kFn, "out");
  *out = nullptr;
  if (client == nullptr) return NullArgument(kFn, "client");
  if (params == nullptr) return NullArgument(kFn, "params");
  if (num_avoid > 0 && avoid_edge_ids == nullptr) return NullArgument(kFn, "avoid_edge_ids");
  sdk::RouteRequest request;
  sdk::GeoPoint destination;
  if (const int32_t rc = ToRouteParams(kFn, params, &request.map_id, &request.request_id, &request.timeout_ms,
                                       &request.poi_name, &destination, &request.options);
      rc != ARMAP_OK) {
    return rc;
  }
  const ArmapRouteParams p = ReadStruct(params);
  if (p.has_destination) request.destination = destination;
  request.start = sdk::GeoPoint{p.start_lat_deg, p.start_lon_deg, 0};
  if (p.has_start_heading) request.start_heading_deg = p.start_heading_deg;
  request.options.avoid_edge_ids.assign(avoid_edge_ids, avoid_edge_ids + num_avoid);
  auto result = client->client->Route(request);
  if (!result.ok()) return FromStatus(result.status());
  auto route = std::make_unique<ArmapRoute>();
  route->routes = std::move(result->routes);
  *out = route.release();
  return ARMAP_OK;
  ARMAP_C_CATCH(kFn)
}

ARMAP_EXPORT void armap_route_free(ArmapRoute* route) {
  try {
    delete route;
  } catch (...) {
  }
}

ARMAP_EXPORT int32_t armap_route_count(const ArmapRoute* route, uint32_t* out_count) {
  constexpr const char* kFn = "armap_route_count";
  ARMAP_C_TRY
  if (route == nullptr) return NullArgument(kFn, "route");
  if (out_count == nullptr) return NullArgument(kFn, "out_count");
  *out_count = static_cast<uint32_t>(route->routes.size());
  return ARMAP_OK;
  ARMAP_C_CATCH(kFn)
}

ARMAP_EXPORT int32_t armap_route_summary(const ArmapRoute* route, uint32_t index, ArmapRouteSummary* out) {
  constexpr const char* kFn = "armap_route_summary";
  ARMAP_C_TRY
  const sdk::NavRoute* r = nullptr;
  if (const int32_t rc = RouteAt(kFn, route, index, &r); rc != ARMAP_OK) return rc;
  if (out == nullptr) return NullArgument(kFn, "out");
  if (out->struct_size < kRouteSummaryV1Size) {
    return BadSize(kFn, "out", out->struct_size, kRouteSummaryV1Size, "armap_route_summary_init");
  }
  ArmapRouteSummary local;
  std::memset(&local, 0, sizeof(local));
  local.crossings = r->crossings;
  local.length_m = r->length_m;
  local.eta_s = r->eta_s;
  local.cost = r->cost;
  local.num_points = static_cast<uint32_t>(r->polyline_map.size());
  local.num_ar_points = static_cast<uint32_t>(r->ar_polyline_map.size());
  local.num_maneuvers = static_cast<uint32_t>(r->maneuvers.size());
  local.route_version = r->route_version;
  local.start_snap_distance_m = r->start_snap_distance_m;
  local.destination_snap_distance_m = r->destination_snap_distance_m;
  WriteStruct(local, out);
  return ARMAP_OK;
  ARMAP_C_CATCH(kFn)
}

ARMAP_EXPORT int32_t armap_route_polyline_wgs84(const ArmapRoute* route, uint32_t index, double* out,
                                                uint32_t capacity, uint32_t* out_count) {
  return CopyRouteArray("armap_route_polyline_wgs84", route, index, &sdk::NavRoute::polyline_wgs84, 3, out, capacity, out_count,
                        [](const sdk::GeoPoint& g, double* d) {
    d[0] = g.lat_deg;
    d[1] = g.lon_deg;
    d[2] = g.alt_m;
  });
}

ARMAP_EXPORT int32_t armap_route_polyline_map(const ArmapRoute* route, uint32_t index, double* out,
                                              uint32_t capacity, uint32_t* out_count) {
  return CopyRouteArray("armap_route_polyline_map", route, index, &sdk::NavRoute::polyline_map, 3, out, capacity, out_count,
                        CopyXyz);
}

ARMAP_EXPORT int32_t armap_route_ar_polyline(const ArmapRoute* route, uint32_t index, double* out,
                                             uint32_t capacity, uint32_t* out_count) {
  return CopyRouteArray("armap_route_ar_polyline", route, index, &sdk::NavRoute::ar_polyline_map, 3, out, capacity, out_count,
                        CopyXyz);
}

ARMAP_EXPORT int32_t armap_route_maneuver_types(const ArmapRoute* route, uint32_t index, int32_t* out,
                                                uint32_t capacity, uint32_t* out_count) {
  return CopyRouteArray("armap_route_maneuver_types", route, index, &sdk::NavRoute::maneuvers, 1, out, capacity, out_count,
                        [](const sdk::Maneuver& m, int32_t* d) { d[0] = static_cast<int32_t>(m.type); });
}

ARMAP_EXPORT int32_t armap_route_maneuver_distances(const ArmapRoute* route, uint32_t index, double* out,
                                                    uint32_t capacity, uint32_t* out_count) {
  return CopyRouteArray("armap_route_maneuver_distances", route, index, &sdk::NavRoute::maneuvers, 2, out, capacity, out_count,
                        [](const sdk::Maneuver& m, double* d) {
    d[0] = m.at_m;
    d[1] = m.distance_m;
  });
}

ARMAP_EXPORT int32_t armap_route_edge_ids(const ArmapRoute* route, uint32_t index, int64_t* out, uint32_t capacity,
                                          uint32_t* out_count) {
  return CopyRouteArray("armap_route_edge_ids", route, index, &sdk::NavRoute::edge_ids, 1, out, capacity, out_count,
                        [](int64_t id, int64_t* d) { d[0] = id; });
}

ARMAP_EXPORT int32_t armap_route_maneuver_prompt(const ArmapRoute* route, uint32_t index, uint32_t maneuver,
                                                 int32_t language, const char** out) {
  constexpr const char* kFn = "armap_route_maneuver_prompt";
  ARMAP_C_TRY
  const sdk::NavRoute* r = nullptr;
  if (const int32_t rc = RouteAt(kFn, route, index, &r); rc != ARMAP_OK) return rc;
  if (out == nullptr) return NullArgument(kFn, "out");
  *out = nullptr;
  if (maneuver >= r->maneuvers.size()) {
    return SetError(ARMAP_OUT_OF_RANGE, std::string(kFn) + ": maneuver = " + std::to_string(maneuver) +
                                            "; the route has " + std::to_string(r->maneuvers.size()));
  }
  if (language != ARMAP_PROMPT_ZH && language != ARMAP_PROMPT_EN) {
    return SetError(ARMAP_INVALID_ARGUMENT,
                    std::string(kFn) + ": language = " + std::to_string(language) + "; must be an ArmapPromptLanguage");
  }
  const sdk::Maneuver& m = r->maneuvers[maneuver];
  *out = (language == ARMAP_PROMPT_ZH ? m.prompt_zh : m.prompt_en).c_str();
  return ARMAP_OK;
  ARMAP_C_CATCH(kFn)
}

namespace {
int32_t GuideOpen(const char* kFn, const ArmapClient* client, const ArmapRouteParams* params, const int64_t* avoid_edge_ids,
                  uint32_t num_avoid, const ArmapNavPose* start, ArmapGuideUpdate* first_or_null, ArmapGuide** out) {
  if (out == nullptr) return NullArgument(kFn, "out");
  *out = nullptr;
  if (client == nullptr) return NullArgument(kFn, "client");
  if (params == nullptr) return NullArgument(kFn, "params");
  if (start == nullptr) return NullArgument(kFn, "start");
  if (num_avoid > 0 && avoid_edge_ids == nullptr) return NullArgument(kFn, "avoid_edge_ids");
  if (first_or_null != nullptr) {
    if (first_or_null->struct_size < kGuideUpdateV1Size) {
      return BadSize(kFn, "first_or_null", first_or_null->struct_size, kGuideUpdateV1Size, "armap_guide_update_init");
    }
    ClearStruct(first_or_null);
  }
  sdk::GuideStart request;
  sdk::GeoPoint destination;
  int64_t timeout_ms = 0;
  if (const int32_t rc = ToRouteParams(kFn, params, &request.map_id, &request.request_id, &timeout_ms,
                                       &request.poi_name, &destination, &request.options);
      rc != ARMAP_OK) {
    return rc;
  }
  if (ReadStruct(params).has_destination) request.destination = destination;
  request.options.num_alternatives = 0;
  if (num_avoid > 0) request.options.avoid_edge_ids.assign(avoid_edge_ids, avoid_edge_ids + num_avoid);
  if (const int32_t rc = ToNavPose(kFn, "start", start, &request.pose); rc != ARMAP_OK) return rc;
  auto session = client->client->OpenGuide(request);
  if (!session.ok()) return FromStatus(session.status());
  auto guide = std::make_unique<ArmapGuide>();
  guide->session = std::move(*session);
  guide->route = *guide->session->first().route;
  if (first_or_null != nullptr) ToGuideUpdate(guide->session->first(), first_or_null);
  *out = guide.release();
  return ARMAP_OK;
}
}  // namespace

ARMAP_EXPORT int32_t armap_guide_open(const ArmapClient* client, const ArmapRouteParams* params,
                                      const ArmapNavPose* start, ArmapGuideUpdate* first_or_null, ArmapGuide** out) {
  constexpr const char* kFn = "armap_guide_open";
  ARMAP_C_TRY
  return GuideOpen(kFn, client, params, nullptr, 0, start, first_or_null, out);
  ARMAP_C_CATCH(kFn)
}

ARMAP_EXPORT int32_t armap_guide_open_avoiding(const ArmapClient* client, const ArmapRouteParams* params,
                                               const int64_t* avoid_edge_ids, uint32_t num_avoid,
                                               const ArmapNavPose* start, ArmapGuideUpdate* first_or_null,
                                               ArmapGuide** out) {
  constexpr const char* kFn = "armap_guide_open_avoiding";
  ARMAP_C_TRY
  return GuideOpen(kFn, client, params, avoid_edge_ids, num_avoid, start, first_or_null, out);
  ARMAP_C_CATCH(kFn)
}

ARMAP_EXPORT int32_t armap_guide_send_pose(ArmapGuide* guide, const ArmapNavPose* pose, ArmapGuideUpdate* out) {
  constexpr const char* kFn = "armap_guide_send_pose";
  ARMAP_C_TRY
  if (guide == nullptr) return NullArgument(kFn, "guide");
  if (pose == nullptr) return NullArgument(kFn, "pose");
  if (out == nullptr) return NullArgument(kFn, "out");
  if (out->struct_size < kGuideUpdateV1Size) {
    return BadSize(kFn, "out", out->struct_size, kGuideUpdateV1Size, "armap_guide_update_init");
  }
  ClearStruct(out);
  sdk::NavPose p;
  if (const int32_t rc = ToNavPose(kFn, "pose", pose, &p); rc != ARMAP_OK) return rc;
  auto update = guide->session->Update(p);
  if (!update.ok()) return FromStatus(update.status());
  if (update->route) guide->route = *update->route;
  ToGuideUpdate(*update, out);
  return ARMAP_OK;
  ARMAP_C_CATCH(kFn)
}

ARMAP_EXPORT int32_t armap_guide_route(const ArmapGuide* guide, ArmapRoute** out) {
  constexpr const char* kFn = "armap_guide_route";
  ARMAP_C_TRY
  if (out == nullptr) return NullArgument(kFn, "out");
  *out = nullptr;
  if (guide == nullptr) return NullArgument(kFn, "guide");
  auto route = std::make_unique<ArmapRoute>();
  route->routes.push_back(guide->route);
  *out = route.release();
  return ARMAP_OK;
  ARMAP_C_CATCH(kFn)
}

ARMAP_EXPORT int32_t armap_guide_close(ArmapGuide* guide) {
  constexpr const char* kFn = "armap_guide_close";
  ARMAP_C_TRY
  if (guide == nullptr) return NullArgument(kFn, "guide");
  return FromStatus(guide->session->Close());
  ARMAP_C_CATCH(kFn)
}

ARMAP_EXPORT void armap_guide_free(ArmapGuide* guide) {
  try {
    delete guide;
  } catch (...) {
  }
}

}  // extern "C"
