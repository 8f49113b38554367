#include "core/io/point_cloud_io.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/io/io_test_util.h"
#include "core/io/ply.h"
#include "core/testing/status_matchers.h"

namespace armap::io {
namespace {

using ::armap::io::testing::MakeTempDir;
using ::armap::io::testing::SharedDataset;
using ::armap::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(PointCloudIoTest, DispatchesOnExtensionCaseInsensitively) {
  PointCloud cloud;
  cloud.points = {{1, 2, 3}, {4, 5, 6}};
  const auto path = MakeTempDir() / "CLOUD.PLY";
  ARMAP_ASSERT_OK(WritePlyBinary(path, cloud));
  const absl::StatusOr<PointCloud> read = ReadPointCloud(path);
  ARMAP_ASSERT_OK(read);
  EXPECT_EQ(read->points, cloud.points);
}

TEST(PointCloudIoTest, ReadsSharedPcdAndLas) {
  const auto pcd = SharedDataset("gicp_scan_pair/251371071.pcd");
  const auto las = SharedDataset("las_samples/simple.las");
  ARMAP_SKIP_IF_MISSING(pcd);
  ARMAP_SKIP_IF_MISSING(las);
  const absl::StatusOr<PointCloud> from_pcd = ReadPointCloud(pcd);
  ARMAP_ASSERT_OK(from_pcd);
  EXPECT_EQ(from_pcd->size(), 69792u);  // SOURCE.md
  const absl::StatusOr<PointCloud> from_las = ReadPointCloud(las);
  ARMAP_ASSERT_OK(from_las);
  EXPECT_EQ(from_las->size(), 1065u);
}

TEST(PointCloudIoTest, LazGivesTheUnsupportedError) {
  const auto laz = SharedDataset("las_samples/plane.laz");
  ARMAP_SKIP_IF_MISSING(laz);
  EXPECT_THAT(ReadPointCloud(laz), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("(LAZ) is not supported")));
}

TEST(PointCloudIoTest, UnknownExtensionIsNamed) {
  const auto path = MakeTempDir() / "scan.xyz";
  EXPECT_THAT(ReadPointCloud(path),
              StatusIs(absl::StatusCode::kInvalidArgument, AllOf(HasSubstr(path.string()), HasSubstr("'.xyz'"))));
}

}  // namespace
}  // namespace armap::io
