// The demo page (server/web) end to end in headless Chromium: `armap serve
// --http-port 0` on the small fixture map, then tests/browser/demo_test.mjs
// (playwright-core) uploads a localizable fixture photo and checks the pose
// marker in a screenshot against the ground truth, a route to a POI, and the
// errors shown for bad photos. The screenshots are left in the build folder
// (tests/browser/demo_*.png).
//
// The small map has no POIs (its synthetic city has no shop signs), so the
// server runs on a per-process copy with one POI written in beside a
// sidewalk, listed in the manifest so that the package still verifies.
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

#include "core/geo.h"
#include "core/json.h"
#include "core/map/package.h"
#include "sdk/cpp/sdk_test_util.h"
#include "tests/fixtures/small_map.h"
#include "tests/serve_process.h"

namespace armap {
namespace {

namespace fs = std::filesystem;

constexpr int kSkipExitCode = 77;  // demo_test.mjs: browser or npm packages missing
constexpr char kPoiName[] = "星光书店";

Eigen::Vector3d CentreFromCamFromWorld(const std::array<double, 4>& q, const std::array<double, 3>& t) {
  const Eigen::Quaterniond cam_from_world_rotation(q[0], q[1], q[2], q[3]);
  return -(cam_from_world_rotation.normalized().conjugate() * Eigen::Vector3d(t[0], t[1], t[2]));
}

// Writes MAP/pois/pois.geojson with one POI 3 m east of the middle of the
// sidewalk farthest from `from_in_map` (so the route crosses the map), and
// updates the manifest's entry for it.
void WritePoi(const fs::path& map_dir, const Eigen::Vector3d& from_in_map) {
  auto manifest = map::ReadManifest(map_dir);
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  const EnuFrame frame(manifest->origin);
  auto network = ReadJsonFile(map_dir / "roads" / "network.geojson");
  ASSERT_TRUE(network.ok()) << network.status();
  Eigen::Vector3d best = Eigen::Vector3d::Zero();
  double best_distance_m = -1;
  for (const Json& f : (*network)["features"]) {
    if (f["properties"].value("kind", "") != "sidewalk") continue;
    const Json& c = f["geometry"]["coordinates"];
    const Json& a = c.front();
    const Json& b = c.back();
    const Eigen::Vector3d mid =
        0.5 * (frame.EnuFromWgs84({a[1].get<double>(), a[0].get<double>(), manifest->origin.alt_m}) +
               frame.EnuFromWgs84({b[1].get<double>(), b[0].get<double>(), manifest->origin.alt_m}));
    const double d = (mid - from_in_map).head<2>().norm();
    if (d > best_distance_m) {
      best_distance_m = d;
      best = mid;
    }
  }
  ASSERT_GT(best_distance_m, 0) << "the fixture map's network has no sidewalk";
  const Eigen::Vector3d poi_in_map(best.x() + 3.0, best.y(), 3.0);
  const GeoPoint g = frame.Wgs84FromEnu(poi_in_map);
  const Json pois = {
      {"type", "FeatureCollection"},
      {"features", Json::array({{{"type", "Feature"},
                                 {"geometry", {{"type", "Point"}, {"coordinates", {g.lon_deg, g.lat_deg}}}},
                                 {"properties",
                                  {{"id", 0},
                                   {"name", kPoiName},
                                   {"name_en", "Starlight Books"},
                                   {"category", "books"},
                                   {"confidence", 0.9},
                                   {"position_enu", {poi_in_map.x(), poi_in_map.y(), poi_in_map.z()}},
                                   {"panoramas", Json::array()}}}}})}};
  const fs::path path = map_dir / "pois" / "pois.geojson";
  fs::create_directories(path.parent_path());
  std::ofstream(path) << pois.dump();
  auto json = ReadJsonFile(map_dir / "manifest.json");
  ASSERT_TRUE(json.ok()) << json.status();
  auto sha = map::Sha256OfFile(path);
  ASSERT_TRUE(sha.ok()) << sha.status();
  (*json)["files"]["pois/pois.geojson"] = {{"sha256", *sha}, {"bytes", fs::file_size(path)}};
  std::ofstream(map_dir / "manifest.json") << json->dump(2);
}

TEST(BrowserDemoTest, PoseMarkerRouteAndErrorsInHeadlessChromium) {
  if (std::string(ARMAP_NODE).empty() || std::string(ARMAP_NODE).find("NOTFOUND") != std::string::npos) {
    GTEST_SKIP() << "node not found at configure time; run scripts/install_deps.sh";
  }
  const auto& map = testing::GetSmallMap();
  auto queries = sdk::testing::LoadFixtureQueries(map);
  ASSERT_TRUE(queries.ok()) << queries.status();
  const sdk::testing::FixtureQuery* query = nullptr;
  for (const auto& q : *queries) {
    if (q.localizable) {
      query = &q;
      break;
    }
  }
  ASSERT_NE(query, nullptr) << "the fixture has no localizable query";

  const fs::path dir = fs::temp_directory_path() / ("armap_browser_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path map_copy = dir / "map";
  fs::copy(map.map_dir, map_copy, fs::copy_options::recursive);
  WritePoi(map_copy, CentreFromCamFromWorld(query->gt_q, query->gt_t));
  if (HasFatalFailure()) return;

  const fs::path query_file = dir / "query.json";
  {
    const Json q = {{"image", query->image_path.string()},
                    {"width", query->width},
                    {"height", query->height},
                    {"params", query->camera_params},
                    {"prior", {{"lat", query->lat_deg}, {"lon", query->lon_deg}, {"accuracy_m", query->accuracy_m}}},
                    {"gravity", query->gravity_in_cam},
                    {"gt_cam_from_world", {{"q", query->gt_q}, {"t", query->gt_t}}},
                    {"poi_name", kPoiName}};
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
    FILE* pipe = ::popen(command.c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.append(buffer, n);
    const int status = ::pclose(pipe);
    exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }  // the server is stopped here
  fs::remove_all(dir);
  std::printf("%s\n", output.c_str());
  if (exit_code == kSkipExitCode) GTEST_SKIP() << output;
  EXPECT_EQ(exit_code, 0) << output;
  EXPECT_NE(output.find("\nPASS"), std::string::npos) << output;
}

}  // namespace
}  // namespace armap
