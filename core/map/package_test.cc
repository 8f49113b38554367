#include "core/map/package.h"

#include <gtest/gtest.h>

#include <fstream>

#include "core/files.h"
#include "core/testing/status_matchers.h"

namespace armap::map {
namespace {

using ::armap::testing::IsOk;
using ::armap::testing::StatusIs;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

fs::path Fresh(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("armap_map_test_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

Manifest SampleManifest() {
  Manifest m;
  m.map_id = "test-district";
  m.map_version = 3;
  m.created_by = "armap test";
  m.origin = {22.5, 114.0, 10.0};
  m.bbox_min_m = {-1, -2, -3};
  m.bbox_max_m = {4, 5, 6};
  m.counts["views"] = 7;
  return m;
}

TEST(Sha256Test, KnownVector) {
  const fs::path dir = Fresh("sha");
  ASSERT_THAT(WriteFileAtomic(dir / "abc.txt", "abc"), IsOk());
  // FIPS 180-2 test vector for "abc".
  EXPECT_EQ(*Sha256OfFile(dir / "abc.txt"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(PackageTest, WriteCommitReadVerify) {
  const fs::path root = Fresh("pkg");
  auto writer = PackageWriter::Begin(root / "map", /*overwrite=*/false);
  ASSERT_THAT(writer.status(), IsOk());
  ASSERT_THAT(WriteFileAtomic(writer->staging_dir() / "views.json", "{}"), IsOk());
  fs::create_directories(writer->staging_dir() / "retrieval");
  ASSERT_THAT(WriteFileAtomic(writer->staging_dir() / "retrieval" / "index.bin", std::string(1000, 'x')), IsOk());
  EXPECT_FALSE(fs::exists(root / "map")) << "nothing is visible before Commit";
  ASSERT_THAT(writer->Commit(SampleManifest()), IsOk());
  auto manifest = ReadManifest(root / "map");
  ASSERT_THAT(manifest.status(), IsOk());
  EXPECT_EQ(manifest->map_id, "test-district");
  EXPECT_EQ(manifest->map_version, 3);
  EXPECT_EQ(manifest->counts.at("views"), 7);
  EXPECT_EQ(manifest->files.size(), 2u);
  EXPECT_EQ(manifest->files.at("retrieval/index.bin").bytes, 1000u);
  EXPECT_THAT(VerifyPackage(root / "map", *manifest), IsOk());

  // Corruption is detected and named.
  { std::ofstream(root / "map" / "views.json", std::ios::app) << " "; }
  EXPECT_THAT(VerifyPackage(root / "map", *manifest), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("views.json")));
  { std::ofstream(root / "map" / "views.json", std::ios::trunc) << "{]"; }
  EXPECT_THAT(VerifyPackage(root / "map", *manifest), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("checksum")));
  // An unlisted file is refused too.
  ASSERT_THAT(WriteFileAtomic(root / "map" / "stray.bin", "x"), IsOk());
  fs::remove(root / "map" / "views.json");
  EXPECT_THAT(VerifyPackage(root / "map", *manifest), StatusIs(absl::StatusCode::kNotFound, HasSubstr("views.json")));
}

TEST(PackageTest, OverwriteAndAbandon) {
  const fs::path root = Fresh("overwrite");
  {
    auto writer = PackageWriter::Begin(root / "map", false);
    ASSERT_THAT(WriteFileAtomic(writer->staging_dir() / "a.txt", "old"), IsOk());
    ASSERT_THAT(writer->Commit(SampleManifest()), IsOk());
  }
  EXPECT_THAT(PackageWriter::Begin(root / "map", false).status(),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("--overwrite")));
  {
    // A build that fails before Commit leaves the old package untouched and no staging behind.
    auto writer = PackageWriter::Begin(root / "map", true);
    ASSERT_THAT(WriteFileAtomic(writer->staging_dir() / "a.txt", "half"), IsOk());
  }
  EXPECT_EQ(*ReadFileToString(root / "map" / "a.txt"), "old");
  size_t entries = 0;
  for (const auto& e : fs::directory_iterator(root)) entries += !e.path().filename().string().empty();
  EXPECT_EQ(entries, 1u) << "staging directory left behind";
  {
    auto writer = PackageWriter::Begin(root / "map", true);
    ASSERT_THAT(WriteFileAtomic(writer->staging_dir() / "a.txt", "new"), IsOk());
    ASSERT_THAT(writer->Commit(SampleManifest()), IsOk());
  }
  EXPECT_EQ(*ReadFileToString(root / "map" / "a.txt"), "new");
}

TEST(PackageTest, RefusesUnknownMajorVersionAndBadPaths) {
  Json j = Json::parse(SampleManifest().ToJson().dump());
  j["schema_version"] = "2.0";
  EXPECT_THAT(Manifest::FromJson(j, "m.json"), StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("2.0")));
  j["schema_version"] = "1.7";  // a newer minor version is readable
  EXPECT_THAT(Manifest::FromJson(j, "m.json").status(), IsOk());
  j["files"] = {{"../etc/passwd", {{"sha256", "x"}, {"bytes", 1}}}};
  EXPECT_THAT(Manifest::FromJson(j, "m.json"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("inside the package")));
  j.erase("map_id");
  EXPECT_THAT(Manifest::FromJson(j, "m.json"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("map_id")));
  EXPECT_THAT(ReadManifest(fs::temp_directory_path() / "armap_no_such_map"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("not a map package")));
}

}  // namespace
}  // namespace armap::map
