// File helpers: whole-file reads, atomic writes (temp file + rename), and
// writable-directory checks. Every error names the path.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace armap {

absl::StatusOr<std::string> ReadFileToString(const std::filesystem::path& path);
// Writes to "<path>.tmp-<pid>" and renames over `path`, so readers never see
// a half-written file.
absl::Status WriteFileAtomic(const std::filesystem::path& path, std::string_view contents);
// Creates `dir` (and parents) and checks that a file can be created in it.
absl::Status EnsureWritableDirectory(const std::filesystem::path& dir);

}  // namespace armap
