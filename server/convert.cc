#include "server/convert.h"

#include <cmath>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/status.h"

namespace armap::server {
namespace {

bool Finite(double v) { return std::isfinite(v); }
bool Finite(const v1::Vector3& v) { return Finite(v.x()) && Finite(v.y()) && Finite(v.z()); }

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const auto code = static_cast<grpc::StatusCode>(static_cast<int>(status.code()));
  switch (status.code()) {
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kDataLoss:
      return grpc::Status(code, "internal server error");
    default:
      return grpc::Status(code, std::string(status.message()));
  }
}

const char* StatusCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::OK: return "OK";
    case grpc::CANCELLED: return "CANCELLED";
    case grpc::UNKNOWN: return "UNKNOWN";
    case grpc::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::NOT_FOUND: return "NOT_FOUND";
    case grpc::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::ABORTED: return "ABORTED";
    case grpc::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::INTERNAL: return "INTERNAL";
    case grpc::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::DATA_LOSS: return "DATA_LOSS";
    case grpc::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return "UNKNOWN";
  }
}

// ---- Geometry ---------------------------------------------------------------

absl::StatusOr<Rigid3d> Rigid3FromProto(const v1::Rigid3& proto, const char* field) {
  const Eigen::Quaterniond q(proto.qw(), proto.qx(), proto.qy(), proto.qz());
  if (!q.coeffs().allFinite() || !Finite(proto.translation())) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": values must be finite"));
  }
  const double norm = q.norm();
  if (norm < 0.5 || norm > 2.0) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": quaternion [qw, qx, qy, qz] has norm ", norm, "; must be a unit quaternion"));
  }
  return Rigid3d(q.normalized(), Vector3FromProto(proto.translation()));
}

void Rigid3ToProto(const Rigid3d& cam_from_world, v1::Rigid3* proto) {
  const Eigen::Quaterniond& q = cam_from_world.rotation;
  proto->set_qw(q.w());
  proto->set_qx(q.x());
  proto->set_qy(q.y());
  proto->set_qz(q.z());
  Vector3ToProto(cam_from_world.translation, proto->mutable_translation());
}

void Vector3ToProto(const Eigen::Vector3d& v, v1::Vector3* proto) {
  proto->set_x(v.x());
  proto->set_y(v.y());
  proto->set_z(v.z());
}

Eigen::Vector3d Vector3FromProto(const v1::Vector3& proto) { return {proto.x(), proto.y(), proto.z()}; }

void GeoPointToProto(const GeoPoint& point, v1::GeoPoint* proto) {
  proto->set_lat_deg(point.lat_deg);
  proto->set_lon_deg(point.lon_deg);
  proto->set_alt_m(point.alt_m);
}

absl::StatusOr<GeoPoint> GeoPointFromProto(const v1::GeoPoint& proto, const char* field) {
  if (!Finite(proto.lat_deg()) || !Finite(proto.lon_deg()) || !Finite(proto.alt_m())) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": values must be finite"));
  }
  if (std::abs(proto.lat_deg()) > 90 || std::abs(proto.lon_deg()) > 180) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": lat_deg = ", proto.lat_deg(), ", lon_deg = ",
                                                   proto.lon_deg(), "; must be within [-90, 90] x [-180, 180]"));
  }
  GeoPoint point;
  point.lat_deg = proto.lat_deg();
  point.lon_deg = proto.lon_deg();
  point.alt_m = proto.alt_m();
  return point;
}

void GeoPoseToProto(const loc::GeoPose& geo_pose, v1::GeoPose* proto) {
  GeoPointToProto(geo_pose.position, proto->mutable_position());
  proto->set_heading_deg(geo_pose.heading_deg);
  proto->set_pitch_deg(geo_pose.pitch_deg);
  proto->set_roll_deg(geo_pose.roll_deg);
}

// ---- Request pieces ------------------------------------------------------------

absl::StatusOr<Camera> CameraFromProto(const v1::CameraIntrinsics& proto) {
  if (proto.model() != "PINHOLE" && proto.model() != "OPENCV") {
    return absl::InvalidArgumentError(
        absl::StrCat("LocalizeRequest.camera.model = '", proto.model(), "'; must be PINHOLE or OPENCV"));
  }
  // Camera::Create checks the range; keep huge uint32 values from wrapping.
  const int width = proto.width() > 65536u ? 65537 : static_cast<int>(proto.width());
  const int height = proto.height() > 65536u ? 65537 : static_cast<int>(proto.height());
  auto camera = Camera::Create(proto.model(), width, height,
                               std::vector<double>(proto.params().begin(), proto.params().end()));
  if (!camera.ok()) return Annotate(camera.status(), "LocalizeRequest.camera");
  return camera;
}

void CameraToProto(const Camera& camera, v1::CameraIntrinsics* proto) {
  proto->set_model(camera.ModelName());
  proto->set_width(static_cast<uint32_t>(camera.width));
  proto->set_height(static_cast<uint32_t>(camera.height));
  proto->clear_params();
  for (double p : camera.params) proto->add_params(p);
}

absl::StatusOr<features::FeatureSet> FeaturesFromProto(const v1::Features& proto) {
  const int num_floats = proto.keypoints_size();
  if (num_floats % 4 != 0) {
    return absl::InvalidArgumentError(absl::StrCat("LocalizeRequest.features: keypoints has ", num_floats,
                                                   " floats; must be 4 per keypoint (x, y, scale, orientation)"));
  }
  const size_t n = static_cast<size_t>(num_floats / 4);
  if (proto.descriptor_dim() == 0 || proto.descriptor_dim() > 4096) {
    return absl::InvalidArgumentError(absl::StrCat("LocalizeRequest.features: descriptor_dim = ",
                                                   proto.descriptor_dim(), "; must be in 1..4096 (the map's is in MapInfo)"));
  }
  const size_t dim = proto.descriptor_dim();
  if (proto.descriptors().size() != n * dim) {
    return absl::InvalidArgumentError(absl::StrCat("LocalizeRequest.features: descriptors has ",
                                                   proto.descriptors().size(), " bytes; must be ", n, " keypoints x ",
                                                   dim, " = ", n * dim));
  }
  features::FeatureSet set;
  set.dim = static_cast<int>(dim);
  set.keypoints.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const float* k = proto.keypoints().data() + 4 * i;
    for (int j = 0; j < 4; ++j) {
      if (!std::isfinite(k[j])) {
        return absl::InvalidArgumentError(
            absl::StrCat("LocalizeRequest.features: keypoint ", i, " has a non-finite value"));
      }
    }
    set.keypoints[i] = features::Keypoint{k[0], k[1], k[2], k[3]};
  }
  set.descriptors.resize(proto.descriptors().size());
  if (!set.descriptors.empty()) std::memcpy(set.descriptors.data(), proto.descriptors().data(), set.descriptors.size());
  return set;
}

void FeaturesToProto(const features::FeatureSet& features, v1::Features* proto) {
  proto->clear_keypoints();
  proto->mutable_keypoints()->Reserve(static_cast<int>(4 * features.size()));
  for (const features::Keypoint& k : features.keypoints) {
    proto->add_keypoints(k.x);
    proto->add_keypoints(k.y);
    proto->add_keypoints(k.scale);
    proto->add_keypoints(k.orientation_rad);
  }
  proto->set_descriptors(reinterpret_cast<const char*>(features.descriptors.data()), features.descriptors.size());
  proto->set_descriptor_dim(static_cast<uint32_t>(features.dim));
}

absl::StatusOr<loc::QueryPrior> PriorFromProto(const v1::Prior& proto) {
  loc::QueryPrior prior;
  if (proto.has_position()) {
    ARMAP_ASSIGN_OR_RETURN(prior.position, GeoPointFromProto(proto.position(), "LocalizeRequest.prior.position"));
    prior.has_position = true;
    if (!Finite(proto.accuracy_m()) || proto.accuracy_m() < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("LocalizeRequest.prior.accuracy_m = ", proto.accuracy_m(), "; must be >= 0 (0 means 10 m)"));
    }
    prior.accuracy_m = proto.accuracy_m() > 0 ? proto.accuracy_m() : 10.0;
  }
  if (proto.has_gravity_in_cam()) {
    const Eigen::Vector3d g = Vector3FromProto(proto.gravity_in_cam());
    const double norm = g.norm();
    if (!g.allFinite() || !(norm > 1e-9)) {
      return absl::InvalidArgumentError("LocalizeRequest.prior.gravity_in_cam: must be finite and non-zero");
    }
    prior.has_gravity = true;
    prior.gravity_in_cam = g / norm;
  }
  if (proto.has_cam_from_world()) {
    ARMAP_ASSIGN_OR_RETURN(prior.cam_from_world,
                           Rigid3FromProto(proto.cam_from_world(), "LocalizeRequest.prior.cam_from_world"));
    prior.has_cam_from_world = true;
    if (!Finite(proto.cam_from_world_accuracy_m()) || proto.cam_from_world_accuracy_m() < 0) {
      return absl::InvalidArgumentError(absl::StrCat("LocalizeRequest.prior.cam_from_world_accuracy_m = ",
                                                     proto.cam_from_world_accuracy_m(), "; must be >= 0 (0 means 2 m)"));
    }
    prior.cam_from_world_accuracy_m = proto.cam_from_world_accuracy_m() > 0 ? proto.cam_from_world_accuracy_m() : 2.0;
  }
  return prior;
}

void PriorToProto(const loc::QueryPrior& prior, v1::Prior* proto) {
  proto->Clear();
  if (prior.has_position) {
    GeoPointToProto(prior.position, proto->mutable_position());
    proto->set_accuracy_m(prior.accuracy_m);
  }
  if (prior.has_gravity) Vector3ToProto(prior.gravity_in_cam, proto->mutable_gravity_in_cam());
  if (prior.has_cam_from_world) {
    Rigid3ToProto(prior.cam_from_world, proto->mutable_cam_from_world());
    proto->set_cam_from_world_accuracy_m(prior.cam_from_world_accuracy_m);
  }
}

absl::StatusOr<loc::Query> QueryFromProto(const v1::LocalizeRequest& request) {
  if (!request.has_camera()) {
    return absl::InvalidArgumentError("LocalizeRequest.camera is missing (model, width, height, params)");
  }
  loc::Query query;
  ARMAP_ASSIGN_OR_RETURN(query.camera, CameraFromProto(request.camera()));
  switch (request.input_case()) {
    case v1::LocalizeRequest::kImage:
      if (request.image().empty()) return absl::InvalidArgumentError("LocalizeRequest.image is empty");
      query.image_bytes = request.image();
      break;
    case v1::LocalizeRequest::kFeatures: {
      ARMAP_ASSIGN_OR_RETURN(query.features, FeaturesFromProto(request.features()));
      if (query.features.empty()) return absl::InvalidArgumentError("LocalizeRequest.features has no keypoints");
      break;
    }
    case v1::LocalizeRequest::INPUT_NOT_SET:
      return absl::InvalidArgumentError("LocalizeRequest: set one of image (JPEG or PNG) or features");
  }
  if (request.has_prior()) {
    ARMAP_ASSIGN_OR_RETURN(query.prior, PriorFromProto(request.prior()));
  }
  return query;
}

// ---- Results -------------------------------------------------------------------

v1::FailureReason FailureReasonToProto(loc::FailureReason reason) {
  // The enums are numbered alike (localizer.h and localization.proto).
  const int value = static_cast<int>(reason);
  return v1::FailureReason_IsValid(value) ? static_cast<v1::FailureReason>(value) : v1::FAILURE_REASON_NONE;
}

loc::FailureReason FailureReasonFromProto(v1::FailureReason reason) {
  const int value = static_cast<int>(reason);
  return value >= 0 && value <= static_cast<int>(loc::FailureReason::kLowConfidence)
             ? static_cast<loc::FailureReason>(value)
             : loc::FailureReason::kNone;
}

void LocalizeResultToProto(const loc::LocalizeResult& result, v1::LocalizeResponse* proto) {
  proto->set_success(result.success);
  proto->set_failure_reason(FailureReasonToProto(result.failure_reason));
  proto->set_failure_message(result.failure_message);
  if (result.success) {
    Rigid3ToProto(result.cam_from_world, proto->mutable_cam_from_world());
    GeoPoseToProto(result.geo_pose, proto->mutable_geo_pose());
  } else {
    proto->clear_cam_from_world();
    proto->clear_geo_pose();
  }
  proto->set_confidence(result.confidence);
  proto->set_num_features(result.num_features);
  proto->set_num_retrieved_views(result.num_retrieved_views);
  proto->set_num_matches(result.num_matches);
  proto->set_num_inliers(result.num_inliers);
  proto->set_reprojection_rms_px(result.reprojection_rms_px);
  proto->clear_stages();
  for (const auto& [stage, ms] : result.stage_ms) {
    v1::StageTiming* timing = proto->add_stages();
    timing->set_stage(stage);
    timing->set_ms(ms);
  }
  proto->set_map_id(result.map_id);
  proto->set_map_version(result.map_version);
}

void MapInfoToProto(const loc::MapInfo& info, v1::MapInfo* proto) {
  proto->set_map_id(info.map_id);
  proto->set_map_version(info.map_version);
  proto->set_created_utc(info.created_utc);
  GeoPointToProto(info.origin, proto->mutable_origin());
  Vector3ToProto(info.bbox_min_m, proto->mutable_bbox_min_m());
  Vector3ToProto(info.bbox_max_m, proto->mutable_bbox_max_m());
  proto->set_num_views(info.num_views);
  proto->set_num_landmarks(info.num_landmarks);
  v1::ExtractorInfo* extractor = proto->mutable_extractor();
  extractor->set_type(info.extractor.type);
  extractor->set_max_features(info.extractor.max_features);
  extractor->set_contrast_threshold(info.extractor.contrast_threshold);
  extractor->set_edge_threshold(info.extractor.edge_threshold);
  extractor->set_octave_layers(info.extractor.octave_layers);
}

grpc::Status QueueFullStatus() {
  return grpc::Status(grpc::RESOURCE_EXHAUSTED, "server busy: the request queue is full; retry later");
}

}  // namespace armap::server
