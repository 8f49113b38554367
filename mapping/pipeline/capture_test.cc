#include "mapping/pipeline/capture.h"

#include <gtest/gtest.h>

#include <fstream>

#include "core/files.h"
#include "core/testing/status_matchers.h"
#include "datasets/synthetic/capture_generator.h"

namespace armap::mapping {
namespace {

using ::armap::testing::IsOk;
using ::armap::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

// One small synthetic capture shared by the tests (copied before damage).
const fs::path& PristineCapture() {
  static const fs::path dir = [] {
    const fs::path d = fs::temp_directory_path() / "armap_capture_test_pristine";
    fs::remove_all(d);
    synth::CaptureOptions o;
    o.city.size_m = 60;
    o.out_dir = d;
    o.num_panos = 3;
    o.num_queries = 0;
    o.pano_width_px = 256;
    o.lidar.azimuth_resolution_deg = 4.0;
    o.lidar.beams = 8;
    o.photo_root = ARMAP_SHARED_DATASETS;
    EXPECT_TRUE(synth::GenerateCapture(o).ok());
    return d;
  }();
  return dir;
}

fs::path Copy(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("armap_capture_test_" + name);
  fs::remove_all(d);
  fs::copy(PristineCapture(), d, fs::copy_options::recursive);
  return d;
}

TEST(IngestTest, ReadsASyntheticCapture) {
  QualityReport report;
  auto capture = IngestCapture(PristineCapture(), IngestOptions{}, &report);
  ASSERT_THAT(capture.status(), IsOk());
  EXPECT_EQ(capture->panos.size(), 3u);
  EXPECT_EQ(capture->pano_width_px, 256);
  EXPECT_FALSE(capture->lidar_files.empty());
  ASSERT_TRUE(capture->panos_gt.has_value());
  EXPECT_NEAR(capture->origin.lat_deg, 22.5431, 1e-9);
}

TEST(IngestTest, TruncatedJpegNamesFileAndRow) {
  const fs::path d = Copy("jpeg");
  const fs::path pano = d / "panos" / "pano_0001.jpg";
  const std::string bytes = *ReadFileToString(pano);
  ASSERT_THAT(WriteFileAtomic(pano, bytes.substr(0, bytes.size() / 2)), IsOk());
  QualityReport report;
  EXPECT_THAT(IngestCapture(d, IngestOptions{}, &report),
              StatusIs(absl::StatusCode::kDataLoss, AllOf(HasSubstr("pano_0001.jpg"), HasSubstr("row 3"))));
}

TEST(IngestTest, BadTrajectoryRowsAreFatal) {
  const fs::path d = Copy("traj");
  std::string csv = *ReadFileToString(d / "trajectory.csv");
  // Row 3 (the second pose): scale its quaternion to norm 2.
  std::vector<std::string> lines;
  std::stringstream ss(csv);
  for (std::string line; std::getline(ss, line);) lines.push_back(line);
  std::vector<std::string> cols;
  std::stringstream row(lines[2]);
  for (std::string c; std::getline(row, c, ',');) cols.push_back(c);
  for (int k = 5; k < 9; ++k) cols[k] = std::to_string(2 * std::stod(cols[k]));
  std::string joined;
  for (size_t k = 0; k < cols.size(); ++k) joined += (k ? "," : "") + cols[k];
  lines[2] = joined;
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  ASSERT_THAT(WriteFileAtomic(d / "trajectory.csv", out), IsOk());
  QualityReport report;
  EXPECT_THAT(IngestCapture(d, IngestOptions{}, &report),
              StatusIs(absl::StatusCode::kInvalidArgument, AllOf(HasSubstr("trajectory.csv:3"), HasSubstr("non-unit quaternion"))));
  // Timestamps out of order (the original rows, swapped).
  lines.clear();
  std::stringstream original(csv);
  for (std::string line; std::getline(original, line);) lines.push_back(line);
  std::swap(lines[1], lines[2]);
  out.clear();
  for (const auto& l : lines) out += l + "\n";
  ASSERT_THAT(WriteFileAtomic(d / "trajectory.csv", out), IsOk());
  EXPECT_THAT(IngestCapture(d, IngestOptions{}, &report), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("out of order")));
}

TEST(IngestTest, MissingPiecesAreNamed) {
  const fs::path d = Copy("missing");
  fs::remove(d / "panos" / "pano_0002.jpg");
  QualityReport report;
  EXPECT_THAT(IngestCapture(d, IngestOptions{}, &report),
              StatusIs(absl::StatusCode::kNotFound, AllOf(HasSubstr("pano_0002.jpg"), HasSubstr("row 4"))));
  const fs::path e = Copy("nolidar");
  fs::remove_all(e / "lidar");
  EXPECT_THAT(IngestCapture(e, IngestOptions{}, &report), StatusIs(absl::StatusCode::kNotFound, HasSubstr("lidar")));
  EXPECT_THAT(IngestCapture(fs::temp_directory_path() / "armap_no_capture", IngestOptions{}, &report),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("armap_no_capture")));
}

TEST(IngestTest, CompleteJpegCheck) {
  EXPECT_TRUE(LooksLikeCompleteJpeg(std::string("\xFF\xD8 data \xFF\xD9", 10)));
  EXPECT_TRUE(LooksLikeCompleteJpeg(std::string("\xFF\xD8 data \xFF\xD9\0\0", 12)));
  EXPECT_FALSE(LooksLikeCompleteJpeg(std::string("\xFF\xD8 data", 7)));
  EXPECT_FALSE(LooksLikeCompleteJpeg("GIF89a"));
}

}  // namespace
}  // namespace armap::mapping
