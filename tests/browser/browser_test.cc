// The demo page (server/web) end to end in headless Chromium: `armap serve
// --http-port 0` on the small fixture map, then tests/browser/demo_test.mjs
// (playwright-core) uploads a localizable fixture photo and checks the pose
// marker in a screenshot against the ground truth, a route to a POI, and the
// errors shown for bad photos. The screenshots are left in the build folder
// (tests/browser/demo_*.png).
//
// The small map reads none of its city's signs, so the server runs on a
// per-process copy with the ground-truth POIs written in
// (server/navigation_test_util.h PoiMapDir()).
// Skipped (not failed) without node, Chromium or server/web/node_modules:
// scripts/install_deps.sh installs them.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <Eigen/Core>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/json.h"
#include "sdk/cpp/sdk_test_util.h"
#include "server/navigation_test_util.h"
#include "tests/fixtures/small_map.h"
#include "tests/serve_process.h"

namespace armap {
namespace {

namespace fs = std::filesystem;

constexpr int kSkipExitCode = 77;  // demo_test.mjs: browser or npm packages missing

Eigen::Vector3d CentreFromCamFromWorld(const std::array<double, 4>& q, const std::array<double, 3>& t) {
  const Eigen::Quaterniond cam_from_world_rotation(q[0], q[1], q[2], q[3]);
  return -(cam_from_world_rotation.normalized().conjugate() * Eigen::Vector3d(t[0], t[1], t[2]));
}

TEST(BrowserDemoTest, PoseMarkerRouteAndErrorsInHeadlessChromium) {
  if (std::string(ARMAP_NODE).empty() || std::string(ARMAP_NODE).find("NOTFOUND") != std::string::npos) {
    GTEST_SKIP() << "node not found at configure time; run scripts/install_deps.sh";
  }
  const auto& map = testing::GetSmallMap();
  auto query = sdk::testing::FirstLocalizableFixtureQuery(map);
  ASSERT_TRUE(query.ok()) << query.status();

  const fs::path dir = fs::temp_directory_path() / ("armap_browser_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  // The POI farthest from the photo's place, so that the route crosses the map.
  const server::testing::FixtureRouteTarget target =
      server::testing::FarthestReachablePoi(CentreFromCamFromWorld(query->gt_q, query->gt_t));
  ASSERT_FALSE(target.poi_name.empty());
  const fs::path map_copy = server::testing::PoiMapDir();

  const fs::path query_file = dir / "query.json";
  {
    const Json q = {{"image", query->image_path.string()},
                    {"width", query->width},
                    {"height", query->height},
                    {"params", query->camera_params},
                    {"prior", {{"lat", query->lat_deg}, {"lon", query->lon_deg}, {"accuracy_m", query->accuracy_m}}},
                    {"gravity", query->gravity_in_cam},
                    {"gt_cam_from_world", {{"q", query->gt_q}, {"t", query->gt_t}}},
                    {"poi_name", target.poi_name}};
    std::ofstream(query_file) << q.dump(1);
  }

  int exit_code = -1;
  std::string output;
  {
    testing::ServeProcess server(ARMAP_CLI, map_copy.string(), {"--http-port", "0", "--web-root", ARMAP_WEB_ROOT});
    const testing::ServeAddresses addresses = server.WaitReady();
    ASSERT_FALSE(addresses.http.empty()) << "armap serve printed no 'http on' line";
    const std::string command = "ARMAP_WEB_URL='" + addresses.http + "' ARMAP_WEB_QUERY='" + query_file.string() +
                                "' ARMAP_WEB_OUT='" + std::string(ARMAP_WEB_OUT) + "' timeout 120 '" + ARMAP_NODE +
                                "' '" + ARMAP_DEMO_TEST_SCRIPT + "' 2>&1";
    const armap::testing::CommandResult run = armap::testing::RunCommand(command);
    exit_code = run.exit_code;
    output = run.output;
  }  // the server is stopped here
  fs::remove_all(dir);
  std::printf("%s\n", output.c_str());
  if (exit_code == kSkipExitCode) GTEST_SKIP() << output;
  EXPECT_EQ(exit_code, 0) << output;
  EXPECT_NE(output.find("\nPASS"), std::string::npos) << output;
}

}  // namespace
}  // namespace armap
