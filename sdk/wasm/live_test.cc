// Runs sdk/wasm/tests/live_server.mjs (node --test) against a real `armap
// serve --http-port 0` on the small fixture map, with one POI written into a
// per-process copy of the map package (the fixture map has none): the node
// test localizes a fixture query through ArmapClient and checks it against
// the ground truth, reads map info and files, routes to the POI and follows
// the route with the WebAssembly RouteFollower (and a wrong turn re-routed
// through GuidanceSession).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/geo.h"
#include "core/json.h"
#include "core/map/package.h"
#include "sdk/cpp/sdk_test_util.h"
#include "server/navigation_test_util.h"
#include "tests/serve_process.h"

namespace armap::sdk {
namespace {

namespace fs = std::filesystem;

std::string Join(const std::vector<double>& v) {
  std::ostringstream out;
  out.precision(17);
  for (size_t i = 0; i < v.size(); ++i) out << (i ? "," : "") << v[i];
  return out.str();
}

struct PoiSetup {
  std::string name;
  armap::GeoPoint start;  // a network node
  double start_to_poi_m = 0;
};

// A copy of the map with a network (server/navigation_test_util.h) and one
// POI placed at the network node farthest from the first node, which is
// the start; the manifest lists the new POI file's hash.
PoiSetup WriteMapWithPoi(const fs::path& copy) {
  PoiSetup setup;
  fs::remove_all(copy);
  fs::copy(server::testing::NetworkMapDir(), copy, fs::copy_options::recursive);
  auto manifest = map::ReadManifest(copy);
  EXPECT_TRUE(manifest.ok()) << manifest.status();
  const EnuFrame frame(manifest->origin);
  auto network = ReadJsonFile(copy / "roads" / "network.geojson");
  EXPECT_TRUE(network.ok()) << network.status();
  std::vector<Eigen::Vector3d> nodes;
  std::vector<armap::GeoPoint> geo;
  for (const Json& f : (*network)["features"]) {
    if (f["properties"].value("kind", "") != "walk_node") continue;
    const Json& c = f["geometry"]["coordinates"];
    const armap::GeoPoint g{c[1].get<double>(), c[0].get<double>(), c.size() > 2 ? c[2].get<double>() : manifest->origin.alt_m};
    geo.push_back(g);
    nodes.push_back(frame.EnuFromWgs84(g));
  }
  EXPECT_GE(nodes.size(), 2u);
  size_t far = 1;
  for (size_t i = 1; i < nodes.size(); ++i) {
    if ((nodes[i] - nodes[0]).head<2>().norm() > (nodes[far] - nodes[0]).head<2>().norm()) far = i;
  }
  setup.name = "WASM Test Cafe";
  setup.start = geo[0];
  setup.start_to_poi_m = (nodes[far] - nodes[0]).head<2>().norm();
  const Json poi = {{"type", "Feature"},
                    {"properties",
                     {{"id", 1}, {"name", "测试咖啡"}, {"name_en", setup.name}, {"category", "cafe"}, {"confidence", 0.9},
                      {"position_enu", Json::array({nodes[far].x(), nodes[far].y(), nodes[far].z()})}}},
                    {"geometry", {{"type", "Point"}, {"coordinates", Json::array({geo[far].lon_deg, geo[far].lat_deg})}}}};
  const fs::path pois = copy / "pois" / "pois.geojson";
  fs::create_directories(pois.parent_path());
  std::ofstream(pois) << Json({{"type", "FeatureCollection"}, {"features", Json::array({poi})}}).dump();
  auto json = ReadJsonFile(copy / "manifest.json");
  EXPECT_TRUE(json.ok()) << json.status();
  auto sha = map::Sha256OfFile(pois);
  EXPECT_TRUE(sha.ok()) << sha.status();
  (*json)["files"]["pois/pois.geojson"] = {{"sha256", *sha}, {"bytes", fs::file_size(pois)}};
  std::ofstream(copy / "manifest.json") << json->dump(2);
  return setup;
}

TEST(WasmSdkTest, NodeSuitePassesAgainstARealHttpServer) {
  const auto& map = armap::testing::GetSmallMap();
  auto queries = testing::LoadFixtureQueries(map);
  ASSERT_TRUE(queries.ok()) << queries.status();
  const testing::FixtureQuery* query = nullptr;
  for (const auto& q : *queries) {
    if (q.localizable) {
      query = &q;
      break;
    }
  }
  ASSERT_NE(query, nullptr);
  const fs::path copy = fs::temp_directory_path() / ("armap_wasm_test_map_" + std::to_string(::getpid()));
  const PoiSetup poi = WriteMapWithPoi(copy);
  ASSERT_GT(poi.start_to_poi_m, 20.0);

  std::string env = std::string("ARMAP_WASM_PKG='") + ARMAP_WASM_PKG + "'" +
                    " ARMAP_TEST_QUERY_IMAGE='" + query->image_path.string() + "'" +
                    " ARMAP_TEST_QUERY_CAMERA='" + query->camera_model + "," + std::to_string(query->width) + "," +
                    std::to_string(query->height) + "," + Join(query->camera_params) + "'" +
                    " ARMAP_TEST_QUERY_PRIOR='" + Join({query->lat_deg, query->lon_deg, query->alt_m, query->accuracy_m}) + "'" +
                    " ARMAP_TEST_QUERY_GRAVITY='" + Join({query->gravity_in_cam.begin(), query->gravity_in_cam.end()}) + "'" +
                    " ARMAP_TEST_GT_Q='" + Join({query->gt_q.begin(), query->gt_q.end()}) + "'" +
                    " ARMAP_TEST_GT_T='" + Join({query->gt_t.begin(), query->gt_t.end()}) + "'" +
                    " ARMAP_TEST_POI='" + poi.name + "'" +
                    " ARMAP_TEST_START='" + Join({poi.start.lat_deg, poi.start.lon_deg, poi.start.alt_m}) + "'";
  int exit_code = -1;
  std::string output;
  {
    armap::testing::ServeProcess server(ARMAP_CLI, copy.string(), {"--http-port", "0"});
    const std::string url = server.WaitReady().http;
    ASSERT_FALSE(url.empty()) << "armap serve printed no 'http on' ready line";
    const std::string command = env + " ARMAP_TEST_HTTP='" + url + "' " + ARMAP_NODE + " --test '" +
                                ARMAP_WASM_LIVE_TEST + "' 2>&1";
    FILE* pipe = ::popen(command.c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.append(buffer, n);
    const int status = ::pclose(pipe);
    exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }  // the server is stopped here
  fs::remove_all(copy);
  server::testing::RemoveNetworkMapCopy();
  std::printf("%s\n", output.c_str());
  EXPECT_EQ(exit_code, 0) << output;
  EXPECT_NE(output.find("# fail 0"), std::string::npos) << output;
  EXPECT_EQ(output.find("# pass 0"), std::string::npos) << "no test ran:\n" << output;
}

}  // namespace
}  // namespace armap::sdk
