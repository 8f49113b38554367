// Navigation service: validation, planning and guidance on the worker pool.
// Threading as for Localization: the callback thread only queues; a worker
// validates, plans (or feeds the stream's Guidance) and finishes the unary
// reactor or StartWrite()s the stream's answer. A stream has at most one
// operation outstanding, so its Guidance is never used by two threads.
#include "server/navigation_service.h"

#include <chrono>
#include <cmath>
#include <optional>
#include <utility>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/json.h"
#include "core/logging.h"
#include "core/map/package.h"
#include "core/status.h"
#include "navigation/guidance.h"
#include "server/convert.h"

namespace armap::server {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
constexpr double kWalkSpeedMps = 1.2;
constexpr int kMaxAlternatives = 5;
constexpr size_t kMaxAvoidEdges = 10000;

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string Capped(const std::string& s) { return s.size() <= 128 ? s : s.substr(0, 128) + "..."; }

// One JSON line per request (per Guide message), as Localization logs.
void LogNavRequest(const char* rpc, const std::string& request_id, const std::string& map_id, const std::string& peer,
                   int64_t seq, const grpc::Status& status, const absl::Status& error, double server_ms,
                   const OrderedJson& extra = OrderedJson::object()) {
  OrderedJson line;
  line["rpc"] = rpc;
  line["request_id"] = Capped(request_id);
  if (seq >= 0) line["seq"] = seq;
  line["map_id"] = Capped(map_id);
  line["peer"] = peer;
  line["code"] = StatusCodeName(status.error_code());
  if (!status.ok()) line["error"] = Capped(std::string(error.message()));
  for (const auto& [k, v] : extra.items()) line[k] = v;
  line["server_ms"] = std::round(server_ms * 100) / 100;
  ARMAP_LOG_INFO("{}", line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

// The snapper's FailedPrecondition ("start is 5012 m from the pedestrian
// network") is the caller's bad input here: INVALID_ARGUMENT naming the field.
absl::Status AsRequestError(const absl::Status& status, const std::string& field) {
  if (status.code() == absl::StatusCode::kFailedPrecondition || status.code() == absl::StatusCode::kInvalidArgument) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", status.message()));
  }
  return Annotate(status, field);
}

// WGS84 point -> map frame at the origin's altitude (the snap is planar).
Eigen::Vector3d MapFromGeo(const NavMap& map, const GeoPoint& g) {
  return map.frame->EnuFromWgs84({g.lat_deg, g.lon_deg, map.frame->origin().alt_m});
}

absl::StatusOr<std::optional<double>> HeadingFrom(bool has, double heading_deg, const std::string& field) {
  if (!has) return std::optional<double>();
  if (!std::isfinite(heading_deg)) return absl::InvalidArgumentError(absl::StrCat(field, ": must be finite"));
  return std::optional<double>(heading_deg);
}

absl::StatusOr<nav::PlanOptions> PlanOptionsFrom(const v1::RouteOptions& proto, const std::string& field,
                                                 bool alternatives) {
  nav::PlanOptions plan;
  if (proto.has_crossing_penalty_m()) {
    if (!std::isfinite(proto.crossing_penalty_m()) || proto.crossing_penalty_m() < 0) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".crossing_penalty_m = ", proto.crossing_penalty_m(),
                                                     "; must be finite and >= 0"));
    }
    plan.crossing_penalty_m = proto.crossing_penalty_m();
  }
  if (proto.avoid_edge_ids_size() > static_cast<int>(kMaxAvoidEdges)) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".avoid_edge_ids has ", proto.avoid_edge_ids_size(),
                                                   " ids; at most ", kMaxAvoidEdges));
  }
  plan.avoid_edge_ids.assign(proto.avoid_edge_ids().begin(), proto.avoid_edge_ids().end());
  if (alternatives) {
    if (proto.num_alternatives() < 0 || proto.num_alternatives() > kMaxAlternatives) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".num_alternatives = ", proto.num_alternatives(),
                                                     "; must be in 0..", kMaxAlternatives));
    }
    plan.num_alternatives = proto.num_alternatives();
  }
  ARMAP_RETURN_IF_ERROR(plan.Validate());
  return plan;
}

void PoiToProto(const NavMap& map, const nav::Poi& poi, v1::Poi* proto) {
  proto->set_id(poi.id);
  proto->set_name(poi.name);
  proto->set_name_en(poi.name_en);
  proto->set_category(poi.category);
  proto->set_confidence(poi.confidence);
  GeoPointToProto(map.frame->Wgs84FromEnu(poi.position_in_map), proto->mutable_position());
  Vector3ToProto(poi.position_in_map, proto->mutable_position_map());
}

// The destination oneof (shared by RouteRequest and GuideRequest) snapped
// onto the network; `poi` is set for a POI destination.
template <typename Request>
absl::StatusOr<nav::EdgePoint> ResolveDestination(const NavMap& map, const Request& request, const std::string& msg,
                                                  const nav::SnapOptions& snap, const nav::Poi** poi) {
  *poi = nullptr;
  Eigen::Vector3d goal_in_map;
  switch (request.destination_case()) {
    case Request::kPoiName: {
      if (request.poi_name().empty()) return absl::InvalidArgumentError(absl::StrCat(msg, ".poi_name is empty"));
      auto found = map.graph->FindPoi(request.poi_name());
      if (!found.ok()) return Annotate(found.status(), absl::StrCat(msg, ".poi_name"));
      *poi = *found;
      goal_in_map = (*found)->position_in_map;
      break;
    }
    case Request::kPoint: {
      const std::string field = absl::StrCat(msg, ".point");
      ARMAP_ASSIGN_OR_RETURN(const GeoPoint g, GeoPointFromProto(request.point(), field.c_str()));
      goal_in_map = MapFromGeo(map, g);
      break;
    }
    default:
      return absl::InvalidArgumentError(absl::StrCat(msg, ".destination is empty: set poi_name or point"));
  }
  auto goal = map.graph->Snap(goal_in_map, std::nullopt, snap, "destination");
  if (!goal.ok()) return AsRequestError(goal.status(), absl::StrCat(msg, ".destination"));
  return *goal;
}

v1::ManeuverType ManeuverTypeToProto(nav::ManeuverType type) {
  switch (type) {
    case nav::ManeuverType::kDepart: return v1::MANEUVER_TYPE_DEPART;
    case nav::ManeuverType::kStraight: return v1::MANEUVER_TYPE_STRAIGHT;
    case nav::ManeuverType::kTurnLeft: return v1::MANEUVER_TYPE_TURN_LEFT;
    case nav::ManeuverType::kTurnRight: return v1::MANEUVER_TYPE_TURN_RIGHT;
    case nav::ManeuverType::kSlightLeft: return v1::MANEUVER_TYPE_SLIGHT_LEFT;
    case nav::ManeuverType::kSlightRight: return v1::MANEUVER_TYPE_SLIGHT_RIGHT;
    case nav::ManeuverType::kUTurn: return v1::MANEUVER_TYPE_U_TURN;
    case nav::ManeuverType::kArrive: return v1::MANEUVER_TYPE_ARRIVE;
  }
  return v1::MANEUVER_TYPE_UNSPECIFIED;
}

void ManeuverToProto(const nav::Maneuver& m, double distance_m, v1::Maneuver* proto) {
  const nav::Prompt p = nav::PromptFor(m, distance_m);
  proto->set_type(ManeuverTypeToProto(m.type));
  proto->set_at_m(m.at_m);
  proto->set_distance_m(distance_m);
  proto->set_turn_deg(m.turn_deg);
  proto->set_onto_crossing(m.onto_crossing);
  proto->set_heading_deg(m.heading_deg);
  proto->set_text_zh(m.text_zh);
  proto->set_text_en(m.text_en);
  proto->set_prompt_zh(p.zh);
  proto->set_prompt_en(p.en);
}

// The field mapping of `armap route`'s RouteJson.
void RouteToProto(const NavMap& map, const nav::Route& route, const std::vector<nav::Maneuver>& maneuvers,
                  const std::vector<Eigen::Vector3d>& ar, int version, v1::NavRoute* proto) {
  proto->set_length_m(route.length_m);
  proto->set_eta_s(route.length_m / kWalkSpeedMps);
  proto->set_crossings(route.num_crossings);
  proto->set_cost(route.cost);
  for (const Eigen::Vector3d& p : route.polyline_in_map) {
    GeoPointToProto(map.frame->Wgs84FromEnu(p), proto->add_polyline_wgs84());
    Vector3ToProto(p, proto->add_polyline_map());
  }
  for (const Eigen::Vector3d& p : ar) Vector3ToProto(p, proto->add_ar_polyline_map());
  double prev = 0;
  for (size_t i = 0; i < maneuvers.size(); ++i) {
    const nav::Maneuver& m = maneuvers[i];
    const double distance = m.type == nav::ManeuverType::kDepart
                                ? (maneuvers.size() > 1 ? maneuvers[1].at_m : route.length_m)
                                : m.at_m - prev;
    ManeuverToProto(m, distance, proto->add_maneuvers());
    prev = m.at_m;
  }
  for (const nav::RouteStep& s : route.steps) proto->add_edge_ids(map.graph->edges()[s.edge].id);
  proto->set_start_snap_distance_m(route.start.distance_m);
  proto->set_destination_snap_distance_m(route.goal.distance_m);
  proto->set_route_version(version);
}

absl::Status RouteBody(const NavigationService& service, const v1::RouteRequest& request,
                       v1::RouteResponse* response, std::string* map_id) {
  ARMAP_ASSIGN_OR_RETURN(const NavMap* map, service.FindMap(request.map_id(), "RouteRequest.map_id"));
  *map_id = map->map_id;
  if (!request.has_start() || !request.start().has_position()) {
    return absl::InvalidArgumentError("RouteRequest.start.position is required");
  }
  ARMAP_ASSIGN_OR_RETURN(const GeoPoint start_geo,
                         GeoPointFromProto(request.start().position(), "RouteRequest.start.position"));
  ARMAP_ASSIGN_OR_RETURN(const std::optional<double> heading,
                         HeadingFrom(request.start().has_heading_deg(), request.start().heading_deg(),
                                     "RouteRequest.start.heading_deg"));
  ARMAP_ASSIGN_OR_RETURN(const nav::PlanOptions plan,
                         PlanOptionsFrom(request.options(), "RouteRequest.options", /*alternatives=*/true));
  const nav::SnapOptions snap;
  auto start = map->graph->Snap(MapFromGeo(*map, start_geo), heading, snap, "start");
  if (!start.ok()) return AsRequestError(start.status(), "RouteRequest.start");
  const nav::Poi* poi = nullptr;
  ARMAP_ASSIGN_OR_RETURN(const nav::EdgePoint goal, ResolveDestination(*map, request, "RouteRequest", snap, &poi));
  ARMAP_ASSIGN_OR_RETURN(const std::vector<nav::Route> routes, map->planner->PlanWithAlternatives(*start, goal, plan));
  const nav::GuidanceOptions go;
  for (const nav::Route& route : routes) {
    RouteToProto(*map, route, nav::BuildManeuvers(*map->graph, route, go.instructions),
                 nav::ArPolyline(route, go.polyline), 0, response->add_routes());
  }
  if (poi != nullptr) PoiToProto(*map, *poi, response->mutable_destination_poi());
  response->set_map_id(map->map_id);
  response->set_request_id(request.request_id());
  response->set_walk_speed_mps(kWalkSpeedMps);
  return absl::OkStatus();
}

absl::StatusOr<nav::NavPose> NavPoseFromProto(const NavMap& map, const v1::NavPose& proto, const char* field) {
  nav::NavPose pose;
  switch (proto.position_case()) {
    case v1::NavPose::kPositionMap: {
      const v1::Vector3& v = proto.position_map();
      if (!std::isfinite(v.x()) || !std::isfinite(v.y()) || !std::isfinite(v.z())) {
        return absl::InvalidArgumentError(absl::StrCat(field, ".position_map: values must be finite"));
      }
      pose.position_in_map = Vector3FromProto(v);
      break;
    }
    case v1::NavPose::kPositionWgs84: {
      const std::string f = absl::StrCat(field, ".position_wgs84");
      ARMAP_ASSIGN_OR_RETURN(const GeoPoint g, GeoPointFromProto(proto.position_wgs84(), f.c_str()));
      pose.position_in_map = MapFromGeo(map, g);
      break;
    }
    default:
      return absl::InvalidArgumentError(absl::StrCat(field, ".position is empty: set position_map or position_wgs84"));
  }
  ARMAP_ASSIGN_OR_RETURN(pose.heading_deg,
                         HeadingFrom(proto.has_heading_deg(), proto.heading_deg(), absl::StrCat(field, ".heading_deg")));
  if (!std::isfinite(proto.time_s())) return absl::InvalidArgumentError(absl::StrCat(field, ".time_s must be finite"));
  pose.time_s = proto.time_s();
  return pose;
}

// Guide: Read -> (worker) validate / start or update guidance -> Write ->
// Read ... Any error finishes the stream with its status; a client
// half-close finishes it OK.
class GuideReactor final : public grpc::ServerBidiReactor<v1::GuideRequest, v1::GuideResponse> {
 public:
  GuideReactor(const NavigationService* service, grpc::CallbackServerContext* context)
      : service_(service), context_(context), peer_(context->peer()) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(context_->IsCancelled() ? grpc::Status::CANCELLED : grpc::Status::OK);
      return;
    }
    received_ = Clock::now();
    if (seq_ == 0) service_->Count(&NavCounters::guide_sessions);
    service_->Count(&NavCounters::guide_messages);
    if (!service_->submit()([this] { Process(); })) {
      const grpc::Status status = QueueFullStatus();
      LogNavRequest("Guide", request_id_, map_id_, peer_, seq_, status, absl::ResourceExhaustedError("queue full"),
                    MsSince(received_));
      service_->Count(&NavCounters::rejected_queue_full);
      service_->Count(&NavCounters::guide_errors);
      Finish(status);
    }
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(grpc::Status::CANCELLED);
      return;
    }
    ++seq_;
    StartRead(&request_);
  }

  void OnDone() override { delete this; }

 private:
  void Process() {
    response_.Clear();
    const absl::Status status = Step();
    const grpc::Status grpc_status = ToGrpcStatus(status);
    OrderedJson extra;
    if (status.ok()) {
      extra["progress_m"] = std::round(response_.progress_m() * 10) / 10;
      extra["off_route"] = response_.off_route();
      extra["rerouted"] = response_.rerouted();
      extra["arrived"] = response_.arrived();
    }
    LogNavRequest("Guide", request_id_, map_id_, peer_, seq_, grpc_status, status, MsSince(received_), extra);
    if (status.ok() && response_.rerouted()) service_->Count(&NavCounters::guide_reroutes);
    if (!status.ok()) {
      service_->Count(&NavCounters::guide_errors);
      Finish(grpc_status);
      return;
    }
    response_.set_server_ms(MsSince(received_));
    StartWrite(&response_);
  }

  absl::Status Step() {
    bool send_route = false;
    if (!guidance_) {
      request_id_ = request_.request_id();
      map_id_ = request_.map_id();
      ARMAP_ASSIGN_OR_RETURN(map_, service_->FindMap(request_.map_id(), "GuideRequest.map_id"));
      map_id_ = map_->map_id;
      if (!request_.has_pose()) return absl::InvalidArgumentError("GuideRequest.pose is required");
      ARMAP_ASSIGN_OR_RETURN(const nav::NavPose start, NavPoseFromProto(*map_, request_.pose(), "GuideRequest.pose"));
      nav::GuidanceOptions options;
      ARMAP_ASSIGN_OR_RETURN(options.plan,
                             PlanOptionsFrom(request_.options(), "GuideRequest.options", /*alternatives=*/false));
      const nav::Poi* poi = nullptr;
      ARMAP_ASSIGN_OR_RETURN(const nav::EdgePoint goal,
                             ResolveDestination(*map_, request_, "GuideRequest", options.snap, &poi));
      auto guidance = nav::Guidance::Start(*map_->planner, start, goal, options);
      if (!guidance.ok()) return AsRequestError(guidance.status(), "GuideRequest.pose");
      guidance_.emplace(std::move(*guidance));
      send_route = true;
    }
    if (!request_.has_pose()) return absl::InvalidArgumentError("GuideRequest.pose is required");
    ARMAP_ASSIGN_OR_RETURN(const nav::NavPose pose, NavPoseFromProto(*map_, request_.pose(), "GuideRequest.pose"));
    auto update = guidance_->Update(pose);
    if (!update.ok()) return AsRequestError(update.status(), "GuideRequest.pose");
    const nav::GuidanceUpdate& u = *update;
    response_.set_progress_m(u.progress_m);
    response_.set_remaining_m(u.remaining_m);
    response_.set_distance_to_route_m(u.distance_to_route_m);
    response_.set_off_route(u.off_route);
    response_.set_off_route_entered(u.off_route_entered);
    if (u.next) ManeuverToProto(*u.next, u.distance_to_next_m, response_.mutable_next());
    response_.set_distance_to_next_m(u.distance_to_next_m);
    response_.set_prompt_zh(u.prompt.zh);
    response_.set_prompt_en(u.prompt.en);
    response_.set_rerouted(u.rerouted);
    response_.set_route_version(u.route_version);
    response_.set_reroute_error(u.reroute_error);
    response_.set_arrived(u.arrived);
    if (send_route || u.rerouted) {
      RouteToProto(*map_, guidance_->route(), guidance_->maneuvers(), guidance_->ar_polyline(),
                   guidance_->route_version(), response_.mutable_route());
    }
    return absl::OkStatus();
  }

  const NavigationService* service_;
  grpc::CallbackServerContext* context_;
  const std::string peer_;
  v1::GuideRequest request_;
  v1::GuideResponse response_;
  Clock::time_point received_;
  int64_t seq_ = 0;
  std::string request_id_, map_id_;
  const NavMap* map_ = nullptr;
  std::optional<nav::Guidance> guidance_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<NavMap>> LoadNavMap(const fs::path& map_dir, const std::string& map_id) {
  auto map = std::make_unique<NavMap>();
  map->map_id = map_id;
  ARMAP_ASSIGN_OR_RETURN(const map::Manifest manifest, map::ReadManifest(map_dir));
  map->frame = std::make_unique<EnuFrame>(manifest.origin);
  const fs::path network = map_dir / "roads" / "network.geojson";
  if (!fs::exists(network)) return map;
  const fs::path pois = map_dir / "pois" / "pois.geojson";
  ARMAP_ASSIGN_OR_RETURN(nav::WalkGraph graph,
                         nav::LoadWalkGraph(network, fs::exists(pois) ? pois : fs::path(), *map->frame));
  map->graph = std::make_unique<nav::WalkGraph>(std::move(graph));
  map->planner = std::make_unique<nav::Planner>(*map->graph);
  return map;
}

NavigationService::NavigationService(std::vector<const NavMap*> maps, SubmitFn submit, NavCounters* counters)
    : maps_(std::move(maps)), submit_(std::move(submit)), counters_(counters) {}

absl::StatusOr<const NavMap*> NavigationService::FindMap(const std::string& map_id, const char* field) const {
  std::vector<std::string> ids;
  for (const NavMap* m : maps_) ids.push_back(m->map_id);
  const NavMap* found = nullptr;
  if (map_id.empty()) {
    if (maps_.size() != 1) {
      return absl::InvalidArgumentError(absl::StrCat(field, " is empty and this server serves ", maps_.size(),
                                                     " maps (", absl::StrJoin(ids, ", "), "): set it"));
    }
    found = maps_.front();
  } else {
    for (const NavMap* m : maps_) {
      if (m->map_id == map_id) found = m;
    }
    if (found == nullptr) {
      return absl::NotFoundError(
          absl::StrCat("map '", map_id, "' is not served here (served: ", absl::StrJoin(ids, ", "), ")"));
    }
  }
  if (found->planner == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat("map ", found->map_id, " has no pedestrian network"));
  }
  return found;
}

grpc::ServerUnaryReactor* NavigationService::Route(grpc::CallbackServerContext* context,
                                                   const v1::RouteRequest* request, v1::RouteResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const Clock::time_point received = Clock::now();
  const std::string peer = context->peer();
  Count(&NavCounters::routes_received);
  const bool queued = submit_([this, context, request, response, reactor, received, peer] {
    std::string map_id = request->map_id();
    absl::Status status;
    if (context->deadline() <= std::chrono::system_clock::now()) {
      status = absl::DeadlineExceededError("the deadline passed before a worker was free");
    } else if (context->IsCancelled()) {
      status = absl::CancelledError("the call was cancelled before a worker was free");
    } else {
      status = RouteBody(*this, *request, response, &map_id);
    }
    if (status.ok()) response->set_server_ms(MsSince(received));
    const grpc::Status grpc_status = ToGrpcStatus(status);
    OrderedJson extra;
    if (status.ok()) {
      extra["routes"] = response->routes_size();
      if (response->routes_size() > 0) extra["length_m"] = std::round(response->routes(0).length_m() * 10) / 10;
    }
    LogNavRequest("Route", request->request_id(), map_id, peer, -1, grpc_status, status, MsSince(received), extra);
    Count(status.ok() ? &NavCounters::routes_ok : &NavCounters::route_errors);
    reactor->Finish(grpc_status);
  });
  if (!queued) {
    const grpc::Status status = QueueFullStatus();
    LogNavRequest("Route", request->request_id(), request->map_id(), peer, -1, status,
                  absl::ResourceExhaustedError("queue full"), MsSince(received));
    Count(&NavCounters::rejected_queue_full);
    Count(&NavCounters::route_errors);
    reactor->Finish(status);
  }
  return reactor;
}

grpc::ServerBidiReactor<v1::GuideRequest, v1::GuideResponse>* NavigationService::Guide(
    grpc::CallbackServerContext* context) {
  return new GuideReactor(this, context);
}

}  // namespace armap::server
