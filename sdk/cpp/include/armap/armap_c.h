/* armap C ABI: the visual positioning client for C, C# (P/Invoke) and other
 * foreign-function callers. Plain C99, shipped as libarmap_sdk_c.so; only the
 * functions declared here are exported.
 *
 * Rules of the ABI
 *  - Every function that can fail returns an int32_t ArmapStatusCode
 *    (ARMAP_OK = 0; the values equal absl::StatusCode and gRPC codes). On
 *    failure armap_last_error() holds a message for the calling thread.
 *  - A localization that finds no confident pose is NOT an error: the call
 *    returns ARMAP_OK with result->success == 0 and result->failure_reason.
 *  - No C++ exception ever crosses the boundary (ARMAP_INTERNAL instead).
 *  - A NULL pointer where an object is required gives ARMAP_INVALID_ARGUMENT
 *    and a message naming the parameter.
 *  - No bool: flags are int32_t 0/1. Only fixed-width integers, double and
 *    fixed-size char arrays (NUL-terminated UTF-8, truncated to fit) appear
 *    in structs; there are no pointers inside structs. Every struct field is
 *    naturally aligned with explicit padding, so the layout is the same for
 *    x86-64, arm64 and wasm32 and can be mirrored with C#
 *    [StructLayout(LayoutKind.Sequential)] without Pack.
 *  - Structs passed by the caller start with `uint32_t struct_size`, set by
 *    the armap_*_init() functions (or to sizeof by hand). The library reads
 *    and writes only the first struct_size bytes; fields are only ever
 *    appended, a zero field means "default", and struct_size below the
 *    first version's size is refused with ARMAP_INVALID_ARGUMENT.
 *  - Ownership: handles returned through `out` parameters belong to the
 *    caller. An ArmapClient must be released with armap_client_free, an
 *    ArmapStream with armap_stream_free (a stream may outlive its client),
 *    an ArmapFusion with armap_fusion_free, an ArmapRoute with
 *    armap_route_free, an ArmapGuide with armap_guide_free.
 *    Strings returned as const char* belong to the library.
 *  - Threads: an ArmapClient, an ArmapFusion and an ArmapRoute may be used
 *    from many threads at once; an ArmapStream and an ArmapGuide from one
 *    thread at a time.
 */
#ifndef ARMAP_ARMAP_C_H_
#define ARMAP_ARMAP_C_H_

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#if defined(ARMAP_C_BUILDING)
#define ARMAP_EXPORT __declspec(dllexport)
#else
#define ARMAP_EXPORT __declspec(dllimport)
#endif
#elif defined(__GNUC__) || defined(__clang__)
#define ARMAP_EXPORT __attribute__((visibility("default")))
#else
#define ARMAP_EXPORT
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes: one enumerator per line, `ARMAP_NAME = N,` and a C comment
 * (generators of the C# and JS enums parse exactly this form). */
typedef enum ArmapStatusCode {
  ARMAP_OK = 0,                   /* success */
  ARMAP_CANCELLED = 1,            /* the call was cancelled */
  ARMAP_UNKNOWN = 2,              /* unknown error */
  ARMAP_INVALID_ARGUMENT = 3,     /* bad argument: NULL pointer, malformed request, too large */
  ARMAP_DEADLINE_EXCEEDED = 4,    /* no answer within the timeout */
  ARMAP_NOT_FOUND = 5,            /* unknown map id */
  ARMAP_ALREADY_EXISTS = 6,       /* the entity already exists */
  ARMAP_PERMISSION_DENIED = 7,    /* the caller may not do this */
  ARMAP_RESOURCE_EXHAUSTED = 8,   /* server saturated or a size limit hit */
  ARMAP_FAILED_PRECONDITION = 9,  /* wrong state, e.g. a closed stream */
  ARMAP_ABORTED = 10,             /* the server ended the session */
  ARMAP_OUT_OF_RANGE = 11,        /* index or value out of range */
  ARMAP_UNIMPLEMENTED = 12,       /* not supported by this server */
  ARMAP_INTERNAL = 13,            /* internal error (a bug) */
  ARMAP_UNAVAILABLE = 14,         /* server unreachable; retry later */
  ARMAP_DATA_LOSS = 15,           /* unrecoverable data loss */
  ARMAP_UNAUTHENTICATED = 16,     /* missing or bad credentials */
} ArmapStatusCode;

/* Why a valid query was not localized (result->failure_reason). */
typedef enum ArmapFailureReason {
  ARMAP_FAILURE_NONE = 0,                 /* localized */
  ARMAP_FAILURE_NO_CANDIDATES = 1,        /* no map view near the prior */
  ARMAP_FAILURE_TOO_FEW_FEATURES = 2,     /* the image has almost no texture */
  ARMAP_FAILURE_TOO_FEW_MATCHES = 3,      /* features do not match the map */
  ARMAP_FAILURE_TOO_FEW_INLIERS = 4,      /* no pose agrees with enough matches */
  ARMAP_FAILURE_DEGENERATE_GEOMETRY = 5,  /* inliers bunched: pose undetermined */
  ARMAP_FAILURE_LOW_CONFIDENCE = 6,       /* a pose, but below the confidence bar */
} ArmapFailureReason;

/* The AR session frame's up axis (ArmapFusionOptions.session_up_axis). */
typedef enum ArmapSessionUpAxis {
  ARMAP_SESSION_UP_Y = 0,  /* ARKit, ARCore, WebXR, Unity (the default) */
  ARMAP_SESSION_UP_Z = 1,  /* z up, like the map frame */
} ArmapSessionUpAxis;

/* What armap_fusion_add_fix did with a fix. */
typedef enum ArmapFixOutcome {
  ARMAP_FIX_INITIALIZED = 0,  /* the first fix: map_from_session snapped to it */
  ARMAP_FIX_ACCEPTED = 1,     /* agrees with the recent fixes */
  ARMAP_FIX_REJECTED = 2,     /* an outlier, or confidence too low */
  ARMAP_FIX_RESET = 3,        /* recent fixes outvoted the previous estimate */
} ArmapFixOutcome;

/* Maneuver types (armap_route_maneuver_types, ArmapGuideUpdate.next_type);
 * the values equal the API's ManeuverType. */
typedef enum ArmapManeuverType {
  ARMAP_MANEUVER_UNSPECIFIED = 0,   /* no maneuver */
  ARMAP_MANEUVER_DEPART = 1,        /* start walking */
  ARMAP_MANEUVER_STRAIGHT = 2,      /* straight on, onto a crossing */
  ARMAP_MANEUVER_TURN_LEFT = 3,     /* turn left */
  ARMAP_MANEUVER_TURN_RIGHT = 4,    /* turn right */
  ARMAP_MANEUVER_SLIGHT_LEFT = 5,   /* bear left */
  ARMAP_MANEUVER_SLIGHT_RIGHT = 6,  /* bear right */
  ARMAP_MANEUVER_U_TURN = 7,        /* turn around */
  ARMAP_MANEUVER_ARRIVE = 8,        /* the destination */
} ArmapManeuverType;

/* The language of armap_route_maneuver_prompt. */
typedef enum ArmapPromptLanguage {
  ARMAP_PROMPT_ZH = 0,  /* Chinese: "在 30 米后左转" */
  ARMAP_PROMPT_EN = 1,  /* English: "In 30 m, turn left" */
} ArmapPromptLanguage;

/* The frame of ArmapNavPose's x, y, z. */
typedef enum ArmapPoseFrame {
  ARMAP_POSE_MAP = 0,    /* map frame: ENU metres about the map's origin */
  ARMAP_POSE_WGS84 = 1,  /* x = lat_deg, y = lon_deg, z = alt_m */
} ArmapPoseFrame;

/* Array and string sizes (bytes including the terminating NUL). */
#define ARMAP_MAP_ID_SIZE 64
#define ARMAP_REQUEST_ID_SIZE 64
#define ARMAP_CAMERA_MODEL_SIZE 16
#define ARMAP_MAX_CAMERA_PARAMS 12
#define ARMAP_MESSAGE_SIZE 256
#define ARMAP_STAGE_NAME_SIZE 24
#define ARMAP_MAX_STAGES 12
#define ARMAP_POI_NAME_SIZE 128
#define ARMAP_PROMPT_SIZE 128

typedef struct ArmapClient ArmapClient; /* opaque; armap_client_free */
typedef struct ArmapStream ArmapStream; /* opaque; armap_stream_free */
typedef struct ArmapFusion ArmapFusion; /* opaque; armap_fusion_free */
typedef struct ArmapRoute ArmapRoute;   /* opaque; armap_route_free */
typedef struct ArmapGuide ArmapGuide;   /* opaque; armap_guide_free */

/* cam_from_world style rigid transform: point_in_target = R(q) *
 * point_in_source + t; unit quaternion [w, x, y, z], metres. 56 bytes. */
typedef struct ArmapRigid3 {
  double qw, qx, qy, qz;
  double tx, ty, tz;
} ArmapRigid3;

/* Camera centre in WGS84 and the optical axis' heading (clockwise from
 * north, [0, 360)), pitch (up positive) and roll, degrees. 48 bytes. */
typedef struct ArmapGeoPose {
  double lat_deg, lon_deg, alt_m;
  double heading_deg, pitch_deg, roll_deg;
} ArmapGeoPose;

/* model "PINHOLE" (fx fy cx cy) or "OPENCV" (fx fy cx cy k1 k2 p1 p2), at the
 * resolution of the image / keypoints. 128 bytes. */
typedef struct ArmapCamera {
  char model[ARMAP_CAMERA_MODEL_SIZE];
  uint32_t width;
  uint32_t height;
  uint32_t num_params;
  uint32_t reserved0;
  double params[ARMAP_MAX_CAMERA_PARAMS];
} ArmapCamera;

/* What the phone knows; each part is used only when its has_* flag is 1.
 * 136 bytes. */
typedef struct ArmapPrior {
  int32_t has_position;
  int32_t has_gravity;
  double lat_deg, lon_deg, alt_m;   /* GPS / network fix */
  double accuracy_m;                /* horizontal 1-sigma; 0 = 10 m */
  double gravity_in_cam[3];         /* accelerometer "down" in the camera frame */
  int32_t has_cam_from_world;
  uint32_t reserved0;
  ArmapRigid3 cam_from_world;       /* a previous pose in the map frame */
  double cam_from_world_accuracy_m; /* 0 = 2 m */
} ArmapPrior;

/* Client options; NULL in armap_client_connect means all defaults. 24 bytes. */
typedef struct ArmapClientOptions {
  uint32_t struct_size;
  int32_t max_message_bytes;  /* 0 = 16 MiB; larger requests are refused client-side */
  int64_t timeout_ms;         /* per call; 0 = 10000 */
  int64_t connect_timeout_ms; /* > 0: connect waits until ready (else UNAVAILABLE); 0 = lazy */
} ArmapClientOptions;

/* Everything about a query except its payload. 400 bytes. */
typedef struct ArmapLocalizeParams {
  uint32_t struct_size;
  int32_t timeout_ms;                       /* 0 = the client's timeout */
  char map_id[ARMAP_MAP_ID_SIZE];           /* "" = the server's only map */
  char request_id[ARMAP_REQUEST_ID_SIZE];   /* echoed in the result; may be "" */
  ArmapCamera camera;
  ArmapPrior prior;
} ArmapLocalizeParams;

/* 32 bytes. */
typedef struct ArmapStageTiming {
  char stage[ARMAP_STAGE_NAME_SIZE];
  double ms;
} ArmapStageTiming;

/* 944 bytes. */
typedef struct ArmapLocalizeResult {
  uint32_t struct_size;
  int32_t success;         /* 1 = a confident pose; 0 = see failure_reason */
  int32_t failure_reason;  /* ArmapFailureReason */
  int32_t num_features;
  int32_t num_retrieved_views;
  int32_t num_matches;
  int32_t num_inliers;
  uint32_t num_stages;     /* entries used in stages[] */
  ArmapRigid3 cam_from_world; /* map frame (ENU metres); valid when success */
  ArmapGeoPose geo_pose;      /* valid when success */
  double confidence;          /* [0, 1] */
  double reprojection_rms_px;
  double server_ms;           /* server wall time */
  double client_ms;           /* round trip measured by the client */
  int64_t map_version;
  char map_id[ARMAP_MAP_ID_SIZE];
  char request_id[ARMAP_REQUEST_ID_SIZE];
  char failure_message[ARMAP_MESSAGE_SIZE];
  ArmapStageTiming stages[ARMAP_MAX_STAGES];
} ArmapLocalizeResult;

/* 240 bytes. */
typedef struct ArmapMapInfo {
  uint32_t struct_size;
  uint32_t reserved0;
  char map_id[ARMAP_MAP_ID_SIZE];
  int64_t map_version;
  char created_utc[32];
  double origin_lat_deg, origin_lon_deg, origin_alt_m; /* of the map's ENU frame */
  double bbox_min_m[3];
  double bbox_max_m[3];
  int64_t num_views;
  int64_t num_landmarks;
  char extractor_type[16];  /* "rootsift" or "sift" */
  int32_t extractor_max_features;
  int32_t extractor_octave_layers;
  double extractor_contrast_threshold;
  double extractor_edge_threshold;
} ArmapMapInfo;

/* Pose fusion options (armap/sdk/pose_fusion.h has the meaning of each
 * field); armap_fusion_options_init sets the defaults, and a zero field
 * also means its default (pass a tiny value for "none"). 168 bytes. */
typedef struct ArmapFusionOptions {
  uint32_t struct_size;
  int32_t session_up_axis;           /* ArmapSessionUpAxis */
  double fix_position_sigma_m;       /* of a confidence-1 fix */
  double fix_yaw_sigma_deg;
  double min_confidence;             /* fixes below are ignored */
  double drift_fraction;             /* tracking drift, m per m walked */
  double drift_nonlinearity;
  double drift_m_per_s;
  double yaw_drift_deg_per_m;
  double yaw_drift_deg_per_s;
  int32_t window_size;               /* recent fixes kept */
  uint32_t reserved0;
  double window_s;
  double gate_sigma;
  double gate_floor_m;
  double gate_floor_deg;
  double huber_k;
  double max_drift_extrapolation_m;
  double blend_time_s;               /* smoothing time constant */
  double max_correction_speed_mps;
  double max_correction_yaw_rate_dps;
  double tracking_history_s;
  double max_extrapolation_s;
} ArmapFusionOptions;

/* 96 bytes. */
typedef struct ArmapFusionStats {
  uint32_t struct_size;
  int32_t initialized;               /* 1 once a fix was accepted */
  int64_t num_tracking;
  int64_t num_fixes;
  int64_t num_accepted;              /* including the initializing fix */
  int64_t num_rejected;
  int64_t num_resets;
  int32_t window_inliers;
  uint32_t reserved0;
  double pending_correction_m;       /* still being blended in */
  double pending_correction_deg;
  double position_sigma_m;           /* of the estimate, at the camera */
  double yaw_sigma_deg;
  double drift_rate;                 /* estimated, m per m walked */
} ArmapFusionStats;

/* A route (or guidance) request. The destination is the WGS84 point when
 * has_destination is 1, else the POI named poi_name. armap_guide_open
 * ignores the start fields and num_alternatives (the start is its pose).
 * 328 bytes. */
typedef struct ArmapRouteParams {
  uint32_t struct_size;
  int32_t timeout_ms;                      /* 0 = the client's timeout */
  char map_id[ARMAP_MAP_ID_SIZE];          /* "" = the server's only map */
  char request_id[ARMAP_REQUEST_ID_SIZE];
  double start_lat_deg, start_lon_deg;     /* WGS84 */
  int32_t has_start_heading;
  int32_t has_destination;
  double start_heading_deg;                /* compass, clockwise from north */
  double destination_lat_deg, destination_lon_deg;
  char poi_name[ARMAP_POI_NAME_SIZE];      /* UTF-8 name or English name */
  int32_t has_crossing_penalty;
  int32_t num_alternatives;                /* extra routes, 0..5 */
  double crossing_penalty_m;               /* metres-equivalent per crossing; default 10 */
} ArmapRouteParams;

/* One route of an ArmapRoute. Distances planar metres along the network.
 * 64 bytes. */
typedef struct ArmapRouteSummary {
  uint32_t struct_size;
  int32_t crossings;
  double length_m;
  double eta_s;                 /* at the server's walking speed */
  double cost;
  uint32_t num_points;          /* polyline points (map and WGS84) */
  uint32_t num_ar_points;       /* AR polyline points */
  uint32_t num_maneuvers;       /* DEPART first, ARRIVE last */
  int32_t route_version;        /* 0, +1 per guidance re-route */
  double start_snap_distance_m;
  double destination_snap_distance_m;
} ArmapRouteSummary;

/* A walker's pose for guidance. 56 bytes. */
typedef struct ArmapNavPose {
  uint32_t struct_size;
  int32_t frame;       /* ArmapPoseFrame */
  double x, y, z;
  int32_t has_heading;
  uint32_t reserved0;
  double heading_deg;  /* compass, clockwise from north */
  double time_s;       /* seconds on any clock; never backwards */
} ArmapNavPose;

/* The answer to one guidance pose. 592 bytes. */
typedef struct ArmapGuideUpdate {
  uint32_t struct_size;
  int32_t off_route;           /* 1 = in the off-route state */
  int32_t off_route_entered;   /* 1 = this pose entered it */
  int32_t rerouted;            /* 1 = a new route (armap_guide_route) */
  int32_t arrived;
  int32_t route_version;
  int32_t next_type;           /* ArmapManeuverType of the next maneuver */
  uint32_t reserved0;
  double progress_m;           /* along the current route */
  double remaining_m;
  double distance_to_route_m;
  double distance_to_next_m;
  double server_ms;
  double client_ms;
  char prompt_zh[ARMAP_PROMPT_SIZE];
  char prompt_en[ARMAP_PROMPT_SIZE];
  char reroute_error[ARMAP_MESSAGE_SIZE];  /* re-planning failed ("" = none) */
} ArmapGuideUpdate;

/* ---- library ---- */

/* "MAJOR.MINOR.PATCH"; static storage. */
ARMAP_EXPORT const char* armap_version(void);
/* The message of this thread's last failed call ("" when the last call
 * succeeded). Valid until this thread's next armap_* call. */
ARMAP_EXPORT const char* armap_last_error(void);
/* The name of a status code, e.g. "NOT_FOUND"; static storage. */
ARMAP_EXPORT const char* armap_status_name(int32_t code);

/* Zero the struct and set struct_size (and documented defaults). */
ARMAP_EXPORT int32_t armap_client_options_init(ArmapClientOptions* options);
ARMAP_EXPORT int32_t armap_localize_params_init(ArmapLocalizeParams* params);
ARMAP_EXPORT int32_t armap_localize_result_init(ArmapLocalizeResult* result);
ARMAP_EXPORT int32_t armap_map_info_init(ArmapMapInfo* info);
ARMAP_EXPORT int32_t armap_fusion_options_init(ArmapFusionOptions* options);
ARMAP_EXPORT int32_t armap_fusion_stats_init(ArmapFusionStats* stats);
ARMAP_EXPORT int32_t armap_route_params_init(ArmapRouteParams* params);
ARMAP_EXPORT int32_t armap_route_summary_init(ArmapRouteSummary* summary);
ARMAP_EXPORT int32_t armap_nav_pose_init(ArmapNavPose* pose);
ARMAP_EXPORT int32_t armap_guide_update_init(ArmapGuideUpdate* update);

/* ---- client ---- */

/* Creates a client for target "host:port". On input *out is ignored; on
 * success it receives a client that must be released with
 * armap_client_free; on failure it is set to NULL. */
ARMAP_EXPORT int32_t armap_client_connect(const char* target, const ArmapClientOptions* options_or_null,
                                          ArmapClient** out);
/* Releases a client; NULL is allowed. */
ARMAP_EXPORT void armap_client_free(ArmapClient* client);
/* Blocks until connected; ARMAP_UNAVAILABLE after timeout_ms. */
ARMAP_EXPORT int32_t armap_client_wait_for_ready(const ArmapClient* client, int64_t timeout_ms);

/* Localizes an encoded image (JPEG or PNG, `len` bytes). */
ARMAP_EXPORT int32_t armap_client_localize_image(const ArmapClient* client, const ArmapLocalizeParams* params,
                                                 const uint8_t* image, size_t len, ArmapLocalizeResult* out);
/* Localizes features extracted on the device with the map's extractor:
 * keypoints n x 4 floats (x, y px, scale px, orientation rad), descriptors
 * n x dim bytes, both row-major. */
ARMAP_EXPORT int32_t armap_client_localize_features(const ArmapClient* client, const ArmapLocalizeParams* params,
                                                    const float* keypoints, const uint8_t* descriptors, uint32_t n,
                                                    uint32_t dim, ArmapLocalizeResult* out);

/* Lists the server's maps into a caller buffer of `capacity` entries (maps
 * may be NULL when capacity is 0). *out_count receives the number of maps
 * the server has, which may exceed capacity: call again with a larger
 * buffer then. The element stride is maps[0].struct_size (set it with
 * armap_map_info_init on every element, or at least on maps[0]). */
ARMAP_EXPORT int32_t armap_client_list_maps(const ArmapClient* client, ArmapMapInfo* maps, uint32_t capacity,
                                            uint32_t* out_count);
/* ARMAP_NOT_FOUND for an unknown map id. */
ARMAP_EXPORT int32_t armap_client_get_map_info(const ArmapClient* client, const char* map_id, ArmapMapInfo* out);

/* ---- stream (a continuous AR session) ---- */

/* Opens a LocalizeStream session: the server uses each response's pose as
 * the next request's prior unless the request carries one. On success *out
 * must be released with armap_stream_free. */
ARMAP_EXPORT int32_t armap_client_open_stream(const ArmapClient* client, ArmapStream** out);
/* One round trip in the session (send, then wait for the response). */
ARMAP_EXPORT int32_t armap_stream_localize_image(ArmapStream* stream, const ArmapLocalizeParams* params,
                                                 const uint8_t* image, size_t len, ArmapLocalizeResult* out);
ARMAP_EXPORT int32_t armap_stream_localize_features(ArmapStream* stream, const ArmapLocalizeParams* params,
                                                    const float* keypoints, const uint8_t* descriptors, uint32_t n,
                                                    uint32_t dim, ArmapLocalizeResult* out);
/* Ends the session and returns its final status; idempotent. The stream
 * still has to be released with armap_stream_free. */
ARMAP_EXPORT int32_t armap_stream_close(ArmapStream* stream);
/* Releases a stream (cancelling it if not closed); NULL is allowed. */
ARMAP_EXPORT void armap_stream_free(ArmapStream* stream);

/* ---- navigation ----
 * Array accessors follow armap_client_list_maps: they write at most
 * `capacity` elements (out may be NULL when capacity is 0) and set
 * *out_count to the number the route has. `index` selects the route (0 =
 * the best, then alternatives); ARMAP_OUT_OF_RANGE beyond them. */

/* Plans routes (Navigation.Route). avoid_edge_ids (may be NULL when
 * num_avoid is 0) are network edge ids never used. ARMAP_NOT_FOUND for an
 * unknown map or POI (the message lists close names), ARMAP_INVALID_ARGUMENT
 * naming the field (also for a start or destination more than 50 m from the
 * network), ARMAP_FAILED_PRECONDITION for a map without a pedestrian
 * network. On success *out must be released with armap_route_free. */
ARMAP_EXPORT int32_t armap_route(const ArmapClient* client, const ArmapRouteParams* params,
                                 const int64_t* avoid_edge_ids, uint32_t num_avoid, ArmapRoute** out);
/* Releases a route; NULL is allowed. */
ARMAP_EXPORT void armap_route_free(ArmapRoute* route);
/* Number of routes (>= 1). */
ARMAP_EXPORT int32_t armap_route_count(const ArmapRoute* route, uint32_t* out_count);
ARMAP_EXPORT int32_t armap_route_summary(const ArmapRoute* route, uint32_t index, ArmapRouteSummary* out);
/* Polyline as lat_deg, lon_deg, alt_m triples: capacity and *out_count in points. */
ARMAP_EXPORT int32_t armap_route_polyline_wgs84(const ArmapRoute* route, uint32_t index, double* out,
                                                uint32_t capacity, uint32_t* out_count);
/* The same points in the map frame as x, y, z triples (metres). */
ARMAP_EXPORT int32_t armap_route_polyline_map(const ArmapRoute* route, uint32_t index, double* out,
                                              uint32_t capacity, uint32_t* out_count);
/* The AR polyline (map frame x, y, z triples: corners rounded, a point every metre). */
ARMAP_EXPORT int32_t armap_route_ar_polyline(const ArmapRoute* route, uint32_t index, double* out,
                                             uint32_t capacity, uint32_t* out_count);
/* ArmapManeuverType per maneuver. */
ARMAP_EXPORT int32_t armap_route_maneuver_types(const ArmapRoute* route, uint32_t index, int32_t* out,
                                                uint32_t capacity, uint32_t* out_count);
/* at_m (arc length where it happens), distance_m (what the prompt speaks
 * of) pairs: capacity and *out_count in maneuvers. */
ARMAP_EXPORT int32_t armap_route_maneuver_distances(const ArmapRoute* route, uint32_t index, double* out,
                                                    uint32_t capacity, uint32_t* out_count);
/* The network edge ids the route travels, in travel order (what an avoid
 * list names): capacity and *out_count in ids. */
ARMAP_EXPORT int32_t armap_route_edge_ids(const ArmapRoute* route, uint32_t index, int64_t* out, uint32_t capacity,
                                          uint32_t* out_count);
/* The UTF-8 prompt of maneuver `maneuver` in ArmapPromptLanguage `language`;
 * the string belongs to the route (valid until armap_route_free). */
ARMAP_EXPORT int32_t armap_route_maneuver_prompt(const ArmapRoute* route, uint32_t index, uint32_t maneuver,
                                                 int32_t language, const char** out);

/* Opens a guidance session (Navigation.Guide) to params' destination from
 * `start`; first_or_null receives the answer to the start pose. The same
 * errors as armap_route. On success *out must be released with
 * armap_guide_free (it may outlive its client). */
ARMAP_EXPORT int32_t armap_guide_open(const ArmapClient* client, const ArmapRouteParams* params,
                                      const ArmapNavPose* start, ArmapGuideUpdate* first_or_null, ArmapGuide** out);
/* armap_guide_open with an avoid list, as armap_route takes it
 * (avoid_edge_ids may be NULL when num_avoid is 0): the session's first
 * route and every re-route keep off those edges (except the edges the
 * walker or the destination is on). armap_guide_open is this with none. */
ARMAP_EXPORT int32_t armap_guide_open_avoiding(const ArmapClient* client, const ArmapRouteParams* params,
                                               const int64_t* avoid_edge_ids, uint32_t num_avoid,
                                               const ArmapNavPose* start, ArmapGuideUpdate* first_or_null,
                                               ArmapGuide** out);
/* One pose, one update. */
ARMAP_EXPORT int32_t armap_guide_send_pose(ArmapGuide* guide, const ArmapNavPose* pose, ArmapGuideUpdate* out);
/* The session's current route (after a re-route: the new one) as a route
 * to release with armap_route_free. */
ARMAP_EXPORT int32_t armap_guide_route(const ArmapGuide* guide, ArmapRoute** out);
/* Ends the session and returns its final status; idempotent. */
ARMAP_EXPORT int32_t armap_guide_close(ArmapGuide* guide);
/* Releases a session (cancelling it if not closed); NULL is allowed. */
ARMAP_EXPORT void armap_guide_free(ArmapGuide* guide);

/* ---- pose fusion (on the device; no server involved) ----
 * Keeps map_from_session up to date from the AR tracking (session_from_cam,
 * every frame) and positioning fixes (map_from_cam, every few seconds):
 * robust to outlier fixes, smooth, following the tracking's drift. Both
 * poses use the same camera frame; timestamps are seconds on one clock. */

/* NULL options = defaults. On success *out must be released with
 * armap_fusion_free; on failure it is set to NULL. */
ARMAP_EXPORT int32_t armap_fusion_create(const ArmapFusionOptions* options_or_null, ArmapFusion** out);
/* Releases a fusion; NULL is allowed. */
ARMAP_EXPORT void armap_fusion_free(ArmapFusion* fusion);
/* A tracking pose (timestamps non-decreasing); advances the smoothing. */
ARMAP_EXPORT int32_t armap_fusion_add_tracking(ArmapFusion* fusion, double timestamp_s,
                                               const ArmapRigid3* session_from_cam);
/* A fix taken at timestamp_s (the image's capture time; the tracking is
 * interpolated there), confidence in [0, 1] as the server returns it.
 * ARMAP_FAILED_PRECONDITION if no tracking covers timestamp_s.
 * out_outcome (may be NULL) receives an ArmapFixOutcome. */
ARMAP_EXPORT int32_t armap_fusion_add_fix(ArmapFusion* fusion, double timestamp_s, const ArmapRigid3* map_from_cam,
                                          double confidence, int32_t* out_outcome);
/* The same with this fix's own 1-sigma noise. */
ARMAP_EXPORT int32_t armap_fusion_add_fix_sigma(ArmapFusion* fusion, double timestamp_s,
                                                const ArmapRigid3* map_from_cam, double position_sigma_m,
                                                double yaw_sigma_deg, int32_t* out_outcome);
/* The smoothed map_from_session; ARMAP_FAILED_PRECONDITION before the
 * first fix. */
ARMAP_EXPORT int32_t armap_fusion_map_from_session(const ArmapFusion* fusion, ArmapRigid3* out);
/* map_from_session times the tracking at timestamp_s: the pose to render
 * with. ARMAP_OUT_OF_RANGE outside the tracking kept. */
ARMAP_EXPORT int32_t armap_fusion_map_from_cam(const ArmapFusion* fusion, double timestamp_s, ArmapRigid3* out);
ARMAP_EXPORT int32_t armap_fusion_get_stats(const ArmapFusion* fusion, ArmapFusionStats* out);
/* Forgets tracking and fixes (e.g. the AR session restarted). */
ARMAP_EXPORT int32_t armap_fusion_reset(ArmapFusion* fusion);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif  /* ARMAP_ARMAP_C_H_ */
