#include "core/io/trajectory.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "core/io/io_test_util.h"
#include "core/testing/status_matchers.h"

namespace armap::io {
namespace {

using ::armap::io::testing::MakeTempDir;
using ::armap::io::testing::ReadBytes;
using ::armap::io::testing::WriteBytes;
using ::armap::testing::IsOk;
using ::armap::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

// The double a reader gets back from printf(format, value).
double Printed(const char* format, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), format, value);
  return std::stod(buffer);
}

std::vector<PoseStamped> RandomTrajectory(int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> position_m(-2000.0, 2000.0);
  std::uniform_real_distribution<double> step_s(0.05, 2.0);
  std::normal_distribution<double> gaussian;
  std::vector<PoseStamped> poses;
  double time_s = 1.7e9;  // Unix time: 1 us is ~4 ulp, so %.6f still carries every microsecond
  for (int i = 0; i < n; ++i) {
    time_s += step_s(rng);
    const Eigen::Quaterniond rotation(gaussian(rng), gaussian(rng), gaussian(rng), gaussian(rng));
    poses.push_back({"pano_" + std::to_string(i), time_s,
                     Rigid3d(rotation, Eigen::Vector3d(position_m(rng), position_m(rng), position_m(rng)))});
  }
  return poses;
}

TEST(TrajectoryTest, WritesTheDocumentedFormat) {
  const auto path = MakeTempDir() / "trajectory.csv";
  const std::vector<PoseStamped> poses = {
      {"pano_0000", 12.5, Rigid3d(Eigen::Quaterniond::Identity(), Eigen::Vector3d(1.0, -2.0, 3.25))},
      {"pano_0001", 13.0, Rigid3d(Eigen::Quaterniond(0.0, 0.0, 0.0, 1.0), Eigen::Vector3d(0.0, 0.0, 0.0))}};
  ARMAP_ASSERT_OK(WriteTrajectoryCsv(path, poses));
  EXPECT_EQ(ReadBytes(path),
            "name,timestamp_s,x,y,z,qw,qx,qy,qz\n"
            "pano_0000,12.500000,1.000000,-2.000000,3.250000,1.000000000,0.000000000,0.000000000,0.000000000\n"
            "pano_0001,13.000000,0.000000,0.000000,0.000000,0.000000000,0.000000000,0.000000000,1.000000000\n");
}

TEST(TrajectoryTest, RoundTripIsExactToThePrintedPrecision) {
  const std::vector<PoseStamped> poses = RandomTrajectory(500, 7);
  const auto path = MakeTempDir() / "trajectory.csv";
  ARMAP_ASSERT_OK(WriteTrajectoryCsv(path, poses));
  const absl::StatusOr<std::vector<PoseStamped>> read = ReadTrajectoryCsv(path);
  ARMAP_ASSERT_OK(read);
  ASSERT_EQ(read->size(), poses.size());
  for (size_t i = 0; i < poses.size(); ++i) {
    const PoseStamped& expected = poses[i];
    const PoseStamped& actual = (*read)[i];
    EXPECT_EQ(actual.name, expected.name);
    // Bit-exact: what strtod makes of the printed decimals, nothing lost.
    EXPECT_EQ(actual.timestamp_s, Printed("%.6f", expected.timestamp_s)) << i;
    for (int axis = 0; axis < 3; ++axis) {
      EXPECT_EQ(actual.world_from_rig.translation[axis], Printed("%.6f", expected.world_from_rig.translation[axis]))
          << i;
    }
    // The quaternion is the printed one, normalised by the same code path
    // (Rigid3d's constructor), so this too is exact.
    const Eigen::Quaterniond& q = expected.world_from_rig.rotation;
    const Eigen::Quaterniond printed(Printed("%.9f", q.w()), Printed("%.9f", q.x()), Printed("%.9f", q.y()),
                                     Printed("%.9f", q.z()));
    EXPECT_EQ(actual.world_from_rig.rotation.coeffs(), printed.normalized().coeffs()) << i;
    // And 9 decimals keep the rotation to ~1e-9 rad: 4 components each off
    // by <= 5e-10, plus the renormalisation, stay far below 1e-7 deg.
    EXPECT_LT(RotationErrorDeg(actual.world_from_rig.rotation, q), 1e-7) << i;
  }
}

class TrajectoryFaultTest : public ::testing::Test {
 protected:
  void SetUp() override { path_ = MakeTempDir() / "trajectory.csv"; }

  // Writes header + `body` to path_ and returns the read status.
  absl::Status Read(const std::string& body, const std::string& header = kTrajectoryCsvHeader) {
    WriteBytes(path_, header + "\n" + body);
    return ReadTrajectoryCsv(path_).status();
  }
  // "PATH:LINE:" as the errors print it.
  std::string At(int line) const { return path_.string() + ":" + std::to_string(line) + ":"; }

  std::filesystem::path path_;
};

constexpr char kGoodRow[] = "a,1.0,0,0,0,1,0,0,0\n";

TEST_F(TrajectoryFaultTest, AcceptsAGoodFile) {
  EXPECT_THAT(Read(std::string(kGoodRow) + "b,2.0,1,2,3,0,0,0,1\n"), IsOk());
}

TEST_F(TrajectoryFaultTest, WrongColumnCount) {
  EXPECT_THAT(Read(std::string(kGoodRow) + "b,2.0,0,0,0,1,0,0\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(At(3)), HasSubstr("expected 9 columns"), HasSubstr("got 8"))));
  EXPECT_THAT(Read(std::string(kGoodRow) + "b,2.0,0,0,0,1,0,0,0,7\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, AllOf(HasSubstr(At(3)), HasSubstr("got 10"))));
}

TEST_F(TrajectoryFaultTest, NonNumberNamesTheColumn) {
  EXPECT_THAT(Read(std::string(kGoodRow) + "b,2.0,0,abc,0,1,0,0,0\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(At(3)), HasSubstr("column 'y' is not a number: 'abc'"))));
  EXPECT_THAT(Read(std::string(kGoodRow) + "b,,0,0,0,1,0,0,0\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(At(3)), HasSubstr("column 'timestamp_s' is not a number: ''"))));
}

TEST_F(TrajectoryFaultTest, NonFiniteNamesTheColumn) {
  EXPECT_THAT(Read(std::string(kGoodRow) + "b,2.0,0,0,inf,1,0,0,0\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(At(3)), HasSubstr("column 'z' is not finite: 'inf'"))));
  EXPECT_THAT(Read(std::string(kGoodRow) + "b,2.0,0,0,0,1,nan,0,0\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(At(3)), HasSubstr("column 'qx' is not finite: 'nan'"))));
}

TEST_F(TrajectoryFaultTest, NonUnitQuaternion) {
  EXPECT_THAT(Read(std::string(kGoodRow) + "b,2.0,0,0,0,1.2,0,0,0\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(At(3)), HasSubstr("non-unit quaternion (norm 1.2"))));
  EXPECT_THAT(
      Read(std::string(kGoodRow) + "b,2.0,0,0,0,0,0,0,0\n"),
      StatusIs(absl::StatusCode::kInvalidArgument, AllOf(HasSubstr(At(3)), HasSubstr("non-unit quaternion (norm 0"))));
}

TEST_F(TrajectoryFaultTest, QuaternionNormToleranceIsAnOption) {
  // |q| = 1.002: beyond the default 1e-3, within 1e-2; accepted ones are normalised.
  const std::string body = std::string(kGoodRow) + "b,2.0,0,0,0,1.002,0,0,0\n";
  EXPECT_THAT(Read(body), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("norm 1.002")));
  TrajectoryReadOptions options;
  options.max_quaternion_norm_error = 1e-2;
  const absl::StatusOr<std::vector<PoseStamped>> read = ReadTrajectoryCsv(path_, options);
  ARMAP_ASSERT_OK(read);
  EXPECT_DOUBLE_EQ(read->at(1).world_from_rig.rotation.norm(), 1.0);
  options.max_quaternion_norm_error = -1.0;
  EXPECT_THAT(ReadTrajectoryCsv(path_, options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("max_quaternion_norm_error = -1")));
}

TEST_F(TrajectoryFaultTest, TimestampsOutOfOrder) {
  EXPECT_THAT(
      Read(std::string(kGoodRow) + "b,0.5,0,0,0,1,0,0,0\n"),
      StatusIs(absl::StatusCode::kInvalidArgument, AllOf(HasSubstr(At(3)), HasSubstr("timestamps out of order"),
                                                         HasSubstr("0.500000 s is not after 1.000000 s on line 2"))));
  // Equal is out of order too: two panoramas cannot share a capture time.
  EXPECT_THAT(Read(std::string(kGoodRow) + "b,1.0,0,0,0,1,0,0,0\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, AllOf(HasSubstr(At(3)), HasSubstr("out of order"))));
}

TEST_F(TrajectoryFaultTest, DuplicateName) {
  EXPECT_THAT(Read(std::string(kGoodRow) + "b,2.0,0,0,0,1,0,0,0\na,3.0,0,0,0,1,0,0,0\n"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(At(4)), HasSubstr("duplicate name 'a' (first on line 2)"))));
}

TEST_F(TrajectoryFaultTest, EmptyName) {
  EXPECT_THAT(Read(std::string(kGoodRow) + " ,2.0,0,0,0,1,0,0,0\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, AllOf(HasSubstr(At(3)), HasSubstr("'name' is empty"))));
}

TEST_F(TrajectoryFaultTest, EmptyFileAndHeaderOnly) {
  const auto empty = path_.parent_path() / "empty.csv";
  WriteBytes(empty, "");
  EXPECT_THAT(ReadTrajectoryCsv(empty),
              StatusIs(absl::StatusCode::kInvalidArgument, AllOf(HasSubstr(empty.string()), HasSubstr("empty file"))));
  EXPECT_THAT(Read(""), StatusIs(absl::StatusCode::kInvalidArgument,
                                 AllOf(HasSubstr(path_.string()), HasSubstr("no poses after the header"))));
}

TEST_F(TrajectoryFaultTest, HeaderMustBeExact) {
  EXPECT_THAT(Read(kGoodRow, "name,timestamp_s,x,y,z,qw,qx,qy,qz,speed_mps,heading_deg"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(At(1)), HasSubstr("unexpected extra column(s) 'speed_mps', 'heading_deg'"))));
  EXPECT_THAT(Read(kGoodRow, "name,timestamp_s,lat,lon,z,qw,qx,qy,qz"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(At(1)), HasSubstr("column 3 is 'lat', expected 'x'"))));
  EXPECT_THAT(Read(kGoodRow, "name,timestamp_s,x,y,z,qw"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(At(1)), HasSubstr("missing column(s) 'qx', 'qy', 'qz'"))));
}

TEST_F(TrajectoryFaultTest, MissingFileIsNotFound) {
  EXPECT_THAT(ReadTrajectoryCsv(path_.parent_path() / "absent.csv"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("absent.csv")));
}

TEST(TrajectoryTest, AcceptsCrlfBomBlankLinesAndPaddedFields) {
  const auto path = MakeTempDir() / "trajectory.csv";
  WriteBytes(path,
             "\xEF\xBB\xBFname,timestamp_s,x,y,z,qw,qx,qy,qz\r\n a , 1.5 ,2,3,4,1,0,0,0\r\n\r\nb,2,0,0,0,0,1,0,0\r\n");
  const absl::StatusOr<std::vector<PoseStamped>> read = ReadTrajectoryCsv(path);
  ARMAP_ASSERT_OK(read);
  ASSERT_EQ(read->size(), 2u);
  EXPECT_EQ(read->at(0).name, "a");
  EXPECT_EQ(read->at(0).timestamp_s, 1.5);
  EXPECT_EQ(read->at(0).world_from_rig.translation, Eigen::Vector3d(2, 3, 4));
  EXPECT_EQ(read->at(1).world_from_rig.rotation.x(), 1.0);
}

TEST(TrajectoryTest, WriterRefusesWhatTheReaderWouldReject) {
  const auto dir = MakeTempDir();
  const Rigid3d identity;
  EXPECT_THAT(WriteTrajectoryCsv(dir / "comma.csv", {{"a,b", 1.0, identity}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("poses[0] name 'a,b' contains ','")));
  // 0.1 us apart: distinct doubles, equal once printed with %.6f.
  EXPECT_THAT(WriteTrajectoryCsv(dir / "close.csv", {{"a", 1.0, identity}, {"b", 1.0000001, identity}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("refusing to write"), HasSubstr("timestamps out of order"))));
  EXPECT_THAT(WriteTrajectoryCsv(dir / "dup.csv", {{"a", 1.0, identity}, {"a", 2.0, identity}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("duplicate name 'a'")));
  EXPECT_THAT(WriteTrajectoryCsv(dir / "empty.csv", {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no poses")));
  for (const char* name : {"comma.csv", "close.csv", "dup.csv", "empty.csv"}) {
    EXPECT_FALSE(std::filesystem::exists(dir / name)) << name;
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir));  // no temporary files left behind either
}

}  // namespace
}  // namespace armap::io
