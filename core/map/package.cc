#include "core/map/package.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/status.h"

namespace armap::map {
namespace {

constexpr char kManifestName[] = "manifest.json";

OrderedJson Vec3Json(const Eigen::Vector3d& v) { return OrderedJson::array({v.x(), v.y(), v.z()}); }

absl::StatusOr<Eigen::Vector3d> Vec3FromJson(const Json& j, const std::string& field, const std::string& where) {
  if (!j.is_array() || j.size() != 3 || !j[0].is_number() || !j[1].is_number() || !j[2].is_number()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": field '", field, "' must be an array of 3 numbers"));
  }
  return Eigen::Vector3d(j[0].get<double>(), j[1].get<double>(), j[2].get<double>());
}

}  // namespace

OrderedJson Manifest::ToJson() const {
  OrderedJson files_json = OrderedJson::object();
  for (const auto& [path, entry] : files) files_json[path] = {{"sha256", entry.sha256}, {"bytes", entry.bytes}};
  OrderedJson counts_json = OrderedJson::object();
  for (const auto& [k, v] : counts) counts_json[k] = v;
  return OrderedJson{{"format", "armap-map"},
                     {"schema_version", absl::StrCat(schema_major, ".", schema_minor)},
                     {"map_id", map_id},
                     {"map_version", map_version},
                     {"created_by", created_by},
                     {"created_utc", created_utc},
                     {"origin", {{"lat", origin.lat_deg}, {"lon", origin.lon_deg}, {"alt", origin.alt_m}}},
                     {"frame", "ENU metres about origin (x east, y north, z up)"},
                     {"bbox_m", {{"min", Vec3Json(bbox_min_m)}, {"max", Vec3Json(bbox_max_m)}}},
                     {"counts", counts_json},
                     {"files", files_json}};
}

absl::StatusOr<Manifest> Manifest::FromJson(const Json& json, const std::string& where) {
  Manifest m;
  ARMAP_ASSIGN_OR_RETURN(std::string version, GetJsonField<std::string>(json, "schema_version", where));
  int major = -1, minor = -1;
  if (std::sscanf(version.c_str(), "%d.%d", &major, &minor) != 2) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": schema_version '", version, "' is not MAJOR.MINOR"));
  }
  if (major != kSchemaMajor) {
    return absl::FailedPreconditionError(absl::StrCat(where, ": map schema ", version, " is not supported (this armap reads ",
                                                      kSchemaMajor, ".x); rebuild the map or upgrade armap"));
  }
  m.schema_major = major;
  m.schema_minor = minor;
  ARMAP_ASSIGN_OR_RETURN(m.map_id, GetJsonField<std::string>(json, "map_id", where));
  ARMAP_ASSIGN_OR_RETURN(m.map_version, GetJsonField<int64_t>(json, "map_version", where));
  ARMAP_ASSIGN_OR_RETURN(m.created_by, GetJsonField<std::string>(json, "created_by", where));
  ARMAP_ASSIGN_OR_RETURN(m.created_utc, GetJsonField<std::string>(json, "created_utc", where));
  ARMAP_ASSIGN_OR_RETURN(Json origin, GetJsonField<Json>(json, "origin", where));
  ARMAP_ASSIGN_OR_RETURN(m.origin.lat_deg, GetJsonField<double>(origin, "lat", where + ": origin"));
  ARMAP_ASSIGN_OR_RETURN(m.origin.lon_deg, GetJsonField<double>(origin, "lon", where + ": origin"));
  ARMAP_ASSIGN_OR_RETURN(m.origin.alt_m, GetJsonField<double>(origin, "alt", where + ": origin"));
  ARMAP_ASSIGN_OR_RETURN(Json bbox, GetJsonField<Json>(json, "bbox_m", where));
  ARMAP_ASSIGN_OR_RETURN(Json bmin, GetJsonField<Json>(bbox, "min", where + ": bbox_m"));
  ARMAP_ASSIGN_OR_RETURN(Json bmax, GetJsonField<Json>(bbox, "max", where + ": bbox_m"));
  ARMAP_ASSIGN_OR_RETURN(m.bbox_min_m, Vec3FromJson(bmin, "bbox_m.min", where));
  ARMAP_ASSIGN_OR_RETURN(m.bbox_max_m, Vec3FromJson(bmax, "bbox_m.max", where));
  ARMAP_ASSIGN_OR_RETURN(Json counts, GetJsonField<Json>(json, "counts", where));
  for (const auto& [k, v] : counts.items()) {
    if (!v.is_number_integer()) return absl::InvalidArgumentError(absl::StrCat(where, ": counts.", k, " must be an integer"));
    m.counts[k] = v.get<int64_t>();
  }
  ARMAP_ASSIGN_OR_RETURN(Json files, GetJsonField<Json>(json, "files", where));
  for (const auto& [path, entry] : files.items()) {
    const std::string ctx = absl::StrCat(where, ": files['", path, "']");
    if (path.empty() || path.find("..") != std::string::npos || path.front() == '/') {
      return absl::InvalidArgumentError(absl::StrCat(ctx, ": path must be relative and inside the package"));
    }
    FileEntry e;
    ARMAP_ASSIGN_OR_RETURN(e.sha256, GetJsonField<std::string>(entry, "sha256", ctx));
    ARMAP_ASSIGN_OR_RETURN(e.bytes, GetJsonField<uint64_t>(entry, "bytes", ctx));
    m.files[path] = e;
  }
  return m;
}

absl::StatusOr<std::string> Sha256OfFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path.string(), ": cannot open for reading"));
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) {
    return absl::InternalError("OpenSSL SHA-256 initialisation failed");
  }
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    if (in.gcount() > 0) EVP_DigestUpdate(ctx.get(), buffer.data(), static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) return absl::DataLossError(absl::StrCat(path.string(), ": read error"));
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &length);
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) hex += absl::StrFormat("%02x", digest[i]);
  return hex;
}

absl::StatusOr<Manifest> ReadManifest(const std::filesystem::path& map_dir) {
  const std::filesystem::path path = map_dir / kManifestName;
  if (!std::filesystem::exists(path)) {
    return absl::NotFoundError(absl::StrCat(map_dir.string(), ": not a map package (no ", kManifestName, ")"));
  }
  ARMAP_ASSIGN_OR_RETURN(Json json, ReadJsonFile(path));
  return Manifest::FromJson(json, path.string());
}

absl::Status VerifyPackage(const std::filesystem::path& map_dir, const Manifest& manifest) {
  for (const auto& [rel, entry] : manifest.files) {
    const std::filesystem::path path = map_dir / rel;
    std::error_code ec;
    const uint64_t size = std::filesystem::file_size(path, ec);
    if (ec) return absl::NotFoundError(absl::StrCat(path.string(), ": listed in the manifest but missing"));
    if (size != entry.bytes) {
      return absl::DataLossError(absl::StrCat(path.string(), ": size ", size, " bytes, manifest says ", entry.bytes));
    }
    ARMAP_ASSIGN_OR_RETURN(std::string sha, Sha256OfFile(path));
    if (sha != entry.sha256) return absl::DataLossError(absl::StrCat(path.string(), ": checksum mismatch (file is corrupt)"));
  }
  for (const auto& e : std::filesystem::recursive_directory_iterator(map_dir)) {
    if (!e.is_regular_file()) continue;
    const std::string rel = std::filesystem::relative(e.path(), map_dir).string();
    if (rel != kManifestName && !manifest.files.count(rel)) {
      return absl::DataLossError(absl::StrCat(e.path().string(), ": not listed in the manifest"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<PackageWriter> PackageWriter::Begin(const std::filesystem::path& destination, bool overwrite) {
  std::error_code ec;
  const std::filesystem::path dest = std::filesystem::absolute(destination, ec);
  if (std::filesystem::exists(dest, ec) && !overwrite) {
    return absl::AlreadyExistsError(absl::StrCat(dest.string(), ": exists (use --overwrite to replace it)"));
  }
  const std::filesystem::path staging =
      dest.parent_path() / absl::StrCat(".", dest.filename().string(), ".staging-", getpid());
  std::filesystem::remove_all(staging, ec);
  std::filesystem::create_directories(staging, ec);
  if (ec) return absl::PermissionDeniedError(absl::StrCat(staging.string(), ": cannot create: ", ec.message()));
  PackageWriter writer(dest, staging, overwrite);
  writer.committed_ = false;
  return writer;
}

PackageWriter::PackageWriter(PackageWriter&& other) noexcept
    : destination_(std::move(other.destination_)), staging_(std::move(other.staging_)),
      overwrite_(other.overwrite_), committed_(other.committed_) {
  other.committed_ = true;
}

PackageWriter::~PackageWriter() {
  if (!committed_) {
    std::error_code ec;
    std::filesystem::remove_all(staging_, ec);
  }
}

absl::Status PackageWriter::Commit(Manifest manifest) {
  if (committed_) return absl::FailedPreconditionError("PackageWriter::Commit called twice");
  manifest.files.clear();
  for (const auto& e : std::filesystem::recursive_directory_iterator(staging_)) {
    if (!e.is_regular_file()) continue;
    const std::string rel = std::filesystem::relative(e.path(), staging_).string();
    if (rel == kManifestName) continue;
    ARMAP_ASSIGN_OR_RETURN(std::string sha, Sha256OfFile(e.path()));
    manifest.files[rel] = {sha, static_cast<uint64_t>(e.file_size())};
  }
  if (manifest.created_utc.empty()) {
    const std::time_t now = std::time(nullptr);
    char buf[32];
    std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    manifest.created_utc = buf;
  }
  ARMAP_RETURN_IF_ERROR(WriteJsonFile(staging_ / kManifestName, manifest.ToJson()));
  std::error_code ec;
  // Swap in: move any old package aside first so a reader never sees none
  // for longer than two renames, and never a mixture.
  const std::filesystem::path old = destination_.parent_path() / absl::StrCat(".", destination_.filename().string(), ".old-", getpid());
  const bool had_old = std::filesystem::exists(destination_, ec);
  if (had_old) {
    if (!overwrite_) return absl::AlreadyExistsError(absl::StrCat(destination_.string(), ": appeared while building"));
    std::filesystem::rename(destination_, old, ec);
    if (ec) return absl::InternalError(absl::StrCat(destination_.string(), ": cannot move the old package aside: ", ec.message()));
  }
  std::filesystem::rename(staging_, destination_, ec);
  if (ec) {
    if (had_old) std::filesystem::rename(old, destination_, ec);
    return absl::InternalError(absl::StrCat(destination_.string(), ": cannot publish the package: ", ec.message()));
  }
  committed_ = true;
  if (had_old) std::filesystem::remove_all(old, ec);
  return absl::OkStatus();
}

}  // namespace armap::map
