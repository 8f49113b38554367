#include "mapping/colmap/process.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "core/files.h"
#include "core/testing/status_matchers.h"
#include "mapping/colmap/colmap_test_util.h"

namespace armap::mapping {
namespace {

using ::armap::testing::IsOk;
using ::armap::testing::StatusIs;
using ::testing::HasSubstr;

TEST(ProcessTest, CapturesOutputExitCodeAndEnvironment) {
  testing::ScratchDir dir("proc");
  ProcessOptions options;
  options.log_path = dir / "run.log";
  options.env["ARMAP_PROCESS_TEST"] = "hello there";
  auto result = RunProcess({"sh", "-c", "echo out:$ARMAP_PROCESS_TEST; echo err >&2; exit 3"}, options);
  ASSERT_THAT(result, IsOk());
  EXPECT_FALSE(result->ok());
  EXPECT_EQ(result->exit_code, 3);
  EXPECT_EQ(result->Describe(), "exit code 3");
  auto log = ReadFileToString(options.log_path);
  ASSERT_THAT(log, IsOk());
  EXPECT_THAT(*log, HasSubstr("$ sh -c 'echo out:$ARMAP_PROCESS_TEST; echo err >&2; exit 3'"));
  EXPECT_THAT(*log, HasSubstr("out:hello there\n"));
  EXPECT_THAT(*log, HasSubstr("err\n"));
  EXPECT_THAT(*log, HasSubstr("# exit code 3"));

  auto ok = RunProcess({"true"}, options);
  ASSERT_THAT(ok, IsOk());
  EXPECT_TRUE(ok->ok());
}

TEST(ProcessTest, TimeoutKillsTheProgram) {
  testing::ScratchDir dir("timeout");
  ProcessOptions options;
  options.log_path = dir / "run.log";
  options.timeout_s = 0.3;
  auto result = RunProcess({"sleep", "20"}, options);
  ASSERT_THAT(result, IsOk());
  EXPECT_TRUE(result->timed_out);
  EXPECT_FALSE(result->ok());
  EXPECT_LT(result->seconds, 10);
}

TEST(ProcessTest, MissingProgramIsFailedPreconditionNamingIt) {
  testing::ScratchDir dir("missing");
  ProcessOptions options;
  options.log_path = dir / "run.log";
  EXPECT_THAT(RunProcess({"/nonexistent/colmap", "-h"}, options),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("/nonexistent/colmap")));
  EXPECT_THAT(FindExecutable("armap-no-such-program"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("'armap-no-such-program' was not found")));
  EXPECT_THAT(FindExecutable("sh"), IsOk());
}

}  // namespace
}  // namespace armap::mapping
