#include "convert.h"

namespace armap::sdk::internal {
namespace {

void ToProto(const GeoPoint& p, v1::GeoPoint* out) {
  out->set_lat_deg(p.lat_deg);
  out->set_lon_deg(p.lon_deg);
  out->set_alt_m(p.alt_m);
}

void ToProto(const Rigid3& r, v1::Rigid3* out) {
  out->set_qw(r.qw);
  out->set_qx(r.qx);
  out->set_qy(r.qy);
  out->set_qz(r.qz);
  out->mutable_translation()->set_x(r.tx);
  out->mutable_translation()->set_y(r.ty);
  out->mutable_translation()->set_z(r.tz);
}

GeoPoint FromProto(const v1::GeoPoint& p) { return GeoPoint{p.lat_deg(), p.lon_deg(), p.alt_m()}; }

Rigid3 FromProto(const v1::Rigid3& r) {
  return Rigid3{r.qw(), r.qx(), r.qy(), r.qz(), r.translation().x(), r.translation().y(), r.translation().z()};
}

}  // namespace

void ToProto(const LocalizeRequest& request, v1::LocalizeRequest* out) {
  out->Clear();
  out->set_map_id(request.map_id);
  v1::CameraIntrinsics* camera = out->mutable_camera();
  camera->set_model(request.camera.model);
  camera->set_width(request.camera.width);
  camera->set_height(request.camera.height);
  for (double p : request.camera.params) camera->add_params(p);
  if (!request.image.empty()) {
    out->set_image(request.image);
  } else {
    v1::Features* features = out->mutable_features();
    features->mutable_keypoints()->Add(request.keypoints.begin(), request.keypoints.end());
    features->set_descriptors(reinterpret_cast<const char*>(request.descriptors.data()), request.descriptors.size());
    features->set_descriptor_dim(request.descriptor_dim);
  }
  const Prior& prior = request.prior;
  v1::Prior* p = out->mutable_prior();
  if (prior.position) ToProto(*prior.position, p->mutable_position());
  p->set_accuracy_m(prior.accuracy_m);
  if (prior.gravity_in_cam) {
    p->mutable_gravity_in_cam()->set_x((*prior.gravity_in_cam)[0]);
    p->mutable_gravity_in_cam()->set_y((*prior.gravity_in_cam)[1]);
    p->mutable_gravity_in_cam()->set_z((*prior.gravity_in_cam)[2]);
  }
  if (prior.cam_from_world) ToProto(*prior.cam_from_world, p->mutable_cam_from_world());
  p->set_cam_from_world_accuracy_m(prior.cam_from_world_accuracy_m);
  // An empty prior is sent as no prior at all.
  if (!p->has_position() && !p->has_gravity_in_cam() && !p->has_cam_from_world() && p->accuracy_m() == 0 &&
      p->cam_from_world_accuracy_m() == 0) {
    out->clear_prior();
  }
  out->set_request_id(request.request_id);
}

LocalizeResult FromProto(const v1::LocalizeResponse& response) {
  LocalizeResult r;
  r.success = response.success();
  r.failure_reason = static_cast<FailureReason>(response.failure_reason());
  r.failure_message = response.failure_message();
  r.cam_from_world = FromProto(response.cam_from_world());
  if (!response.has_cam_from_world()) r.cam_from_world = Rigid3{};
  r.geo_pose.position = FromProto(response.geo_pose().position());
  r.geo_pose.heading_deg = response.geo_pose().heading_deg();
  r.geo_pose.pitch_deg = response.geo_pose().pitch_deg();
  r.geo_pose.roll_deg = response.geo_pose().roll_deg();
  r.confidence = response.confidence();
  r.num_features = response.num_features();
  r.num_retrieved_views = response.num_retrieved_views();
  r.num_matches = response.num_matches();
  r.num_inliers = response.num_inliers();
  r.reprojection_rms_px = response.reprojection_rms_px();
  r.stages.reserve(response.stages_size());
  for (const v1::StageTiming& s : response.stages()) r.stages.push_back(StageTiming{s.stage(), s.ms()});
  r.server_ms = response.server_ms();
  r.map_id = response.map_id();
  r.map_version = response.map_version();
  r.request_id = response.request_id();
  return r;
}

MapInfo FromProto(const v1::MapInfo& info) {
  MapInfo m;
  m.map_id = info.map_id();
  m.map_version = info.map_version();
  m.created_utc = info.created_utc();
  m.origin = FromProto(info.origin());
  m.bbox_min_m = {info.bbox_min_m().x(), info.bbox_min_m().y(), info.bbox_min_m().z()};
  m.bbox_max_m = {info.bbox_max_m().x(), info.bbox_max_m().y(), info.bbox_max_m().z()};
  m.num_views = info.num_views();
  m.num_landmarks = info.num_landmarks();
  m.extractor.type = info.extractor().type();
  m.extractor.max_features = info.extractor().max_features();
  m.extractor.contrast_threshold = info.extractor().contrast_threshold();
  m.extractor.edge_threshold = info.extractor().edge_threshold();
  m.extractor.octave_layers = info.extractor().octave_layers();
  return m;
}

absl::Status FromGrpcStatus(const grpc::Status& status, const std::string& context) {
  if (status.ok()) return absl::OkStatus();
  // grpc::StatusCode and absl::StatusCode share their numbers (0..16).
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), context + ": " + status.error_message());
}

}  // namespace armap::sdk::internal
