#include "core/files.h"

#include <unistd.h>

#include <fstream>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace armap {

absl::StatusOr<std::string> ReadFileToString(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path.string(), ": cannot open for reading"));
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return absl::DataLossError(absl::StrCat(path.string(), ": read error"));
  return data;
}

absl::Status WriteFileAtomic(const std::filesystem::path& path, std::string_view contents) {
  const std::filesystem::path tmp = path.string() + ".tmp-" + std::to_string(getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return absl::PermissionDeniedError(absl::StrCat(path.string(), ": cannot open for writing"));
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    out.flush();
    if (!out) {
      std::error_code ec;
      std::filesystem::remove(tmp, ec);
      return absl::DataLossError(absl::StrCat(path.string(), ": write failed (disk full?)"));
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return absl::InternalError(absl::StrCat(path.string(), ": rename failed: ", ec.message()));
  }
  return absl::OkStatus();
}

absl::Status EnsureWritableDirectory(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir)) {
    return absl::PermissionDeniedError(
        absl::StrCat(dir.string(), ": cannot create output directory", ec ? ": " + ec.message() : ""));
  }
  const std::filesystem::path probe = dir / (".armap-write-probe-" + std::to_string(getpid()));
  {
    std::ofstream out(probe);
    if (!out) return absl::PermissionDeniedError(absl::StrCat(dir.string(), ": directory is not writable"));
  }
  std::filesystem::remove(probe, ec);
  return absl::OkStatus();
}

}  // namespace armap
