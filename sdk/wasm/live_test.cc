// Runs sdk/wasm/tests/live_server.mjs (node --test) against a real `armap
// serve --http-port 0` on the small fixture map with the city's ground-truth
// POIs written in (server/navigation_test_util.h PoiMapDir()): the node
// test localizes a fixture query through ArmapClient and checks it against
// the ground truth, reads map info and files, routes to the POI and follows
// the route with the WebAssembly RouteFollower (and a wrong turn re-routed
// through GuidanceSession).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "sdk/cpp/sdk_test_util.h"
#include "server/navigation_test_util.h"
#include "tests/serve_process.h"

namespace armap::sdk {
namespace {

namespace fs = std::filesystem;

TEST(WasmSdkTest, NodeSuitePassesAgainstARealHttpServer) {
  const auto& map = armap::testing::GetSmallMap();
  auto query = testing::FirstLocalizableFixtureQuery(map);
  ASSERT_TRUE(query.ok()) << query.status();
  const server::testing::FixtureRouteTarget poi = server::testing::FarthestReachablePoi();
  ASSERT_FALSE(poi.poi_name_en.empty());
  const fs::path copy = server::testing::PoiMapDir();

  std::string env = std::string("ARMAP_WASM_PKG='") + ARMAP_WASM_PKG + "'" +
                    " ARMAP_TEST_QUERY_IMAGE='" + query->image_path.string() + "'" +
                    " ARMAP_TEST_QUERY_CAMERA='" + query->camera_model + "," + std::to_string(query->width) + "," +
                    std::to_string(query->height) + "," + testing::JoinNumbers(query->camera_params) + "'" +
                    " ARMAP_TEST_QUERY_PRIOR='" + testing::JoinNumbers({query->lat_deg, query->lon_deg, query->alt_m, query->accuracy_m}) + "'" +
                    " ARMAP_TEST_QUERY_GRAVITY='" + testing::JoinNumbers({query->gravity_in_cam.begin(), query->gravity_in_cam.end()}) + "'" +
                    " ARMAP_TEST_GT_Q='" + testing::JoinNumbers({query->gt_q.begin(), query->gt_q.end()}) + "'" +
                    " ARMAP_TEST_GT_T='" + testing::JoinNumbers({query->gt_t.begin(), query->gt_t.end()}) + "'" +
                    " ARMAP_TEST_POI='" + poi.poi_name_en + "'" +
                    " ARMAP_TEST_START='" + testing::JoinNumbers({poi.start.lat_deg, poi.start.lon_deg, poi.start.alt_m}) + "'";
  int exit_code = -1;
  std::string output;
  {
    armap::testing::ServeProcess server(ARMAP_CLI, copy.string(), {"--http-port", "0"});
    const std::string url = server.WaitReady().http;
    ASSERT_FALSE(url.empty()) << "armap serve printed no 'http on' ready line";
    const std::string command = env + " ARMAP_TEST_HTTP='" + url + "' " + ARMAP_NODE + " --test '" +
                                ARMAP_WASM_LIVE_TEST + "' 2>&1";
    const armap::testing::CommandResult run = armap::testing::RunCommand(command);
    exit_code = run.exit_code;
    output = run.output;
  }  // the server is stopped here
  server::testing::RemovePoiMapCopy();
  std::printf("%s\n", output.c_str());
  EXPECT_EQ(exit_code, 0) << output;
  EXPECT_NE(output.find("# fail 0"), std::string::npos) << output;
  EXPECT_EQ(output.find("# pass 0"), std::string::npos) << "no test ran:\n" << output;
}

}  // namespace
}  // namespace armap::sdk
