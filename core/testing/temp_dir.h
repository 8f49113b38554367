// A per-process temporary folder for tests, removed when it goes out of
// scope: tests run one process per case, and two test runs on one machine
// (two build folders) must not share files.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>

namespace armap::testing {

class TempDir {
 public:
  // <tmp>/<prefix>_<pid>_<name>, empty.
  TempDir(const std::string& prefix, const std::string& name)
      : path_(std::filesystem::temp_directory_path() / (prefix + "_" + std::to_string(::getpid()) + "_" + name)) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace armap::testing
