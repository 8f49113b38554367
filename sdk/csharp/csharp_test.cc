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
#include <string>
#include <vector>

#include "sdk/cpp/sdk_test_util.h"
#include "server/navigation_test_util.h"
#include "tests/fixtures/small_map.h"
#include "tests/serve_process.h"

namespace armap::sdk {
namespace {

namespace fs = std::filesystem;

TEST(CSharpSdkTest, NUnitSuitePassesAgainstARealServer) {
  const auto& map = armap::testing::GetSmallMap();
  auto query = testing::FirstLocalizableFixtureQuery(map);
  ASSERT_TRUE(query.ok()) << query.status();
  const fs::path dir = fs::temp_directory_path() / ("armap_csharp_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path query_file = dir / "query.txt";
  const server::testing::FixtureRouteTarget target = server::testing::FarthestReachablePoi();
  ASSERT_FALSE(target.poi_name_en.empty());
  const fs::path map_dir = server::testing::PoiMapDir();
  {
    std::ofstream out(query_file);
    out << "image=" << query->image_path.string() << "\n"
        << "model=" << query->camera_model << "\nwidth=" << query->width << "\nheight=" << query->height << "\n"
        << "params=" << testing::JoinNumbers(query->camera_params) << "\n"
        << "prior=" << testing::JoinNumbers({query->lat_deg, query->lon_deg, query->alt_m, query->accuracy_m}) << "\n"
        << "gravity=" << testing::JoinNumbers({query->gravity_in_cam.begin(), query->gravity_in_cam.end()}) << "\n"
        << "gt_q=" << testing::JoinNumbers({query->gt_q.begin(), query->gt_q.end()}) << "\n"
        << "gt_t=" << testing::JoinNumbers({query->gt_t.begin(), query->gt_t.end()}) << "\n"
        // Navigation: a POI, where the network reaches it, and a start node.
        << "poi=" << target.poi_name_en << "\n"
        << "poi_on_network=" << testing::JoinNumbers({target.poi_snapped.lat_deg, target.poi_snapped.lon_deg}) << "\n"
        << "nav_start=" << testing::JoinNumbers({target.start.lat_deg, target.start.lon_deg}) << "\n";
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
    const armap::testing::CommandResult run = armap::testing::RunCommand(command);
    exit_code = run.exit_code;
    output = run.output;
  }  // the server is stopped here
  fs::remove_all(dir);
  server::testing::RemovePoiMapCopy();
  std::printf("%s\n", output.c_str());
  EXPECT_EQ(exit_code, 0) << output;
  EXPECT_NE(output.find("Failures: 0"), std::string::npos) << output;
  EXPECT_EQ(output.find("Tests run: 0,"), std::string::npos) << "no test ran:\n" << output;
}

}  // namespace
}  // namespace armap::sdk
