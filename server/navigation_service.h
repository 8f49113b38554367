// armap.v1.Navigation (proto/armap/v1/navigation.proto) over the maps'
// pedestrian networks: Route (unary, on the worker pool) and Guide (a bidi
// reactor with one nav::Guidance per stream, each message on the pool).
//
// Internal to server/: server.cc loads a NavMap per served package and
// registers the service beside Localization in the same grpc::Server.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "armap/v1/navigation.grpc.pb.h"
#include "core/geo.h"
#include "navigation/planner.h"
#include "navigation/walk_graph.h"

namespace armap::server {

// One map package's network. graph/planner are null when the package has no
// roads/network.geojson (Navigation then answers FAILED_PRECONDITION).
struct NavMap {
  std::string map_id;
  std::unique_ptr<EnuFrame> frame;         // the package's map frame
  std::unique_ptr<nav::WalkGraph> graph;   // outlives planner (declared first)
  std::unique_ptr<nav::Planner> planner;   // shared by all requests (const)
};

// MAP/manifest.json's origin, MAP/roads/network.geojson and (when present)
// MAP/pois/pois.geojson. A missing network is not an error; a present but
// invalid one is (the loader's error naming the file).
absl::StatusOr<std::unique_ptr<NavMap>> LoadNavMap(const std::filesystem::path& map_dir, const std::string& map_id);

// Navigation request counters (thread-safe), read into ServerStats.
struct NavCounters {
  std::atomic<int64_t> routes_received{0};
  std::atomic<int64_t> routes_ok{0};
  std::atomic<int64_t> route_errors{0};           // any non-OK status (queue full included)
  std::atomic<int64_t> guide_sessions{0};         // Guide streams opened
  std::atomic<int64_t> guide_messages{0};         // poses received on them
  std::atomic<int64_t> guide_errors{0};           // streams ended by an error (bad request, queue full)
  std::atomic<int64_t> guide_reroutes{0};
  std::atomic<int64_t> rejected_queue_full{0};    // Route calls and Guide messages
};

// Queues a task on the server's worker pool; false when the queue is full.
using SubmitFn = std::function<bool(std::function<void()>)>;

class NavigationService final : public v1::Navigation::CallbackService {
 public:
  // `maps`, whatever `submit` runs on and `counters` (may be null: not
  // counted) must outlive the service.
  NavigationService(std::vector<const NavMap*> maps, SubmitFn submit, NavCounters* counters = nullptr);

  grpc::ServerUnaryReactor* Route(grpc::CallbackServerContext* context, const v1::RouteRequest* request,
                                  v1::RouteResponse* response) override;
  grpc::ServerBidiReactor<v1::GuideRequest, v1::GuideResponse>* Guide(grpc::CallbackServerContext* context) override;

  // The worker-side bodies (public for the reactor in the .cc).
  absl::StatusOr<const NavMap*> FindMap(const std::string& map_id, const char* field) const;
  const SubmitFn& submit() const { return submit_; }
  // Adds to a counter when the service has them.
  void Count(std::atomic<int64_t> NavCounters::*counter) const {
    if (counters_ != nullptr) ++(counters_->*counter);
  }

 private:
  std::vector<const NavMap*> maps_;
  SubmitFn submit_;
  NavCounters* counters_ = nullptr;
};

}  // namespace armap::server
