// Test helpers for the SDK tests: the fixture's queries with their ground
// truth, pose error metrics, and a loopback port nobody listens on.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <Eigen/Geometry>

#include "absl/status/statusor.h"
#include "core/json.h"
#include "server/server.h"
#include "tests/fixtures/small_map.h"

namespace armap::sdk::testing {

struct FixtureQuery {
  std::string name;
  std::filesystem::path image_path;
  std::string camera_model;
  uint32_t width = 0, height = 0;
  std::vector<double> camera_params;
  double lat_deg = 0, lon_deg = 0, alt_m = 0, accuracy_m = 0;
  std::array<double, 3> gravity_in_cam{};
  // Ground truth cam_from_world: q = [w, x, y, z], t.
  std::array<double, 4> gt_q{};
  std::array<double, 3> gt_t{};
  bool localizable = false;
};

// queries.json joined with gt/queries_gt.json by name (formats written by
// datasets/synthetic/capture_generator.cc).
inline absl::StatusOr<std::vector<FixtureQuery>> LoadFixtureQueries(const armap::testing::SmallMap& map) {
  auto queries = ReadJsonFile(map.queries_json());
  if (!queries.ok()) return queries.status();
  auto truth = ReadJsonFile(map.queries_gt_json());
  if (!truth.ok()) return truth.status();
  std::vector<FixtureQuery> out;
  try {
    for (const Json& q : (*queries)["queries"]) {
      FixtureQuery f;
      f.name = q.at("name").get<std::string>();
      f.image_path = map.capture_dir / q.at("image").get<std::string>();
      const Json& camera = q.at("camera");
      f.camera_model = camera.at("model").get<std::string>();
      f.width = camera.at("width").get<uint32_t>();
      f.height = camera.at("height").get<uint32_t>();
      f.camera_params = camera.at("params").get<std::vector<double>>();
      const Json& prior = q.at("prior");
      f.lat_deg = prior.at("lat").get<double>();
      f.lon_deg = prior.at("lon").get<double>();
      f.alt_m = prior.at("alt").get<double>();
      f.accuracy_m = prior.at("accuracy_m").get<double>();
      f.gravity_in_cam = prior.at("gravity").get<std::array<double, 3>>();
      bool found = false;
      for (const Json& g : (*truth)["queries"]) {
        if (g.at("name").get<std::string>() != f.name) continue;
        f.gt_q = g.at("cam_from_world").at("q").get<std::array<double, 4>>();
        f.gt_t = g.at("cam_from_world").at("t").get<std::array<double, 3>>();
        f.localizable = g.at("localizable").get<bool>();
        found = true;
      }
      if (!found) return absl::NotFoundError("no ground truth for query " + f.name);
      out.push_back(std::move(f));
    }
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(std::string("fixture queries: ") + e.what());
  }
  return out;
}

struct PoseError {
  double position_m = 0;   // distance between the camera centres
  double rotation_deg = 0;  // angle of the relative rotation
};

// Errors of an estimated cam_from_world (q = [w, x, y, z], t) against the
// truth. Position is compared between camera centres (-R^T t), which is
// what an AR user sees, not between translations.
inline PoseError ComparePoses(const std::array<double, 4>& q, const std::array<double, 3>& t,
                              const std::array<double, 4>& gt_q, const std::array<double, 3>& gt_t) {
  const Eigen::Quaterniond r(q[0], q[1], q[2], q[3]);
  const Eigen::Quaterniond gt_r(gt_q[0], gt_q[1], gt_q[2], gt_q[3]);
  const Eigen::Vector3d centre = -(r.normalized().inverse() * Eigen::Vector3d(t[0], t[1], t[2]));
  const Eigen::Vector3d gt_centre = -(gt_r.normalized().inverse() * Eigen::Vector3d(gt_t[0], gt_t[1], gt_t[2]));
  PoseError e;
  e.position_m = (centre - gt_centre).norm();
  e.rotation_deg = r.normalized().angularDistance(gt_r.normalized()) * 180.0 / M_PI;
  return e;
}

// A loopback port that was free a moment ago and has no listener now.
inline int ClosedLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

// Starts a server for the small fixture map on 127.0.0.1 with a free port
// and two workers (the SDK tests' server).
inline absl::StatusOr<std::unique_ptr<server::Server>> StartFixtureServer(const armap::testing::SmallMap& map) {
  server::ServerOptions options;
  options.map_dirs = {map.map_dir};
  options.host = "127.0.0.1";
  options.port = 0;
  options.num_workers = 2;
  return server::Server::Start(options);
}

// The first fixture query flagged localizable.
inline absl::StatusOr<FixtureQuery> FirstLocalizableFixtureQuery(const armap::testing::SmallMap& map) {
  auto queries = LoadFixtureQueries(map);
  if (!queries.ok()) return queries.status();
  for (const FixtureQuery& q : *queries) {
    if (q.localizable) return q;
  }
  return absl::NotFoundError("the small fixture city has no localizable query");
}

// "1.5,2,3": numbers at full precision, comma-separated, for the query
// files and environment variables handed to other runtimes' tests.
inline std::string JoinNumbers(const std::vector<double>& values) {
  std::ostringstream out;
  out.precision(17);
  for (size_t i = 0; i < values.size(); ++i) out << (i ? "," : "") << values[i];
  return out.str();
}

}  // namespace armap::sdk::testing
