// HTTP/JSON front of a running Server, for web clients that cannot speak
// gRPC. Every API call is forwarded through the server's in-process channel
// to the same gRPC services (validation, worker pool, queue bound,
// deadlines, request log), converted with protobuf's canonical proto3 JSON
// mapping. Like server.h, this header shows neither gRPC nor httplib types.
//
// Routes:
//   POST /v1/localize                    LocalizeRequest -> LocalizeResponse
//   GET  /v1/maps                        ListMapsResponse
//   GET  /v1/maps/{map_id}               MapInfo
//   POST /v1/route                       RouteRequest -> RouteResponse
//   GET  /v1/maps/{map_id}/files/{path}  a whitelisted package file
//   GET  /healthz                        {"status":"SERVING"}
//   GET  /...                            static files under web_root
// Errors are {"code": <gRPC code>, "status": "<CODE_NAME>", "message": ...}
// with the HTTP status grpc-gateway uses for that code.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/server.h"

namespace armap::server {

struct HttpOptions {
  // Listening address; empty takes the gRPC server's host. Port 0 picks a
  // free port (see HttpGateway::port()).
  std::string host;
  int port = 0;
  // Sent as Access-Control-Allow-Origin on every response.
  std::string cors_origin = "*";
  // Static files served at "/" ("/" -> index.html); empty serves none.
  std::filesystem::path web_root;
  // HTTP threads; each blocks on one forwarded call. 0 = 2 x the server's
  // workers, at least 8.
  int num_threads = 0;
  // Accepted connections that may wait for a thread; more are answered at
  // once with 503 UNAVAILABLE and Retry-After: 1, so that a burst of
  // connections cannot grow the gateway's memory without bound.
  int max_queued_connections = 64;
  // Deadline of a call without an X-Armap-Timeout-Ms header, and the cap on
  // the header's value.
  int default_timeout_ms = 30000;
  int max_timeout_ms = 60000;

  [[nodiscard]] absl::Status Validate() const;
};

// The source tree's server/web folder when it exists (the demo page), else
// empty: the default of `armap serve --web-root`.
std::filesystem::path DefaultWebRoot();

// ceil(max_receive_message_bytes * 4/3) + 64 KiB: the largest accepted
// request body (an image at the gRPC limit, base64-inflated, plus the rest
// of the JSON).
size_t MaxHttpBodyBytes(int max_receive_message_bytes);

class HttpGateway {
 public:
  // Binds and starts serving (returns once listening). `server` must
  // outlive the gateway, and the gateway must be shut down before the
  // server is: gRPC 1.51 crashes on a call on an in-process channel whose
  // server has shut down. Errors: InvalidArgument for bad options (naming the field),
  // Unavailable when the address cannot be bound.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<HttpGateway>> Start(Server* server,
                                                                          const HttpOptions& options);
  ~HttpGateway();  // Shutdown()

  // The bound address; port() is the chosen one when options.port was 0.
  const std::string& host() const;
  int port() const;
  // "http://HOST:PORT" (IPv6 hosts in brackets).
  std::string url() const;
  // Stops accepting connections, lets calls in flight finish for `grace`,
  // then cancels the rest (they answer 499) and joins the HTTP threads.
  // Idempotent; thread-safe.
  void Shutdown(std::chrono::milliseconds grace = std::chrono::milliseconds(2000));

 private:
  struct Impl;
  explicit HttpGateway(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace armap::server
