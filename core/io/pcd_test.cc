#include "core/io/pcd.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>

#include <Eigen/Geometry>
#include <vector>

#include "core/io/io_test_util.h"
#include "core/testing/status_matchers.h"

namespace armap::io {
namespace {

using ::armap::io::testing::LoadLE;
using ::armap::io::testing::MakeTempDir;
using ::armap::io::testing::ReadBytes;
using ::armap::io::testing::SharedDataset;
using ::armap::io::testing::WriteBytes;
using ::armap::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

// ---------------------------------------------------------------------------
// An independent PCD decoder (no PCL) used as ground truth. It handles what
// the shared files use: 4-byte fields with COUNT 1, in any of the three
// encodings, including PCL's LZF compression.

struct RawPcd {
  std::vector<std::string> fields;
  uint32_t width = 0, height = 0;
  std::string encoding;
  std::vector<std::vector<uint32_t>> columns;  // per field, the raw 4 bytes of each point

  size_t size() const { return static_cast<size_t>(width) * height; }
  int Field(const std::string& name) const {
    for (size_t i = 0; i < fields.size(); ++i) {
      if (fields[i] == name) return static_cast<int>(i);
    }
    return -1;
  }
  float Float(int field, size_t i) const {
    float value;
    std::memcpy(&value, &columns[field][i], 4);
    return value;
  }
};

// LZF decompression (liblzf's format, as used by PCL's binary_compressed).
std::string LzfDecompress(const std::string& in, size_t out_size) {
  std::string out;
  out.reserve(out_size);
  size_t ip = 0;
  while (ip < in.size()) {
    const unsigned ctrl = static_cast<uint8_t>(in[ip++]);
    if (ctrl < 32) {  // literal run of ctrl + 1 bytes
      out.append(in, ip, ctrl + 1);
      ip += ctrl + 1;
      continue;
    }
    size_t length = ctrl >> 5;  // back reference
    if (length == 7) length += static_cast<uint8_t>(in[ip++]);
    const size_t distance = ((ctrl & 0x1f) << 8) + static_cast<uint8_t>(in[ip++]) + 1;
    const size_t from = out.size() - distance;
    for (size_t k = 0; k < length + 2; ++k) out.push_back(out[from + k]);  // may overlap
  }
  return out;
}

RawPcd DecodePcdByHand(const std::filesystem::path& path) {
  const std::string bytes = ReadBytes(path);
  RawPcd pcd;
  size_t pos = 0;
  while (pcd.encoding.empty()) {
    const size_t end = bytes.find('\n', pos);
    std::istringstream line(bytes.substr(pos, end - pos));
    pos = end + 1;
    std::string key;
    line >> key;
    if (key == "FIELDS") {
      for (std::string f; line >> f;) pcd.fields.push_back(f);
    } else if (key == "WIDTH") {
      line >> pcd.width;
    } else if (key == "HEIGHT") {
      line >> pcd.height;
    } else if (key == "DATA") {
      line >> pcd.encoding;
    }
  }
  const size_t n = pcd.size(), num_fields = pcd.fields.size();
  pcd.columns.assign(num_fields, std::vector<uint32_t>(n));
  if (pcd.encoding == "binary") {  // array of structs
    for (size_t i = 0; i < n; ++i) {
      for (size_t f = 0; f < num_fields; ++f)
        pcd.columns[f][i] = LoadLE<uint32_t>(bytes, pos + (i * num_fields + f) * 4);
    }
  } else if (pcd.encoding == "binary_compressed") {  // struct of arrays after LZF
    const uint32_t compressed_size = LoadLE<uint32_t>(bytes, pos);
    const uint32_t raw_size = LoadLE<uint32_t>(bytes, pos + 4);
    const std::string raw = LzfDecompress(bytes.substr(pos + 8, compressed_size), raw_size);
    for (size_t f = 0; f < num_fields; ++f) {
      for (size_t i = 0; i < n; ++i) pcd.columns[f][i] = LoadLE<uint32_t>(raw, (f * n + i) * 4);
    }
  } else {  // ascii, float fields
    std::istringstream body(bytes.substr(pos));
    for (size_t i = 0; i < n; ++i) {
      for (size_t f = 0; f < num_fields; ++f) {
        std::string token;
        body >> token;
        const float value = std::strtof(token.c_str(), nullptr);
        std::memcpy(&pcd.columns[f][i], &value, 4);
      }
    }
  }
  return pcd;
}

// Checks a cloud read by ReadPcd against the hand decoder, point by point.
void ExpectMatchesRaw(const PointCloud& cloud, const PcdReadInfo& info, const RawPcd& raw) {
  EXPECT_EQ(info.width, raw.width);
  EXPECT_EQ(info.height, raw.height);
  EXPECT_EQ(info.encoding, raw.encoding);
  const int x = raw.Field("x"), y = raw.Field("y"), z = raw.Field("z");
  const int intensity = raw.Field("intensity"), rgb = raw.Field("rgb");
  EXPECT_EQ(cloud.HasIntensity(), intensity >= 0);
  EXPECT_EQ(cloud.HasColors(), rgb >= 0);
  size_t k = 0;  // index in the cloud, which skips non-finite points
  for (size_t i = 0; i < raw.size(); ++i) {
    const Eigen::Vector3f p(raw.Float(x, i), raw.Float(y, i), raw.Float(z, i));
    if (!p.allFinite()) continue;
    ASSERT_LT(k, cloud.size());
    // Float inputs are exact in double, and their offsets from the integer
    // origin are exact in float (same binade spacing), so equality is exact.
    ASSERT_EQ(cloud.Point(k), p.cast<double>()) << "point " << i;
    if (intensity >= 0) {
      ASSERT_EQ(cloud.intensity[k], raw.Float(intensity, i));
    }
    if (rgb >= 0) {
      const uint32_t packed = raw.columns[rgb][i];
      ASSERT_EQ(cloud.colors[k],
                (std::array<uint8_t, 3>{static_cast<uint8_t>(packed >> 16), static_cast<uint8_t>(packed >> 8),
                                        static_cast<uint8_t>(packed)}));
    }
    ++k;
  }
  EXPECT_EQ(k, cloud.size());
  EXPECT_EQ(cloud.size() + info.num_non_finite_dropped, raw.size());
}

void ReadAndCompare(const std::string& relative, const std::string& expected_encoding) {
  const auto path = SharedDataset(relative);
  ARMAP_SKIP_IF_MISSING(path);
  PcdReadInfo info;
  const absl::StatusOr<PointCloud> cloud = ReadPcd(path, &info);
  ARMAP_ASSERT_OK(cloud);
  const RawPcd raw = DecodePcdByHand(path);
  ASSERT_EQ(raw.encoding, expected_encoding);
  ExpectMatchesRaw(*cloud, info, raw);
}

TEST(PcdTest, BinaryLidarScansMatchHandDecoding) {
  // SOURCE.md: 69,088 and 69,792 points, x y z intensity, ~40 x 80 m extent.
  ReadAndCompare("gicp_scan_pair/251370668.pcd", "binary");
  ReadAndCompare("gicp_scan_pair/251371071.pcd", "binary");
  const auto path = SharedDataset("gicp_scan_pair/251370668.pcd");
  ARMAP_SKIP_IF_MISSING(path);
  const absl::StatusOr<PointCloud> cloud = ReadPcd(path);
  ARMAP_ASSERT_OK(cloud);
  EXPECT_EQ(cloud->size(), 69088u);
  EXPECT_EQ(cloud->origin, Eigen::Vector3d::Zero());  // sensor-frame coordinates, < 1e4 m
  Eigen::AlignedBox3f bounds;
  for (const auto& p : cloud->points) bounds.extend(p);
  const Eigen::Vector3f extent = bounds.sizes();
  EXPECT_GT(extent.head<2>().maxCoeff(), 30.f);  // outdoor scan tens of metres across
  EXPECT_LT(extent.maxCoeff(), 500.f);
}

TEST(PcdTest, CompressedUtmTerrainKeepsLargeCoordinates) {
  ReadAndCompare("pcl_data/terrain/samp11-utm.pcd", "binary_compressed");
  const auto path = SharedDataset("pcl_data/terrain/samp11-utm.pcd");
  ARMAP_SKIP_IF_MISSING(path);
  const absl::StatusOr<PointCloud> cloud = ReadPcd(path);
  ARMAP_ASSERT_OK(cloud);
  EXPECT_EQ(cloud->size(), 38010u);  // SOURCE.md
  // UTM 32N: northings ~5.40e6 m, so an origin must have been chosen, and
  // float offsets stay within the tile (a few hundred metres).
  EXPECT_NEAR(cloud->origin.y(), 5.4e6, 0.1e6);
  EXPECT_GT(cloud->origin.x(), 1e5);
  for (const auto& p : cloud->points) ASSERT_LT(p.head<2>().cwiseAbs().maxCoeff(), 5000.f);
}

TEST(PcdTest, OrganizedColourCloudDropsNaNsAndUnpacksRgb) {
  ReadAndCompare("pcl_data/tutorials/table_scene_mug_stereo_textured.pcd", "binary_compressed");
  const auto path = SharedDataset("pcl_data/tutorials/table_scene_mug_stereo_textured.pcd");
  ARMAP_SKIP_IF_MISSING(path);
  PcdReadInfo info;
  const absl::StatusOr<PointCloud> cloud = ReadPcd(path, &info);
  ARMAP_ASSERT_OK(cloud);
  EXPECT_EQ(info.width * info.height, 640u * 480u);
  EXPECT_GT(info.num_non_finite_dropped, 0u);  // stereo leaves holes
  EXPECT_EQ(cloud->size(), 640u * 480u - info.num_non_finite_dropped);
  EXPECT_EQ(cloud->colors.size(), cloud->size());
}

TEST(PcdTest, AsciiLamppostMatchesText) { ReadAndCompare("pcl_data/tutorials/lamppost.pcd", "ascii"); }

TEST(PcdTest, EverySharedPcdFileReads) {
  const auto root = SharedDataset("pcl_data");
  ARMAP_SKIP_IF_MISSING(root);
  int num_files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (entry.path().extension() != ".pcd") continue;
    SCOPED_TRACE(entry.path().string());
    PcdReadInfo info;
    const absl::StatusOr<PointCloud> cloud = ReadPcd(entry.path(), &info);
    ARMAP_ASSERT_OK(cloud);
    const RawPcd raw = DecodePcdByHand(entry.path());
    EXPECT_EQ(cloud->size() + info.num_non_finite_dropped, raw.size());
    EXPECT_EQ(info.encoding, raw.encoding);
    ++num_files;
  }
  EXPECT_EQ(num_files, 14);  // SOURCE.md: 5 terrain + 9 tutorial clouds (5 of them pairwise/)
}

TEST(PcdTest, HandWrittenAsciiWithAllAttributes) {
  // rgba is TYPE U: a = 0xFF, then r, g, b; written as decimal integers.
  const auto path = MakeTempDir() / "attrs.pcd";
  WriteBytes(path,
             "# .PCD v0.7 - Point Cloud Data file format\n"
             "VERSION 0.7\n"
             "FIELDS x y z intensity timestamp rgba\n"
             "SIZE 4 4 4 2 8 4\n"
             "TYPE F F F U F U\n"
             "COUNT 1 1 1 1 1 1\n"
             "WIDTH 3\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS 3\nDATA ascii\n"
             "1.5 2.5 3.5 100 1700000000.25 4278190335\n"  // 0xFF0000FF: blue
             "nan nan nan 0 0 0\n"
             "-1 -2 -3 65535 1700000001.5 4282659618\n");  // 0xFF443322
  PcdReadInfo info;
  const absl::StatusOr<PointCloud> cloud = ReadPcd(path, &info);
  ARMAP_ASSERT_OK(cloud);
  EXPECT_EQ(info.encoding, "ascii");
  EXPECT_EQ(info.num_non_finite_dropped, 1u);
  ASSERT_EQ(cloud->size(), 2u);
  EXPECT_EQ(cloud->points[0], Eigen::Vector3f(1.5f, 2.5f, 3.5f));
  EXPECT_EQ(cloud->points[1], Eigen::Vector3f(-1.f, -2.f, -3.f));
  EXPECT_EQ(cloud->intensity, (std::vector<float>{100.f, 65535.f}));
  EXPECT_EQ(cloud->timestamp_s, (std::vector<double>{1700000000.25, 1700000001.5}));
  EXPECT_EQ(cloud->colors[0], (std::array<uint8_t, 3>{0, 0, 255}));
  EXPECT_EQ(cloud->colors[1], (std::array<uint8_t, 3>{0x44, 0x33, 0x22}));
}

TEST(PcdTest, TruncatedBinaryIsAnErrorNamingTheFile) {
  const auto source = SharedDataset("gicp_scan_pair/251370668.pcd");
  ARMAP_SKIP_IF_MISSING(source);
  std::string bytes = ReadBytes(source);
  bytes.resize(bytes.size() / 2);
  const auto path = MakeTempDir() / "half.pcd";
  WriteBytes(path, bytes);
  EXPECT_THAT(ReadPcd(path), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(path.string())));
}

TEST(PcdTest, MissingXIsAnError) {
  const auto path = MakeTempDir() / "no_x.pcd";
  WriteBytes(path,
             "VERSION 0.7\nFIELDS a y z\nSIZE 4 4 4\nTYPE F F F\nCOUNT 1 1 1\nWIDTH 1\nHEIGHT 1\n"
             "VIEWPOINT 0 0 0 1 0 0 0\nPOINTS 1\nDATA ascii\n1 2 3\n");
  EXPECT_THAT(ReadPcd(path),
              StatusIs(absl::StatusCode::kInvalidArgument, AllOf(HasSubstr(path.string()), HasSubstr("no field 'x'"))));
}

TEST(PcdTest, MissingFileIsNotFound) {
  const auto path = MakeTempDir() / "absent.pcd";
  EXPECT_THAT(ReadPcd(path), StatusIs(absl::StatusCode::kNotFound, HasSubstr(path.string())));
}

}  // namespace
}  // namespace armap::io
