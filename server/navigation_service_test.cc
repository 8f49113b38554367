// armap.v1.Navigation end to end against the small city's package with a
// pedestrian network (server/navigation_test_util.h). POIs may be few or
// none, so routes go to WGS84 points and only the unknown-POI path is tested
// by name.
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "armap/v1/navigation.grpc.pb.h"
#include "core/json.h"
#include "server/navigation_service.h"
#include "server/navigation_test_util.h"
#include "server/server.h"
#include "tests/fixtures/small_map.h"

namespace armap::server {
namespace {

namespace fs = std::filesystem;
using ::armap::testing::GetSmallMap;
using ::armap::server::testing::NetworkMapDir;
using ::testing::HasSubstr;

class NavigationServiceTest : public ::testing::Test {
 protected:
  static void TearDownTestSuite() {
    testing::RemoveNetworkMapCopy();
  }

  void SetUp() override {
    auto nav = LoadNavMap(NetworkMapDir(), "small");
    ASSERT_TRUE(nav.ok()) << nav.status();
    nav_ = std::move(*nav);
    ASSERT_NE(nav_->graph, nullptr) << "the small map has no pedestrian network";
    ASSERT_GE(nav_->graph->num_nodes(), 2u);
  }

  void StartServer(std::vector<fs::path> map_dirs = {}) {
    ServerOptions options;
    options.map_dirs = map_dirs.empty() ? std::vector<fs::path>{NetworkMapDir()} : map_dirs;
    options.host = "127.0.0.1";
    options.port = 0;
    options.num_workers = 2;
    auto server = Server::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials());
    stub_ = v1::Navigation::NewStub(channel_);
  }

  void SetPoint(const Eigen::Vector3d& p_in_map, v1::GeoPoint* g) const {
    const GeoPoint geo = nav_->frame->Wgs84FromEnu(p_in_map);
    g->set_lat_deg(geo.lat_deg);
    g->set_lon_deg(geo.lon_deg);
    g->set_alt_m(geo.alt_m);
  }

  // The two network nodes farthest apart (planar).
  std::pair<Eigen::Vector3d, Eigen::Vector3d> FarNodes() const {
    const auto& nodes = nav_->graph->nodes();
    size_t a = 0;
    double best = -1;
    for (size_t i = 0; i < nodes.size(); ++i) {
      const double d = (nodes[i].position_in_map - nodes[0].position_in_map).head<2>().norm();
      if (d > best) best = d, a = i;
    }
    size_t b = a;
    best = -1;
    for (size_t i = 0; i < nodes.size(); ++i) {
      const double d = (nodes[i].position_in_map - nodes[a].position_in_map).head<2>().norm();
      if (d > best) best = d, b = i;
    }
    return {nodes[a].position_in_map, nodes[b].position_in_map};
  }

  v1::RouteRequest FarRouteRequest() const {
    const auto [a, b] = FarNodes();
    v1::RouteRequest request;
    request.set_request_id("nav-test");
    SetPoint(a, request.mutable_start()->mutable_position());
    SetPoint(b, request.mutable_point());
    return request;
  }

  grpc::Status Route(const v1::RouteRequest& request, v1::RouteResponse* response) const {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return stub_->Route(&context, request, response);
  }

  std::unique_ptr<NavMap> nav_;
  std::unique_ptr<Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Navigation::Stub> stub_;
};

TEST_F(NavigationServiceTest, RouteBetweenTwoNetworkPointsRoundTrips) {
  StartServer();
  v1::RouteRequest request = FarRouteRequest();
  request.mutable_options()->set_num_alternatives(1);
  v1::RouteResponse response;
  const grpc::Status status = Route(request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.map_id(), server_->map_ids()[0]);
  EXPECT_EQ(response.request_id(), "nav-test");
  ASSERT_GE(response.routes_size(), 1);
  const v1::NavRoute& route = response.routes(0);
  const auto [a, b] = FarNodes();
  EXPECT_GT(route.length_m(), 0);
  EXPECT_GE(route.length_m(), (b - a).head<2>().norm() - 1e-6);  // never shorter than the straight line
  EXPECT_NEAR(route.eta_s(), route.length_m() / response.walk_speed_mps(), 1e-9);
  ASSERT_GE(route.polyline_map_size(), 2);
  EXPECT_EQ(route.polyline_wgs84_size(), route.polyline_map_size());
  EXPECT_GT(route.ar_polyline_map_size(), 2);
  EXPECT_GT(route.edge_ids_size(), 0);
  // The polyline starts and ends at the requested nodes; WGS84 = map frame.
  const v1::Vector3& first = route.polyline_map(0);
  const v1::Vector3& last = route.polyline_map(route.polyline_map_size() - 1);
  EXPECT_NEAR(std::hypot(first.x() - a.x(), first.y() - a.y()), 0, 0.05);
  EXPECT_NEAR(std::hypot(last.x() - b.x(), last.y() - b.y()), 0, 0.05);
  const GeoPoint g0 = nav_->frame->Wgs84FromEnu({first.x(), first.y(), first.z()});
  EXPECT_NEAR(route.polyline_wgs84(0).lat_deg(), g0.lat_deg, 1e-9);
  EXPECT_NEAR(route.polyline_wgs84(0).lon_deg(), g0.lon_deg, 1e-9);
  ASSERT_GE(route.maneuvers_size(), 2);
  EXPECT_EQ(route.maneuvers(0).type(), v1::MANEUVER_TYPE_DEPART);
  const v1::Maneuver& arrive = route.maneuvers(route.maneuvers_size() - 1);
  EXPECT_EQ(arrive.type(), v1::MANEUVER_TYPE_ARRIVE);
  EXPECT_NEAR(arrive.at_m(), route.length_m(), 1e-6);
  EXPECT_FALSE(arrive.prompt_zh().empty());
  EXPECT_EQ(arrive.text_en(), "You have arrived");
  EXPECT_THAT(arrive.prompt_en(), HasSubstr("arrive"));
  EXPECT_FALSE(response.has_destination_poi());
}

TEST_F(NavigationServiceTest, BadRequestsNameTheFieldAndTheServerGoesOn) {
  StartServer();
  const v1::RouteRequest good = FarRouteRequest();
  struct Case {
    const char* what;
    v1::RouteRequest request;
    grpc::StatusCode code;
    const char* message;
  };
  std::vector<Case> cases;
  {
    v1::RouteRequest r = good;
    r.mutable_start()->mutable_position()->set_lat_deg(std::numeric_limits<double>::quiet_NaN());
    cases.push_back({"NaN start", r, grpc::INVALID_ARGUMENT, "RouteRequest.start.position"});
  }
  {
    v1::RouteRequest r = good;
    r.mutable_point()->set_lon_deg(std::numeric_limits<double>::infinity());
    cases.push_back({"infinite destination", r, grpc::INVALID_ARGUMENT, "RouteRequest.point"});
  }
  {
    v1::RouteRequest r = good;
    SetPoint(nav_->graph->nodes()[0].position_in_map + Eigen::Vector3d(5000, 0, 0),
             r.mutable_start()->mutable_position());
    cases.push_back({"start 5 km outside", r, grpc::INVALID_ARGUMENT, "RouteRequest.start: start is"});
  }
  {
    v1::RouteRequest r = good;
    r.set_poi_name("No Such Shop 12345");
    cases.push_back({"unknown POI", r, grpc::NOT_FOUND, "RouteRequest.poi_name"});
  }
  {
    v1::RouteRequest r = good;
    r.clear_destination();
    cases.push_back({"no destination", r, grpc::INVALID_ARGUMENT, "RouteRequest.destination is empty"});
  }
  {
    v1::RouteRequest r = good;
    r.clear_start();
    cases.push_back({"no start", r, grpc::INVALID_ARGUMENT, "RouteRequest.start.position is required"});
  }
  {
    v1::RouteRequest r = good;
    r.mutable_options()->set_crossing_penalty_m(-1);
    cases.push_back({"negative penalty", r, grpc::INVALID_ARGUMENT, "RouteRequest.options.crossing_penalty_m"});
  }
  {
    v1::RouteRequest r = good;
    r.set_map_id("no_such_map");
    cases.push_back({"unknown map", r, grpc::NOT_FOUND, "no_such_map"});
  }
  for (const Case& c : cases) {
    v1::RouteResponse response;
    const grpc::Status status = Route(c.request, &response);
    EXPECT_EQ(status.error_code(), c.code) << c.what << ": " << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(c.message)) << c.what;
  }
  v1::RouteResponse response;
  const grpc::Status status = Route(good, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_GT(response.routes(0).length_m(), 0);
  // Every call is counted before its status reaches the client.
  const ServerStats stats = server_->stats();
  EXPECT_EQ(stats.nav_routes_received, static_cast<int64_t>(cases.size()) + 1);
  EXPECT_EQ(stats.nav_route_errors, static_cast<int64_t>(cases.size()));
  EXPECT_EQ(stats.nav_routes_ok, 1);
  EXPECT_EQ(stats.nav_guide_sessions, 0);
  EXPECT_EQ(stats.requests_received, 0) << "navigation calls are not localization requests";
}

TEST_F(NavigationServiceTest, AMapWithoutANetworkIsFailedPrecondition) {
  const fs::path dir = fs::temp_directory_path() / ("armap_nav_test_no_network_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::copy(GetSmallMap().map_dir, dir, fs::copy_options::recursive);
  fs::remove_all(dir / "roads");
  auto manifest = ReadJsonFile(dir / "manifest.json");
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  auto& files = (*manifest)["files"];
  for (auto it = files.begin(); it != files.end();) {
    it = it.key().rfind("roads/", 0) == 0 ? files.erase(it) : std::next(it);
  }
  std::ofstream(dir / "manifest.json") << manifest->dump(2);
  StartServer({dir});
  v1::RouteResponse response;
  const grpc::Status status = Route(FarRouteRequest(), &response);
  EXPECT_EQ(status.error_code(), grpc::FAILED_PRECONDITION) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("has no pedestrian network"));
  server_.reset();
  fs::remove_all(dir);
}

class GuideStream {
 public:
  explicit GuideStream(v1::Navigation::Stub* stub) {
    context_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    stream_ = stub->Guide(&context_);
  }
  v1::GuideResponse Send(const v1::GuideRequest& request) {
    v1::GuideResponse response;
    EXPECT_TRUE(stream_->Write(request));
    EXPECT_TRUE(stream_->Read(&response));
    return response;
  }
  grpc::Status Close() {
    stream_->WritesDone();
    v1::GuideResponse extra;
    while (stream_->Read(&extra)) {
    }
    return stream_->Finish();
  }
  grpc::ClientReaderWriter<v1::GuideRequest, v1::GuideResponse>* raw() { return stream_.get(); }

 private:
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::GuideRequest, v1::GuideResponse>> stream_;
};

v1::GuideRequest PoseMessage(const Eigen::Vector2d& p, double heading_deg, double time_s) {
  v1::GuideRequest r;
  r.mutable_pose()->mutable_position_map()->set_x(p.x());
  r.mutable_pose()->mutable_position_map()->set_y(p.y());
  r.mutable_pose()->set_heading_deg(heading_deg);
  r.mutable_pose()->set_time_s(time_s);
  return r;
}

// Points every ~1 m along a polyline, with the heading of their segment.
std::vector<std::pair<Eigen::Vector2d, double>> Walk(const v1::NavRoute& route) {
  std::vector<std::pair<Eigen::Vector2d, double>> out;
  for (int i = 0; i + 1 < route.polyline_map_size(); ++i) {
    const Eigen::Vector2d a(route.polyline_map(i).x(), route.polyline_map(i).y());
    const Eigen::Vector2d b(route.polyline_map(i + 1).x(), route.polyline_map(i + 1).y());
    const double len = (b - a).norm();
    if (len < 1e-6) continue;
    const double heading = nav::HeadingDegOf(b - a);
    for (double s = 0; s < len; s += 1.0) out.emplace_back(a + (b - a) * (s / len), heading);
  }
  const auto& l = route.polyline_map(route.polyline_map_size() - 1);
  out.emplace_back(Eigen::Vector2d(l.x(), l.y()), out.empty() ? 0.0 : out.back().second);
  return out;
}

TEST_F(NavigationServiceTest, GuideAlongTheRouteProgressesAndArrives) {
  StartServer();
  const v1::RouteRequest route_request = FarRouteRequest();
  GuideStream stream(stub_.get());
  const auto [a, b] = FarNodes();
  v1::GuideRequest first = PoseMessage(a.head<2>(), 0, 0);
  first.set_request_id("guide-test");
  *first.mutable_point() = route_request.point();
  first.mutable_pose()->clear_heading_deg();
  const v1::GuideResponse r0 = stream.Send(first);
  ASSERT_TRUE(r0.has_route());
  EXPECT_EQ(r0.route_version(), 0);
  EXPECT_GT(r0.route().length_m(), 0);
  EXPECT_FALSE(r0.prompt_en().empty());
  const auto walk = Walk(r0.route());
  ASSERT_GT(walk.size(), 10u);
  double last_progress = r0.progress_m();
  bool arrived = false;
  double t = 0;
  for (const auto& [p, heading] : walk) {
    const v1::GuideResponse r = stream.Send(PoseMessage(p, heading, t += 1.0));
    EXPECT_GE(r.progress_m(), last_progress - 0.5);
    EXPECT_FALSE(r.off_route()) << "at t = " << t;
    EXPECT_FALSE(r.rerouted());
    EXPECT_FALSE(r.has_route());
    last_progress = r.progress_m();
    arrived = arrived || r.arrived();
  }
  EXPECT_GT(last_progress, r0.route().length_m() - 5.0);
  EXPECT_TRUE(arrived);
  EXPECT_TRUE(stream.Close().ok());
}

TEST_F(NavigationServiceTest, GuideOffTheRouteIsDetectedAndRerouted) {
  StartServer();
  const v1::RouteRequest route_request = FarRouteRequest();
  GuideStream stream(stub_.get());
  const auto [a, b] = FarNodes();
  v1::GuideRequest first = PoseMessage(a.head<2>(), 0, 0);
  *first.mutable_point() = route_request.point();
  first.mutable_pose()->clear_heading_deg();
  const v1::GuideResponse r0 = stream.Send(first);
  ASSERT_TRUE(r0.has_route());
  const auto walk = Walk(r0.route());
  ASSERT_GT(walk.size(), 10u);
  // Along the route to a straight stretch (10 m on either side, so the
  // walk away from it leaves every leg), then straight away from it.
  double t = 0;
  size_t turn = 10;
  while (turn + 10 < walk.size() &&
         !(walk[turn - 10].second == walk[turn].second && walk[turn + 10].second == walk[turn].second)) {
    ++turn;
  }
  ASSERT_LT(turn + 10, walk.size()) << "no straight 20 m on the route";
  for (size_t i = 0; i <= turn; ++i) {
    EXPECT_FALSE(stream.Send(PoseMessage(walk[i].first, walk[i].second, t += 1.0)).off_route());
  }
  int64_t messages = 1 + static_cast<int64_t>(turn) + 1;
  const double away_heading = walk[turn].second + 90.0;
  const Eigen::Vector2d away = nav::HeadingVector(away_heading);
  bool off_route = false, rerouted = false;
  for (int k = 1; k <= 30 && !rerouted; ++k) {
    const v1::GuideResponse r = stream.Send(PoseMessage(walk[turn].first + away * k, away_heading, t += 1.0));
    ++messages;
    // The pose that enters off-route re-plans at once: its response says
    // off_route_entered and rerouted, and is on the new route (off_route false).
    off_route = off_route || r.off_route() || r.off_route_entered();
    if (r.rerouted()) {
      rerouted = true;
      EXPECT_TRUE(off_route);
      EXPECT_GE(k, 6) << "off-route needs 6 m and a few poses";
      EXPECT_EQ(r.route_version(), 1);
      ASSERT_TRUE(r.has_route());
      EXPECT_EQ(r.route().route_version(), 1);
      EXPECT_GT(r.route().length_m(), 0);
      EXPECT_TRUE(r.reroute_error().empty());
    }
  }
  EXPECT_TRUE(off_route);
  EXPECT_TRUE(rerouted);
  EXPECT_TRUE(stream.Close().ok());
  const ServerStats stats = server_->stats();
  EXPECT_EQ(stats.nav_guide_sessions, 1);
  EXPECT_EQ(stats.nav_guide_messages, messages);
  EXPECT_EQ(stats.nav_guide_reroutes, 1);
  EXPECT_EQ(stats.nav_guide_errors, 0);
  EXPECT_EQ(stats.nav_routes_received, 0);
}

TEST_F(NavigationServiceTest, GuideFinishesWithTheErrorOfABadFirstMessage) {
  StartServer();
  GuideStream stream(stub_.get());
  v1::GuideRequest first = PoseMessage(nav_->graph->nodes()[0].position_in_map.head<2>(), 0, 0);
  first.set_poi_name("No Such Shop 12345");
  ASSERT_TRUE(stream.raw()->Write(first));
  v1::GuideResponse response;
  EXPECT_FALSE(stream.raw()->Read(&response));
  const grpc::Status status = stream.raw()->Finish();
  EXPECT_EQ(status.error_code(), grpc::NOT_FOUND) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("GuideRequest.poi_name"));
  const ServerStats stats = server_->stats();
  EXPECT_EQ(stats.nav_guide_sessions, 1);
  EXPECT_EQ(stats.nav_guide_messages, 1);
  EXPECT_EQ(stats.nav_guide_errors, 1);
}

}  // namespace
}  // namespace armap::server
