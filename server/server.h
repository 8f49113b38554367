// `armap serve`: the gRPC front of localization/ (callback API). The only
// module that includes grpcpp; this header does not, so tools/ and tests can
// start a server without seeing gRPC types.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "localization/localizer.h"

namespace grpc {
class Channel;  // only named here: this header includes no gRPC header
}  // namespace grpc

namespace armap::server {

struct ServerOptions {
  // Map packages to serve; each is loaded once and shared by all requests.
  std::vector<std::filesystem::path> map_dirs;
  // Listening address; port 0 picks a free port (see Server::port()).
  std::string host = "0.0.0.0";
  int port = 50051;
  // Threads doing the heavy work (decode, features, pose); 0 = one per core.
  int num_workers = 0;
  // Requests waiting for a worker beyond this are refused with
  // RESOURCE_EXHAUSTED rather than queued without bound.
  int max_queued_requests = 64;
  // gRPC receive / send limits. A 1280x960 JPEG is ~0.3 MB; 2000 features
  // ~0.3 MB.
  int max_receive_message_bytes = 16 * 1024 * 1024;
  int max_send_message_bytes = 4 * 1024 * 1024;
  loc::Localizer::Options localizer;

  [[nodiscard]] absl::Status Validate() const;
};

// Counters since Start(), for tests and monitoring. A "request" is one
// Localize call or one LocalizeStream message.
struct ServerStats {
  int64_t requests_received = 0;
  int64_t requests_processed = 0;     // a worker ran the localizer on it
  int64_t expired_before_work = 0;    // deadline passed while queued: DEADLINE_EXCEEDED
  int64_t cancelled_before_work = 0;  // cancelled while queued: CANCELLED
  int64_t rejected_queue_full = 0;    // RESOURCE_EXHAUSTED
  // Navigation: Route calls, Guide streams and their pose messages.
  int64_t nav_routes_received = 0;
  int64_t nav_routes_ok = 0;
  int64_t nav_route_errors = 0;        // any non-OK status, queue full included
  int64_t nav_guide_sessions = 0;
  int64_t nav_guide_messages = 0;
  int64_t nav_guide_errors = 0;        // streams ended by an error
  int64_t nav_guide_reroutes = 0;
  int64_t nav_rejected_queue_full = 0;
};

class Server {
 public:
  // Loads every map, binds, and starts serving (returns once listening).
  // Errors: InvalidArgument for bad options, the map loader's error naming
  // the package, Unavailable when the address cannot be bound.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Server>> Start(const ServerOptions& options);
  ~Server();  // Shutdown() with a short grace period

  // The bound port (the chosen one when options.port was 0).
  int port() const;
  // The served maps' ids, in the order of options.map_dirs.
  std::vector<std::string> map_ids() const;
  ServerStats stats() const;
  // The options given to Start(), and the worker count it resolved.
  const ServerOptions& options() const;
  int num_workers() const;
  // A channel to this server that stays in the process (no socket), with
  // the server's message limits: the HTTP gateway's way in, so that its
  // calls take the same validation, queue and log as gRPC clients'.
  std::shared_ptr<grpc::Channel> InProcessChannel() const;
  // Stops accepting calls, lets running ones finish until the deadline,
  // then cancels the rest. Idempotent; thread-safe.
  void Shutdown(std::chrono::milliseconds grace = std::chrono::milliseconds(2000));
  // Blocks until Shutdown() has completed.
  void Wait();

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace armap::server
