// armap serve: map packages -> gRPC localization and navigation services
// (and, with --http-port, the same calls as HTTP/JSON), until SIGINT or
// SIGTERM.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_join.h"
#include "core/logging.h"
#include "server/http_gateway.h"
#include "server/server.h"
#include "tools/commands.h"

namespace armap::tools {
namespace {

struct ServeArgs {
  std::vector<std::string> maps;
  std::string host = "0.0.0.0";
  int port = 50051;
  int workers = 0;
  int max_queued = 64;
  int max_message_mb = 16;
  // HTTP/JSON gateway: off unless --http-port is given.
  int http_port = -1;
  std::string http_host;  // empty = --host
  std::string http_cors_origin = "*";
  int http_max_queued_connections = server::HttpOptions().max_queued_connections;
  std::string web_root = server::DefaultWebRoot().string();
};

int RunServe(const ServeArgs& args) {
  // Block the shutdown signals before any thread exists (gRPC's, the
  // workers', OpenMP's all inherit the mask); one thread takes them with
  // sigwait, so no handler runs in signal context.
  sigset_t signals, old_mask;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, &old_mask);
  struct RestoreMask {
    sigset_t mask;
    ~RestoreMask() { pthread_sigmask(SIG_SETMASK, &mask, nullptr); }
  } restore{old_mask};

  server::ServerOptions options;
  for (const std::string& m : args.maps) options.map_dirs.emplace_back(m);
  options.host = args.host;
  options.port = args.port;
  options.num_workers = args.workers;
  options.max_queued_requests = args.max_queued;
  if (args.max_message_mb <= 0 || args.max_message_mb > 1024) {
    ARMAP_LOG_ERROR("serve: --max-message-mb = {}; must be in 1..1024", args.max_message_mb);
    return 1;
  }
  options.max_receive_message_bytes = args.max_message_mb * 1024 * 1024;
  options.max_send_message_bytes = args.max_message_mb * 1024 * 1024;
  server::HttpOptions http_options;
  http_options.host = args.http_host;
  http_options.port = args.http_port;
  http_options.cors_origin = args.http_cors_origin;
  http_options.max_queued_connections = args.http_max_queued_connections;
  http_options.web_root = args.web_root;
  const bool http = args.http_port >= 0;
  if (http) {
    // Before the maps are loaded: a bad flag should not cost a map load.
    if (const absl::Status valid = http_options.Validate(); !valid.ok()) {
      ARMAP_LOG_ERROR("serve: {}", valid.message());
      return 1;
    }
  }
  auto server = server::Server::Start(options);
  if (!server.ok()) {
    ARMAP_LOG_ERROR("serve: {}", server.status().message());
    return 1;
  }
  std::unique_ptr<server::HttpGateway> gateway;
  if (http) {
    auto started = server::HttpGateway::Start(server->get(), http_options);
    if (!started.ok()) {
      ARMAP_LOG_ERROR("serve: {}", started.status().message());
      (*server)->Shutdown();
      return 1;
    }
    gateway = std::move(*started);
    std::printf("http on %s\n", gateway->url().c_str());
    std::fflush(stdout);
  }
  const std::vector<std::string> ids = (*server)->map_ids();
  std::printf("serving %zu map(s) [%s] on %s:%d\n", ids.size(), absl::StrJoin(ids, ", ").c_str(), args.host.c_str(),
              (*server)->port());
  std::fflush(stdout);

  int received = 0;
  std::thread signal_thread([&] {
    sigwait(&signals, &received);
    ARMAP_LOG_INFO("serve: {} received, shutting down", received == SIGINT ? "SIGINT" : "SIGTERM");
    if (gateway) gateway->Shutdown();  // HTTP first: its calls go to the gRPC server
    (*server)->Shutdown();
  });
  (*server)->Wait();
  signal_thread.join();
  ARMAP_LOG_INFO("serve: stopped");
  return 0;
}

}  // namespace

void RegisterServeCommands(CLI::App& app, int* exit_code) {
  CLI::App* serve = app.add_subcommand("serve", "Serve map packages over gRPC (visual positioning; routes and guidance on maps with a pedestrian network) until SIGINT/SIGTERM");
  auto args = std::make_shared<ServeArgs>();
  serve->add_option("--map", args->maps, "Map package folder (repeat for several maps; ids must differ)")->required();
  serve->add_option("--host", args->host, "Listening address")->capture_default_str();
  serve->add_option("--port", args->port, "Listening port (0 picks a free one; the ready line shows it)")
      ->capture_default_str();
  serve->add_option("--workers", args->workers, "Localization worker threads (0 = one per core)")->capture_default_str();
  serve->add_option("--max-queued", args->max_queued, "Requests waiting for a worker before RESOURCE_EXHAUSTED")
      ->capture_default_str();
  serve->add_option("--max-message-mb", args->max_message_mb, "gRPC receive/send message limit, MiB")
      ->capture_default_str();
  serve->add_option("--http-port", args->http_port,
                    "Also serve the API as HTTP/JSON on this port (0 picks a free one; the 'http on' line shows it)")
      ->check(CLI::Range(0, 65535));
  serve->add_option("--http-host", args->http_host, "HTTP listening address (default: --host)");
  serve->add_option("--http-cors-origin", args->http_cors_origin, "Access-Control-Allow-Origin of HTTP responses")
      ->capture_default_str();
  serve->add_option("--http-max-queued-connections", args->http_max_queued_connections,
                    "HTTP connections that may wait for a thread; more are answered 503 at once")
      ->capture_default_str();
  serve->add_option("--web-root", args->web_root, "Static files served over HTTP at / ('' serves none)")
      ->capture_default_str();
  serve->callback([args, exit_code] { *exit_code = RunServe(*args); });
}

}  // namespace armap::tools
