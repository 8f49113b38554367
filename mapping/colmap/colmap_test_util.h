// Helpers for the mapping/colmap tests: shared datasets, scratch
// directories, the colmap binary, and a synthetic COLMAP 3.8 database. Not a
// public API.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <string>
#include <vector>

#include "core/geo.h"
#include "mapping/colmap/process.h"

namespace armap::mapping::testing {

inline std::filesystem::path Datasets() { return std::filesystem::path(ARMAP_SHARED_DATASETS); }
inline std::filesystem::path LundDoor() { return Datasets() / "lund_door_colmap"; }
inline std::filesystem::path BerlinImages() { return Datasets() / "opensfm_berlin_lund" / "berlin" / "images"; }

// A fresh directory under the test temp dir, removed by the destructor.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name) {
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::path(::testing::TempDir()) /
            ("armap_colmap_" + std::string(info ? info->name() : "x") + "_" + name + "_" + std::to_string(getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    if (std::getenv("ARMAP_KEEP_TEST_OUTPUT") == nullptr) {
      std::error_code ec;
      std::filesystem::remove_all(path_, ec);
    }
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& rel) const { return path_ / rel; }

 private:
  std::filesystem::path path_;
};

// The colmap binary for tests: $ARMAP_COLMAP_BINARY or "colmap" in PATH;
// empty when neither exists.
inline std::string ColmapBinary() {
  const char* env = std::getenv("ARMAP_COLMAP_BINARY");
  const std::string name = env != nullptr ? env : "colmap";
  auto found = FindExecutable(name);
  return found.ok() ? found->string() : std::string();
}

inline bool SlowTestsEnabled() {
  const char* env = std::getenv("ARMAP_SLOW_TESTS");
  return env != nullptr && std::string(env) == "1";
}

// COLMAP 3.8's schema (src/base/database.cc), the tables we read.
inline constexpr const char* kColmapSchema = R"sql(
CREATE TABLE cameras (camera_id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, model INTEGER NOT NULL,
  width INTEGER NOT NULL, height INTEGER NOT NULL, params BLOB, prior_focal_length INTEGER NOT NULL);
CREATE TABLE images (image_id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, name TEXT NOT NULL UNIQUE,
  camera_id INTEGER NOT NULL, prior_qw REAL, prior_qx REAL, prior_qy REAL, prior_qz REAL,
  prior_tx REAL, prior_ty REAL, prior_tz REAL);
CREATE TABLE keypoints (image_id INTEGER PRIMARY KEY NOT NULL, rows INTEGER NOT NULL, cols INTEGER NOT NULL, data BLOB);
CREATE TABLE descriptors (image_id INTEGER PRIMARY KEY NOT NULL, rows INTEGER NOT NULL, cols INTEGER NOT NULL, data BLOB);
)sql";

// A writable synthetic database for tests.
class SyntheticDatabase {
 public:
  explicit SyntheticDatabase(const std::filesystem::path& path) {
    std::filesystem::remove(path);
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db_, kColmapSchema, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db_);
  }
  ~SyntheticDatabase() { sqlite3_close(db_); }

  void AddCamera(int camera_id, int model_id, int width, int height, const std::vector<double>& params) {
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db_, "INSERT INTO cameras VALUES (?, ?, ?, ?, ?, 0)", -1, &stmt, nullptr);
    sqlite3_bind_int(stmt, 1, camera_id);
    sqlite3_bind_int(stmt, 2, model_id);
    sqlite3_bind_int(stmt, 3, width);
    sqlite3_bind_int(stmt, 4, height);
    sqlite3_bind_blob(stmt, 5, params.data(), static_cast<int>(params.size() * sizeof(double)), SQLITE_TRANSIENT);
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE) << sqlite3_errmsg(db_);
    sqlite3_finalize(stmt);
  }
  void AddImage(int image_id, const std::string& name, int camera_id) {
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db_, "INSERT INTO images (image_id, name, camera_id) VALUES (?, ?, ?)", -1, &stmt, nullptr);
    sqlite3_bind_int(stmt, 1, image_id);
    sqlite3_bind_text(stmt, 2, name.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(stmt, 3, camera_id);
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE) << sqlite3_errmsg(db_);
    sqlite3_finalize(stmt);
  }
  template <typename T>
  void AddMatrix(const char* table, int image_id, int rows, int cols, const std::vector<T>& data) {
    sqlite3_stmt* stmt = nullptr;
    const std::string sql = std::string("INSERT INTO ") + table + " VALUES (?, ?, ?, ?)";
    sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr);
    sqlite3_bind_int(stmt, 1, image_id);
    sqlite3_bind_int(stmt, 2, rows);
    sqlite3_bind_int(stmt, 3, cols);
    sqlite3_bind_blob(stmt, 4, data.data(), static_cast<int>(data.size() * sizeof(T)), SQLITE_TRANSIENT);
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE) << sqlite3_errmsg(db_);
    sqlite3_finalize(stmt);
  }

 private:
  sqlite3* db_ = nullptr;
};

// A small gray JPEG whose EXIF holds exactly a GPS position (an APP1
// segment written by hand, little-endian TIFF: IFD0 -> GPS IFD with
// Latitude/Longitude/Altitude and their Refs).
inline void WriteJpegWithGps(const std::filesystem::path& path, const GeoPoint& gps) {
  std::string tiff;
  auto u16 = [&](uint16_t v) {
    tiff.push_back(static_cast<char>(v & 0xFF));
    tiff.push_back(static_cast<char>(v >> 8));
  };
  auto u32 = [&](uint32_t v) {
    for (int i = 0; i < 4; ++i) tiff.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  };
  auto entry = [&](uint16_t tag, uint16_t type, uint32_t count, uint32_t value) {
    u16(tag);
    u16(type);
    u32(count);
    u32(value);
  };
  auto ascii2 = [](char c) { return static_cast<uint32_t>(static_cast<unsigned char>(c)); };
  tiff += "II";
  u16(42);
  u32(8);
  u16(1);                   // IFD0 at 8: one entry
  entry(0x8825, 4, 1, 26);  // GPSInfo -> GPS IFD at 26
  u32(0);
  u16(6);  // GPS IFD at 26: 6 entries, data from 104
  entry(0x0001, 2, 2, ascii2(gps.lat_deg >= 0 ? 'N' : 'S'));
  entry(0x0002, 5, 3, 104);
  entry(0x0003, 2, 2, ascii2(gps.lon_deg >= 0 ? 'E' : 'W'));
  entry(0x0004, 5, 3, 128);
  entry(0x0005, 1, 1, gps.alt_m < 0 ? 1 : 0);
  entry(0x0006, 5, 1, 152);
  u32(0);
  auto dms = [&](double deg) {
    deg = std::abs(deg);
    const double d = std::floor(deg), m = std::floor((deg - d) * 60), sec = ((deg - d) * 60 - m) * 60;
    u32(static_cast<uint32_t>(d));
    u32(1);
    u32(static_cast<uint32_t>(m));
    u32(1);
    u32(static_cast<uint32_t>(std::llround(sec * 1e6)));
    u32(1000000);
  };
  dms(gps.lat_deg);
  dms(gps.lon_deg);
  u32(static_cast<uint32_t>(std::llround(std::abs(gps.alt_m) * 1000)));
  u32(1000);
  std::vector<uchar> jpeg;
  cv::imencode(".jpg", cv::Mat(16, 16, CV_8UC1, cv::Scalar(128)), jpeg);
  const std::string app1_body = std::string("Exif\0\0", 6) + tiff;
  const size_t length = app1_body.size() + 2;
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(jpeg.data()), 2);  // SOI
  const char header[4] = {static_cast<char>(0xFF), static_cast<char>(0xE1), static_cast<char>(length >> 8),
                          static_cast<char>(length & 0xFF)};
  out.write(header, 4);
  out.write(app1_body.data(), static_cast<std::streamsize>(app1_body.size()));
  out.write(reinterpret_cast<const char*>(jpeg.data()) + 2, static_cast<std::streamsize>(jpeg.size() - 2));
}

}  // namespace armap::mapping::testing
