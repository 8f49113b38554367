// Runs the NUnit tests of Armap.Sdk (nunit-console) against a real `armap
// serve` on loopback serving the small fixture map. The server is a child
// process, stopped with SIGTERM (and reaped) whatever the tests do.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/geo.h"
#include "core/json.h"
#include "core/map/package.h"
#include "navigation/walk_graph.h"
#include "sdk/cpp/sdk_test_util.h"
#include "tests/fixtures/small_map.h"
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

// The small map's package with POIs to route to: its own POI stage reads
// none of the small city's signs, so the capture's ground-truth POIs are
// written in (and listed in the manifest, so the package still verifies).
// Returns the copy; *poi_en / *start get a POI within reach of the network
// and a network node far from it.
fs::path MapWithPois(const armap::testing::SmallMap& small, const fs::path& dir, std::string* poi_en,
                     armap::GeoPoint* start, armap::GeoPoint* poi_geo) {
  const fs::path copy = dir / "map";
  fs::copy(small.map_dir, copy, fs::copy_options::recursive);
  const fs::path pois = copy / "pois" / "pois.geojson";
  fs::copy_file(small.capture_dir / "gt" / "pois.geojson", pois, fs::copy_options::overwrite_existing);
  auto manifest_json = ReadJsonFile(copy / "manifest.json");
  EXPECT_TRUE(manifest_json.ok()) << manifest_json.status();
  auto sha = map::Sha256OfFile(pois);
  EXPECT_TRUE(sha.ok()) << sha.status();
  (*manifest_json)["files"]["pois/pois.geojson"] = {{"sha256", *sha}, {"bytes", fs::file_size(pois)}};
  std::ofstream(copy / "manifest.json") << manifest_json->dump(2);
  auto manifest = map::ReadManifest(copy);
  EXPECT_TRUE(manifest.ok()) << manifest.status();
  const EnuFrame frame(manifest->origin);
  auto graph = nav::LoadWalkGraph(copy / "roads" / "network.geojson", pois, frame);
  EXPECT_TRUE(graph.ok()) << graph.status();
  if (!graph.ok()) return copy;
  // The POI the server can reach (its snap allows 50 m), farthest from node 0.
  const Eigen::Vector3d from = graph->nodes()[0].position_in_map;
  double best = -1;
  for (const nav::Poi& p : graph->pois()) {
    auto snapped = graph->Snap(p.position_in_map, std::nullopt, nav::SnapOptions());
    if (!snapped.ok() || p.name_en.empty()) continue;
    const double d = (snapped->point_in_map - from).head<2>().norm();
    if (d > best) {
      best = d;
      *poi_en = p.name_en;
      *poi_geo = frame.Wgs84FromEnu(snapped->point_in_map);
    }
  }
  *start = frame.Wgs84FromEnu(from);
  EXPECT_GT(best, 20.0) << "no POI of the small city lies far enough along its network";
  return copy;
}

TEST(CSharpSdkTest, NUnitSuitePassesAgainstARealServer) {
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
  const fs::path dir = fs::temp_directory_path() / ("armap_csharp_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path query_file = dir / "query.txt";
  std::string poi_en;
  armap::GeoPoint start, poi_geo;
  const fs::path map_dir = MapWithPois(map, dir, &poi_en, &start, &poi_geo);
  ASSERT_FALSE(poi_en.empty());
  {
    std::ofstream out(query_file);
    out << "image=" << query->image_path.string() << "\n"
        << "model=" << query->camera_model << "\nwidth=" << query->width << "\nheight=" << query->height << "\n"
        << "params=" << Join(query->camera_params) << "\n"
        << "prior=" << Join({query->lat_deg, query->lon_deg, query->alt_m, query->accuracy_m}) << "\n"
        << "gravity=" << Join({query->gravity_in_cam.begin(), query->gravity_in_cam.end()}) << "\n"
        << "gt_q=" << Join({query->gt_q.begin(), query->gt_q.end()}) << "\n"
        << "gt_t=" << Join({query->gt_t.begin(), query->gt_t.end()}) << "\n"
        // Navigation: a POI, where the network reaches it, and a start node.
        << "poi=" << poi_en << "\n"
        << "poi_on_network=" << Join({poi_geo.lat_deg, poi_geo.lon_deg}) << "\n"
        << "nav_start=" << Join({start.lat_deg, start.lon_deg}) << "\n";
  }
  int exit_code = -1;
  std::string output;
  {
    armap::testing::ServeProcess server(ARMAP_CLI, map_dir.string());
    const std::string address = server.WaitReady().grpc;
    ASSERT_FALSE(address.empty()) << "armap serve printed no ready line";
    const std::string command = "cd '" + dir.string() + "' && ARMAP_TEST_SERVER=" + address + " ARMAP_TEST_QUERY='" +
                                query_file.string() + "' " + ARMAP_NUNIT_CONSOLE + " -nologo -noshadow -xml='" +
                                (dir / "TestResult.xml").string() + "' '" + ARMAP_CSHARP_TESTS_DLL + "' 2>&1";
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
  EXPECT_EQ(exit_code, 0) << output;
  EXPECT_NE(output.find("Failures: 0"), std::string::npos) << output;
  EXPECT_EQ(output.find("Tests run: 0,"), std::string::npos) << "no test ran:\n" << output;
}

}  // namespace
}  // namespace armap::sdk
