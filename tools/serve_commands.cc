// armap serve: map packages -> gRPC localization and navigation services,
// until SIGINT or SIGTERM.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_join.h"
#include "core/logging.h"
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
  auto server = server::Server::Start(options);
  if (!server.ok()) {
    ARMAP_LOG_ERROR("serve: {}", server.status().message());
    return 1;
  }
  const std::vector<std::string> ids = (*server)->map_ids();
  std::printf("serving %zu map(s) [%s] on %s:%d\n", ids.size(), absl::StrJoin(ids, ", ").c_str(), args.host.c_str(),
              (*server)->port());
  std::fflush(stdout);

  int received = 0;
  std::thread signal_thread([&] {
    sigwait(&signals, &received);
    ARMAP_LOG_INFO("serve: {} received, shutting down", received == SIGINT ? "SIGINT" : "SIGTERM");
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
  serve->callback([args, exit_code] { *exit_code = RunServe(*args); });
}

}  // namespace armap::tools
