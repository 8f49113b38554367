// The HTTP/JSON API's bodies (canonical proto3 JSON of
// proto/armap/v1/localization.proto and navigation.proto: lowerCamelCase,
// bytes base64, enums by name, int64 as strings): requests checked and
// built from a caller's spec, responses completed (proto3 JSON omits
// defaults) and turned into what an AR client uses. The WebAssembly SDK's
// ArmapClient sends and reads its bodies only through these functions.
//
// Errors are INVALID_ARGUMENT naming the field and value
// ("LocalizeRequest.camera.params[0] (fx) = -1; must be > 0 and finite").
#pragma once

#include <string>

#include "armap/sdk/core/result.h"

namespace armap::sdk {

// spec_json: a LocalizeRequest in the API's JSON without the input bytes:
//   {"mapId", "requestId", "camera": {"model", "width", "height", "params"},
//    "prior": {"position": {"latDeg", "lonDeg", "altM"}, "accuracyM",
//              "gravityInCam": {"x","y","z"}, "camFromWorld": {"qw","qx","qy","qz",
//              "translation": {"x","y","z"}}, "camFromWorldAccuracyM"},
//    "features": {"keypoints": [x, y, scale, orientation, ...], "descriptorDim"}}
// image: the encoded JPEG or PNG (then spec has no "features"), or empty;
// descriptors: the features' n x descriptorDim uint8 descriptors, or empty.
// Checks: exactly one input; camera model PINHOLE (4 params) or OPENCV (8),
// size > 0, fx, fy > 0 and finite, cx, cy, distortion finite; the image a
// JPEG or PNG by its signature; keypoints 4 finite floats each, descriptors
// sized n x descriptorDim; prior latitude in [-90, 90], longitude in
// [-180, 180], accuracies >= 0, gravity non-zero, the prior pose finite with
// a non-zero quaternion; no unknown fields. Returns the request body.
Result<std::string> LocalizeRequestJson(const std::string& spec_json, const std::string& image,
                                        const std::string& descriptors);

// A LocalizeResponse body, completed, plus derived poses:
//   every LocalizeResponse field (defaults filled in; failureReason as its
//   short name, "NONE", "TOO_FEW_INLIERS", ...; mapVersion a number),
//   "mapFromCam" (the inverse of camFromWorld, quaternion w >= 0) and
//   "cameraPositionMap" [x, y, z] (its translation), when success.
Result<std::string> LocalizeResultJson(const std::string& response_json);

// spec_json: a RouteRequest in the API's JSON:
//   {"mapId", "requestId", "start": {"position": {"latDeg","lonDeg","altM"}, "headingDeg"},
//    "poiName" | "point": {"latDeg","lonDeg","altM"},
//    "options": {"crossingPenaltyM", "avoidEdgeIds", "numAlternatives"}}
// Checks: a start position in range, finite heading, exactly one
// destination, crossingPenaltyM >= 0, numAlternatives in 0..5, edge ids
// integers; no unknown fields. Returns the request body.
Result<std::string> RouteRequestJson(const std::string& spec_json);

// A RouteResponse body, completed: every route's fields with defaults,
// polylines as [[x, y, z], ...] and [[lat, lon, alt], ...], maneuvers with
// "type" as the short name ("DEPART", "TURN_LEFT", ...), edge ids numbers.
Result<std::string> RouteResultJson(const std::string& response_json);

// A MapInfo body (GET /v1/maps/{id}), completed, int64 fields as numbers;
// ListMapsResponse bodies are {"maps": [MapInfo, ...]}.
Result<std::string> MapInfoJson(const std::string& response_json);
Result<std::string> MapListJson(const std::string& response_json);

// RFC 4648 base64 (with padding), as proto3 JSON encodes bytes.
std::string Base64Encode(const std::string& bytes);

}  // namespace armap::sdk
