// Runs tests/c_abi_test.c (a plain C program linked only against
// libarmap_sdk_c.so) against an in-process server on loopback, then checks
// its exit code and the pose it printed against the ground truth (tolerance
// as in client_test.cc: 0.5 m between camera centres, 2 degrees).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "armap/sdk/client.h"
#include "core/files.h"
#include "core/testing/status_matchers.h"
#include "sdk_test_util.h"
#include "server/server.h"
#include "tests/fixtures/small_map.h"

namespace armap::sdk {
namespace {

using ::armap::testing::IsOk;

constexpr double kMaxPositionErrorM = 0.5;
constexpr double kMaxRotationErrorDeg = 2.0;

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

std::string Join(const std::vector<double>& values) {
  std::ostringstream out;
  out.precision(17);
  for (size_t i = 0; i < values.size(); ++i) out << (i ? "," : "") << values[i];
  return out.str();
}

// Runs `command`, returning its exit code (-1 if it did not exit) and stdout.
int RunCommand(const std::string& command, std::string* output) {
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) output->append(buffer, n);
  const int status = ::pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Parses "<tag> v0 v1 ..." lines (the stream lines carry an index first).
std::vector<std::vector<double>> Lines(const std::string& output, const std::string& tag) {
  std::vector<std::vector<double>> out;
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string first;
    if (!(words >> first) || first != tag) continue;
    std::vector<double> values;
    double v;
    while (words >> v) values.push_back(v);
    out.push_back(values);
  }
  return out;
}

TEST(CAbiLauncherTest, CProgramAgainstServer) {
  const auto& map = armap::testing::GetSmallMap();
  auto queries = testing::LoadFixtureQueries(map);
  ASSERT_THAT(queries, IsOk());
  auto server = testing::StartFixtureServer(map);
  ASSERT_THAT(server, IsOk());

  // The C program gets a query the server localizes (through the C++
  // client): the localizer may miss some localizable ones, and this test
  // is about the C ABI, not about the localizer's recall.
  ClientOptions client_options;
  client_options.timeout_ms = 60000;
  auto client = Client::Connect("127.0.0.1:" + std::to_string((*server)->port()), client_options);
  ASSERT_THAT(client, IsOk());
  // A clear success (confidence >= 0.6) is preferred: the C program
  // localizes it three times.
  const testing::FixtureQuery* query = nullptr;
  double best_confidence = 0;
  for (const auto& q : *queries) {
    if (!q.localizable) continue;
    LocalizeRequest r;
    r.camera = Camera{q.camera_model, q.width, q.height, q.camera_params};
    auto image = ReadFileToString(q.image_path);
    ASSERT_THAT(image, IsOk());
    r.image = std::move(*image);
    r.prior.position = GeoPoint{q.lat_deg, q.lon_deg, q.alt_m};
    r.prior.accuracy_m = q.accuracy_m;
    r.prior.gravity_in_cam = q.gravity_in_cam;
    auto result = (*client)->Localize(r);
    ASSERT_THAT(result, IsOk());
    if (result->success && result->confidence > best_confidence) {
      query = &q;
      best_confidence = result->confidence;
      if (best_confidence >= 0.6) break;
    }
  }
  ASSERT_NE(query, nullptr) << "the server localizes none of the fixture's queries";

  const std::string command =
      Quote(ARMAP_C_ABI_TEST) + " " + Quote("127.0.0.1:" + std::to_string((*server)->port())) + " " +
      Quote(query->image_path.string()) + " " + Quote(query->camera_model) + " " + std::to_string(query->width) +
      " " + std::to_string(query->height) + " " + Join(query->camera_params) + " " +
      Join({query->lat_deg, query->lon_deg, query->alt_m, query->accuracy_m}) + " " +
      Join({query->gravity_in_cam[0], query->gravity_in_cam[1], query->gravity_in_cam[2]});
  std::string output;
  const int exit_code = RunCommand(command, &output);
  std::printf("%s\n%s", command.c_str(), output.c_str());
  EXPECT_EQ(exit_code, 0) << output;
  EXPECT_NE(output.find("PASS"), std::string::npos);

  const auto poses = Lines(output, "pose");
  ASSERT_EQ(poses.size(), 1u);
  ASSERT_EQ(poses[0].size(), 7u);
  const auto& p = poses[0];
  const testing::PoseError e = testing::ComparePoses({p[0], p[1], p[2], p[3]}, {p[4], p[5], p[6]}, query->gt_q, query->gt_t);
  EXPECT_LT(e.position_m, kMaxPositionErrorM);
  EXPECT_LT(e.rotation_deg, kMaxRotationErrorDeg);

  const auto stream = Lines(output, "stream");
  ASSERT_EQ(stream.size(), 2u);
  for (const auto& s : stream) {
    ASSERT_EQ(s.size(), 8u);
    const testing::PoseError se =
        testing::ComparePoses({s[1], s[2], s[3], s[4]}, {s[5], s[6], s[7]}, query->gt_q, query->gt_t);
    EXPECT_LT(se.position_m, kMaxPositionErrorM);
    EXPECT_LT(se.rotation_deg, kMaxRotationErrorDeg);
  }
}

}  // namespace
}  // namespace armap::sdk
