#include "armap/sdk/client.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <deque>
#include <utility>

#include "armap/v1/localization.grpc.pb.h"
#include "armap/v1/navigation.grpc.pb.h"
#include "convert.h"

namespace armap::sdk {
namespace internal {

using Clock = std::chrono::steady_clock;

struct ClientState {
  std::string target;
  ClientOptions options;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::Localization::Stub> stub;
  std::unique_ptr<v1::Navigation::Stub> nav_stub;

  int64_t TimeoutMs(int64_t requested) const { return requested > 0 ? requested : options.timeout_ms; }
  std::string Context(const char* method) const { return std::string(method) + " to " + target; }
};

namespace {

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

std::chrono::system_clock::time_point DeadlineIn(int64_t ms) {
  return std::chrono::system_clock::now() + std::chrono::milliseconds(ms);
}

// Validates, converts and checks the encoded size against the limit.
absl::Status BuildRequest(const ClientState& client, const LocalizeRequest& request, v1::LocalizeRequest* out) {
  if (absl::Status s = ValidateLocalizeRequest(request, client.options.max_message_bytes); !s.ok()) return s;
  ToProto(request, out);
  const size_t bytes = out->ByteSizeLong();
  if (bytes > static_cast<size_t>(client.options.max_message_bytes)) {
    return absl::InvalidArgumentError("LocalizeRequest encodes to " + std::to_string(bytes) +
                                      " bytes; the limit is " + std::to_string(client.options.max_message_bytes) +
                                      " (ClientOptions::max_message_bytes)");
  }
  return absl::OkStatus();
}

}  // namespace

// A bidirectional call (LocalizeStream, Navigation.Guide) driven through its own completion queue, so that
// every step (start, write, read, finish) has a deadline without a helper
// thread. At most one operation is in flight at a time.
template <typename Request, typename Response>
struct BlockingBidiCall {
  enum class Wait { kOk, kFailed, kTimedOut };
  enum Op : intptr_t { kStart = 1, kWrite, kRead, kWritesDone, kFinish };
  static void* Tag(Op op) { return reinterpret_cast<void*>(static_cast<intptr_t>(op)); }

  std::shared_ptr<const ClientState> client;  // keeps the channel alive
  const char* rpc;                            // names the call in errors
  grpc::CompletionQueue cq;
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientAsyncReaderWriter<Request, Response>> call;
  bool writes_done = false;
  bool finished = false;
  absl::Status error;         // the error that ended the session, if any
  absl::Status final_status;  // the call's status once finished

  BlockingBidiCall(std::shared_ptr<const ClientState> c, const char* rpc_name) : client(std::move(c)), rpc(rpc_name) {}

  ~BlockingBidiCall() {
    if (call != nullptr && !finished) {
      context.TryCancel();
      grpc::Status status;
      call->Finish(&status, Tag(kFinish));
      WaitFor(kFinish, -1);
    }
    cq.Shutdown();
    void* tag;
    bool ok;
    while (cq.Next(&tag, &ok)) {
    }
  }

  // Waits for `op` to complete; after timeout_ms (< 0: forever) cancels the
  // call and still waits for the operation to come back (it then fails).
  Wait WaitFor(Op op, int64_t timeout_ms) {
    bool timed_out = false;
    auto deadline = timeout_ms < 0 ? std::chrono::system_clock::time_point::max() : DeadlineIn(timeout_ms);
    for (;;) {
      void* tag = nullptr;
      bool ok = false;
      const auto r = cq.AsyncNext(&tag, &ok, deadline);
      if (r == grpc::CompletionQueue::GOT_EVENT) {
        if (tag != Tag(op)) continue;  // cannot happen: one operation at a time
        if (timed_out) return Wait::kTimedOut;
        return ok ? Wait::kOk : Wait::kFailed;
      }
      if (r == grpc::CompletionQueue::SHUTDOWN) return Wait::kFailed;
      context.TryCancel();
      timed_out = true;
      deadline = std::chrono::system_clock::time_point::max();
    }
  }

  // Ends the session after a failed or timed-out step and records why.
  absl::Status Fail(Wait how, const char* step, int64_t timeout_ms) {
    if (!finished) {
      grpc::Status status;
      call->Finish(&status, Tag(kFinish));
      if (WaitFor(kFinish, 5000) == Wait::kTimedOut && status.ok()) {
        status = grpc::Status(grpc::StatusCode::CANCELLED, "no final status from the server");
      }
      finished = true;
      final_status = FromGrpcStatus(status, client->Context(rpc));
    }
    if (how == Wait::kTimedOut) {
      error = absl::DeadlineExceededError(client->Context(rpc) + ": " + step + " did not complete within " +
                                          std::to_string(timeout_ms) + " ms");
    } else if (!final_status.ok()) {
      error = final_status;
    } else {
      error = absl::AbortedError(client->Context(rpc) + ": the server ended the session during " + step);
    }
    return error;
  }

  // Starts a call prepared on this queue and context.
  absl::Status Start(std::unique_ptr<grpc::ClientAsyncReaderWriter<Request, Response>> prepared) {
    const int64_t timeout_ms = client->options.timeout_ms;
    call = std::move(prepared);
    call->StartCall(Tag(kStart));
    const Wait w = WaitFor(kStart, timeout_ms);
    if (w != Wait::kOk) return Fail(w, "opening the stream", timeout_ms);
    return absl::OkStatus();
  }

  // Half-closes, discards unread responses (on_discard per response), then
  // waits for the server's final status.
  template <typename OnDiscard>
  absl::Status Close(OnDiscard&& on_discard) {
    if (finished) return error.ok() ? final_status : error;
    const int64_t timeout_ms = client->options.timeout_ms;
    writes_done = true;
    call->WritesDone(Tag(kWritesDone));
    Wait w = WaitFor(kWritesDone, timeout_ms);
    if (w != Wait::kOk) return Fail(w, "closing the stream", timeout_ms);
    for (;;) {
      Response response;
      call->Read(&response, Tag(kRead));
      w = WaitFor(kRead, timeout_ms);
      if (w == Wait::kTimedOut) return Fail(w, "closing the stream", timeout_ms);
      if (w == Wait::kFailed) break;
      on_discard();
    }
    grpc::Status status;
    call->Finish(&status, Tag(kFinish));
    w = WaitFor(kFinish, timeout_ms);
    finished = true;
    if (w == Wait::kTimedOut) {
      error = absl::DeadlineExceededError(client->Context(rpc) + ": no final status within " + std::to_string(timeout_ms) +
                                          " ms");
      return error;
    }
    final_status = FromGrpcStatus(status, client->Context(rpc));
    return final_status;
  }
};

struct StreamState : BlockingBidiCall<v1::LocalizeRequest, v1::LocalizeResponse> {
  std::deque<Clock::time_point> sent_at;  // one entry per unanswered Send

  explicit StreamState(std::shared_ptr<const ClientState> c) : BlockingBidiCall(std::move(c), "LocalizeStream") {}

  absl::Status Start() { return BlockingBidiCall::Start(client->stub->PrepareAsyncLocalizeStream(&context, &cq)); }

  absl::Status Send(const LocalizeRequest& request) {
    if (!error.ok()) return error;
    if (writes_done) return absl::FailedPreconditionError("LocalizeSession::Send after Close");
    v1::LocalizeRequest proto;
    if (absl::Status s = BuildRequest(*client, request, &proto); !s.ok()) return s;  // the session stays usable
    const int64_t timeout_ms = client->TimeoutMs(request.timeout_ms);
    sent_at.push_back(Clock::now());
    call->Write(proto, Tag(kWrite));
    const Wait w = WaitFor(kWrite, timeout_ms);
    if (w != Wait::kOk) return Fail(w, "sending a request", timeout_ms);
    return absl::OkStatus();
  }

  absl::StatusOr<LocalizeResult> Receive(int64_t requested_timeout_ms) {
    if (!error.ok()) return error;
    if (sent_at.empty()) {
      return absl::FailedPreconditionError("LocalizeSession::Receive without an unanswered Send");
    }
    if (requested_timeout_ms < 0) {
      return absl::InvalidArgumentError("LocalizeSession::Receive timeout_ms = " +
                                        std::to_string(requested_timeout_ms) + "; must be >= 0");
    }
    const int64_t timeout_ms = client->TimeoutMs(requested_timeout_ms);
    v1::LocalizeResponse response;
    call->Read(&response, Tag(kRead));
    const Wait w = WaitFor(kRead, timeout_ms);
    if (w != Wait::kOk) return Fail(w, "waiting for a response", timeout_ms);
    LocalizeResult result = FromProto(response);
    result.client_ms = MsSince(sent_at.front());
    sent_at.pop_front();
    return result;
  }

  absl::Status Close() {
    const absl::Status s = BlockingBidiCall::Close([&] {
      if (!sent_at.empty()) sent_at.pop_front();
    });
    sent_at.clear();
    return s;
  }
};

}  // namespace internal

using internal::ClientState;
using internal::StreamState;

absl::Status ClientOptions::Validate() const {
  if (timeout_ms <= 0) {
    return absl::InvalidArgumentError("ClientOptions::timeout_ms = " + std::to_string(timeout_ms) + "; must be > 0");
  }
  if (max_message_bytes <= 0) {
    return absl::InvalidArgumentError("ClientOptions::max_message_bytes = " + std::to_string(max_message_bytes) +
                                      "; must be > 0");
  }
  if (connect_timeout_ms < 0) {
    return absl::InvalidArgumentError("ClientOptions::connect_timeout_ms = " + std::to_string(connect_timeout_ms) +
                                      "; must be >= 0 (0 = connect on the first call)");
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------- Client

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(const std::string& target, const ClientOptions& options) {
  if (absl::Status s = options.Validate(); !s.ok()) return s;
  if (target.empty()) return absl::InvalidArgumentError("Client::Connect: target is empty; expected \"host:port\"");
  auto state = std::make_shared<ClientState>();
  state->target = target;
  state->options = options;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options.max_message_bytes);
  args.SetMaxSendMessageSize(options.max_message_bytes);
  args.SetUserAgentPrefix(std::string("armap-sdk-cpp/") + Version());
  state->channel = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  if (state->channel == nullptr) return absl::InvalidArgumentError("Client::Connect: cannot create a channel to " + target);
  state->stub = v1::Localization::NewStub(state->channel);
  state->nav_stub = v1::Navigation::NewStub(state->channel);
  std::unique_ptr<Client> client(new Client(std::move(state)));
  if (options.connect_timeout_ms > 0) {
    if (absl::Status s = client->WaitForReady(options.connect_timeout_ms); !s.ok()) return s;
  }
  return client;
}

Client::Client(std::shared_ptr<ClientState> state) : state_(std::move(state)) {}
Client::~Client() = default;

const std::string& Client::target() const { return state_->target; }
const ClientOptions& Client::options() const { return state_->options; }

absl::Status Client::WaitForReady(int64_t timeout_ms) const {
  if (timeout_ms < 0) {
    return absl::InvalidArgumentError("Client::WaitForReady timeout_ms = " + std::to_string(timeout_ms) +
                                      "; must be >= 0");
  }
  if (state_->channel->WaitForConnected(internal::DeadlineIn(timeout_ms))) return absl::OkStatus();
  return absl::UnavailableError("not connected to " + state_->target + " within " + std::to_string(timeout_ms) +
                                " ms");
}

absl::StatusOr<LocalizeResult> Client::Localize(const LocalizeRequest& request) const {
  v1::LocalizeRequest proto;
  if (absl::Status s = internal::BuildRequest(*state_, request, &proto); !s.ok()) return s;
  grpc::ClientContext context;
  context.set_deadline(internal::DeadlineIn(state_->TimeoutMs(request.timeout_ms)));
  v1::LocalizeResponse response;
  const auto t0 = internal::Clock::now();
  const grpc::Status status = state_->stub->Localize(&context, proto, &response);
  const double client_ms = internal::MsSince(t0);
  if (!status.ok()) return internal::FromGrpcStatus(status, state_->Context("Localize"));
  LocalizeResult result = internal::FromProto(response);
  result.client_ms = client_ms;
  return result;
}

absl::StatusOr<std::vector<MapInfo>> Client::ListMaps() const {
  grpc::ClientContext context;
  context.set_deadline(internal::DeadlineIn(state_->options.timeout_ms));
  v1::ListMapsResponse response;
  const grpc::Status status = state_->stub->ListMaps(&context, v1::ListMapsRequest(), &response);
  if (!status.ok()) return internal::FromGrpcStatus(status, state_->Context("ListMaps"));
  std::vector<MapInfo> maps;
  maps.reserve(response.maps_size());
  for (const v1::MapInfo& m : response.maps()) maps.push_back(internal::FromProto(m));
  return maps;
}

absl::StatusOr<MapInfo> Client::GetMapInfo(const std::string& map_id) const {
  grpc::ClientContext context;
  context.set_deadline(internal::DeadlineIn(state_->options.timeout_ms));
  v1::GetMapInfoRequest request;
  request.set_map_id(map_id);
  v1::MapInfo response;
  const grpc::Status status = state_->stub->GetMapInfo(&context, request, &response);
  if (!status.ok()) return internal::FromGrpcStatus(status, state_->Context("GetMapInfo"));
  return internal::FromProto(response);
}

absl::StatusOr<std::unique_ptr<LocalizeSession>> Client::OpenStream() const {
  auto state = std::make_unique<StreamState>(state_);
  if (absl::Status s = state->Start(); !s.ok()) return s;
  return std::unique_ptr<LocalizeSession>(new LocalizeSession(std::move(state)));
}

// ---------------------------------------------------------------- LocalizeSession

LocalizeSession::LocalizeSession(std::unique_ptr<StreamState> state) : state_(std::move(state)) {}
LocalizeSession::~LocalizeSession() = default;

absl::Status LocalizeSession::Send(const LocalizeRequest& request) { return state_->Send(request); }

absl::StatusOr<LocalizeResult> LocalizeSession::Receive(int64_t timeout_ms) { return state_->Receive(timeout_ms); }

absl::StatusOr<LocalizeResult> LocalizeSession::Localize(const LocalizeRequest& request) {
  if (absl::Status s = state_->Send(request); !s.ok()) return s;
  return state_->Receive(request.timeout_ms);
}

absl::Status LocalizeSession::Close() { return state_->Close(); }


// ---------------------------------------------------------------- Navigation

// Internal linkage by `static`: an anonymous namespace would hide these
// FromProto overloads behind convert.h's in qualified lookup.
namespace internal {

static void GeoToProto(const GeoPoint& g, v1::GeoPoint* p) {
  p->set_lat_deg(g.lat_deg);
  p->set_lon_deg(g.lon_deg);
  p->set_alt_m(g.alt_m);
}
static GeoPoint GeoFromProto(const v1::GeoPoint& p) { return {p.lat_deg(), p.lon_deg(), p.alt_m()}; }
static std::array<double, 3> XyzFromProto(const v1::Vector3& v) { return {v.x(), v.y(), v.z()}; }

static void OptionsToProto(const RouteOptions& o, v1::RouteOptions* p) {
  if (o.crossing_penalty_m) p->set_crossing_penalty_m(*o.crossing_penalty_m);
  for (int64_t id : o.avoid_edge_ids) p->add_avoid_edge_ids(id);
  p->set_num_alternatives(o.num_alternatives);
}

static Maneuver FromProto(const v1::Maneuver& p) {
  Maneuver m;
  m.type = static_cast<ManeuverType>(p.type());
  m.at_m = p.at_m();
  m.distance_m = p.distance_m();
  m.turn_deg = p.turn_deg();
  m.onto_crossing = p.onto_crossing();
  m.heading_deg = p.heading_deg();
  m.text_zh = p.text_zh();
  m.text_en = p.text_en();
  m.prompt_zh = p.prompt_zh();
  m.prompt_en = p.prompt_en();
  return m;
}

static NavRoute FromProto(const v1::NavRoute& p) {
  NavRoute r;
  r.length_m = p.length_m();
  r.eta_s = p.eta_s();
  r.crossings = p.crossings();
  r.cost = p.cost();
  for (const auto& g : p.polyline_wgs84()) r.polyline_wgs84.push_back(GeoFromProto(g));
  for (const auto& v : p.polyline_map()) r.polyline_map.push_back(XyzFromProto(v));
  for (const auto& v : p.ar_polyline_map()) r.ar_polyline_map.push_back(XyzFromProto(v));
  for (const auto& m : p.maneuvers()) r.maneuvers.push_back(FromProto(m));
  r.edge_ids.assign(p.edge_ids().begin(), p.edge_ids().end());
  r.start_snap_distance_m = p.start_snap_distance_m();
  r.destination_snap_distance_m = p.destination_snap_distance_m();
  r.route_version = p.route_version();
  return r;
}

static absl::Status DestinationCheck(const std::string& poi_name, const std::optional<GeoPoint>& point, const char* what) {
  if (!poi_name.empty() && point) {
    return absl::InvalidArgumentError(std::string(what) + ": set poi_name or destination, not both");
  }
  if (poi_name.empty() && !point) {
    return absl::InvalidArgumentError(std::string(what) + ": no destination; set poi_name or destination");
  }
  return absl::OkStatus();
}

static absl::Status PoseToProto(const NavPose& pose, v1::NavPose* p, const char* what) {
  if (pose.position_map.has_value() == pose.position_wgs84.has_value()) {
    return absl::InvalidArgumentError(std::string(what) + ": set exactly one of position_map and position_wgs84");
  }
  if (pose.position_map) {
    p->mutable_position_map()->set_x((*pose.position_map)[0]);
    p->mutable_position_map()->set_y((*pose.position_map)[1]);
    p->mutable_position_map()->set_z((*pose.position_map)[2]);
  } else {
    GeoToProto(*pose.position_wgs84, p->mutable_position_wgs84());
  }
  if (pose.heading_deg) p->set_heading_deg(*pose.heading_deg);
  p->set_time_s(pose.time_s);
  return absl::OkStatus();
}

static GuideUpdate FromProto(const v1::GuideResponse& p) {
  GuideUpdate u;
  u.progress_m = p.progress_m();
  u.remaining_m = p.remaining_m();
  u.distance_to_route_m = p.distance_to_route_m();
  u.off_route = p.off_route();
  u.off_route_entered = p.off_route_entered();
  if (p.has_next()) u.next = FromProto(p.next());
  u.distance_to_next_m = p.distance_to_next_m();
  u.prompt_zh = p.prompt_zh();
  u.prompt_en = p.prompt_en();
  if (p.has_route()) u.route = FromProto(p.route());
  u.rerouted = p.rerouted();
  u.route_version = p.route_version();
  u.reroute_error = p.reroute_error();
  u.arrived = p.arrived();
  u.server_ms = p.server_ms();
  return u;
}

// One Navigation.Guide call (see BlockingBidiCall):
// every step has a deadline, one operation in flight at a time.
struct GuideState : BlockingBidiCall<v1::GuideRequest, v1::GuideResponse> {
  explicit GuideState(std::shared_ptr<const ClientState> c) : BlockingBidiCall(std::move(c), "Guide") {}

  absl::Status Start() { return BlockingBidiCall::Start(client->nav_stub->PrepareAsyncGuide(&context, &cq)); }

  absl::StatusOr<GuideUpdate> RoundTrip(const v1::GuideRequest& request) {
    if (!error.ok()) return error;
    if (writes_done) return absl::FailedPreconditionError("GuideSession::Update after Close");
    const int64_t timeout_ms = client->options.timeout_ms;
    const auto t0 = Clock::now();
    call->Write(request, Tag(kWrite));
    Wait w = WaitFor(kWrite, timeout_ms);
    if (w != Wait::kOk) return Fail(w, "sending a pose", timeout_ms);
    v1::GuideResponse response;
    call->Read(&response, Tag(kRead));
    w = WaitFor(kRead, timeout_ms);
    if (w != Wait::kOk) return Fail(w, "waiting for an update", timeout_ms);
    GuideUpdate u = FromProto(response);
    u.client_ms = MsSince(t0);
    return u;
  }

  absl::Status Close() {
    return BlockingBidiCall::Close([] {});
  }
};

}  // namespace internal

using internal::GuideState;

absl::StatusOr<RouteResult> Client::Route(const RouteRequest& request) const {
  if (absl::Status s = internal::DestinationCheck(request.poi_name, request.destination, "RouteRequest"); !s.ok()) {
    return s;
  }
  v1::RouteRequest proto;
  proto.set_map_id(request.map_id);
  proto.set_request_id(request.request_id);
  internal::GeoToProto(request.start, proto.mutable_start()->mutable_position());
  if (request.start_heading_deg) proto.mutable_start()->set_heading_deg(*request.start_heading_deg);
  if (request.destination) {
    internal::GeoToProto(*request.destination, proto.mutable_point());
  } else {
    proto.set_poi_name(request.poi_name);
  }
  internal::OptionsToProto(request.options, proto.mutable_options());
  grpc::ClientContext context;
  context.set_deadline(internal::DeadlineIn(state_->TimeoutMs(request.timeout_ms)));
  v1::RouteResponse response;
  const auto t0 = internal::Clock::now();
  const grpc::Status status = state_->nav_stub->Route(&context, proto, &response);
  const double client_ms = internal::MsSince(t0);
  if (!status.ok()) return internal::FromGrpcStatus(status, state_->Context("Route"));
  RouteResult result;
  result.map_id = response.map_id();
  result.request_id = response.request_id();
  for (const auto& r : response.routes()) result.routes.push_back(internal::FromProto(r));
  if (response.has_destination_poi()) {
    const v1::Poi& p = response.destination_poi();
    Poi poi;
    poi.id = p.id();
    poi.name = p.name();
    poi.name_en = p.name_en();
    poi.category = p.category();
    poi.confidence = p.confidence();
    poi.position = internal::GeoFromProto(p.position());
    poi.position_map = internal::XyzFromProto(p.position_map());
    result.destination_poi = poi;
  }
  result.walk_speed_mps = response.walk_speed_mps();
  result.server_ms = response.server_ms();
  result.client_ms = client_ms;
  return result;
}

absl::StatusOr<std::unique_ptr<GuideSession>> Client::OpenGuide(const GuideStart& start) const {
  if (absl::Status s = internal::DestinationCheck(start.poi_name, start.destination, "GuideStart"); !s.ok()) return s;
  v1::GuideRequest proto;
  proto.set_map_id(start.map_id);
  proto.set_request_id(start.request_id);
  if (start.destination) {
    internal::GeoToProto(*start.destination, proto.mutable_point());
  } else {
    proto.set_poi_name(start.poi_name);
  }
  internal::OptionsToProto(start.options, proto.mutable_options());
  if (absl::Status s = internal::PoseToProto(start.pose, proto.mutable_pose(), "GuideStart.pose"); !s.ok()) return s;
  auto state = std::make_unique<GuideState>(state_);
  if (absl::Status s = state->Start(); !s.ok()) return s;
  absl::StatusOr<GuideUpdate> first = state->RoundTrip(proto);
  if (!first.ok()) return first.status();
  std::unique_ptr<GuideSession> session(new GuideSession(std::move(state)));
  session->first_ = std::move(*first);
  return session;
}

GuideSession::GuideSession(std::unique_ptr<GuideState> state) : state_(std::move(state)) {}
GuideSession::~GuideSession() = default;

absl::StatusOr<GuideUpdate> GuideSession::Update(const NavPose& pose) {
  v1::GuideRequest proto;
  if (absl::Status s = internal::PoseToProto(pose, proto.mutable_pose(), "NavPose"); !s.ok()) return s;
  return state_->RoundTrip(proto);
}

absl::Status GuideSession::Close() { return state_->Close(); }

}  // namespace armap::sdk
