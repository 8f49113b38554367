// The one place where armap.v1 protos and localization/ types meet. Every
// conversion from a request validates what it reads and returns
// InvalidArgument naming the field (e.g. "LocalizeRequest.features:
// keypoints has 10 floats; must be 4 per keypoint"), so handlers never see a
// half-checked query.
//
// Internal to server/ (the only module that includes protobuf / gRPC types).
#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "armap/v1/localization.pb.h"
#include "core/camera.h"
#include "core/features/feature_set.h"
#include "core/geo.h"
#include "core/rigid3.h"
#include "localization/localizer.h"

namespace armap::server {

// absl::StatusCode and grpc::StatusCode share their numbers: a 1:1 cast.
// Messages are kept except for the codes that mean a server-side fault
// (INTERNAL, UNKNOWN, DATA_LOSS), whose text may name files or internals:
// those become a generic message (the caller logs the original).
grpc::Status ToGrpcStatus(const absl::Status& status);
// "INVALID_ARGUMENT", ... (the request logs' "code").
const char* StatusCodeName(grpc::StatusCode code);
// What every service answers when the worker pool's queue is full.
grpc::Status QueueFullStatus();

// ---- Geometry ---------------------------------------------------------------
// Rigid3 is [qw, qx, qy, qz] + translation. InvalidArgument for a
// non-finite value or a quaternion far from unit length (|q| outside
// [0.5, 2]: a client bug, not rounding); a near-unit one is normalised.
// `field` names the message in errors ("LocalizeRequest.prior.cam_from_world").
absl::StatusOr<Rigid3d> Rigid3FromProto(const v1::Rigid3& proto, const char* field);
void Rigid3ToProto(const Rigid3d& cam_from_world, v1::Rigid3* proto);

void Vector3ToProto(const Eigen::Vector3d& v, v1::Vector3* proto);
Eigen::Vector3d Vector3FromProto(const v1::Vector3& proto);
void GeoPointToProto(const GeoPoint& point, v1::GeoPoint* proto);
// InvalidArgument for non-finite values, |lat| > 90 or |lon| > 180.
absl::StatusOr<GeoPoint> GeoPointFromProto(const v1::GeoPoint& proto, const char* field);
void GeoPoseToProto(const loc::GeoPose& geo_pose, v1::GeoPose* proto);

// ---- Request pieces ------------------------------------------------------------
// Through armap::Camera::Create (size, parameter count, finite and positive
// focal lengths); only the PINHOLE and OPENCV models (a phone camera).
absl::StatusOr<Camera> CameraFromProto(const v1::CameraIntrinsics& proto);
void CameraToProto(const Camera& camera, v1::CameraIntrinsics* proto);

// Keypoints are packed as 4 floats each (x, y, scale, orientation_rad);
// descriptors are N x descriptor_dim bytes. InvalidArgument when the
// keypoint array is not a multiple of 4, a value is not finite,
// descriptor_dim is 0, or descriptors.size() != N * descriptor_dim.
absl::StatusOr<features::FeatureSet> FeaturesFromProto(const v1::Features& proto);
void FeaturesToProto(const features::FeatureSet& features, v1::Features* proto);

// Presence by has_position() / has_gravity_in_cam() / has_cam_from_world();
// accuracies of 0 take the documented defaults (10 m and 2 m). Gravity of
// zero length, negative or non-finite accuracies are InvalidArgument.
absl::StatusOr<loc::QueryPrior> PriorFromProto(const v1::Prior& proto);
void PriorToProto(const loc::QueryPrior& prior, v1::Prior* proto);

// The whole query (camera, exactly one of image / features, prior). The
// image bytes are copied as they are: the Localizer decodes them and checks
// the header's size (an undecodable image or one above kMaxImagePixels is its
// InvalidArgument). map_id and request_id are left to the caller.
absl::StatusOr<loc::Query> QueryFromProto(const v1::LocalizeRequest& request);

// ---- Results -------------------------------------------------------------------
v1::FailureReason FailureReasonToProto(loc::FailureReason reason);
loc::FailureReason FailureReasonFromProto(v1::FailureReason reason);

// Fills every result field (pose and geo pose only when success, stage
// timings in order). server_ms and request_id are the caller's.
void LocalizeResultToProto(const loc::LocalizeResult& result, v1::LocalizeResponse* proto);
void MapInfoToProto(const loc::MapInfo& info, v1::MapInfo* proto);

}  // namespace armap::server
