#include "core/io/las.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include <Eigen/Geometry>

#include "core/io/io_test_util.h"
#include "core/testing/status_matchers.h"

namespace armap::io {
namespace {

using ::armap::io::testing::AppendLE;
using ::armap::io::testing::LoadLE;
using ::armap::io::testing::MakeTempDir;
using ::armap::io::testing::ReadBytes;
using ::armap::io::testing::SharedDataset;
using ::armap::io::testing::StoreLE;
using ::armap::io::testing::WriteBytes;
using ::armap::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr char kLazMessage[] = "compressed LAS (LAZ) is not supported; decompress it first (e.g. with laszip/PDAL)";

// Positions are float offsets from an integer origin near the bbox centre;
// with offsets below 4096 m the float spacing is <= 2^-11 m, so rounding
// errs by at most 2.5e-4 m.
constexpr double kFloatOffsetTolerance_m = 2.5e-4;

Eigen::AlignedBox3d Bounds(const PointCloud& cloud) {
  Eigen::AlignedBox3d box;
  for (size_t i = 0; i < cloud.size(); ++i) box.extend(cloud.Point(i));
  return box;
}

void ExpectBoundsMatchHeader(const PointCloud& cloud, const LasHeaderInfo& header) {
  const Eigen::AlignedBox3d box = Bounds(cloud);
  for (int k = 0; k < 3; ++k) {
    EXPECT_NEAR(box.min()[k], header.min[k], kFloatOffsetTolerance_m) << "axis " << k;
    EXPECT_NEAR(box.max()[k], header.max[k], kFloatOffsetTolerance_m) << "axis " << k;
  }
}

TEST(LasTest, ReadsLas12PointFormat3) {
  const auto path = SharedDataset("las_samples/simple.las");
  ARMAP_SKIP_IF_MISSING(path);
  LasHeaderInfo header;
  const absl::StatusOr<PointCloud> cloud = ReadLas(path, &header);
  ARMAP_ASSERT_OK(cloud);
  EXPECT_EQ(header.version_minor, 2);
  EXPECT_EQ(header.point_format, 3);
  EXPECT_EQ(header.num_points, 1065u);  // SOURCE.md
  ASSERT_EQ(cloud->size(), 1065u);
  ExpectBoundsMatchHeader(*cloud, header);

  // Ground truth from the raw bytes with Python (offset 227, 34-byte records):
  //   X, Y, Z, I = struct.unpack_from('<3iH', d, 227); cls = d[227 + 15] & 31
  //   gps = struct.unpack_from('<d', d, 227 + 20); rgb = struct.unpack_from('<3H', d, 227 + 28)
  // -> X*0.01 = 637012.24, 849028.31, 431.66; I = 143; class 1;
  //    gps 245380.78254962614; rgb (68, 77, 88). The file stores 8-bit colour
  //    values (max 249 over all points), so they are kept as they are.
  const Eigen::Vector3d first = cloud->Point(0);
  EXPECT_NEAR(first.x(), 637012.24, kFloatOffsetTolerance_m);
  EXPECT_NEAR(first.y(), 849028.31, kFloatOffsetTolerance_m);
  EXPECT_NEAR(first.z(), 431.66, kFloatOffsetTolerance_m);
  EXPECT_EQ(cloud->intensity[0], 143.f);
  EXPECT_EQ(cloud->classification[0], 1);
  EXPECT_EQ(cloud->timestamp_s[0], 245380.78254962614);  // copied, so exact
  EXPECT_EQ(cloud->colors[0], (std::array<uint8_t, 3>{68, 77, 88}));
  // Last point, same method (offset 227 + 1064 * 34).
  const Eigen::Vector3d last = cloud->Point(1064);
  EXPECT_NEAR(last.x(), 637342.85, kFloatOffsetTolerance_m);
  EXPECT_NEAR(last.y(), 853240.32, kFloatOffsetTolerance_m);
  EXPECT_NEAR(last.z(), 423.92, kFloatOffsetTolerance_m);
  EXPECT_EQ(cloud->intensity[1064], 116.f);
  EXPECT_EQ(cloud->timestamp_s[1064], 249773.20172406783);
  EXPECT_EQ(cloud->colors[1064], (std::array<uint8_t, 3>{138, 107, 136}));
  // State-plane coordinates (~6e5, ~8e5): an origin near the centre is used.
  EXPECT_GT(cloud->origin.x(), 6e5);
}

TEST(LasTest, ReadsLas14PointFormat7) {
  const auto path = SharedDataset("las_samples/simple1_4.las");
  ARMAP_SKIP_IF_MISSING(path);
  LasHeaderInfo header;
  const absl::StatusOr<PointCloud> cloud = ReadLas(path, &header);
  ARMAP_ASSERT_OK(cloud);
  EXPECT_EQ(header.version_minor, 4);
  EXPECT_EQ(header.point_format, 7);
  EXPECT_EQ(header.record_length, 36);
  ASSERT_EQ(cloud->size(), 22600u);  // SOURCE.md; EVLRs follow the points and are ignored
  ExpectBoundsMatchHeader(*cloud, header);
  EXPECT_EQ(cloud->origin, Eigen::Vector3d::Zero());  // coordinates < 1e4
  // Python, offset 571, 36-byte records: X*1e-6+1, Y*1e-7+1, Z*1e-3 =
  // (1, 1, 100) for point 0 and (226, 100, 185) for point 22599; RGB
  // (25600, 26624, 26880) and (47360, 44800, 42496) are 16-bit, so the top
  // byte is kept.
  EXPECT_NEAR(cloud->Point(0).x(), 1.0, 1e-6);
  EXPECT_NEAR(cloud->Point(0).y(), 1.0, 1e-6);
  EXPECT_NEAR(cloud->Point(0).z(), 100.0, 1e-6);
  EXPECT_NEAR(cloud->Point(22599).x(), 226.0, 1e-5);
  EXPECT_NEAR(cloud->Point(22599).y(), 100.0, 1e-5);
  EXPECT_NEAR(cloud->Point(22599).z(), 185.0, 1e-5);
  EXPECT_EQ(cloud->colors[0], (std::array<uint8_t, 3>{100, 104, 105}));
  EXPECT_EQ(cloud->colors[22599], (std::array<uint8_t, 3>{185, 175, 166}));
  EXPECT_EQ(cloud->timestamp_s.size(), 22600u);
}

TEST(LasTest, Las14UsesWhicheverPointCountIsSet) {
  const auto source = SharedDataset("las_samples/simple1_4.las");
  ARMAP_SKIP_IF_MISSING(source);
  const std::string original = ReadBytes(source);
  const auto dir = MakeTempDir();

  std::string legacy_zero = original;  // what writers do for formats 6-10
  StoreLE<uint32_t>(&legacy_zero, 107, 0);
  WriteBytes(dir / "legacy_zero.las", legacy_zero);
  const absl::StatusOr<PointCloud> a = ReadLas(dir / "legacy_zero.las");
  ARMAP_ASSERT_OK(a);
  EXPECT_EQ(a->size(), 22600u);

  std::string count64_zero = original;
  StoreLE<uint64_t>(&count64_zero, 247, 0);
  WriteBytes(dir / "count64_zero.las", count64_zero);
  const absl::StatusOr<PointCloud> b = ReadLas(dir / "count64_zero.las");
  ARMAP_ASSERT_OK(b);
  EXPECT_EQ(b->size(), 22600u);
}

// A LAS 1.4, point format 6 file built byte by byte: legacy count 0, 64-bit
// count 2, 2 extra bytes per record, a class above 31 and UTM coordinates.
std::string MakeFormat6File() {
  std::string bytes(375, '\0');
  bytes.replace(0, 4, "LASF");
  bytes[24] = 1, bytes[25] = 4;
  StoreLE<uint16_t>(&bytes, 94, 375);  // header size
  StoreLE<uint32_t>(&bytes, 96, 375);  // offset to point data
  bytes[104] = 6;                      // point format
  StoreLE<uint16_t>(&bytes, 105, 32);  // record length: 30 + 2 extra bytes
  for (int k = 0; k < 3; ++k) StoreLE<double>(&bytes, 131 + 8 * k, 0.001);
  StoreLE<double>(&bytes, 155, 300000.0);
  StoreLE<double>(&bytes, 163, 5000000.0);
  StoreLE<uint64_t>(&bytes, 247, 2);
  struct Record {
    int32_t x, y, z;
    uint16_t intensity;
    uint8_t cls;
    double gps;
  };
  for (const Record& r : {Record{1234567, 2345678, 12345, 777, 200, 1.3e9 + 0.125},
                          Record{1236567, 2343678, 13345, 65535, 7, 1.3e9 + 2.5}}) {
    AppendLE(&bytes, r.x), AppendLE(&bytes, r.y), AppendLE(&bytes, r.z), AppendLE(&bytes, r.intensity);
    AppendLE<uint8_t>(&bytes, 0x11);  // return number / count
    AppendLE<uint8_t>(&bytes, 0);     // classification flags, scanner channel
    AppendLE(&bytes, r.cls);
    AppendLE<uint8_t>(&bytes, 0);   // user data
    AppendLE<int16_t>(&bytes, 0);   // scan angle
    AppendLE<uint16_t>(&bytes, 0);  // point source id
    AppendLE(&bytes, r.gps);
    AppendLE<uint16_t>(&bytes, 0xBEEF);  // extra bytes, skipped
  }
  return bytes;
}

TEST(LasTest, ReadsHandBuiltFormat6WithExtraBytes) {
  const auto path = MakeTempDir() / "format6.las";
  WriteBytes(path, MakeFormat6File());
  const absl::StatusOr<PointCloud> cloud = ReadLas(path);
  ARMAP_ASSERT_OK(cloud);
  ASSERT_EQ(cloud->size(), 2u);
  // Offsets from the origin are ~1 m, where float spacing is ~1.2e-7 m.
  EXPECT_LT((cloud->Point(0) - Eigen::Vector3d(301234.567, 5002345.678, 12.345)).norm(), 1e-6);
  EXPECT_LT((cloud->Point(1) - Eigen::Vector3d(301236.567, 5002343.678, 13.345)).norm(), 1e-6);
  EXPECT_EQ(cloud->intensity, (std::vector<float>{777.f, 65535.f}));
  EXPECT_EQ(cloud->classification, (std::vector<uint8_t>{200, 7}));  // full byte for formats 6-10
  EXPECT_EQ(cloud->timestamp_s, (std::vector<double>{1.3e9 + 0.125, 1.3e9 + 2.5}));
  EXPECT_FALSE(cloud->HasColors());
}

TEST(LasTest, LazIsRejectedWithAClearMessage) {
  for (const char* name : {"las_samples/simple.laz", "las_samples/autzen_trim.laz"}) {
    const auto path = SharedDataset(name);
    ARMAP_SKIP_IF_MISSING(path);
    EXPECT_THAT(ReadLas(path),
                StatusIs(absl::StatusCode::kInvalidArgument, AllOf(HasSubstr(path.string()), HasSubstr(kLazMessage))));
  }
  // A LAZ file renamed to .las is caught by the compression bit of the point format.
  const auto source = SharedDataset("las_samples/simple.laz");
  const auto disguised = MakeTempDir() / "disguised.las";
  WriteBytes(disguised, ReadBytes(source));
  EXPECT_THAT(ReadLas(disguised), StatusIs(absl::StatusCode::kInvalidArgument,
                                           AllOf(HasSubstr(disguised.string()), HasSubstr(kLazMessage))));
}

TEST(LasTest, WrongHeaderSizeIsAnError) {
  const auto source = SharedDataset("las_samples/simple.las");
  ARMAP_SKIP_IF_MISSING(source);
  std::string bytes = ReadBytes(source);
  ASSERT_EQ(LoadLE<uint16_t>(bytes, 94), 227);
  StoreLE<uint16_t>(&bytes, 94, 100);
  const auto path = MakeTempDir() / "bad_header_size.las";
  WriteBytes(path, bytes);
  EXPECT_THAT(ReadLas(path), StatusIs(absl::StatusCode::kInvalidArgument,
                                      AllOf(HasSubstr(path.string()), HasSubstr("header size 100"))));

  // Larger than the offset to the point data: also inconsistent.
  StoreLE<uint16_t>(&bytes, 94, 300);
  WriteBytes(path, bytes);
  EXPECT_THAT(ReadLas(path), StatusIs(absl::StatusCode::kInvalidArgument,
                                      AllOf(HasSubstr(path.string()), HasSubstr("header size 300"))));
}

TEST(LasTest, TruncatedFileIsAnError) {
  const auto source = SharedDataset("las_samples/simple.las");
  ARMAP_SKIP_IF_MISSING(source);
  std::string bytes = ReadBytes(source);
  bytes.resize(bytes.size() - 100);  // (36437 - 100 - 227) / 34 = 1062 whole records remain
  const auto path = MakeTempDir() / "truncated.las";
  WriteBytes(path, bytes);
  EXPECT_THAT(ReadLas(path),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(path.string()), HasSubstr("truncated: expected 1065 points, got 1062"))));

  bytes.resize(100);  // not even a header
  WriteBytes(path, bytes);
  EXPECT_THAT(ReadLas(path), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("truncated")));
}

TEST(LasTest, OtherHeaderErrors) {
  const auto source = SharedDataset("las_samples/simple.las");
  ARMAP_SKIP_IF_MISSING(source);
  const std::string original = ReadBytes(source);
  const auto path = MakeTempDir() / "bad.las";

  std::string bytes = original;
  bytes[0] = 'X';
  WriteBytes(path, bytes);
  EXPECT_THAT(ReadLas(path), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a LAS file")));

  bytes = original;
  StoreLE<uint16_t>(&bytes, 105, 20);  // format 3 needs 34 bytes
  WriteBytes(path, bytes);
  EXPECT_THAT(ReadLas(path), StatusIs(absl::StatusCode::kInvalidArgument,
                                      HasSubstr("point record length 20 is smaller than the 34 bytes")));

  bytes = original;
  StoreLE<uint32_t>(&bytes, 96, 1u << 30);
  WriteBytes(path, bytes);
  EXPECT_THAT(ReadLas(path), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("offset to point data")));

  bytes = original;
  bytes[104] = 11;
  WriteBytes(path, bytes);
  EXPECT_THAT(ReadLas(path), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("point data record format 11")));
}

TEST(LasTest, MissingFileIsNotFound) {
  const auto path = MakeTempDir() / "absent.las";
  EXPECT_THAT(ReadLas(path), StatusIs(absl::StatusCode::kNotFound, HasSubstr(path.string())));
}

}  // namespace
}  // namespace armap::io
