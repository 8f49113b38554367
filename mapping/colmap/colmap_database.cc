#include "mapping/colmap/colmap_database.h"

#include <sqlite3.h>

#include <cmath>
#include <cstring>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/features/extractor.h"
#include "core/status.h"

namespace armap::mapping {
namespace {

constexpr int kDescriptorDim = 128;
constexpr float kColmapPixelOffset = 0.5f;  // COLMAP's top-left pixel centre
constexpr float kTwoPi = 6.28318530717958647692f;

// A prepared statement that finalises itself.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  bool ok() const { return rc_ == SQLITE_OK && stmt_ != nullptr; }
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_ERROR;
};

// A matrix blob row as COLMAP writes it: rows, cols, then rows*cols values.
struct Blob {
  bool present = false;
  int64_t rows = 0;
  int64_t cols = 0;
  const void* data = nullptr;
  int64_t bytes = 0;
};

}  // namespace

struct ColmapDatabase::Impl {
  std::filesystem::path path;
  sqlite3* db = nullptr;
  ~Impl() {
    if (db != nullptr) sqlite3_close(db);
  }

  std::string Where() const { return path.string(); }
  absl::Status SqlError(const std::string& what) const {
    return absl::InternalError(absl::StrCat(Where(), ": ", what, ": ", sqlite3_errmsg(db)));
  }

  // Reads the (rows, cols, data) blob of `table` for an image. `copy`
  // receives the data bytes (the statement's buffer dies with it).
  absl::Status ReadBlob(const char* table, colmap_image_t image_id, Blob* blob, std::string* copy) const {
    const std::string sql = absl::StrCat("SELECT rows, cols, data FROM ", table, " WHERE image_id = ?");
    Statement stmt(db, sql.c_str());
    if (!stmt.ok()) return SqlError(absl::StrCat("cannot query table '", table, "'"));
    sqlite3_bind_int64(stmt.get(), 1, image_id);
    const int rc = sqlite3_step(stmt.get());
    if (rc == SQLITE_DONE) {
      *blob = Blob{};
      return absl::OkStatus();
    }
    if (rc != SQLITE_ROW) return SqlError(absl::StrCat("cannot read ", table, " of image ", image_id));
    blob->present = true;
    blob->rows = sqlite3_column_int64(stmt.get(), 0);
    blob->cols = sqlite3_column_int64(stmt.get(), 1);
    blob->bytes = sqlite3_column_bytes(stmt.get(), 2);
    const void* data = sqlite3_column_blob(stmt.get(), 2);
    copy->assign(static_cast<const char*>(data), data != nullptr ? static_cast<size_t>(blob->bytes) : 0);
    blob->data = copy->data();
    if (blob->rows < 0 || blob->cols < 0) {
      return absl::DataLossError(
          absl::StrCat(Where(), ": ", table, " of image ", image_id, " has shape ", blob->rows, " x ", blob->cols));
    }
    return absl::OkStatus();
  }
};

absl::StatusOr<ColmapDescriptorNormalization> ParseColmapDescriptorNormalization(const std::string& name) {
  if (name == "l1_root") return ColmapDescriptorNormalization::kL1Root;
  if (name == "l2") return ColmapDescriptorNormalization::kL2;
  return absl::InvalidArgumentError(
      absl::StrCat("descriptor normalization '", name, "' is not one of COLMAP's: 'l1_root', 'l2'"));
}

std::string ColmapDescriptorNormalizationName(ColmapDescriptorNormalization normalization) {
  return normalization == ColmapDescriptorNormalization::kL1Root ? "l1_root" : "l2";
}

ColmapDatabase::ColmapDatabase(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ColmapDatabase::ColmapDatabase(ColmapDatabase&&) noexcept = default;
ColmapDatabase& ColmapDatabase::operator=(ColmapDatabase&&) noexcept = default;
ColmapDatabase::~ColmapDatabase() = default;

const std::filesystem::path& ColmapDatabase::path() const { return impl_->path; }

absl::StatusOr<ColmapDatabase> ColmapDatabase::Open(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return absl::NotFoundError(absl::StrCat(path.string(), ": COLMAP database not found"));
  }
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  // Read-only; SQLite's locking keeps reads consistent even if COLMAP is
  // still writing the file.
  const int rc = sqlite3_open_v2(path.c_str(), &impl->db, SQLITE_OPEN_READONLY, nullptr);
  if (rc != SQLITE_OK) {
    return absl::InvalidArgumentError(absl::StrCat(path.string(), ": cannot open as SQLite: ", sqlite3_errstr(rc)));
  }
  // sqlite3_open_v2 is lazy: a non-SQLite file fails on the first query.
  Statement stmt(impl->db, "SELECT name FROM sqlite_master WHERE type = 'table'");
  if (!stmt.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path.string(), ": not a SQLite database (", sqlite3_errmsg(impl->db), ")"));
  }
  bool has_images = false, has_cameras = false, has_keypoints = false, has_descriptors = false;
  int step;
  while ((step = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    const char* name = reinterpret_cast<const char*>(sqlite3_column_text(stmt.get(), 0));
    const std::string table = name != nullptr ? name : "";
    has_images |= table == "images";
    has_cameras |= table == "cameras";
    has_keypoints |= table == "keypoints";
    has_descriptors |= table == "descriptors";
  }
  if (step != SQLITE_DONE) {
    return absl::InvalidArgumentError(
        absl::StrCat(path.string(), ": not a SQLite database (", sqlite3_errmsg(impl->db), ")"));
  }
  for (const auto& [present, table] :
       {std::pair{has_images, "images"}, std::pair{has_cameras, "cameras"}, std::pair{has_keypoints, "keypoints"},
        std::pair{has_descriptors, "descriptors"}}) {
    if (!present) {
      return absl::InvalidArgumentError(
          absl::StrCat(path.string(), ": not a COLMAP database (no '", table, "' table)"));
    }
  }
  return ColmapDatabase(std::move(impl));
}

absl::StatusOr<std::vector<ColmapDbImage>> ColmapDatabase::ReadImages() const {
  Statement stmt(impl_->db, "SELECT image_id, name, camera_id FROM images ORDER BY image_id");
  if (!stmt.ok()) return impl_->SqlError("cannot query table 'images'");
  std::vector<ColmapDbImage> images;
  int rc;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    ColmapDbImage image;
    image.image_id = static_cast<colmap_image_t>(sqlite3_column_int64(stmt.get(), 0));
    const char* name = reinterpret_cast<const char*>(sqlite3_column_text(stmt.get(), 1));
    if (name == nullptr) {
      return absl::DataLossError(absl::StrCat(impl_->Where(), ": image ", image.image_id, " has no name"));
    }
    image.name = name;
    image.camera_id = static_cast<colmap_camera_t>(sqlite3_column_int64(stmt.get(), 2));
    images.push_back(std::move(image));
  }
  if (rc != SQLITE_DONE) return impl_->SqlError("cannot read table 'images'");
  return images;
}

absl::StatusOr<std::vector<ColmapDbCamera>> ColmapDatabase::ReadCameras() const {
  Statement stmt(impl_->db,
                 "SELECT camera_id, model, width, height, params, prior_focal_length FROM cameras ORDER BY camera_id");
  if (!stmt.ok()) return impl_->SqlError("cannot query table 'cameras'");
  std::vector<ColmapDbCamera> cameras;
  int rc;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    ColmapDbCamera camera;
    camera.camera_id = static_cast<colmap_camera_t>(sqlite3_column_int64(stmt.get(), 0));
    camera.model_id = sqlite3_column_int(stmt.get(), 1);
    camera.width = sqlite3_column_int(stmt.get(), 2);
    camera.height = sqlite3_column_int(stmt.get(), 3);
    const int bytes = sqlite3_column_bytes(stmt.get(), 4);
    const void* data = sqlite3_column_blob(stmt.get(), 4);
    if (bytes % static_cast<int>(sizeof(double)) != 0) {
      return absl::DataLossError(absl::StrCat(impl_->Where(), ": camera ", camera.camera_id, " has ", bytes,
                                              " parameter bytes, not a multiple of 8"));
    }
    camera.params.resize(static_cast<size_t>(bytes) / sizeof(double));
    if (bytes > 0) std::memcpy(camera.params.data(), data, static_cast<size_t>(bytes));
    camera.prior_focal_length = sqlite3_column_int(stmt.get(), 5) != 0;
    cameras.push_back(std::move(camera));
  }
  if (rc != SQLITE_DONE) return impl_->SqlError("cannot read table 'cameras'");
  return cameras;
}

absl::StatusOr<int64_t> ColmapDatabase::NumKeypoints(colmap_image_t image_id) const {
  Statement stmt(impl_->db, "SELECT rows FROM keypoints WHERE image_id = ?");
  if (!stmt.ok()) return impl_->SqlError("cannot query table 'keypoints'");
  sqlite3_bind_int64(stmt.get(), 1, image_id);
  const int rc = sqlite3_step(stmt.get());
  if (rc == SQLITE_DONE) return 0;
  if (rc != SQLITE_ROW) return impl_->SqlError(absl::StrCat("cannot read keypoints of image ", image_id));
  return sqlite3_column_int64(stmt.get(), 0);
}

absl::StatusOr<std::vector<features::Keypoint>> ColmapDatabase::ReadKeypoints(colmap_image_t image_id) const {
  Blob blob;
  std::string bytes;
  ARMAP_RETURN_IF_ERROR(impl_->ReadBlob("keypoints", image_id, &blob, &bytes));
  std::vector<features::Keypoint> keypoints;
  if (!blob.present || blob.rows == 0) return keypoints;
  if (blob.cols != 2 && blob.cols != 4 && blob.cols != 6) {
    return absl::DataLossError(absl::StrCat(impl_->Where(), ": keypoints of image ", image_id, " have ", blob.cols,
                                            " columns; COLMAP writes 2, 4 or 6"));
  }
  if (blob.bytes != blob.rows * blob.cols * static_cast<int64_t>(sizeof(float))) {
    return absl::DataLossError(absl::StrCat(impl_->Where(), ": keypoints of image ", image_id, " are ", blob.rows,
                                            " x ", blob.cols, " float32 but the blob has ", blob.bytes, " bytes"));
  }
  std::vector<float> values(static_cast<size_t>(blob.rows * blob.cols));
  std::memcpy(values.data(), blob.data, values.size() * sizeof(float));
  keypoints.resize(static_cast<size_t>(blob.rows));
  for (size_t i = 0; i < keypoints.size(); ++i) {
    const float* row = values.data() + i * static_cast<size_t>(blob.cols);
    features::Keypoint& k = keypoints[i];
    k.x = row[0] - kColmapPixelOffset;
    k.y = row[1] - kColmapPixelOffset;
    float orientation = 0;
    if (blob.cols == 4) {
      k.scale = row[2];
      orientation = row[3];
    } else if (blob.cols == 6) {
      // COLMAP's FeatureKeypoint::ComputeScale / ComputeOrientation.
      const float a11 = row[2], a12 = row[3], a21 = row[4], a22 = row[5];
      k.scale = 0.5f * (std::hypot(a11, a21) + std::hypot(a12, a22));
      orientation = std::atan2(a21, a11);
    }
    if (!std::isfinite(k.x) || !std::isfinite(k.y) || !std::isfinite(k.scale) || !std::isfinite(orientation)) {
      return absl::DataLossError(
          absl::StrCat(impl_->Where(), ": keypoint ", i, " of image ", image_id, " is not finite"));
    }
    orientation -= kTwoPi * std::floor(orientation / kTwoPi);
    k.orientation_rad = orientation < kTwoPi ? orientation : 0.0f;
  }
  return keypoints;
}

absl::StatusOr<features::FeatureSet> ColmapDatabase::ReadFeatures(colmap_image_t image_id,
                                                                  ColmapDescriptorNormalization normalization) const {
  features::FeatureSet out;
  out.dim = kDescriptorDim;
  ARMAP_ASSIGN_OR_RETURN(out.keypoints, ReadKeypoints(image_id));
  Blob blob;
  std::string bytes;
  ARMAP_RETURN_IF_ERROR(impl_->ReadBlob("descriptors", image_id, &blob, &bytes));
  const int64_t rows = blob.present ? blob.rows : 0;
  if (rows != static_cast<int64_t>(out.keypoints.size())) {
    return absl::DataLossError(absl::StrCat(impl_->Where(), ": image ", image_id, " has ", out.keypoints.size(),
                                            " keypoints but ", rows, " descriptors"));
  }
  if (rows == 0) return out;
  if (blob.cols != kDescriptorDim) {
    return absl::DataLossError(absl::StrCat(impl_->Where(), ": descriptors of image ", image_id, " have ", blob.cols,
                                            " columns; SIFT has ", kDescriptorDim));
  }
  if (blob.bytes != rows * kDescriptorDim) {
    return absl::DataLossError(absl::StrCat(impl_->Where(), ": descriptors of image ", image_id, " are ", rows,
                                            " x 128 uint8 but the blob has ", blob.bytes, " bytes"));
  }
  const auto* src = static_cast<const uint8_t*>(blob.data);
  out.descriptors.resize(static_cast<size_t>(rows) * kDescriptorDim);
  if (normalization == ColmapDescriptorNormalization::kL1Root) {
    // Already round(512 * RootSIFT) clamped to 255: the bytes SiftToRootSift
    // would produce.
    std::memcpy(out.descriptors.data(), src, out.descriptors.size());
  } else {
    float sift[kDescriptorDim];
    for (int64_t i = 0; i < rows; ++i) {
      for (int c = 0; c < kDescriptorDim; ++c) sift[c] = src[i * kDescriptorDim + c] / 512.0f;
      features::SiftToRootSift(sift, kDescriptorDim, out.descriptors.data() + i * kDescriptorDim);
    }
  }
  return out;
}

}  // namespace armap::mapping
