#include "tools/localize_remote.h"

#include "absl/strings/str_cat.h"
#include "armap/sdk/client.h"
#include "core/map/package.h"
#include "core/status.h"

namespace armap::tools {
namespace {

class SdkRemoteLocalizer final : public RemoteLocalizer {
 public:
  SdkRemoteLocalizer(std::unique_ptr<sdk::Client> client, sdk::MapInfo info)
      : client_(std::move(client)), info_(std::move(info)) {}

  absl::StatusOr<loc::EvalAnswer> Localize(const std::string& request_id, const loc::Query& query) override {
    sdk::LocalizeRequest request;
    request.map_id = info_.map_id;
    request.request_id = request_id;
    request.camera.model = query.camera.ModelName();
    request.camera.width = static_cast<uint32_t>(query.camera.width);
    request.camera.height = static_cast<uint32_t>(query.camera.height);
    request.camera.params = query.camera.params;
    request.image = query.image_bytes;
    const loc::QueryPrior& p = query.prior;
    if (p.has_position) {
      request.prior.position = sdk::GeoPoint{p.position.lat_deg, p.position.lon_deg, p.position.alt_m};
      request.prior.accuracy_m = p.accuracy_m;
    }
    if (p.has_gravity) request.prior.gravity_in_cam = {p.gravity_in_cam.x(), p.gravity_in_cam.y(), p.gravity_in_cam.z()};
    ARMAP_ASSIGN_OR_RETURN(sdk::LocalizeResult r, client_->Localize(request));
    loc::EvalAnswer a;
    a.success = r.success;
    a.confidence = r.confidence;
    a.cam_from_world = Rigid3d(Eigen::Quaterniond(r.cam_from_world.qw, r.cam_from_world.qx, r.cam_from_world.qy,
                                                  r.cam_from_world.qz),
                               Eigen::Vector3d(r.cam_from_world.tx, r.cam_from_world.ty, r.cam_from_world.tz));
    a.failure_reason = sdk::FailureReasonName(r.failure_reason);
    a.num_inliers = r.num_inliers;
    a.latency_ms = r.server_ms;
    a.client_ms = r.client_ms;
    for (const sdk::StageTiming& s : r.stages) a.stage_ms.emplace_back(s.stage, s.ms);
    return a;
  }
  const std::string& map_id() const override { return info_.map_id; }
  int64_t map_version() const override { return info_.map_version; }

 private:
  std::unique_ptr<sdk::Client> client_;
  sdk::MapInfo info_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<RemoteLocalizer>> RemoteLocalizer::Connect(const std::string& target,
                                                                          const std::string& map_dir) {
  ARMAP_ASSIGN_OR_RETURN(map::Manifest manifest, map::ReadManifest(map_dir));
  sdk::ClientOptions options;
  options.connect_timeout_ms = 10000;
  auto client = sdk::Client::Connect(target, options);
  if (!client.ok()) return Annotate(client.status(), absl::StrCat("server ", target));
  auto info = (*client)->GetMapInfo(manifest.map_id);
  if (!info.ok()) return Annotate(info.status(), absl::StrCat("server ", target, ", map '", manifest.map_id, "'"));
  if (info->map_version != manifest.map_version) {
    return absl::FailedPreconditionError(absl::StrCat("server ", target, " serves map '", manifest.map_id, "' version ",
                                                      info->map_version, ", the package at ", map_dir, " is version ",
                                                      manifest.map_version));
  }
  return std::unique_ptr<RemoteLocalizer>(new SdkRemoteLocalizer(std::move(*client), std::move(*info)));
}

}  // namespace armap::tools
