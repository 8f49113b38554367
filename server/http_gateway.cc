// HTTP/JSON gateway over cpp-httplib. Threading: httplib's pool (a few
// threads) parses requests and, for API calls, blocks in a synchronous stub
// call on the Server's in-process channel; the gRPC services then do the
// work exactly as for a remote gRPC client. Nothing here localizes or
// routes.
#include "server/http_gateway.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <functional>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include <google/protobuf/util/json_util.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "armap/v1/localization.grpc.pb.h"
#include "armap/v1/navigation.grpc.pb.h"
#include "core/json.h"
#include "core/logging.h"
#include "core/status.h"
#include "server/convert.h"

// Last: it pulls in <resolv.h>, whose `_res` macro breaks Eigen's headers.
#include <httplib.h>

namespace armap::server {
namespace {

namespace fs = std::filesystem;

constexpr char kJson[] = "application/json";
constexpr char kTimeoutHeader[] = "X-Armap-Timeout-Ms";

// Package files a web client may download, with their Content-Type. A
// whitelist rather than the package folder: the rest (landmarks, index,
// config) is the server's business, and no path from the URL ever reaches
// the file system unchecked.
const std::map<std::string, std::string>& PackageFiles() {
  static const std::map<std::string, std::string> files = {
      {"overview.png", "image/png"},
      {"overview.json", kJson},
      {"manifest.json", kJson},
      {"whitemodel/full.glb", "model/gltf-binary"},
      {"whitemodel/simplified.glb", "model/gltf-binary"},
      {"whitemodel/full.geojson", "application/geo+json"},
      {"whitemodel/simplified.geojson", "application/geo+json"},
      {"whitemodel/full.city.json", kJson},
      {"whitemodel/simplified.city.json", kJson},
      {"roads/network.geojson", "application/geo+json"},
      {"roads/coverage.geojson", "application/geo+json"},
      {"pois/pois.geojson", "application/geo+json"},
  };
  return files;
}

// grpc-gateway's mapping (runtime/errors.go HTTPStatusFromCode).
int HttpStatusFromGrpc(grpc::StatusCode code) {
  switch (code) {
    case grpc::OK: return 200;
    case grpc::CANCELLED: return 499;
    case grpc::UNKNOWN: return 500;
    case grpc::INVALID_ARGUMENT: return 400;
    case grpc::DEADLINE_EXCEEDED: return 504;
    case grpc::NOT_FOUND: return 404;
    case grpc::ALREADY_EXISTS: return 409;
    case grpc::PERMISSION_DENIED: return 403;
    case grpc::RESOURCE_EXHAUSTED: return 429;
    case grpc::FAILED_PRECONDITION: return 400;
    case grpc::ABORTED: return 409;
    case grpc::OUT_OF_RANGE: return 400;
    case grpc::UNIMPLEMENTED: return 501;
    case grpc::INTERNAL: return 500;
    case grpc::UNAVAILABLE: return 503;
    case grpc::DATA_LOSS: return 500;
    case grpc::UNAUTHENTICATED: return 401;
    default: return 500;
  }
}

// The error body; `http_status` < 0 takes the code's mapping.
void SetError(httplib::Response& res, grpc::StatusCode code, const std::string& message, int http_status = -1) {
  OrderedJson body;
  body["code"] = static_cast<int>(code);
  body["status"] = StatusCodeName(code);
  body["message"] = message;
  res.status = http_status >= 0 ? http_status : HttpStatusFromGrpc(code);
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), kJson);
}

std::string HostPort(const std::string& host, int port) {
  const bool ipv6 = host.find(':') != std::string::npos && host.front() != '[';
  return ipv6 ? absl::StrCat("[", host, "]:", port) : absl::StrCat(host, ":", port);
}

// Short names for error messages ("LocalizeRequest").
template <typename Message>
std::string MessageName() {
  return Message::descriptor()->name();
}

// httplib's own pool queues accepted connections without limit: a burst of
// connections would grow memory and latency without bound. This one holds
// at most `max_queued` connections waiting for a thread. Past that, a
// connection goes to a queue (of the same bound) of one refusing thread,
// which answers its first request at once with 503 and Retry-After (the
// pre-routing handler, before any body is read) and "Connection: close".
// Only when that queue is full too does the accepting thread refuse
// inline, which slows the accept loop and pushes the rest back into the
// kernel's listen backlog. A refusal holds its thread for as long as the
// client takes to send its request line and headers (httplib's read
// timeout, 5 s, at most per read) and, after the 503, until the client
// closes (the 1 s keep-alive timeout at most per request).
thread_local bool tls_refuse_connection = false;

class BoundedThreadPool final : public httplib::TaskQueue {
 public:
  BoundedThreadPool(size_t num_threads, size_t max_queued) : max_queued_(max_queued) {
    for (size_t i = 0; i < num_threads; ++i) threads_.emplace_back([this] { Work(&queue_, false); });
    threads_.emplace_back([this] { Work(&refusals_, true); });
  }
  ~BoundedThreadPool() override { shutdown(); }

  void enqueue(std::function<void()> fn) override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!stopping_) {
        std::deque<std::function<void()>>* queue =
            queue_.size() < max_queued_ ? &queue_ : refusals_.size() < max_queued_ ? &refusals_ : nullptr;
        if (queue == &refusals_) ++refused_;
        if (queue != nullptr) {
          queue->push_back(std::move(fn));
          cv_.notify_all();
          return;
        }
      }
      ++refused_;
    }
    tls_refuse_connection = true;
    fn();
    tls_refuse_connection = false;
  }

  void shutdown() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_ && threads_.empty()) return;
      stopping_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : threads_) t.join();
    threads_.clear();
    if (refused_ > 0) {
      ARMAP_LOG_WARN("http: refused {} connections (more than {} waiting for a thread)", refused_, max_queued_);
    }
  }

 private:
  void Work(std::deque<std::function<void()>>* queue, bool refuse) {
    tls_refuse_connection = refuse;
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        cv_.wait(lock, [&] { return stopping_ || !queue->empty(); });
        // Queued connections are still served after shutdown() begins,
        // as httplib's pool does: they were accepted.
        if (queue->empty()) return;
        fn = std::move(queue->front());
        queue->pop_front();
      }
      fn();
    }
  }

  const size_t max_queued_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;     // served by the first num_threads threads
  std::deque<std::function<void()>> refusals_;  // answered 503 by the last thread
  std::vector<std::thread> threads_;
  bool stopping_ = false;
  size_t refused_ = 0;  // guarded by mutex_ until shutdown() has joined
};

}  // namespace

absl::Status HttpOptions::Validate() const {
  if (port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("HttpOptions::port = ", port, "; must be in 0..65535"));
  }
  if (cors_origin.empty() || cors_origin.find_first_of("\r\n") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("HttpOptions::cors_origin = '", cors_origin,
                     "'; must be '*' or an origin such as https://example.org"));
  }
  if (!web_root.empty() && !fs::is_directory(web_root)) {
    return absl::InvalidArgumentError(
        absl::StrCat("HttpOptions::web_root = '", web_root.string(), "' is not a directory"));
  }
  if (num_threads < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("HttpOptions::num_threads = ", num_threads, "; must be >= 0 (0 = 2 x workers, at least 8)"));
  }
  if (max_queued_connections < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("HttpOptions::max_queued_connections = ", max_queued_connections, "; must be >= 1"));
  }
  if (max_timeout_ms <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("HttpOptions::max_timeout_ms = ", max_timeout_ms, "; must be > 0"));
  }
  if (default_timeout_ms <= 0 || default_timeout_ms > max_timeout_ms) {
    return absl::InvalidArgumentError(absl::StrCat("HttpOptions::default_timeout_ms = ", default_timeout_ms,
                                                   "; must be in 1..max_timeout_ms (", max_timeout_ms, ")"));
  }
  return absl::OkStatus();
}

fs::path DefaultWebRoot() {
#ifdef ARMAP_SOURCE_WEB_ROOT
  const fs::path dir(ARMAP_SOURCE_WEB_ROOT);
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return dir;
#endif
  return {};
}

size_t MaxHttpBodyBytes(int max_receive_message_bytes) {
  const size_t bytes = static_cast<size_t>(std::max(0, max_receive_message_bytes));
  return (bytes * 4 + 2) / 3 + 64 * 1024;
}

struct HttpGateway::Impl {
  HttpOptions options;
  std::string host;
  int port = 0;
  size_t max_body_bytes = 0;
  int max_message_bytes = 0;
  // map id -> package folder, for the files route.
  std::map<std::string, fs::path> map_dirs;

  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::Localization::Stub> localization;
  std::unique_ptr<v1::Navigation::Stub> navigation;

  httplib::Server http;
  std::thread listen_thread;

  // Calls in flight, so that Shutdown() can cancel the ones that outlast
  // the grace period.
  std::mutex mutex;
  std::condition_variable idle_cv;
  std::set<grpc::ClientContext*> in_flight;
  bool stopping = false;
  bool stopped = false;

  void Register();

  // The call's deadline from X-Armap-Timeout-Ms (capped), or an error
  // naming the header.
  absl::StatusOr<std::chrono::milliseconds> Timeout(const httplib::Request& req) const {
    if (!req.has_header(kTimeoutHeader)) return std::chrono::milliseconds(options.default_timeout_ms);
    const std::string value = req.get_header_value(kTimeoutHeader);
    int64_t ms = 0;
    const bool digits = !value.empty() && value.find_first_not_of("0123456789") == std::string::npos;
    if (digits && !absl::SimpleAtoi(value, &ms)) ms = options.max_timeout_ms;  // too many digits: capped too
    if (!digits || ms <= 0) {
      return absl::InvalidArgumentError(absl::StrCat(kTimeoutHeader, " = '", value.substr(0, 32),
                                                     "'; must be a positive integer (milliseconds)"));
    }
    return std::chrono::milliseconds(std::min<int64_t>(ms, options.max_timeout_ms));
  }

  // Runs one forwarded call with a registered (cancellable) context.
  template <typename Call>
  grpc::Status Forward(std::chrono::milliseconds timeout, Call&& call) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + timeout);
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (stopping) return grpc::Status(grpc::UNAVAILABLE, "the server is shutting down");
      in_flight.insert(&context);
    }
    grpc::Status status = call(&context);
    {
      std::lock_guard<std::mutex> lock(mutex);
      in_flight.erase(&context);
    }
    idle_cv.notify_all();
    return status;
  }

  template <typename Response>
  void Reply(const grpc::Status& status, const Response& response, httplib::Response& res) const {
    if (!status.ok()) {
      SetError(res, status.error_code(), status.error_message());
      return;
    }
    google::protobuf::util::JsonPrintOptions print;
    // Zeros and false are printed too (success: false, numInliers: 0), so
    // web clients need no proto3 default logic; still the canonical mapping.
    print.always_print_primitive_fields = true;
    std::string json;
    const auto printed = google::protobuf::util::MessageToJsonString(response, &json, print);
    if (!printed.ok()) {
      ARMAP_LOG_ERROR("http: cannot print {} as JSON: {}", MessageName<Response>(), std::string(printed.message()));
      SetError(res, grpc::INTERNAL, "internal error");
      return;
    }
    res.status = 200;
    res.set_content(json, kJson);
  }

  // A JSON body -> Request -> `call` -> Response JSON.
  template <typename Request, typename Response, typename Method>
  void Unary(const httplib::Request& req, httplib::Response& res, Method method) {
    const auto timeout = Timeout(req);
    if (!timeout.ok()) return SetError(res, grpc::INVALID_ARGUMENT, std::string(timeout.status().message()));
    Request request;
    google::protobuf::util::JsonParseOptions parse;
    parse.ignore_unknown_fields = false;  // a misspelt field is an error, not a silent default
    const auto parsed = google::protobuf::util::JsonStringToMessage(req.body, &request, parse);
    if (!parsed.ok()) {
      return SetError(res, grpc::INVALID_ARGUMENT,
                      absl::StrCat("invalid JSON for ", MessageName<Request>(), ": ", std::string(parsed.message())));
    }
    // The decoded message against the gRPC limit: a body under the HTTP
    // limit can still decode to more (the 64 KiB margin).
    const size_t bytes = request.ByteSizeLong();
    if (bytes > static_cast<size_t>(max_message_bytes)) {
      return SetError(res, grpc::RESOURCE_EXHAUSTED,
                      absl::StrCat(MessageName<Request>(), " is ", bytes, " bytes; the limit is ", max_message_bytes),
                      413);
    }
    Response response;
    const grpc::Status status =
        Forward(*timeout, [&](grpc::ClientContext* context) { return method(context, request, &response); });
    Reply(status, response, res);
  }

  void Healthz(const httplib::Request& req, httplib::Response& res) {
    // grpc.health.v1.Health/Check for "" on the same channel:
    // HealthCheckResponse{status = 1 (SERVING)} is the bytes 08 01.
    grpc::GenericStub stub(channel);
    grpc::ByteBuffer response;
    const grpc::Status status = Forward(std::chrono::seconds(5), [&](grpc::ClientContext* context) {
      grpc::Slice empty(std::string{});  // HealthCheckRequest{}: zero bytes, but a valid buffer
      grpc::ByteBuffer request(&empty, 1);
      std::mutex done_mutex;
      std::condition_variable done_cv;
      bool done = false;
      grpc::Status result;
      stub.UnaryCall(context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                     [&](grpc::Status s) {
                       std::lock_guard<std::mutex> lock(done_mutex);
                       result = std::move(s);
                       done = true;
                       done_cv.notify_all();
                     });
      std::unique_lock<std::mutex> lock(done_mutex);
      done_cv.wait(lock, [&] { return done; });
      return result;
    });
    std::string bytes;
    std::vector<grpc::Slice> slices;
    if (status.ok() && response.Dump(&slices).ok()) {
      for (const grpc::Slice& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
    const bool serving = status.ok() && bytes == std::string("\x08\x01", 2);
    res.status = serving ? 200 : 503;
    res.set_content(serving ? R"({"status":"SERVING"})" : R"({"status":"NOT_SERVING"})", kJson);
  }

  void File(const httplib::Request& req, httplib::Response& res) const {
    const std::string map_id = req.matches[1];
    const std::string path = req.matches[2];
    const auto dir = map_dirs.find(map_id);
    if (dir == map_dirs.end()) {
      std::vector<std::string> ids;
      for (const auto& [id, unused] : map_dirs) ids.push_back(id);
      return SetError(res, grpc::NOT_FOUND,
                      absl::StrCat("map '", map_id.substr(0, 128), "' is not served here (served: ",
                                   absl::StrJoin(ids, ", "), ")"));
    }
    const auto file = PackageFiles().find(path);
    if (file == PackageFiles().end()) {
      std::vector<std::string> names;
      for (const auto& [name, unused] : PackageFiles()) names.push_back(name);
      return SetError(res, grpc::NOT_FOUND,
                      absl::StrCat("'", path.substr(0, 128), "' is not a downloadable package file (one of: ",
                                   absl::StrJoin(names, ", "), ")"));
    }
    const fs::path full = dir->second / file->first;
    std::error_code ec;
    const auto size = fs::file_size(full, ec);
    auto in = std::make_shared<std::ifstream>(full, std::ios::binary);
    if (ec || !fs::is_regular_file(full, ec) || !*in) {
      return SetError(res, grpc::NOT_FOUND, absl::StrCat("map '", map_id, "' has no ", file->first));
    }
    res.status = 200;
    res.set_header("Cache-Control", "no-cache");  // a map can be rebuilt under the same id
    res.set_content_provider(static_cast<size_t>(size), file->second,
                             [in](size_t offset, size_t length, httplib::DataSink& sink) {
                               std::vector<char> buffer(std::min<size_t>(length, 64 * 1024));
                               in->seekg(static_cast<std::streamoff>(offset));
                               in->read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
                               const std::streamsize n = in->gcount();
                               return n > 0 && sink.write(buffer.data(), static_cast<size_t>(n));
                             });
  }
};

void HttpGateway::Impl::Register() {
  using Req = const httplib::Request&;
  using Res = httplib::Response&;

  // Every response, errors and static files included.
  httplib::Headers headers = {{"Access-Control-Allow-Origin", options.cors_origin}};
  if (options.cors_origin != "*") headers.emplace("Vary", "Origin");  // caches must key on the origin
  http.set_default_headers(std::move(headers));

  http.Post("/v1/localize", [this](Req req, Res res) {
    Unary<v1::LocalizeRequest, v1::LocalizeResponse>(
        req, res, [this](grpc::ClientContext* c, const v1::LocalizeRequest& r, v1::LocalizeResponse* out) {
          return localization->Localize(c, r, out);
        });
  });
  http.Post("/v1/route", [this](Req req, Res res) {
    Unary<v1::RouteRequest, v1::RouteResponse>(
        req, res, [this](grpc::ClientContext* c, const v1::RouteRequest& r, v1::RouteResponse* out) {
          return navigation->Route(c, r, out);
        });
  });
  http.Get("/v1/maps", [this](Req req, Res res) {
    const auto timeout = Timeout(req);
    if (!timeout.ok()) return SetError(res, grpc::INVALID_ARGUMENT, std::string(timeout.status().message()));
    v1::ListMapsResponse response;
    const grpc::Status status = Forward(*timeout, [&](grpc::ClientContext* c) {
      return localization->ListMaps(c, v1::ListMapsRequest(), &response);
    });
    Reply(status, response, res);
  });
  http.Get(R"(/v1/maps/([^/]+))", [this](Req req, Res res) {
    const auto timeout = Timeout(req);
    if (!timeout.ok()) return SetError(res, grpc::INVALID_ARGUMENT, std::string(timeout.status().message()));
    v1::GetMapInfoRequest request;
    request.set_map_id(req.matches[1]);
    v1::MapInfo response;
    const grpc::Status status =
        Forward(*timeout, [&](grpc::ClientContext* c) { return localization->GetMapInfo(c, request, &response); });
    Reply(status, response, res);
  });
  http.Get(R"(/v1/maps/([^/]+)/files/(.+))", [this](Req req, Res res) { File(req, res); });
  http.Get("/healthz", [this](Req req, Res res) { Healthz(req, res); });

  // A known path with another method: 405 naming the allowed one. (Methods
  // httplib does not know at all it answers 400 itself.)
  struct Route {
    const char* pattern;
    const char* allowed;
  };
  const std::vector<Route> routes = {{"/v1/localize", "POST"},
                                     {"/v1/route", "POST"},
                                     {"/v1/maps", "GET"},
                                     {R"(/v1/maps/([^/]+))", "GET"},
                                     {R"(/v1/maps/([^/]+)/files/(.+))", "GET"},
                                     {"/healthz", "GET"}};
  for (const Route& route : routes) {
    const std::string allowed = route.allowed;
    auto not_allowed = [allowed](Req req, Res res) {
      res.set_header("Allow", allowed == "GET" ? "GET, HEAD, OPTIONS" : "POST, OPTIONS");
      SetError(res, grpc::UNIMPLEMENTED, absl::StrCat(req.method, " ", req.path, ": method not allowed; use ", allowed),
               405);
    };
    if (allowed == "GET") {
      http.Post(route.pattern, not_allowed);
    } else {
      http.Get(route.pattern, not_allowed);
    }
    http.Put(route.pattern, not_allowed);
    http.Patch(route.pattern, not_allowed);
    http.Delete(route.pattern, not_allowed);
  }

  // CORS preflight: a browser asks before a POST with a JSON body or the
  // timeout header.
  http.Options(R"(/v1/.*|/healthz)", [](Req, Res res) {
    res.status = 204;
    res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
    res.set_header("Access-Control-Allow-Headers", "Content-Type, X-Armap-Timeout-Ms");
    res.set_header("Access-Control-Max-Age", "600");
  });

  if (!options.web_root.empty()) {
    // httplib's static handler: it refuses paths that climb out of the
    // folder and maps "/" to index.html. It runs before the GET routes, so
    // a web root must not hold v1/ or healthz.
    http.set_mount_point("/", options.web_root.string());
    http.set_file_extension_and_mimetype_mapping("wasm", "application/wasm");
    http.set_file_extension_and_mimetype_mapping("mjs", "text/javascript");
    http.set_file_extension_and_mimetype_mapping("glb", "model/gltf-binary");
    http.set_file_extension_and_mimetype_mapping("geojson", "application/geo+json");
  }

  // httplib compresses with brotli at its slowest quality whenever a client
  // offers "br", which browsers always do: tens of seconds for three.js on a
  // busy machine. Clients are offered gzip only (httplib picks brotli by a
  // plain substring search, so the token is dropped from the header). The
  // request object is httplib's own non-const local; only its const view
  // reaches handlers.
  http.set_pre_routing_handler([](Req req, Res res) {
    auto& headers = const_cast<httplib::Headers&>(req.headers);
    if (tls_refuse_connection) {
      // Answered before the body is read. "Connection: close" on the
      // request makes httplib say so in the response, so that the client
      // closes (httplib's keep-alive loop waits for that).
      headers.erase("Connection");
      headers.emplace("Connection", "close");
      res.set_header("Retry-After", "1");
      SetError(res, grpc::UNAVAILABLE, "the server is busy: too many connections waiting; retry shortly");
      return httplib::Server::HandlerResponse::Handled;
    }
    for (auto& [name, value] : headers) {
      if (!absl::EqualsIgnoreCase(name, "Accept-Encoding")) continue;
      std::vector<std::string> kept;
      for (absl::string_view token : absl::StrSplit(value, ',')) {
        const absl::string_view coding = absl::StripAsciiWhitespace(token.substr(0, token.find(';')));
        if (!absl::EqualsIgnoreCase(coding, "br")) kept.emplace_back(absl::StripAsciiWhitespace(token));
      }
      value = absl::StrJoin(kept, ", ");
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });

  http.set_payload_max_length(max_body_bytes);
  const size_t max_body = max_body_bytes;
  // httplib's own failures (no route, body over the limit, a malformed
  // request) get the same JSON error body; handler errors keep theirs.
  http.set_error_handler(httplib::Server::HandlerWithResponse([max_body](Req req, Res res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    switch (res.status) {
      case 404:
        SetError(res, grpc::NOT_FOUND, absl::StrCat("no such resource: ", req.method, " ", req.path.substr(0, 256)),
                 404);
        break;
      case 413:
        // httplib caps form-encoded bodies at 8 KiB whatever the payload
        // limit (curl -d sends that type by default).
        if (req.get_header_value("Content-Type").rfind("application/x-www-form-urlencoded", 0) == 0) {
          SetError(res, grpc::RESOURCE_EXHAUSTED,
                   "a Content-Type: application/x-www-form-urlencoded body is limited to 8192 bytes; "
                   "send the JSON as application/json",
                   413);
          break;
        }
        SetError(res, grpc::RESOURCE_EXHAUSTED,
                 absl::StrCat("the request body exceeds the limit of ", max_body,
                              " bytes (base64 of the gRPC message limit plus 64 KiB)"),
                 413);
        break;
      case 414:
        SetError(res, grpc::INVALID_ARGUMENT, "the request URI is too long", 414);
        break;
      default:
        SetError(res, res.status < 500 ? grpc::INVALID_ARGUMENT : grpc::INTERNAL,
                 absl::StrCat("HTTP ", res.status, ": malformed or unsupported request"), res.status);
        break;
    }
    return httplib::Server::HandlerResponse::Handled;
  }));
  // Errors the gateway answers itself (bad JSON, 404, 405, 413) never reach
  // the gRPC request log, and that log cannot see the HTTP client's
  // address: every error answer gets a line here with it.
  http.set_logger([](Req req, const httplib::Response& res) {
    if (res.status < 400) return;
    OrderedJson line;
    line["http"] = absl::StrCat(req.method, " ", req.path.substr(0, 128));
    line["status"] = res.status;
    line["peer"] = absl::StrCat(req.remote_addr, ":", req.remote_port);
    if (res.body.size() < 1024) {
      const Json body = Json::parse(res.body, nullptr, /*allow_exceptions=*/false);
      if (body.is_object() && body.contains("message")) line["error"] = body["message"];
    }
    ARMAP_LOG_INFO("{}", line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  });
  http.set_exception_handler([](Req req, Res res, std::exception_ptr error) {
    std::string what = "unknown exception";
    try {
      if (error) std::rethrow_exception(error);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    ARMAP_LOG_ERROR("http: {} {}: {}", req.method, req.path, what);
    SetError(res, grpc::INTERNAL, "internal error");
  });
}

absl::StatusOr<std::unique_ptr<HttpGateway>> HttpGateway::Start(Server* server, const HttpOptions& options) {
  if (server == nullptr) return absl::InvalidArgumentError("HttpGateway::Start: server is null");
  ARMAP_RETURN_IF_ERROR(options.Validate());
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->host = options.host.empty() ? server->options().host : options.host;
  impl->max_message_bytes = server->options().max_receive_message_bytes;
  impl->max_body_bytes = MaxHttpBodyBytes(impl->max_message_bytes);
  const std::vector<std::string> ids = server->map_ids();
  for (size_t i = 0; i < ids.size() && i < server->options().map_dirs.size(); ++i) {
    impl->map_dirs[ids[i]] = server->options().map_dirs[i];
  }
  impl->channel = server->InProcessChannel();
  impl->localization = v1::Localization::NewStub(impl->channel);
  impl->navigation = v1::Navigation::NewStub(impl->channel);

  // An API call blocks its thread; many more threads than workers would
  // only queue in the server. The floor is for browsers, which open up to 6
  // keep-alive connections to load a page's files.
  const size_t num_threads = static_cast<size_t>(
      options.num_threads > 0 ? options.num_threads : std::max(8, 2 * server->num_workers()));
  const size_t max_queued = static_cast<size_t>(options.max_queued_connections);
  impl->http.new_task_queue = [num_threads, max_queued] { return new BoundedThreadPool(num_threads, max_queued); };
  // An idle keep-alive connection holds a thread (and delays Shutdown()) for
  // up to this long.
  impl->http.set_keep_alive_timeout(1);
  impl->Register();

  const std::string address = HostPort(impl->host, options.port);
  if (options.port == 0) {
    impl->port = impl->http.bind_to_any_port(impl->host);
  } else if (impl->http.bind_to_port(impl->host, options.port)) {
    impl->port = options.port;
  }
  if (impl->port <= 0) return absl::UnavailableError(absl::StrCat("cannot listen for HTTP on ", address));
  Impl* raw = impl.get();
  impl->listen_thread = std::thread([raw] { raw->http.listen_after_bind(); });
  ARMAP_LOG_INFO("http on {} ({} thread(s), body limit {} bytes, web root '{}')", HostPort(impl->host, impl->port),
                 num_threads, impl->max_body_bytes, options.web_root.string());
  return std::unique_ptr<HttpGateway>(new HttpGateway(std::move(impl)));
}

HttpGateway::HttpGateway(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpGateway::~HttpGateway() { Shutdown(std::chrono::milliseconds(500)); }

const std::string& HttpGateway::host() const { return impl_->host; }

int HttpGateway::port() const { return impl_->port; }

std::string HttpGateway::url() const { return absl::StrCat("http://", HostPort(impl_->host, impl_->port)); }

void HttpGateway::Shutdown(std::chrono::milliseconds grace) {
  {
    std::unique_lock<std::mutex> lock(impl_->mutex);
    if (impl_->stopping) {
      impl_->idle_cv.wait(lock, [this] { return impl_->stopped; });
      return;
    }
    impl_->stopping = true;
  }
  // No new connections; calls already forwarded get the grace period, then
  // are cancelled (their handlers answer 499 and return).
  impl_->http.stop();
  {
    std::unique_lock<std::mutex> lock(impl_->mutex);
    if (!impl_->idle_cv.wait_for(lock, grace, [this] { return impl_->in_flight.empty(); })) {
      for (grpc::ClientContext* context : impl_->in_flight) context->TryCancel();
    }
  }
  // listen_after_bind() returns once the pool has finished its connections.
  if (impl_->listen_thread.joinable()) impl_->listen_thread.join();
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->stopped = true;
  }
  impl_->idle_cv.notify_all();
}

}  // namespace armap::server
