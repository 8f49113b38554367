#include "mapping/colmap/process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <system_error>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

extern char** environ;

namespace armap::mapping {
namespace {

bool IsExecutableFile(const std::filesystem::path& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec) && ::access(path.c_str(), X_OK) == 0;
}

// Quotes an argument for the log line (readable, and pasteable into a shell).
std::string ShellQuote(const std::string& arg) {
  if (!arg.empty() &&
      arg.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+@") ==
          std::string::npos) {
    return arg;
  }
  std::string out = "'";
  for (char c : arg) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

}  // namespace

std::string ProcessResult::Describe() const {
  if (timed_out) return absl::StrCat("timed out after ", seconds, " s");
  if (signal != 0) return absl::StrCat("killed by signal ", signal, " (", strsignal(signal), ")");
  return absl::StrCat("exit code ", exit_code);
}

absl::StatusOr<std::filesystem::path> FindExecutable(const std::string& program) {
  if (program.empty()) return absl::FailedPreconditionError("no program given (empty name)");
  if (program.find('/') != std::string::npos) {
    if (IsExecutableFile(program)) return std::filesystem::path(program);
    return absl::FailedPreconditionError(absl::StrCat("program '", program, "' does not exist or is not executable"));
  }
  const char* path_env = std::getenv("PATH");
  const std::string path_list = path_env != nullptr ? path_env : "/usr/local/bin:/usr/bin:/bin";
  for (absl::string_view dir : absl::StrSplit(path_list, ':')) {
    const std::filesystem::path candidate =
        std::filesystem::path(dir.empty() ? std::string(".") : std::string(dir)) / program;
    if (IsExecutableFile(candidate)) return candidate;
  }
  return absl::FailedPreconditionError(absl::StrCat("program '", program, "' was not found in PATH (", path_list, ")"));
}

absl::StatusOr<ProcessResult> RunProcess(const std::vector<std::string>& argv, const ProcessOptions& options) {
  if (argv.empty()) return absl::InvalidArgumentError("RunProcess: empty argument vector");
  absl::StatusOr<std::filesystem::path> executable = FindExecutable(argv[0]);
  if (!executable.ok()) return executable.status();
  if (options.log_path.empty()) return absl::InvalidArgumentError("RunProcess: ProcessOptions::log_path is empty");

  // Header line first, so the log says what produced the output below it.
  {
    std::ofstream log(options.log_path, std::ios::app);
    if (!log) return absl::PermissionDeniedError(absl::StrCat(options.log_path.string(), ": cannot open the log"));
    std::vector<std::string> quoted;
    for (const std::string& a : argv) quoted.push_back(ShellQuote(a));
    log << "$ " << absl::StrJoin(quoted, " ") << "\n";
  }

  // Environment: inherited, with options.env added or replacing.
  std::vector<std::string> env_strings;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string entry = *e;
    const std::string key = entry.substr(0, entry.find('='));
    if (options.env.count(key) == 0) env_strings.push_back(entry);
  }
  for (const auto& [key, value] : options.env) env_strings.push_back(absl::StrCat(key, "=", value));
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  std::vector<std::string> args = argv;
  std::vector<char*> c_argv;
  for (std::string& a : args) c_argv.push_back(a.data());
  c_argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, options.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);

  const auto start = std::chrono::steady_clock::now();
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, executable->c_str(), &actions, nullptr, c_argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot start '", executable->string(), "': ", std::strerror(rc)));
  }

  ProcessResult result;
  bool term_sent = false;
  std::chrono::steady_clock::time_point term_time;
  int status = 0;
  while (true) {
    const pid_t w = ::waitpid(pid, &status, options.timeout_s > 0 ? WNOHANG : 0);
    if (w == pid) break;
    if (w < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat("waitpid for '", argv[0], "' failed: ", std::strerror(errno)));
    }
    // Still running (WNOHANG): enforce the timeout.
    const auto now = std::chrono::steady_clock::now();
    const double elapsed = std::chrono::duration<double>(now - start).count();
    if (!term_sent && elapsed > options.timeout_s) {
      ::kill(pid, SIGTERM);
      term_sent = true;
      term_time = now;
      result.timed_out = true;
    } else if (term_sent && now - term_time > std::chrono::seconds(5)) {
      ::kill(pid, SIGKILL);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
  }
  {
    std::ofstream log(options.log_path, std::ios::app);
    log << "# " << result.Describe() << ", " << result.seconds << " s\n";
  }
  return result;
}

}  // namespace armap::mapping
