// Running an external program (the `colmap` binary) without a shell:
// posix_spawn with an argument vector, stdout and stderr appended to a log
// file, stdin from /dev/null, an optional timeout.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace armap::mapping {

// The executable `program` names: a path containing '/' must be an
// executable file; a bare name is looked up in $PATH. FailedPrecondition
// naming `program` otherwise.
absl::StatusOr<std::filesystem::path> FindExecutable(const std::string& program);

struct ProcessResult {
  int exit_code = -1;      // valid when signal == 0
  int signal = 0;          // the terminating signal, 0 for a normal exit
  bool timed_out = false;  // killed after timeout_s
  double seconds = 0;      // wall time

  bool ok() const { return signal == 0 && exit_code == 0 && !timed_out; }
  std::string Describe() const;  // "exit code 1", "killed by signal 9", ...
};

struct ProcessOptions {
  // Appended to (created if needed): a "$ argv..." line, then the program's
  // stdout and stderr.
  std::filesystem::path log_path;
  // Extra environment variables (added to, or replacing, the inherited ones).
  std::map<std::string, std::string> env;
  // <= 0: no limit. On expiry: SIGTERM, then SIGKILL 5 s later.
  double timeout_s = 0;
};

// argv[0] is resolved with FindExecutable. An error Status only when the
// program cannot be started; a program that fails is a ProcessResult with
// ok() == false.
absl::StatusOr<ProcessResult> RunProcess(const std::vector<std::string>& argv, const ProcessOptions& options);

}  // namespace armap::mapping
