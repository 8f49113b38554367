// `armap serve` as a child process for tests that drive it from another
// runtime (nunit-console, node, chromium). The destructor stops it with
// SIGTERM and reaps it, whatever the test does.
//
// Ready lines (stdout, in this order): with --http-port,
//   "http on http://HOST:PORT"
// then always
//   "serving N map(s) [ids] on HOST:PORT".
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

namespace armap::testing {

struct ServeAddresses {
  std::string grpc;  // HOST:PORT, empty when the server did not come up
  std::string http;  // http://HOST:PORT when --http-port was given
};

class ServeProcess {
 public:
  // Runs `armap -q serve --map MAP --host 127.0.0.1 --port 0 --workers 2
  // EXTRA...`; pass {"--http-port", "0"} in `extra_args` for the HTTP API.
  explicit ServeProcess(const std::string& cli, const std::string& map_dir,
                        const std::vector<std::string>& extra_args = {}) {
    std::vector<std::string> args = {cli,          "-q", "serve", "--map", map_dir, "--host", "127.0.0.1",
                                     "--port",     "0",  "--workers", "2"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    int fds[2];
    if (::pipe(fds) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      ::close(fds[0]);
      ::close(fds[1]);
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    out_ = ::fdopen(fds[0], "r");
  }
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;
  ~ServeProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    if (out_ != nullptr) std::fclose(out_);
  }

  // Reads the ready lines; grpc is empty if the server exited first.
  ServeAddresses WaitReady() {
    ServeAddresses addresses;
    if (out_ == nullptr) return addresses;
    char line[512];
    while (std::fgets(line, sizeof(line), out_) != nullptr) {
      std::string s(line);
      while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
      if (s.rfind("http on ", 0) == 0) addresses.http = s.substr(8);
      if (s.rfind("serving ", 0) == 0) {
        const size_t on = s.rfind(" on ");
        if (on != std::string::npos) addresses.grpc = s.substr(on + 4);
        return addresses;
      }
    }
    return addresses;
  }

 private:
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
};

// Runs a shell command, returning its exit code (-1 if it did not exit
// normally) and everything it printed on stdout (append 2>&1 for stderr).
struct CommandResult {
  int exit_code = -1;
  std::string output;
};
inline CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    result.output = "popen failed: " + command;
    return result;
  }
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace armap::testing
