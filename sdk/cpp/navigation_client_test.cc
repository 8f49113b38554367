// armap::sdk::Client::Route and GuideSession against an in-process server on
// the small city with a pedestrian network (server/navigation_test_util.h).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "armap/sdk/client.h"
#include "core/geo.h"
#include "core/map/package.h"
#include "navigation/walk_graph.h"
#include "server/navigation_test_util.h"
#include "server/server.h"

namespace armap::sdk {
namespace {

using ::armap::server::testing::NetworkMapDir;
using ::testing::HasSubstr;

class NavigationClientTest : public ::testing::Test {
 protected:
  static void TearDownTestSuite() { ::armap::server::testing::RemoveNetworkMapCopy(); }

  void SetUp() override {
    server::ServerOptions options;
    options.map_dirs = {NetworkMapDir()};
    options.host = "127.0.0.1";
    options.port = 0;
    options.num_workers = 2;
    auto server = server::Server::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    auto client = Client::Connect("127.0.0.1:" + std::to_string(server_->port()));
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = std::move(*client);
    auto manifest = map::ReadManifest(NetworkMapDir());
    ASSERT_TRUE(manifest.ok()) << manifest.status();
    frame_ = std::make_unique<EnuFrame>(manifest->origin);
  }

  sdk::GeoPoint Geo(double x, double y) const {
    const armap::GeoPoint g = frame_->Wgs84FromEnu({x, y, 0});
    return {g.lat_deg, g.lon_deg, g.alt_m};
  }

  // From the first network node to the node farthest from it.
  RouteRequest CornerRequest() const {
    auto graph = nav::LoadWalkGraph(NetworkMapDir() / "roads" / "network.geojson", "", *frame_);
    EXPECT_TRUE(graph.ok()) << graph.status();
    const auto& nodes = graph->nodes();
    const Eigen::Vector3d a = nodes[0].position_in_map;
    Eigen::Vector3d b = a;
    for (const auto& n : nodes) {
      if ((n.position_in_map - a).head<2>().norm() > (b - a).head<2>().norm()) b = n.position_in_map;
    }
    RouteRequest r;
    r.request_id = "sdk-nav";
    r.start = Geo(a.x(), a.y());
    r.destination = Geo(b.x(), b.y());
    return r;
  }

  std::unique_ptr<server::Server> server_;
  std::unique_ptr<Client> client_;
  std::unique_ptr<EnuFrame> frame_;
};

TEST_F(NavigationClientTest, RouteRoundTripsAndErrorsKeepTheirCodes) {
  RouteRequest request = CornerRequest();
  auto result = client_->Route(request);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->request_id, "sdk-nav");
  ASSERT_FALSE(result->routes.empty());
  const NavRoute& route = result->routes[0];
  EXPECT_GT(route.length_m, 0);
  EXPECT_EQ(route.polyline_wgs84.size(), route.polyline_map.size());
  EXPECT_GE(route.polyline_map.size(), 2u);
  EXPECT_FALSE(route.ar_polyline_map.empty());
  ASSERT_GE(route.maneuvers.size(), 2u);
  EXPECT_EQ(route.maneuvers.front().type, ManeuverType::kDepart);
  EXPECT_EQ(route.maneuvers.back().type, ManeuverType::kArrive);
  EXPECT_FALSE(route.maneuvers.back().prompt_zh.empty());
  EXPECT_GT(result->client_ms, 0);

  RouteRequest poi = request;
  poi.destination.reset();
  poi.poi_name = "No Such Shop 12345";
  auto not_found = client_->Route(poi);
  EXPECT_EQ(not_found.status().code(), absl::StatusCode::kNotFound) << not_found.status();
  EXPECT_THAT(std::string(not_found.status().message()), HasSubstr("poi_name"));

  RouteRequest far = request;
  far.start = Geo(5000, 5000);
  auto outside = client_->Route(far);
  EXPECT_EQ(outside.status().code(), absl::StatusCode::kInvalidArgument) << outside.status();
  EXPECT_THAT(std::string(outside.status().message()), HasSubstr("RouteRequest.start"));

  RouteRequest none = request;
  none.destination.reset();
  auto no_destination = client_->Route(none);
  EXPECT_EQ(no_destination.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(no_destination.status().message()), HasSubstr("no destination"));
}

TEST_F(NavigationClientTest, GuideSessionWalksToArrival) {
  const RouteRequest request = CornerRequest();
  auto planned = client_->Route(request);
  ASSERT_TRUE(planned.ok()) << planned.status();
  GuideStart start;
  start.destination = request.destination;
  start.pose.position_wgs84 = request.start;
  auto session = client_->OpenGuide(start);
  ASSERT_TRUE(session.ok()) << session.status();
  ASSERT_TRUE((*session)->first().route.has_value());
  const NavRoute& route = *(*session)->first().route;
  EXPECT_NEAR(route.length_m, planned->routes[0].length_m, 1e-6);
  double t = 0, last = 0;
  bool arrived = false;
  for (size_t i = 0; i + 1 < route.polyline_map.size(); ++i) {
    const auto& a = route.polyline_map[i];
    const auto& b = route.polyline_map[i + 1];
    const double len = std::hypot(b[0] - a[0], b[1] - a[1]);
    for (double s = 0; s < len; s += 1.0) {
      NavPose pose;
      pose.position_map = std::array<double, 3>{a[0] + (b[0] - a[0]) * s / len, a[1] + (b[1] - a[1]) * s / len, 0};
      pose.time_s = t += 1.0;
      auto u = (*session)->Update(pose);
      ASSERT_TRUE(u.ok()) << u.status();
      EXPECT_FALSE(u->off_route);
      EXPECT_GE(u->progress_m, last - 0.5);
      last = u->progress_m;
    }
  }
  NavPose end;
  end.position_map = route.polyline_map.back();
  end.time_s = t + 1.0;
  auto u = (*session)->Update(end);
  ASSERT_TRUE(u.ok()) << u.status();
  arrived = u->arrived;
  EXPECT_TRUE(arrived);
  EXPECT_GT(last, route.length_m / 2);

  NavPose bad;  // no position: refused client-side, the session goes on
  EXPECT_EQ((*session)->Update(bad).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE((*session)->Close().ok());
  EXPECT_EQ((*session)->Update(end).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(NavigationClientTest, OpenGuideReturnsTheServersErrorForABadStart) {
  GuideStart start;
  start.poi_name = "No Such Shop 12345";
  start.pose.position_wgs84 = CornerRequest().start;
  auto session = client_->OpenGuide(start);
  EXPECT_EQ(session.status().code(), absl::StatusCode::kNotFound) << session.status();
}

// The plain C program tests/c_nav_abi_test.c (linked only against
// libarmap_sdk_c.so) plans and walks a route through this server.
TEST_F(NavigationClientTest, CProgramPlansAndWalksARoute) {
  const RouteRequest request = CornerRequest();
  char args[256];
  std::snprintf(args, sizeof(args), " 127.0.0.1:%d %.10f %.10f %.10f %.10f 2>&1", server_->port(),
                request.start.lat_deg, request.start.lon_deg, request.destination->lat_deg,
                request.destination->lon_deg);
  const std::string command = std::string("'") + ARMAP_C_NAV_ABI_TEST + "'" + args;
  FILE* pipe = ::popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[4096];
  while (size_t n = std::fread(buffer, 1, sizeof(buffer), pipe)) output.append(buffer, n);
  const int status = ::pclose(pipe);
  std::printf("%s\n%s", command.c_str(), output.c_str());
  ASSERT_TRUE(WIFEXITED(status)) << output;
  EXPECT_EQ(WEXITSTATUS(status), 0) << output;
  EXPECT_NE(output.find("PASS"), std::string::npos) << output;
  // The C program saw the same route as the C++ client.
  auto planned = client_->Route(request);
  ASSERT_TRUE(planned.ok()) << planned.status();
  double length_m = 0;
  unsigned points = 0, maneuvers = 0;
  const size_t at = output.find("route ");
  ASSERT_NE(at, std::string::npos) << output;
  ASSERT_EQ(std::sscanf(output.c_str() + at, "route %lf %u %u", &length_m, &points, &maneuvers), 3);
  EXPECT_NEAR(length_m, planned->routes[0].length_m, 1e-3);
  EXPECT_EQ(points, planned->routes[0].polyline_map.size());
  EXPECT_EQ(maneuvers, planned->routes[0].maneuvers.size());
}

}  // namespace
}  // namespace armap::sdk
