// Test helpers for core/io: temp dirs, raw file bytes, shared-dataset paths.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

namespace armap::io::testing {

// Removes the directories made by MakeTempDir when the test process exits.
class TempDirRegistry {
 public:
  static TempDirRegistry& Get() {
    static TempDirRegistry registry;
    return registry;
  }
  void Add(const std::filesystem::path& dir) { dirs_.push_back(dir); }
  ~TempDirRegistry() {
    std::error_code ec;
    for (const auto& dir : dirs_) std::filesystem::remove_all(dir, ec);
  }

 private:
  std::vector<std::filesystem::path> dirs_;
};

// A fresh, empty directory under gtest's TempDir, unique per test and
// process, removed when the process exits.
inline std::filesystem::path MakeTempDir() {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::filesystem::path dir =
      std::filesystem::path(::testing::TempDir()) /
      ("armap_io_" + std::string(info->test_suite_name()) + "_" + info->name() + "_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  TempDirRegistry::Get().Add(dir);
  return dir;
}

inline std::string ReadBytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void WriteBytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

template <typename T>
T LoadLE(const std::string& bytes, size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

template <typename T>
void StoreLE(std::string* bytes, size_t offset, T value) {
  std::memcpy(bytes->data() + offset, &value, sizeof(T));
}

template <typename T>
void AppendLE(std::string* bytes, T value) {
  bytes->append(reinterpret_cast<const char*>(&value), sizeof(T));
}

template <typename T>
void AppendBE(std::string* bytes, T value) {
  char raw[sizeof(T)];
  std::memcpy(raw, &value, sizeof(T));
  for (size_t i = 0; i < sizeof(T); ++i) bytes->push_back(raw[sizeof(T) - 1 - i]);
}

// /work/shared/datasets (ARMAP_SHARED_DATASETS) or a sub-path of it.
inline std::filesystem::path SharedDataset(const std::string& relative) {
  return std::filesystem::path(ARMAP_SHARED_DATASETS) / relative;
}

}  // namespace armap::io::testing

// Skips the current test when a shared dataset file or folder is absent (the
// shared data lives outside the repository).
#define ARMAP_SKIP_IF_MISSING(path)                                                        \
  do {                                                                                     \
    if (!std::filesystem::exists(path)) GTEST_SKIP() << "shared data missing: " << (path); \
  } while (0)
