#include "core/io/pose_list.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "core/io/io_test_util.h"
#include "core/testing/status_matchers.h"

namespace armap::io {
namespace {

using ::armap::io::testing::MakeTempDir;
using ::armap::io::testing::SharedDataset;
using ::armap::io::testing::WriteBytes;
using ::armap::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr char kLidarPoses[] = "pjlab_lidar_seq_poses/data/top_center_lidar-pose.txt";

// "2021-10-26-16-21-29-468" -> seconds since midnight (the sequence stays
// within one day), or -1 when the name is not such a timestamp.
double SecondsOfDay(const std::string& name) {
  int year, month, day, hour, minute, second, millisecond;
  if (std::sscanf(name.c_str(), "%d-%d-%d-%d-%d-%d-%d", &year, &month, &day, &hour, &minute, &second, &millisecond) !=
      7) {
    return -1.0;
  }
  return hour * 3600.0 + minute * 60.0 + second + millisecond / 1000.0;
}

TEST(PoseListTest, ReadsThePjlabLidarTrajectory) {
  const auto path = SharedDataset(kLidarPoses);
  ARMAP_SKIP_IF_MISSING(path);
  const absl::StatusOr<std::vector<NamedPose>> poses = ReadPoseMatrixList(path);
  ARMAP_ASSERT_OK(poses);
  ASSERT_EQ(poses->size(), 1081u);  // SOURCE.md

  // world_from_lidar with world = the first lidar frame: the first pose is
  // the identity up to the file's 9 printed decimals (diagonal 0.999999487,
  // 1.000000458: ~1e-6 off, which projection removes, leaving ~1e-9 rad).
  const Rigid3d& first = poses->front().target_from_source;
  EXPECT_LT(RotationErrorDeg(first.rotation, Eigen::Quaterniond::Identity()), 1e-5);
  EXPECT_LT(first.translation.norm(), 1e-9);

  // SOURCE.md: "~108 s drive, up to ~30 m extent". The largest side of the
  // positions' bounding box is 38 m on this file; 15..60 m accepts that
  // reading of "~30 m" but fails for a unit (mm, km) or column mix-up.
  Eigen::AlignedBox3d bounds;
  for (const NamedPose& pose : *poses) bounds.extend(pose.target_from_source.translation);
  const double extent_m = bounds.sizes().maxCoeff();
  EXPECT_GT(extent_m, 15.0);
  EXPECT_LT(extent_m, 60.0);
  RecordProperty("extent_m", std::to_string(extent_m));

  // Names are capture times, strictly increasing, 10 Hz, ~108 s in total.
  double previous_s = -1.0;
  for (const NamedPose& pose : *poses) {
    const double time_s = SecondsOfDay(pose.name);
    ASSERT_GE(time_s, 0.0) << pose.name;
    EXPECT_GT(time_s, previous_s) << pose.name;
    previous_s = time_s;
  }
  const double duration_s = SecondsOfDay(poses->back().name) - SecondsOfDay(poses->front().name);
  EXPECT_NEAR(duration_s, 108.0, 1.0);
}

TEST(PoseListTest, PjlabPosesAreWorldFromLidar) {
  // The lidar is mounted x-forward on a car, so between consecutive poses
  // the motion expressed in the lidar frame, R^T (t[i+1] - t[i]), points
  // along +x. This tells world_from_lidar from its inverse (or a transposed
  // matrix): on this file every moving step (>= 0.2 m, 791 of 1080) has a
  // forward cosine > 0.96, while reading R transposed gives > 0.9 for only 16%.
  const auto path = SharedDataset(kLidarPoses);
  ARMAP_SKIP_IF_MISSING(path);
  const absl::StatusOr<std::vector<NamedPose>> poses = ReadPoseMatrixList(path);
  ARMAP_ASSERT_OK(poses);
  int num_moving = 0;
  int num_forward = 0;
  for (size_t i = 0; i + 1 < poses->size(); ++i) {
    const Rigid3d& world_from_lidar = (*poses)[i].target_from_source;
    const Eigen::Vector3d step_in_world = (*poses)[i + 1].target_from_source.translation - world_from_lidar.translation;
    if (step_in_world.norm() < 0.2) continue;
    ++num_moving;
    const Eigen::Vector3d step_in_lidar = world_from_lidar.rotation.conjugate() * step_in_world;
    if (step_in_lidar.normalized().x() > 0.9) ++num_forward;
  }
  EXPECT_GT(num_moving, 500);
  EXPECT_GE(num_forward, 0.98 * num_moving);  // allows a few sideways steps in turns
}

TEST(PoseListTest, ProjectsNearlyOrthonormalMatricesToRotations) {
  const auto path = MakeTempDir() / "poses.txt";
  // A 10 deg yaw with every entry rounded to 3 decimals (~5e-4 off).
  WriteBytes(path,
             "# name r11 r12 r13 tx r21 r22 r23 ty r31 r32 r33 tz\n"
             "\n"
             "a 0.985 -0.174 0.000 1.5 0.174 0.985 0.000 -2 0.000 0.000 1.000 3\n");
  const absl::StatusOr<std::vector<NamedPose>> poses = ReadPoseMatrixList(path);
  ARMAP_ASSERT_OK(poses);
  ASSERT_EQ(poses->size(), 1u);
  EXPECT_EQ(poses->at(0).name, "a");
  EXPECT_EQ(poses->at(0).target_from_source.translation, Eigen::Vector3d(1.5, -2.0, 3.0));
  const Eigen::Matrix3d rotation = poses->at(0).target_from_source.rotation.toRotationMatrix();
  EXPECT_LT((rotation.transpose() * rotation - Eigen::Matrix3d::Identity()).norm(), 1e-12);
  const Eigen::Quaterniond yaw_10deg(Eigen::AngleAxisd(10.0 * M_PI / 180.0, Eigen::Vector3d::UnitZ()));
  EXPECT_LT(RotationErrorDeg(poses->at(0).target_from_source.rotation, yaw_10deg), 0.05);  // 3 decimals ~ 0.03 deg
}

TEST(PoseListTest, RejectsNonOrthonormalMatrixWithFileAndLine) {
  const auto path = MakeTempDir() / "poses.txt";
  // Line 3 has r12 mistyped as 0.1 instead of 0.
  WriteBytes(path,
             "a 1 0 0 0 0 1 0 0 0 0 1 0\n"
             "b 1 0 0 0 0 1 0 0 0 0 1 0\n"
             "c 1 0.1 0 0 0 1 0 0 0 0 1 0\n");
  EXPECT_THAT(ReadPoseMatrixList(path), StatusIs(absl::StatusCode::kInvalidArgument,
                                                 AllOf(HasSubstr(path.string() + ":3:"), HasSubstr("not orthonormal"),
                                                       HasSubstr("||R^T R - I|| = 0.14"))));
}

TEST(PoseListTest, RejectsReflectionsAndMalformedLines) {
  const auto path = MakeTempDir() / "poses.txt";
  WriteBytes(path, "a 1 0 0 0 0 1 0 0 0 0 -1 0\n");
  EXPECT_THAT(ReadPoseMatrixList(path),
              StatusIs(absl::StatusCode::kInvalidArgument, AllOf(HasSubstr(":1:"), HasSubstr("reflection"))));
  WriteBytes(path, "a 1 0 0 0 0 1 0 0 0 0 1\n");
  EXPECT_THAT(ReadPoseMatrixList(path),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(":1:"), HasSubstr("expected 13 fields"), HasSubstr("got 12"))));
  WriteBytes(path, "a 1 0 0 0 0 1 0 x 0 0 1 0\n");
  EXPECT_THAT(ReadPoseMatrixList(path), StatusIs(absl::StatusCode::kInvalidArgument,
                                                 AllOf(HasSubstr(":1:"), HasSubstr("field 'ty'"), HasSubstr("'x'"))));
  WriteBytes(path, "a 1 0 0 nan 0 1 0 0 0 0 1 0\n");
  EXPECT_THAT(ReadPoseMatrixList(path),
              StatusIs(absl::StatusCode::kInvalidArgument, AllOf(HasSubstr(":1:"), HasSubstr("field 'tx'"))));
  WriteBytes(path, "\n# nothing\n");
  EXPECT_THAT(ReadPoseMatrixList(path),
              StatusIs(absl::StatusCode::kInvalidArgument, AllOf(HasSubstr(path.string()), HasSubstr("no poses"))));
}

}  // namespace
}  // namespace armap::io
