// Helpers shared by the readers and writers in core/io. Not a public API.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <Eigen/Core>
#include <Eigen/Geometry>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace armap::io::internal {

// Reads a whole file with one fread into a pre-sized buffer (core/files.h's
// ReadFileToString goes through istreambuf_iterator, several times slower).
// For small and medium files; big clouds use MappedFile.
absl::StatusOr<std::string> ReadWholeFile(const std::filesystem::path& path);

// A read-only memory map of a whole file. Readers of multi-gigabyte clouds
// parse straight from the page cache: copying into a heap buffer costs a
// page fault per 4 KiB of fresh memory, which on our VMs is slower than the
// parsing itself (560 MB: 1.7 s with fread, 0.15 s mapped). The file must
// not be truncated by another process while it is mapped.
class MappedFile {
 public:
  static absl::StatusOr<MappedFile> Open(const std::filesystem::path& path);
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  absl::string_view data() const { return absl::string_view(data_, size_); }

 private:
  MappedFile(const char* data, size_t size) : data_(data), size_(size) {}
  const char* data_ = nullptr;
  size_t size_ = 0;
};

// Writes a file in pieces to "<path>.tmp-<pid>" and renames it over `path` on
// Commit(), so readers never see a half-written file (like WriteFileAtomic,
// without holding the whole file in memory). Without Commit() the temporary
// file is removed.
class AtomicFileWriter {
 public:
  static absl::StatusOr<AtomicFileWriter> Open(const std::filesystem::path& path);
  AtomicFileWriter(AtomicFileWriter&& other) noexcept;
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(AtomicFileWriter&&) = delete;
  ~AtomicFileWriter();

  absl::Status Append(absl::string_view bytes);
  absl::Status Commit();

 private:
  AtomicFileWriter(std::filesystem::path path, std::filesystem::path tmp_path, std::FILE* file)
      : path_(std::move(path)), tmp_path_(std::move(tmp_path)), file_(file) {}
  std::filesystem::path path_;
  std::filesystem::path tmp_path_;
  std::FILE* file_ = nullptr;
};

// Large-coordinate policy shared by every point-cloud reader. Positions are
// stored as float offsets from PointCloud::origin. Float has a 24-bit
// mantissa, so beyond |x| = 1e4 m its spacing exceeds 1 mm; above that we move
// the origin to the rounded centre of the bounding box so offsets stay small.
// The bounding box, not the first point, is used because files often start
// with a (0,0,0) placeholder point. The origin is rounded to whole units so
// that it prints cleanly and `origin + offset` stays exact for quantized data.
constexpr double kMaxAbsCoordinateWithoutOrigin = 1e4;
Eigen::Vector3d ChooseOrigin(const Eigen::AlignedBox3d& bounds);

// Unaligned little/big-endian loads and stores through memcpy (no UB, and the
// compiler turns them into single moves).
template <typename T>
T LoadLittleEndian(const char* p) {
  static_assert(std::is_trivially_copyable_v<T>);
  T value;
  std::memcpy(&value, p, sizeof(T));
  return value;  // armap only targets little-endian hosts (x86-64, arm64, wasm).
}

template <typename T>
T LoadBigEndian(const char* p) {
  char bytes[sizeof(T)];
  for (size_t i = 0; i < sizeof(T); ++i) bytes[i] = p[sizeof(T) - 1 - i];
  return LoadLittleEndian<T>(bytes);
}

template <typename T>
void AppendLittleEndian(std::string* out, T value) {
  static_assert(std::is_trivially_copyable_v<T>);
  out->append(reinterpret_cast<const char*>(&value), sizeof(T));
}

// ASCII lower-casing for case-insensitive property names.
std::string ToLower(absl::string_view s);

// Splits on spaces and tabs; empty tokens are dropped.
std::vector<absl::string_view> SplitWhitespace(absl::string_view line);

// Strict number parsing (whole token must be consumed). Return false on
// failure so the caller can name the file, line and field in the error.
bool ParseDouble(absl::string_view token, double* value);
bool ParseInt64(absl::string_view token, int64_t* value);
bool ParseUint64(absl::string_view token, uint64_t* value);

// "%.17g": what std::ostream with precision(17) prints (COLMAP's text
// writer). 17 significant digits round-trip every double exactly.
std::string FormatDoublePrecision17(double value);

}  // namespace armap::io::internal
