// The HTTP/JSON gateway end to end: a Server and its HttpGateway on
// 127.0.0.1:0 over the small synthetic city, called with httplib's client
// and JSON written by hand (lowerCamelCase, base64 images), the way a web
// client sends it; plus `armap serve --http-port 0` as a child process.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <future>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "armap/v1/navigation.grpc.pb.h"
#include "core/json.h"
#include "core/map/package.h"
#include "core/rigid3.h"
#include "server/http_gateway.h"
#include "server/navigation_service.h"
#include "server/navigation_test_util.h"
#include "server/server.h"
#include "tests/fixtures/small_map.h"
#include "tests/serve_process.h"

// Last: it pulls in <resolv.h>, whose `_res` macro breaks Eigen's headers.
#include <httplib.h>

namespace armap::server {
namespace {

namespace fs = std::filesystem;
using ::armap::testing::GetSmallMap;
using testing::PoiMapDir;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// As in server_test.cc: the gateway must hand the localizer's pose through
// unchanged; the localizer's own successes on the small city are within
// 0.45 m / 1.2 deg, and a pose mangled in the JSON mapping (quaternion
// order, a dropped field) is off by metres or tens of degrees.
constexpr double kMaxPositionErrorM = 1.0;
constexpr double kMaxRotationErrorDeg = 2.0;

std::string ReadBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// RFC 4648 base64 with padding: what a browser's btoa() gives. Written here
// rather than taken from protobuf, so the test does not share the server's
// codec.
std::string Base64(const std::string& bytes) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  if (i + 1 == bytes.size()) {
    const uint32_t v = uint8_t(bytes[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    const uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

struct FixtureQuery {
  std::string name;
  std::string image_bytes;
  Json camera;  // {"model", "width", "height", "params"}
  Json prior;   // proto3 JSON of Prior
  Rigid3d gt_cam_from_world;
};

std::vector<FixtureQuery> LocalizableQueries() {
  const auto& small = GetSmallMap();
  auto json = ReadJsonFile(small.queries_json());
  auto gt = ReadJsonFile(small.queries_gt_json());
  EXPECT_TRUE(json.ok() && gt.ok());
  if (!json.ok() || !gt.ok()) return {};
  std::map<std::string, const Json*> gt_by_name;
  for (const Json& q : (*gt)["queries"]) gt_by_name[q["name"].get<std::string>()] = &q;
  std::vector<FixtureQuery> out;
  for (const Json& q : (*json)["queries"]) {
    const Json& g = *gt_by_name.at(q["name"].get<std::string>());
    if (!g["localizable"].get<bool>()) continue;
    FixtureQuery f;
    f.name = q["name"].get<std::string>();
    f.image_bytes = ReadBytes(small.capture_dir / q["image"].get<std::string>());
    const Json& cam = q["camera"];
    f.camera = {{"model", cam["model"]}, {"width", cam["width"]}, {"height", cam["height"]}, {"params", cam["params"]}};
    const Json& p = q["prior"];
    f.prior = {{"position", {{"latDeg", p["lat"]}, {"lonDeg", p["lon"]}, {"altM", p["alt"]}}},
               {"accuracyM", p["accuracy_m"]},
               {"gravityInCam", {{"x", p["gravity"][0]}, {"y", p["gravity"][1]}, {"z", p["gravity"][2]}}}};
    const Json& qv = g["cam_from_world"]["q"];
    const Json& tv = g["cam_from_world"]["t"];
    f.gt_cam_from_world =
        Rigid3d(Eigen::Quaterniond(qv[0].get<double>(), qv[1].get<double>(), qv[2].get<double>(), qv[3].get<double>()),
                Eigen::Vector3d(tv[0].get<double>(), tv[1].get<double>(), tv[2].get<double>()));
    out.push_back(std::move(f));
  }
  return out;
}

Json LocalizeBody(const FixtureQuery& q, const std::string& request_id) {
  return {{"camera", q.camera}, {"image", Base64(q.image_bytes)}, {"prior", q.prior}, {"requestId", request_id}};
}

// A baseline JPEG header (SOI, APP0, SOF0) claiming 60000 x 60000 pixels
// and no image data after it.
std::string HugeJpegHeader() {
  const unsigned char bytes[] = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J',  'F',  'I',  'F',  0x00, 0x01, 0x01, 0x00,
                                 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0xFF, 0xC0, 0x00, 0x11, 0x08, 0xEA, 0x60, 0xEA,
                                 0x60, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01, 0xFF, 0xD9};
  return std::string(reinterpret_cast<const char*>(bytes), sizeof(bytes));
}

class HttpGatewayTest : public ::testing::Test {
 protected:
  static void TearDownTestSuite() { testing::RemovePoiMapCopy(); }

  void Start(ServerOptions options = {}, HttpOptions http = {}) {
    options.map_dirs = {PoiMapDir()};
    options.host = "127.0.0.1";
    options.port = 0;
    if (options.num_workers == 0) options.num_workers = 2;
    auto server = Server::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    auto gateway = HttpGateway::Start(server_.get(), http);
    ASSERT_TRUE(gateway.ok()) << gateway.status();
    gateway_ = std::move(*gateway);
    ASSERT_GT(gateway_->port(), 0);
    EXPECT_EQ(gateway_->url(), "http://127.0.0.1:" + std::to_string(gateway_->port()));
    client_ = std::make_unique<httplib::Client>("127.0.0.1", gateway_->port());
    client_->set_read_timeout(std::chrono::seconds(60));
  }

  void TearDown() override {
    if (gateway_) gateway_->Shutdown();
    if (server_) server_->Shutdown();
  }

  httplib::Result Post(const std::string& path, const std::string& body, const httplib::Headers& headers = {}) {
    return client_->Post(path.c_str(), headers, body, "application/json");
  }

  // Status and parsed body; the body must be JSON whatever the status.
  std::pair<int, Json> PostJson(const std::string& path, const std::string& body,
                                const httplib::Headers& headers = {}) {
    auto res = Post(path, body, headers);
    EXPECT_TRUE(res) << path << ": " << httplib::to_string(res.error());
    if (!res) return {-1, Json()};
    EXPECT_EQ(res->get_header_value("Content-Type"), "application/json") << path;
    return {res->status, Json::parse(res->body, nullptr, /*allow_exceptions=*/false)};
  }
  std::pair<int, Json> GetJson(const std::string& path) {
    auto res = client_->Get(path.c_str());
    EXPECT_TRUE(res) << path << ": " << httplib::to_string(res.error());
    if (!res) return {-1, Json()};
    return {res->status, Json::parse(res->body, nullptr, false)};
  }

  // An error answer: HTTP status, the JSON body's gRPC code and name, and a
  // message containing `text`.
  void ExpectError(const std::pair<int, Json>& answer, int http_status, int grpc_code, const std::string& name,
                   const std::string& text, const std::string& what) {
    EXPECT_EQ(answer.first, http_status) << what << ": " << answer.second.dump();
    ASSERT_TRUE(answer.second.is_object()) << what;
    EXPECT_EQ(answer.second.value("code", -1), grpc_code) << what;
    EXPECT_EQ(answer.second.value("status", ""), name) << what;
    EXPECT_THAT(answer.second.value("message", ""), HasSubstr(text)) << what;
  }

  void ExpectStillServing(const std::string& after) {
    const auto [status, body] = GetJson("/healthz");
    EXPECT_EQ(status, 200) << "after " << after;
    EXPECT_EQ(body, Json({{"status", "SERVING"}})) << "after " << after;
  }

  std::unique_ptr<Server> server_;
  std::unique_ptr<HttpGateway> gateway_;
  std::unique_ptr<httplib::Client> client_;
};

Rigid3d PoseFromJson(const Json& j) {
  const Json& t = j["translation"];
  return Rigid3d(Eigen::Quaterniond(j["qw"].get<double>(), j["qx"].get<double>(), j["qy"].get<double>(),
                                    j["qz"].get<double>())
                     .normalized(),
                 Eigen::Vector3d(t["x"].get<double>(), t["y"].get<double>(), t["z"].get<double>()));
}

TEST_F(HttpGatewayTest, LocalizeOverJsonIsAccurate) {
  Start();
  const auto queries = LocalizableQueries();
  ASSERT_FALSE(queries.empty());
  int num_success = 0;
  for (const FixtureQuery& q : queries) {
    const auto [status, body] = PostJson("/v1/localize", LocalizeBody(q, "http-" + q.name).dump());
    ASSERT_EQ(status, 200) << q.name << ": " << body.dump();
    EXPECT_EQ(body["requestId"], "http-" + q.name);
    EXPECT_EQ(body["mapId"], server_->map_ids().front());
    // Defaults are printed: a web client reads success / counts directly.
    ASSERT_TRUE(body.contains("success") && body.contains("numInliers")) << body.dump();
    if (!body["success"].get<bool>()) continue;
    ++num_success;
    EXPECT_TRUE(body["mapVersion"].is_string()) << "int64 is a JSON string in proto3 JSON";
    EXPECT_TRUE(body["geoPose"].contains("headingDeg"));
    const Rigid3d cam_from_world = PoseFromJson(body["camFromWorld"]);
    EXPECT_LT((CameraCenter(cam_from_world) - CameraCenter(q.gt_cam_from_world)).norm(), kMaxPositionErrorM) << q.name;
    EXPECT_LT(RotationErrorDeg(cam_from_world.rotation, q.gt_cam_from_world.rotation), kMaxRotationErrorDeg)
        << q.name;
  }
  // The localizer succeeds on most localizable fixture queries (server_test
  // asks the same of gRPC); one success is enough to prove the mapping.
  EXPECT_GE(num_success, 1);

  // proto field names are accepted on input too.
  Json snake = LocalizeBody(queries.front(), "");
  snake.erase("requestId");
  snake["request_id"] = "snake";
  snake["prior"]["gravity_in_cam"] = snake["prior"]["gravityInCam"];
  snake["prior"].erase("gravityInCam");
  // A timeout above the cap is capped (60 s), not refused.
  const auto [status, body] =
      PostJson("/v1/localize", snake.dump(), {{"X-Armap-Timeout-Ms", "99999999999999999999999"}});
  EXPECT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["requestId"], "snake");
}

TEST_F(HttpGatewayTest, ListMapsAndGetMapInfo) {
  Start();
  const auto [status, list] = GetJson("/v1/maps");
  ASSERT_EQ(status, 200) << list.dump();
  ASSERT_EQ(list["maps"].size(), 1u);
  const Json& info = list["maps"][0];
  EXPECT_EQ(info["mapId"], server_->map_ids().front());
  auto manifest = map::ReadManifest(PoiMapDir());
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  EXPECT_NEAR(info["origin"]["latDeg"].get<double>(), manifest->origin.lat_deg, 1e-12);
  EXPECT_NEAR(info["origin"]["lonDeg"].get<double>(), manifest->origin.lon_deg, 1e-12);
  EXPECT_GT(std::stoll(info["numLandmarks"].get<std::string>()), 0);
  EXPECT_EQ(info["extractor"]["type"].get<std::string>().empty(), false);

  const auto [status2, one] = GetJson("/v1/maps/" + server_->map_ids().front());
  EXPECT_EQ(status2, 200);
  EXPECT_EQ(one, info);

  ExpectError(GetJson("/v1/maps/no_such_map"), 404, 5, "NOT_FOUND", "no_such_map", "unknown map");
  ExpectStillServing("unknown map");
}

TEST_F(HttpGatewayTest, RouteToAPoiMatchesTheGrpcAnswer) {
  Start();
  auto nav = LoadNavMap(PoiMapDir(), server_->map_ids().front());
  ASSERT_TRUE(nav.ok()) << nav.status();
  const NavMap& map = **nav;
  ASSERT_NE(map.graph, nullptr);
  ASSERT_FALSE(map.graph->pois().empty());
  // The first POI within 30 m of a network node (so within the 50 m snap
  // limit), from the node farthest from it.
  const nav::Poi* poi = nullptr;
  Eigen::Vector3d start_in_map;
  for (const nav::Poi& p : map.graph->pois()) {
    double nearest = std::numeric_limits<double>::infinity(), farthest = -1;
    for (const auto& node : map.graph->nodes()) {
      const double d = (node.position_in_map - p.position_in_map).head<2>().norm();
      nearest = std::min(nearest, d);
      if (d > farthest) farthest = d, start_in_map = node.position_in_map;
    }
    if (nearest < 30 && !p.name_en.empty()) {
      poi = &p;
      break;
    }
  }
  ASSERT_NE(poi, nullptr) << "no fixture POI near the network";
  const GeoPoint start = map.frame->Wgs84FromEnu(start_in_map);
  Json request = {{"requestId", "http-route"},
                  {"start", {{"position", {{"latDeg", start.lat_deg}, {"lonDeg", start.lon_deg}}}}},
                  {"poiName", poi->name_en}};
  const auto [status, body] = PostJson("/v1/route", request.dump());
  ASSERT_EQ(status, 200) << body.dump();
  EXPECT_EQ(body["requestId"], "http-route");
  EXPECT_EQ(body["destinationPoi"]["nameEn"], poi->name_en);
  EXPECT_EQ(body["destinationPoi"]["name"], poi->name);  // UTF-8 through JSON
  ASSERT_GE(body["routes"].size(), 1u);
  const Json& route = body["routes"][0];
  EXPECT_EQ(route["maneuvers"].front()["type"], "MANEUVER_TYPE_DEPART");  // enums by name
  EXPECT_EQ(route["maneuvers"].back()["type"], "MANEUVER_TYPE_ARRIVE");
  // The route ends where the POI meets the network.
  const Json& last = route["polylineMap"].back();
  const double end_to_poi_m = std::hypot(last["x"].get<double>() - poi->position_in_map.x(),
                                         last["y"].get<double>() - poi->position_in_map.y());
  EXPECT_NEAR(end_to_poi_m, route["destinationSnapDistanceM"].get<double>(), 0.05);

  // The same call over gRPC gives the same route.
  auto stub = v1::Navigation::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials()));
  v1::RouteRequest grpc_request;
  grpc_request.mutable_start()->mutable_position()->set_lat_deg(start.lat_deg);
  grpc_request.mutable_start()->mutable_position()->set_lon_deg(start.lon_deg);
  grpc_request.set_poi_name(poi->name_en);
  v1::RouteResponse grpc_response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  ASSERT_TRUE(stub->Route(&context, grpc_request, &grpc_response).ok());
  ASSERT_GE(grpc_response.routes_size(), 1);
  EXPECT_NEAR(route["lengthM"].get<double>(), grpc_response.routes(0).length_m(), 1e-9);
  EXPECT_EQ(route["polylineMap"].size(), static_cast<size_t>(grpc_response.routes(0).polyline_map_size()));

  ExpectError(PostJson("/v1/route", Json({{"start", request["start"]}, {"poiName", "No Such Shop 12345"}}).dump()),
              404, 5, "NOT_FOUND", "RouteRequest.poi_name", "unknown POI");
  ExpectStillServing("unknown POI");
}

TEST_F(HttpGatewayTest, ServesWhitelistedPackageFilesOnly) {
  Start();
  const std::string base = "/v1/maps/" + server_->map_ids().front() + "/files/";
  auto glb = client_->Get((base + "whitemodel/full.glb").c_str());
  ASSERT_TRUE(glb);
  EXPECT_EQ(glb->status, 200);
  EXPECT_EQ(glb->get_header_value("Content-Type"), "model/gltf-binary");
  EXPECT_EQ(glb->body.substr(0, 4), "glTF");
  EXPECT_EQ(glb->body, ReadBytes(PoiMapDir() / "whitemodel" / "full.glb"));

  auto png = client_->Get((base + "overview.png").c_str());
  ASSERT_TRUE(png);
  EXPECT_EQ(png->status, 200);
  EXPECT_EQ(png->get_header_value("Content-Type"), "image/png");
  EXPECT_EQ(png->body.substr(1, 3), "PNG");

  auto network = client_->Get((base + "roads/network.geojson").c_str());
  ASSERT_TRUE(network);
  EXPECT_EQ(network->get_header_value("Content-Type"), "application/geo+json");
  EXPECT_EQ(network->body, ReadBytes(PoiMapDir() / "roads" / "network.geojson"));

  for (const std::string& path : std::vector<std::string>{"landmarks.bin", "config.json", "../manifest.json",
                                                          "whitemodel/../landmarks.bin", "retrieval/index.faiss"}) {
    ExpectError(GetJson(base + path), 404, 5, "NOT_FOUND", "not a downloadable package file", path);
  }
  ExpectError(GetJson("/v1/maps/other/files/manifest.json"), 404, 5, "NOT_FOUND", "'other'", "unknown map");
  ExpectStillServing("file 404s");
}

TEST_F(HttpGatewayTest, CorsHeadersAndPreflight) {
  HttpOptions http;
  http.cors_origin = "https://demo.example";
  Start({}, http);
  auto get = client_->Get("/v1/maps");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->get_header_value("Access-Control-Allow-Origin"), "https://demo.example");
  auto error = client_->Get("/v1/maps/nope");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->status, 404);
  EXPECT_EQ(error->get_header_value("Access-Control-Allow-Origin"), "https://demo.example");

  for (const char* path : {"/v1/localize", "/v1/route", "/v1/maps/x/files/overview.png"}) {
    auto pre = client_->Options(path, {{"Origin", "https://demo.example"},
                                       {"Access-Control-Request-Method", "POST"},
                                       {"Access-Control-Request-Headers", "content-type,x-armap-timeout-ms"}});
    ASSERT_TRUE(pre) << path;
    EXPECT_EQ(pre->status, 204) << path;
    EXPECT_EQ(pre->get_header_value("Access-Control-Allow-Origin"), "https://demo.example") << path;
    EXPECT_EQ(pre->get_header_value("Access-Control-Allow-Methods"), "GET, POST, OPTIONS") << path;
    EXPECT_EQ(pre->get_header_value("Access-Control-Allow-Headers"), "Content-Type, X-Armap-Timeout-Ms") << path;
    EXPECT_EQ(pre->get_header_value("Access-Control-Max-Age"), "600") << path;
  }
  ExpectStillServing("preflight");
}

TEST_F(HttpGatewayTest, DefaultCorsOriginIsAnyOnEveryAnswer) {
  Start();
  for (const std::string& path : std::vector<std::string>{"/healthz", "/v1/maps", "/nothing/here"}) {
    auto res = client_->Get(path.c_str());
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->get_header_value("Access-Control-Allow-Origin"), "*") << path;
  }
  auto post = Post("/v1/localize", "{");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->get_header_value("Access-Control-Allow-Origin"), "*");
}

TEST_F(HttpGatewayTest, BadRequestsGetMappedStatusesAndTheServerGoesOn) {
  Start();
  const auto queries = LocalizableQueries();
  ASSERT_FALSE(queries.empty());
  const Json good = LocalizeBody(queries.front(), "bad");

  ExpectError(PostJson("/v1/localize", "{not json"), 400, 3, "INVALID_ARGUMENT", "LocalizeRequest", "garbage");
  ExpectStillServing("garbage JSON");
  ExpectError(PostJson("/v1/localize", ""), 400, 3, "INVALID_ARGUMENT", "LocalizeRequest", "empty body");

  Json unknown = good;
  unknown["bogusField"] = 1;
  ExpectError(PostJson("/v1/localize", unknown.dump()), 400, 3, "INVALID_ARGUMENT", "bogusField", "unknown field");
  ExpectStillServing("unknown field");

  Json huge = good;
  huge["image"] = Base64(HugeJpegHeader());
  ExpectError(PostJson("/v1/localize", huge.dump()), 400, 3, "INVALID_ARGUMENT", "60000", "60000x60000 JPEG");
  ExpectStillServing("huge JPEG header");

  Json no_camera = good;
  no_camera.erase("camera");
  ExpectError(PostJson("/v1/localize", no_camera.dump()), 400, 3, "INVALID_ARGUMENT", "camera", "no camera");

  Json other_map = good;
  other_map["mapId"] = "elsewhere";
  ExpectError(PostJson("/v1/localize", other_map.dump()), 404, 5, "NOT_FOUND", "elsewhere", "unknown map");
  ExpectStillServing("unknown map");

  for (const char* timeout : {"soon", "0", "-5", "1.5"}) {
    ExpectError(PostJson("/v1/localize", good.dump(), {{"X-Armap-Timeout-Ms", timeout}}), 400, 3, "INVALID_ARGUMENT",
                "X-Armap-Timeout-Ms", std::string("timeout header '") + timeout + "'");
  }
  // 1 ms cannot cover decoding a 1280 x 960 JPEG: the server's own deadline
  // path answers, mapped to 504.
  ExpectError(PostJson("/v1/localize", good.dump(), {{"X-Armap-Timeout-Ms", "1"}}), 504, 4, "DEADLINE_EXCEEDED", "",
              "1 ms deadline");
  ExpectStillServing("deadline");
}

TEST_F(HttpGatewayTest, WrongMethodIs405AndUnknownPathIs404) {
  Start();
  struct Case {
    std::string method, path, allow;
  };
  for (const Case& c : std::vector<Case>{{"GET", "/v1/localize", "POST, OPTIONS"},
                                         {"GET", "/v1/route", "POST, OPTIONS"},
                                         {"POST", "/v1/maps", "GET, HEAD, OPTIONS"},
                                         {"DELETE", "/v1/maps/x", "GET, HEAD, OPTIONS"},
                                         {"PUT", "/v1/maps/x/files/overview.png", "GET, HEAD, OPTIONS"},
                                         {"POST", "/healthz", "GET, HEAD, OPTIONS"}}) {
    httplib::Request req;
    req.method = c.method;
    req.path = c.path;
    if (c.method != "GET" && c.method != "DELETE") req.body = "{}";
    auto res = client_->send(req);
    ASSERT_TRUE(res) << c.method << " " << c.path;
    EXPECT_EQ(res->status, 405) << c.method << " " << c.path;
    EXPECT_EQ(res->get_header_value("Allow"), c.allow) << c.method << " " << c.path;
    const Json body = Json::parse(res->body, nullptr, false);
    EXPECT_EQ(body.value("status", ""), "UNIMPLEMENTED") << res->body;
    EXPECT_THAT(body.value("message", ""), HasSubstr("method not allowed")) << res->body;
  }
  ExpectError(GetJson("/v1/nothing"), 404, 5, "NOT_FOUND", "/v1/nothing", "unknown API path");
  ExpectError(GetJson("/"), 404, 5, "NOT_FOUND", "GET /", "no web root");
  ExpectStillServing("405s");
}

TEST_F(HttpGatewayTest, BodiesOverTheLimitAre413) {
  ServerOptions options;
  options.max_receive_message_bytes = 1 << 20;
  Start(options);
  const size_t limit = MaxHttpBodyBytes(options.max_receive_message_bytes);
  EXPECT_EQ(limit, static_cast<size_t>(std::ceil((1 << 20) * 4.0 / 3.0)) + 65536);

  // Over the HTTP limit: httplib refuses it before parsing.
  const std::string too_big = "{\"image\":\"" + std::string(limit, 'A') + "\"}";
  ExpectError(PostJson("/v1/localize", too_big), 413, 8, "RESOURCE_EXHAUSTED", std::to_string(limit), "body limit");
  ExpectStillServing("413 on the body");

  // Under the HTTP limit, but the decoded image is over the gRPC limit.
  const std::string image((1 << 20) + 1000, '\x01');
  const std::string body = Json({{"image", Base64(image)}}).dump();
  ASSERT_LT(body.size(), limit);
  ExpectError(PostJson("/v1/localize", body), 413, 8, "RESOURCE_EXHAUSTED", "the limit is 1048576", "message limit");
  ExpectStillServing("413 on the message");

  // httplib's own cap on form-encoded bodies, named in the answer.
  auto form = client_->Post("/v1/localize", body, "application/x-www-form-urlencoded");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->status, 413);
  EXPECT_THAT(form->body, HasSubstr("application/json"));
}

TEST_F(HttpGatewayTest, ServesStaticFilesFromTheWebRootOnly) {
  const fs::path root = fs::temp_directory_path() / ("armap_http_web_" + std::to_string(::getpid()));
  fs::remove_all(root);
  fs::create_directories(root / "js");
  std::ofstream(root / "index.html") << "<!doctype html><title>armap</title>";
  std::ofstream(root / "js" / "app.js") << "console.log('armap');";
  std::ofstream(root.parent_path() / ("armap_http_secret_" + std::to_string(::getpid()))) << "TOP-SECRET-CONTENT";
  HttpOptions http;
  http.web_root = root;
  Start({}, http);

  auto index = client_->Get("/");
  ASSERT_TRUE(index);
  EXPECT_EQ(index->status, 200);
  EXPECT_EQ(index->body, "<!doctype html><title>armap</title>");
  EXPECT_THAT(index->get_header_value("Content-Type"), StartsWith("text/html"));
  EXPECT_EQ(index->get_header_value("Access-Control-Allow-Origin"), "*");
  auto js = client_->Get("/js/app.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->body, "console.log('armap');");
  // A browser offers brotli; httplib's is far too slow for three.js, so the
  // answer is gzip.
  auto compressed = client_->Get("/js/app.js", {{"Accept-Encoding", "gzip, deflate, br, zstd"}});
  ASSERT_TRUE(compressed);
  EXPECT_EQ(compressed->status, 200);
  EXPECT_EQ(compressed->get_header_value("Content-Encoding"), "gzip");
  EXPECT_EQ(compressed->body, "console.log('armap');");
  auto brotli_only = client_->Get("/js/app.js", {{"Accept-Encoding", "br"}});
  ASSERT_TRUE(brotli_only);
  EXPECT_EQ(brotli_only->get_header_value("Content-Encoding"), "");
  EXPECT_EQ(brotli_only->body, "console.log('armap');");
  // Out of the web root: never the file.
  for (const std::string& path : {"/../armap_http_secret_" + std::to_string(::getpid()),
                                 "/js/../../armap_http_secret_" + std::to_string(::getpid()),
                                 "/%2e%2e/armap_http_secret_" + std::to_string(::getpid())}) {
    auto res = client_->Get(path.c_str());
    ASSERT_TRUE(res) << path;
    EXPECT_NE(res->status, 200) << path;
    EXPECT_THAT(res->body, ::testing::Not(HasSubstr("TOP-SECRET-CONTENT"))) << path;
  }
  // The API still answers next to the static files.
  EXPECT_EQ(GetJson("/v1/maps").first, 200);
  fs::remove_all(root);
  fs::remove(root.parent_path() / ("armap_http_secret_" + std::to_string(::getpid())));
}

TEST_F(HttpGatewayTest, ShutdownWithALocalizeInFlightAnswersIt) {
  Start();
  const auto queries = LocalizableQueries();
  ASSERT_FALSE(queries.empty());
  const std::string body = LocalizeBody(queries.front(), "in-flight").dump();
  auto answer = std::async(std::launch::async, [&] {
    httplib::Client client("127.0.0.1", gateway_->port());
    client.set_read_timeout(std::chrono::seconds(60));
    auto res = client.Post("/v1/localize", body, "application/json");
    return res ? res->status : -1;
  });
  // Until the call has reached the gRPC service (a worker may be on it).
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (server_->stats().requests_received == 0 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(server_->stats().requests_received, 1);
  // No grace: the call in flight is cancelled (499) unless already done (200).
  gateway_->Shutdown(std::chrono::milliseconds(0));
  server_->Shutdown();
  const int status = answer.get();
  EXPECT_TRUE(status == 200 || status == 499) << status;
  EXPECT_FALSE(httplib::Client("127.0.0.1", gateway_->port()).Get("/healthz")) << "still accepting after Shutdown";
}

// The server's queue bound applies to HTTP calls as to gRPC ones: one
// worker, one queue slot, six calls at once -> one runs, one waits, the
// rest are refused at once with RESOURCE_EXHAUSTED, i.e. 429.
TEST_F(HttpGatewayTest, AFullServerQueueIs429) {
  ServerOptions options;
  options.max_queued_requests = 1;
  options.num_workers = 1;
  Start(options);

  const auto queries = LocalizableQueries();
  ASSERT_FALSE(queries.empty());
  const std::string body = LocalizeBody(queries.front(), "busy").dump();
  constexpr int kCalls = 6;
  std::vector<std::future<std::pair<int, std::string>>> answers;
  for (int i = 0; i < kCalls; ++i) {
    answers.push_back(std::async(std::launch::async, [&] {
      httplib::Client client("127.0.0.1", gateway_->port());
      client.set_read_timeout(std::chrono::seconds(60));
      auto res = client.Post("/v1/localize", body, "application/json");
      return res ? std::make_pair(res->status, res->body) : std::make_pair(-1, std::string());
    }));
  }
  int ok = 0, busy = 0;
  for (auto& a : answers) {
    const auto [status, text] = a.get();
    if (status == 200) ++ok;
    if (status == 429) {
      ++busy;
      EXPECT_EQ(Json::parse(text, nullptr, false).value("status", ""), "RESOURCE_EXHAUSTED") << text;
    }
    EXPECT_TRUE(status == 200 || status == 429) << status << ": " << text;
  }
  EXPECT_GE(ok, 1);
  EXPECT_GE(busy, 1);
  EXPECT_EQ(server_->stats().rejected_queue_full, busy);
  ExpectStillServing("a full queue");
}

// A stalled TCP connection to the gateway: it sends a request line and no
// more, so the thread that takes it waits in httplib's header read (5 s read
// timeout) until the connection closes. (A connection that sends nothing
// would be dropped after the 1 s keep-alive wait.)
class IdleConnection {
 public:
  explicit IdleConnection(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    const char partial[] = "GET /healthz HTTP/1.1\r\n";
    connected_ = connected_ && ::send(fd_, partial, sizeof(partial) - 1, 0) == static_cast<ssize_t>(sizeof(partial) - 1);
  }
  ~IdleConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connected() const { return connected_; }

 private:
  int fd_;
  bool connected_ = false;
};

// One HTTP thread, one queue slot: a stalled connection holds the thread, a
// second one the slot; the third is answered at once by the refusing
// thread with 503 and Retry-After (not queued without bound). Once the
// stalled ones go, the gateway serves again. The 300 ms pauses let the
// thread take the first connection off the queue before the next arrives;
// the stalled ones hold for httplib's 5 s read timeout, far longer.
TEST_F(HttpGatewayTest, ConnectionsPastTheQueueBoundAre503) {
  HttpOptions http;
  http.num_threads = 1;
  http.max_queued_connections = 1;
  Start({}, http);
  {
    IdleConnection holds_the_thread(gateway_->port());
    ASSERT_TRUE(holds_the_thread.connected());
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    IdleConnection holds_the_slot(gateway_->port());
    ASSERT_TRUE(holds_the_slot.connected());
    std::this_thread::sleep_for(std::chrono::milliseconds(300));

    httplib::Client refused("127.0.0.1", gateway_->port());
    refused.set_read_timeout(std::chrono::seconds(3));
    const auto t0 = std::chrono::steady_clock::now();
    auto res = refused.Get("/healthz");
    const double waited_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    EXPECT_EQ(res->status, 503) << res->body;
    EXPECT_EQ(res->get_header_value("Retry-After"), "1");
    const Json body = Json::parse(res->body, nullptr, false);
    EXPECT_EQ(body.value("status", ""), "UNAVAILABLE") << res->body;
    EXPECT_THAT(body.value("message", ""), HasSubstr("too many connections"));
    EXPECT_LT(waited_s, 2.0) << "refused, but only after waiting";
  }
  // The thread notices the closed connections on its own schedule: poll.
  int status = -1;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (status != 200 && std::chrono::steady_clock::now() < give_up) {
    auto res = httplib::Client("127.0.0.1", gateway_->port()).Get("/healthz");
    status = res ? res->status : -1;
    if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(status, 200) << "not serving again after the idle connections closed";
}

TEST(HttpOptionsTest, ValidateNamesTheField) {
  HttpOptions o;
  EXPECT_TRUE(o.Validate().ok());
  o.port = 70000;
  EXPECT_THAT(std::string(o.Validate().message()), HasSubstr("HttpOptions::port = 70000"));
  o = HttpOptions();
  o.web_root = "/nonexistent/armap_web";
  EXPECT_THAT(std::string(o.Validate().message()), HasSubstr("/nonexistent/armap_web"));
  o = HttpOptions();
  o.cors_origin = "";
  EXPECT_THAT(std::string(o.Validate().message()), HasSubstr("cors_origin"));
  o = HttpOptions();
  o.default_timeout_ms = 90000;
  EXPECT_THAT(std::string(o.Validate().message()), HasSubstr("default_timeout_ms = 90000"));
  o = HttpOptions();
  o.max_queued_connections = 0;
  EXPECT_THAT(std::string(o.Validate().message()), HasSubstr("max_queued_connections = 0"));
}

TEST(ServeHttpCommandTest, PrintsTheHttpLineAndAnswersOverHttp) {
  armap::testing::ServeProcess serve(ARMAP_CLI, GetSmallMap().map_dir.string(), {"--http-port", "0"});
  const armap::testing::ServeAddresses addresses = serve.WaitReady();
  ASSERT_FALSE(addresses.grpc.empty()) << "armap serve did not come up";
  ASSERT_THAT(addresses.http, StartsWith("http://127.0.0.1:"));
  const int port = std::atoi(addresses.http.c_str() + std::string("http://127.0.0.1:").size());
  ASSERT_GT(port, 0);
  httplib::Client client("127.0.0.1", port);
  auto health = client.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, R"({"status":"SERVING"})");
  auto maps = client.Get("/v1/maps");
  ASSERT_TRUE(maps);
  EXPECT_EQ(maps->status, 200);
  EXPECT_THAT(maps->body, HasSubstr("\"mapId\""));
}

}  // namespace
}  // namespace armap::server
