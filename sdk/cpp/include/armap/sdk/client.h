// armap::sdk::Client: the native client of the visual positioning service
// (armap.v1.Localization over gRPC). The header carries no gRPC or protobuf
// types (PIMPL), so applications compile against plain C++ only.
//
//   auto client = armap::sdk::Client::Connect("127.0.0.1:50051");
//   if (!client.ok()) return client.status();
//   armap::sdk::LocalizeRequest request;
//   request.camera = {"PINHOLE", 1280, 960, {1000, 1000, 639.5, 479.5}};
//   request.image = jpeg_bytes;
//   absl::StatusOr<armap::sdk::LocalizeResult> result = (*client)->Localize(request);
//
// Errors are absl::Status with the gRPC call's code unchanged (the codes are
// the same numbers): UNAVAILABLE when the server cannot be reached,
// DEADLINE_EXCEEDED when the call outlives its timeout, NOT_FOUND for an
// unknown map id, INVALID_ARGUMENT for a malformed request (some refused
// before sending, see ValidateLocalizeRequest), RESOURCE_EXHAUSTED when the
// server is saturated. A valid query that cannot be localized is not an
// error: OK with LocalizeResult::success == false.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "armap/sdk/navigation.h"
#include "armap/sdk/types.h"

namespace armap::sdk {

struct ClientOptions {
  // Deadline of each unary call (and of each stream message round trip)
  // unless the request sets its own. Must be > 0.
  int64_t timeout_ms = 10000;
  // Largest message sent or received, bytes. Requests above it are refused
  // client-side with INVALID_ARGUMENT. The server's default receive limit
  // is 16 MiB.
  int32_t max_message_bytes = 16 * 1024 * 1024;
  // When > 0, Connect() waits this long for the channel to become ready and
  // fails with UNAVAILABLE otherwise. 0 connects lazily, on the first call.
  int64_t connect_timeout_ms = 0;

  // InvalidArgument naming the field, e.g.
  // "ClientOptions::timeout_ms = 0; must be > 0".
  [[nodiscard]] absl::Status Validate() const;
};

namespace internal {
struct ClientState;
struct StreamState;
struct GuideState;
}  // namespace internal

// A continuous AR session over one LocalizeStream call: the server uses each
// response's pose as the next request's prior unless the request carries
// one. Responses come back in request order.
//
// Not thread-safe: use a session from one thread at a time (Send and
// Receive may be interleaved freely, e.g. several Sends, then Receives). A
// session may outlive the Client that opened it. Any transport error ends
// the session; later calls return that error.
class LocalizeSession {
 public:
  ~LocalizeSession();  // cancels the call if Close() was not called
  LocalizeSession(const LocalizeSession&) = delete;
  LocalizeSession& operator=(const LocalizeSession&) = delete;

  // Queues one request (validated as in Client::Localize). Blocks only
  // while gRPC flow control holds the message, at most the request's timeout.
  [[nodiscard]] absl::Status Send(const LocalizeRequest& request);
  // Blocks for the response to the oldest unanswered Send, at most
  // timeout_ms (0 = ClientOptions::timeout_ms); client_ms is measured from
  // that Send. FAILED_PRECONDITION when nothing is outstanding.
  [[nodiscard]] absl::StatusOr<LocalizeResult> Receive(int64_t timeout_ms = 0);
  // Send + Receive with the request's timeout.
  [[nodiscard]] absl::StatusOr<LocalizeResult> Localize(const LocalizeRequest& request);
  // Half-closes the stream and returns the call's final status (OK when the
  // server ended the session normally). Unread responses are discarded.
  // Idempotent.
  [[nodiscard]] absl::Status Close();

 private:
  friend class Client;
  explicit LocalizeSession(std::unique_ptr<internal::StreamState> state);
  std::unique_ptr<internal::StreamState> state_;
};

// A turn-by-turn guidance session over one Navigation.Guide call: poses in,
// one GuideUpdate per pose out. Same threading and error rules as
// LocalizeSession; each Update has ClientOptions::timeout_ms.
class GuideSession {
 public:
  ~GuideSession();  // cancels the call if Close() was not called
  GuideSession(const GuideSession&) = delete;
  GuideSession& operator=(const GuideSession&) = delete;

  // The update for the session's first message (it holds the route).
  const GuideUpdate& first() const { return first_; }
  // Sends one pose and waits for its update. INVALID_ARGUMENT client-side
  // when the pose has neither or both positions.
  [[nodiscard]] absl::StatusOr<GuideUpdate> Update(const NavPose& pose);
  // Half-closes and returns the call's final status. Idempotent.
  [[nodiscard]] absl::Status Close();

 private:
  friend class Client;
  explicit GuideSession(std::unique_ptr<internal::GuideState> state);
  std::unique_ptr<internal::GuideState> state_;
  GuideUpdate first_;
};

// Thread-safe: one Client may serve many threads (calls are independent).
class Client {
 public:
  // Creates a channel to "host:port" (gRPC target syntax). Without
  // connect_timeout_ms this does not touch the network.
  // Errors: InvalidArgument for bad options or an empty target; Unavailable
  // when connect_timeout_ms > 0 and the server is not ready in time.
  [[nodiscard]] static absl::StatusOr<std::unique_ptr<Client>> Connect(const std::string& target,
                                                                       const ClientOptions& options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Blocks until the channel is connected; Unavailable after timeout_ms.
  [[nodiscard]] absl::Status WaitForReady(int64_t timeout_ms) const;

  [[nodiscard]] absl::StatusOr<LocalizeResult> Localize(const LocalizeRequest& request) const;
  [[nodiscard]] absl::StatusOr<std::vector<MapInfo>> ListMaps() const;
  // NotFound for an unknown map id.
  [[nodiscard]] absl::StatusOr<MapInfo> GetMapInfo(const std::string& map_id) const;

  // Opens a LocalizeStream call. The session has no overall deadline; each
  // round trip has its own (see LocalizeSession).
  [[nodiscard]] absl::StatusOr<std::unique_ptr<LocalizeSession>> OpenStream() const;

  // Navigation.Route. NOT_FOUND for an unknown map or POI (the message lists
  // close names), INVALID_ARGUMENT naming the field for a bad request or a
  // start/destination more than 50 m from the network, FAILED_PRECONDITION
  // for a map without a pedestrian network.
  [[nodiscard]] absl::StatusOr<RouteResult> Route(const RouteRequest& request) const;
  // Opens a Navigation.Guide call and sends `start`; the session's first()
  // holds the server's answer to it (with the route). The same errors as
  // Route for the start message.
  [[nodiscard]] absl::StatusOr<std::unique_ptr<GuideSession>> OpenGuide(const GuideStart& start) const;

  const std::string& target() const;
  const ClientOptions& options() const;

 private:
  explicit Client(std::shared_ptr<internal::ClientState> state);
  std::shared_ptr<internal::ClientState> state_;
};

}  // namespace armap::sdk
