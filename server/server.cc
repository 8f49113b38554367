// gRPC callback-API front of localization/. Threading:
//   gRPC callback threads  accept calls, hand each Localize request (and each
//                          LocalizeStream message) to the worker pool, and
//                          answer the cheap RPCs (ListMaps, GetMapInfo) inline;
//   worker pool            decodes, extracts, localizes, then Finish()es the
//                          unary reactor or StartWrite()s the stream's answer.
// A full queue refuses the request with RESOURCE_EXHAUSTED; a request whose
// deadline passed (or that was cancelled) while queued is finished without
// running the localizer.
#include "server/server.h"

#include <algorithm>
#include <cmath>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "armap/v1/localization.grpc.pb.h"
#include "core/json.h"
#include "core/logging.h"
#include "core/status.h"
#include "server/convert.h"
#include "server/navigation_service.h"

namespace armap::server {
namespace {

using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Fixed threads over a bounded FIFO.
class WorkerPool {
 public:
  WorkerPool(int num_threads, int max_queued) : max_queued_(static_cast<size_t>(max_queued)) {
    threads_.reserve(static_cast<size_t>(num_threads));
    for (int i = 0; i < num_threads; ++i) threads_.emplace_back([this] { Run(); });
  }
  ~WorkerPool() { Stop(); }

  // False (the task is dropped) when max_queued tasks already wait or the
  // pool is stopping.
  bool TrySubmit(std::function<void()> task) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_ || queue_.size() >= max_queued_) return false;
      queue_.push_back(std::move(task));
    }
    cv_.notify_one();
    return true;
  }

  // Runs what is queued, then joins. Idempotent.
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

 private:
  void Run() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;
        task = std::move(queue_.front());
        queue_.pop_front();
      }
      task();
    }
  }

  const size_t max_queued_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

struct Counters {
  std::atomic<int64_t> requests_received{0};
  std::atomic<int64_t> requests_processed{0};
  std::atomic<int64_t> expired_before_work{0};
  std::atomic<int64_t> cancelled_before_work{0};
  std::atomic<int64_t> rejected_queue_full{0};
};

struct ServedMap {
  std::filesystem::path dir;
  std::unique_ptr<loc::Localizer> localizer;
  std::unique_ptr<NavMap> nav;  // the package's pedestrian network (may have none)
};

// Loaded maps by id, in the order of ServerOptions::map_dirs.
class MapRegistry {
 public:
  absl::Status Add(const std::filesystem::path& dir, std::unique_ptr<loc::Localizer> localizer,
                   std::unique_ptr<NavMap> nav) {
    const std::string id = localizer->info().map_id;
    for (const ServedMap& m : maps_) {
      if (m.localizer->info().map_id == id) {
        return absl::InvalidArgumentError(
            absl::StrCat("map id '", id, "' is served twice: ", m.dir.string(), " and ", dir.string()));
      }
    }
    maps_.push_back({dir, std::move(localizer), std::move(nav)});
    return absl::OkStatus();
  }

  // Empty selects the only map; otherwise InvalidArgument listing the ids.
  // An unknown id is NotFound naming it.
  absl::StatusOr<const loc::Localizer*> Find(const std::string& map_id, const char* field) const {
    if (map_id.empty()) {
      if (maps_.size() == 1) return maps_.front().localizer.get();
      return absl::InvalidArgumentError(absl::StrCat(field, " is empty and this server serves ", maps_.size(),
                                                     " maps (", absl::StrJoin(ids(), ", "), "): set it"));
    }
    for (const ServedMap& m : maps_) {
      if (m.localizer->info().map_id == map_id) return m.localizer.get();
    }
    return absl::NotFoundError(absl::StrCat("map '", map_id, "' is not served here (served: ",
                                            absl::StrJoin(ids(), ", "), ")"));
  }

  std::vector<std::string> ids() const {
    std::vector<std::string> out;
    for (const ServedMap& m : maps_) out.push_back(m.localizer->info().map_id);
    return out;
  }
  const std::vector<ServedMap>& maps() const { return maps_; }

 private:
  std::vector<ServedMap> maps_;
};

// Client-supplied strings are capped in the log.
std::string Capped(const std::string& s) { return s.size() <= 128 ? s : s.substr(0, 128) + "..."; }

// What one request's log line says.
struct RequestLog {
  const char* rpc = "";
  std::string request_id;
  std::string map_id;
  std::string peer;
  int64_t stream_seq = -1;  // LocalizeStream: the message's index
};

// One JSON line per request. `error` is the server-side detail (it may be
// more than the client was told).
void LogRequest(const RequestLog& r, const grpc::Status& status, const absl::Status& error,
                const v1::LocalizeResponse* response, double server_ms) {
  OrderedJson line;
  line["rpc"] = r.rpc;
  line["request_id"] = Capped(r.request_id);
  if (r.stream_seq >= 0) line["seq"] = r.stream_seq;
  line["map_id"] = Capped(r.map_id);
  line["peer"] = r.peer;
  line["code"] = StatusCodeName(status.error_code());
  if (!status.ok()) line["error"] = Capped(std::string(error.message()));
  if (response != nullptr) {
    line["success"] = status.ok() && response->success();
    line["inliers"] = response->num_inliers();
    if (status.ok() && !response->success()) {
      line["failure_reason"] = v1::FailureReason_Name(response->failure_reason());
    }
  }
  line["server_ms"] = std::round(server_ms * 100) / 100;
  if (response != nullptr && response->stages_size() > 0) {
    // The localizer's own stages: server_ms less this is the server's
    // overhead (queueing, proto conversion, thread hand-off).
    double stages_ms = 0;
    for (const v1::StageTiming& stage : response->stages()) stages_ms += stage.ms();
    line["stages_ms"] = std::round(stages_ms * 100) / 100;
  }
  ARMAP_LOG_INFO("{}", line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

// Shared by the service's handlers.
struct Backend {
  const MapRegistry* maps = nullptr;
  WorkerPool* pool = nullptr;
  Counters* counters = nullptr;

  // The worker-side body of one Localize (unary or stream message).
  // `session_prior` (stream only) is the previous successful pose, used when
  // the request carries no prior pose of its own.
  absl::Status Localize(grpc::CallbackServerContext* context, const v1::LocalizeRequest& request,
                        const std::optional<std::pair<std::string, Rigid3d>>& session_prior,
                        Clock::time_point received, v1::LocalizeResponse* response) const {
    if (context->deadline() <= std::chrono::system_clock::now()) {
      ++counters->expired_before_work;
      return absl::DeadlineExceededError("the deadline passed before a worker was free");
    }
    if (context->IsCancelled()) {
      ++counters->cancelled_before_work;
      return absl::CancelledError("the call was cancelled before a worker was free");
    }
    ARMAP_ASSIGN_OR_RETURN(const loc::Localizer* localizer, maps->Find(request.map_id(), "LocalizeRequest.map_id"));
    ARMAP_ASSIGN_OR_RETURN(loc::Query query, QueryFromProto(request));
    if (session_prior && !query.prior.has_cam_from_world && session_prior->first == localizer->info().map_id) {
      query.prior.has_cam_from_world = true;
      query.prior.cam_from_world = session_prior->second;
    }
    ++counters->requests_processed;
    ARMAP_ASSIGN_OR_RETURN(const loc::LocalizeResult result, localizer->Localize(query));
    LocalizeResultToProto(result, response);
    response->set_map_id(localizer->info().map_id);
    response->set_map_version(localizer->info().map_version);
    response->set_request_id(request.request_id());
    response->set_server_ms(MsSince(received));
    return absl::OkStatus();
  }
};

// LocalizeStream: one request at a time, in order. Read -> (worker)
// localize -> write -> read ... An invalid request (or any non-OK outcome)
// finishes the stream with its status; a client half-close finishes it OK.
class StreamReactor final : public grpc::ServerBidiReactor<v1::LocalizeRequest, v1::LocalizeResponse> {
 public:
  StreamReactor(const Backend* backend, grpc::CallbackServerContext* context)
      : backend_(backend), context_(context), peer_(context->peer()) {
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the client half-closed, or the call is broken / cancelled
      Finish(context_->IsCancelled() ? grpc::Status::CANCELLED : grpc::Status::OK);
      return;
    }
    received_ = Clock::now();
    ++backend_->counters->requests_received;
    if (!backend_->pool->TrySubmit([this] { Process(); })) {
      ++backend_->counters->rejected_queue_full;
      const grpc::Status status = QueueFullStatus();
      LogRequest(Log(), status, absl::ResourceExhaustedError("queue full"), nullptr, MsSince(received_));
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
  // On a worker; no other operation on this stream is outstanding meanwhile.
  void Process() {
    response_.Clear();
    const absl::Status status = backend_->Localize(context_, request_, session_prior_, received_, &response_);
    const grpc::Status grpc_status = ToGrpcStatus(status);
    LogRequest(Log(), grpc_status, status, &response_, MsSince(received_));
    if (!status.ok()) {
      Finish(grpc_status);
      return;
    }
    if (response_.success()) {
      auto cam_from_world = Rigid3FromProto(response_.cam_from_world(), "cam_from_world");
      if (cam_from_world.ok()) session_prior_ = std::make_pair(response_.map_id(), *cam_from_world);
    }
    StartWrite(&response_);
  }

  RequestLog Log() const {
    RequestLog r;
    r.rpc = "LocalizeStream";
    r.request_id = request_.request_id();
    r.map_id = response_.map_id().empty() ? request_.map_id() : response_.map_id();
    r.peer = peer_;
    r.stream_seq = seq_;
    return r;
  }

  const Backend* backend_;
  grpc::CallbackServerContext* context_;
  const std::string peer_;
  v1::LocalizeRequest request_;
  v1::LocalizeResponse response_;
  Clock::time_point received_;
  int64_t seq_ = 0;
  std::optional<std::pair<std::string, Rigid3d>> session_prior_;
};

class LocalizationService final : public v1::Localization::CallbackService {
 public:
  explicit LocalizationService(Backend backend) : backend_(backend) {}

  grpc::ServerUnaryReactor* Localize(grpc::CallbackServerContext* context, const v1::LocalizeRequest* request,
                                     v1::LocalizeResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    const Clock::time_point received = Clock::now();
    ++backend_.counters->requests_received;
    RequestLog log{"Localize", request->request_id(), request->map_id(), context->peer()};
    const Backend* backend = &backend_;
    const bool queued = backend_.pool->TrySubmit([backend, context, request, response, reactor, received, log]() mutable {
      const absl::Status status = backend->Localize(context, *request, std::nullopt, received, response);
      const grpc::Status grpc_status = ToGrpcStatus(status);
      if (!response->map_id().empty()) log.map_id = response->map_id();
      LogRequest(log, grpc_status, status, response, MsSince(received));
      reactor->Finish(grpc_status);
    });
    if (!queued) {
      ++backend_.counters->rejected_queue_full;
      const grpc::Status status = QueueFullStatus();
      LogRequest(log, status, absl::ResourceExhaustedError("queue full"), nullptr, MsSince(received));
      reactor->Finish(status);
    }
    return reactor;
  }

  grpc::ServerBidiReactor<v1::LocalizeRequest, v1::LocalizeResponse>* LocalizeStream(
      grpc::CallbackServerContext* context) override {
    return new StreamReactor(&backend_, context);
  }

  // Cheap: answered on the callback thread.
  grpc::ServerUnaryReactor* ListMaps(grpc::CallbackServerContext* context, const v1::ListMapsRequest* request,
                                     v1::ListMapsResponse* response) override {
    const Clock::time_point received = Clock::now();
    for (const ServedMap& m : backend_.maps->maps()) MapInfoToProto(m.localizer->info(), response->add_maps());
    LogRequest({"ListMaps", "", "", context->peer()}, grpc::Status::OK, absl::OkStatus(), nullptr, MsSince(received));
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerUnaryReactor* GetMapInfo(grpc::CallbackServerContext* context, const v1::GetMapInfoRequest* request,
                                       v1::MapInfo* response) override {
    const Clock::time_point received = Clock::now();
    auto localizer = backend_.maps->Find(request->map_id(), "GetMapInfoRequest.map_id");
    if (localizer.ok()) MapInfoToProto((*localizer)->info(), response);
    const grpc::Status status = ToGrpcStatus(localizer.status());
    LogRequest({"GetMapInfo", "", request->map_id(), context->peer()}, status, localizer.status(), nullptr,
               MsSince(received));
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(status);
    return reactor;
  }

 private:
  const Backend backend_;
};

std::string HostPort(const std::string& host, int port) {
  const bool ipv6 = host.find(':') != std::string::npos && host.front() != '[';
  return ipv6 ? absl::StrCat("[", host, "]:", port) : absl::StrCat(host, ":", port);
}

}  // namespace

absl::Status ServerOptions::Validate() const {
  if (map_dirs.empty()) return absl::InvalidArgumentError("ServerOptions::map_dirs is empty; give at least one map");
  if (host.empty()) return absl::InvalidArgumentError("ServerOptions::host is empty");
  if (port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("ServerOptions::port = ", port, "; must be in 0..65535"));
  }
  if (num_workers < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("ServerOptions::num_workers = ", num_workers, "; must be >= 0 (0 = one per core)"));
  }
  if (max_queued_requests <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("ServerOptions::max_queued_requests = ", max_queued_requests, "; must be > 0"));
  }
  if (max_receive_message_bytes <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("ServerOptions::max_receive_message_bytes = ", max_receive_message_bytes, "; must be > 0"));
  }
  if (max_send_message_bytes <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("ServerOptions::max_send_message_bytes = ", max_send_message_bytes, "; must be > 0"));
  }
  return localizer.Validate();
}

namespace {
// One JSON line with the counters since Start (at shutdown), beside the
// per-request lines.
void LogStats(const ServerStats& s) {
  OrderedJson line;
  line["event"] = "stats";
  line["localize"] = {{"received", s.requests_received},
                      {"processed", s.requests_processed},
                      {"expired_before_work", s.expired_before_work},
                      {"cancelled_before_work", s.cancelled_before_work},
                      {"rejected_queue_full", s.rejected_queue_full}};
  line["navigation"] = {{"routes_received", s.nav_routes_received},     {"routes_ok", s.nav_routes_ok},
                        {"route_errors", s.nav_route_errors},           {"guide_sessions", s.nav_guide_sessions},
                        {"guide_messages", s.nav_guide_messages},       {"guide_errors", s.nav_guide_errors},
                        {"guide_reroutes", s.nav_guide_reroutes},       {"rejected_queue_full", s.nav_rejected_queue_full}};
  ARMAP_LOG_INFO("{}", line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}
}  // namespace

struct Server::Impl {
  // Destroyed bottom-up: the gRPC server before the service it calls, the
  // service before the pool and maps it uses.
  MapRegistry maps;
  Counters counters;
  NavCounters nav_counters;
  std::unique_ptr<WorkerPool> pool;
  std::unique_ptr<LocalizationService> service;
  std::unique_ptr<NavigationService> navigation;
  std::unique_ptr<grpc::Server> grpc_server;
  int port = 0;
  ServerOptions options;
  int num_workers = 0;

  std::mutex shutdown_mutex;
  std::condition_variable shutdown_cv;
  bool shutdown_started = false;
  bool shutdown_done = false;
};

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const ServerOptions& options) {
  ARMAP_RETURN_IF_ERROR(options.Validate());
  auto impl = std::make_unique<Impl>();
  for (const std::filesystem::path& dir : options.map_dirs) {
    auto localizer = loc::Localizer::Load(dir, options.localizer);
    if (!localizer.ok()) return Annotate(localizer.status(), absl::StrCat("map ", dir.string()));
    auto nav = LoadNavMap(dir, (*localizer)->info().map_id);
    if (!nav.ok()) return Annotate(nav.status(), absl::StrCat("map ", dir.string()));
    ARMAP_RETURN_IF_ERROR(impl->maps.Add(dir, std::move(*localizer), std::move(*nav)));
  }
  const int num_workers = options.num_workers > 0
                              ? options.num_workers
                              : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  impl->pool = std::make_unique<WorkerPool>(num_workers, options.max_queued_requests);
  impl->service = std::make_unique<LocalizationService>(Backend{&impl->maps, impl->pool.get(), &impl->counters});
  std::vector<const NavMap*> nav_maps;
  for (const ServedMap& m : impl->maps.maps()) nav_maps.push_back(m.nav.get());
  WorkerPool* pool = impl->pool.get();
  impl->navigation = std::make_unique<NavigationService>(
      std::move(nav_maps), [pool](std::function<void()> task) { return pool->TrySubmit(std::move(task)); },
      &impl->nav_counters);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  const std::string address = HostPort(options.host, options.port);
  int selected_port = 0;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &selected_port);
  builder.RegisterService(impl->service.get());
  builder.RegisterService(impl->navigation.get());
  builder.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  builder.SetMaxSendMessageSize(options.max_send_message_bytes);
  impl->grpc_server = builder.BuildAndStart();
  if (impl->grpc_server == nullptr || selected_port == 0) {
    if (impl->grpc_server != nullptr) impl->grpc_server->Shutdown();
    impl->pool->Stop();
    return absl::UnavailableError(absl::StrCat("cannot listen on ", address));
  }
  impl->port = selected_port;
  impl->options = options;
  impl->num_workers = num_workers;
  if (grpc::HealthCheckServiceInterface* health = impl->grpc_server->GetHealthCheckService()) {
    health->SetServingStatus(v1::Localization::service_full_name(), true);
    health->SetServingStatus(v1::Navigation::service_full_name(), true);
  }
  ARMAP_LOG_INFO("serving {} map(s) [{}] on {} with {} worker(s)", impl->maps.maps().size(),
                 absl::StrJoin(impl->maps.ids(), ", "), HostPort(options.host, impl->port), num_workers);
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() {
  Shutdown(std::chrono::milliseconds(500));
}

int Server::port() const { return impl_->port; }

std::vector<std::string> Server::map_ids() const { return impl_->maps.ids(); }

ServerStats Server::stats() const {
  ServerStats s;
  s.requests_received = impl_->counters.requests_received;
  s.requests_processed = impl_->counters.requests_processed;
  s.expired_before_work = impl_->counters.expired_before_work;
  s.cancelled_before_work = impl_->counters.cancelled_before_work;
  s.rejected_queue_full = impl_->counters.rejected_queue_full;
  const NavCounters& n = impl_->nav_counters;
  s.nav_routes_received = n.routes_received;
  s.nav_routes_ok = n.routes_ok;
  s.nav_route_errors = n.route_errors;
  s.nav_guide_sessions = n.guide_sessions;
  s.nav_guide_messages = n.guide_messages;
  s.nav_guide_errors = n.guide_errors;
  s.nav_guide_reroutes = n.guide_reroutes;
  s.nav_rejected_queue_full = n.rejected_queue_full;
  return s;
}

const ServerOptions& Server::options() const { return impl_->options; }

int Server::num_workers() const { return impl_->num_workers; }

std::shared_ptr<grpc::Channel> Server::InProcessChannel() const {
  grpc::ChannelArguments args;
  // The client sends what the server receives and vice versa.
  args.SetMaxSendMessageSize(impl_->options.max_receive_message_bytes);
  args.SetMaxReceiveMessageSize(impl_->options.max_send_message_bytes);
  return impl_->grpc_server->InProcessChannel(args);
}

void Server::Shutdown(std::chrono::milliseconds grace) {
  {
    std::unique_lock<std::mutex> lock(impl_->shutdown_mutex);
    if (impl_->shutdown_started) {
      impl_->shutdown_cv.wait(lock, [this] { return impl_->shutdown_done; });
      return;
    }
    impl_->shutdown_started = true;
  }
  // Returns once every call is done: queued work keeps running on the pool
  // (finishing as CANCELLED once gRPC cancels the stragglers).
  impl_->grpc_server->Shutdown(std::chrono::system_clock::now() + grace);
  impl_->pool->Stop();
  LogStats(stats());
  {
    std::lock_guard<std::mutex> lock(impl_->shutdown_mutex);
    impl_->shutdown_done = true;
  }
  impl_->shutdown_cv.notify_all();
}

void Server::Wait() {
  std::unique_lock<std::mutex> lock(impl_->shutdown_mutex);
  impl_->shutdown_cv.wait(lock, [this] { return impl_->shutdown_done; });
}

}  // namespace armap::server
