// The map package: a versioned, checksummed directory that the mapping
// pipeline writes and the runtime loads (ARCHITECTURE.md, "Map package").
//
//   MAP/manifest.json   schema version, map id and version, origin, bbox,
//                       counts, and a SHA-256 + size for every other file
//   MAP/...             content files (views, landmarks, retrieval index, ...)
//
// Packages are written into a staging directory beside the destination and
// renamed into place only when complete, so a failed build never leaves a
// half-written map where a server would load it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include <Eigen/Core>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/geo.h"
#include "core/json.h"

namespace armap::map {

inline constexpr int kSchemaMajor = 1;
inline constexpr int kSchemaMinor = 0;

struct FileEntry {
  std::string sha256;  // lowercase hex
  uint64_t bytes = 0;
};

struct Manifest {
  int schema_major = kSchemaMajor;
  int schema_minor = kSchemaMinor;
  std::string map_id;                 // stable name of the mapped area
  int64_t map_version = 1;            // increases with every publication of map_id
  std::string created_by;             // "armap <version>"
  std::string created_utc;            // ISO 8601
  GeoPoint origin;                    // ENU origin of the map frame
  Eigen::Vector3d bbox_min_m = Eigen::Vector3d::Zero();  // map frame
  Eigen::Vector3d bbox_max_m = Eigen::Vector3d::Zero();
  std::map<std::string, int64_t> counts;       // views, landmarks, ...
  std::map<std::string, FileEntry> files;      // relative path -> checksum

  OrderedJson ToJson() const;
  // `where` names the document in errors. Refuses an unknown major version.
  static absl::StatusOr<Manifest> FromJson(const Json& json, const std::string& where);
};

// SHA-256 of a file's bytes, lowercase hex (OpenSSL).
absl::StatusOr<std::string> Sha256OfFile(const std::filesystem::path& path);

// Reads MAP/manifest.json (schema checked, files not verified).
absl::StatusOr<Manifest> ReadManifest(const std::filesystem::path& map_dir);
// Checks that every listed file exists with its size and checksum, and that
// no unlisted content file is present. Errors name the file.
absl::Status VerifyPackage(const std::filesystem::path& map_dir, const Manifest& manifest);

// Writes a package atomically. Content files go into staging_dir(); Commit()
// checksums them, writes the manifest and renames the staging directory over
// the destination. Dropping an uncommitted writer removes the staging files.
class PackageWriter {
 public:
  static absl::StatusOr<PackageWriter> Begin(const std::filesystem::path& destination, bool overwrite);
  PackageWriter(PackageWriter&& other) noexcept;
  PackageWriter& operator=(PackageWriter&&) = delete;
  ~PackageWriter();

  const std::filesystem::path& staging_dir() const { return staging_; }
  const std::filesystem::path& destination() const { return destination_; }
  // Fills manifest.files from the staging directory and publishes the package.
  absl::Status Commit(Manifest manifest);

 private:
  PackageWriter(std::filesystem::path destination, std::filesystem::path staging, bool overwrite)
      : destination_(std::move(destination)), staging_(std::move(staging)), overwrite_(overwrite) {}
  std::filesystem::path destination_;
  std::filesystem::path staging_;
  bool overwrite_ = false;
  bool committed_ = true;  // nothing to clean up until Begin() succeeds
};

}  // namespace armap::map
