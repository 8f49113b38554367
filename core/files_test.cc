#include "core/files.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/testing/status_matchers.h"

namespace armap {
namespace {

using ::armap::testing::IsOk;
using ::armap::testing::StatusIs;
using ::testing::HasSubstr;

TEST(FilesTest, AtomicWriteAndRead) {
  const auto dir = std::filesystem::temp_directory_path() / "armap_files_test";
  ASSERT_THAT(EnsureWritableDirectory(dir), IsOk());
  ASSERT_THAT(WriteFileAtomic(dir / "a.txt", "hello"), IsOk());
  EXPECT_EQ(*ReadFileToString(dir / "a.txt"), "hello");
  EXPECT_THAT(ReadFileToString(dir / "missing.txt"), StatusIs(absl::StatusCode::kNotFound, HasSubstr("missing.txt")));
  std::filesystem::remove_all(dir);
}

TEST(FilesTest, UnwritableDirectoryNamesThePath) {
  if (geteuid() == 0) {
    // Root can write anywhere; /proc is not writable even for root.
    EXPECT_THAT(EnsureWritableDirectory("/proc/armap_out"),
                StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("/proc/armap_out")));
  } else {
    EXPECT_THAT(EnsureWritableDirectory("/armap_out"),
                StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("/armap_out")));
  }
}

}  // namespace
}  // namespace armap
