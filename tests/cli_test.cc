// End-to-end tests of the armap binary: exit codes and messages as a user
// sees them.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>

namespace {

struct Result {
  int exit_code;
  std::string output;  // stdout and stderr
};

Result RunArmap(const std::string& args) {
  const std::string command = std::string(ARMAP_CLI) + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  std::string output;
  std::array<char, 4096> buffer;
  while (pipe && fgets(buffer.data(), buffer.size(), pipe)) output += buffer.data();
  const int status = pipe ? pclose(pipe) : -1;
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

TEST(CliTest, VersionAndHelp) {
  const Result version = RunArmap("--version");
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_NE(version.output.find("armap "), std::string::npos);
  const Result help = RunArmap("synth city --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.output.find("--seed"), std::string::npos);
  EXPECT_NE(RunArmap("").exit_code, 0) << "a subcommand is required";
  EXPECT_NE(RunArmap("no-such-command").exit_code, 0);
}

TEST(CliTest, SynthCityBadInputGivesClearErrors) {
  Result r = RunArmap("synth city --out /proc/armap_cli_test/city --size-m 60");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("/proc/armap_cli_test"), std::string::npos) << r.output;
  r = RunArmap("synth city --out /tmp/armap_cli_bad --panos 1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("--panos = 1"), std::string::npos) << r.output;
  r = RunArmap("synth city --seed 1");  // --out missing
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("--out"), std::string::npos) << r.output;
  r = RunArmap("synth city --out /tmp/armap_cli_bad --size-m abc");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_FALSE(std::filesystem::exists("/tmp/armap_cli_bad"));
}

TEST(CliTest, SynthCityWritesACaptureAndReport) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / "armap_cli_city";
  std::filesystem::remove_all(dir);
  const Result r = RunArmap("-q synth city --seed 2 --out " + dir.string() +
                       "/capture --size-m 60 --panos 3 --queries 2 --pano-width 256 --query-width 160 --query-height 120"
                       " --lidar-azimuth-res-deg 2 --preview --report " + dir.string() + "/report.json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(std::filesystem::exists(dir / "capture" / "preview.png"));
  EXPECT_TRUE(std::filesystem::exists(dir / "capture" / "gt" / "queries_gt.json"));
  EXPECT_TRUE(std::filesystem::exists(dir / "report.json"));
  EXPECT_NE(r.output.find("lidar points"), std::string::npos);
  // A second run into the same folder without --overwrite is refused.
  const Result again = RunArmap("-q synth city --seed 2 --out " + dir.string() + "/capture --size-m 60");
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.output.find("--overwrite"), std::string::npos) << again.output;
  std::filesystem::remove_all(dir);
}

}  // namespace
