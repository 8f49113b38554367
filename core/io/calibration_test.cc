#include "core/io/calibration.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/io/io_test_util.h"
#include "core/io/pcd.h"
#include "core/testing/status_matchers.h"

namespace armap::io {
namespace {

using ::armap::io::testing::MakeTempDir;
using ::armap::io::testing::SharedDataset;
using ::armap::io::testing::WriteBytes;
using ::armap::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kManualCalib[] = "pjlab_lidar_camera/manual_calib/data";
constexpr char kIntrinsicJson[] = "center_camera-intrinsic.json";
constexpr char kExtrinsicJson[] = "top_center_lidar-to-center_camera-extrinsic.json";

// ---------------------------------------------------------------------------
// Readers on the real files

TEST(PjlabCalibrationTest, ReadsManualCalibIntrinsics) {
  const auto path = SharedDataset(kManualCalib) / kIntrinsicJson;
  ARMAP_SKIP_IF_MISSING(path);
  PjlabCalibInfo info;
  const absl::StatusOr<Camera> camera = ReadPjlabCameraIntrinsics(path, &info);
  ARMAP_ASSERT_OK(camera);
  EXPECT_EQ(camera->ModelName(), "OPENCV");
  EXPECT_EQ(camera->width, 1920);
  EXPECT_EQ(camera->height, 1080);  // what the file says; the PNG is 1200 rows (see SOURCE.md)
  // The file's decimals, parsed exactly (cam_dist holds float32 values printed with 17 digits).
  EXPECT_THAT(camera->params, ElementsAre(2109.75, 2071.72, 949.828, 576.237, -0.10814499855041504, 0.1386680006980896,
                                          -0.0037975700106471777, -0.004841269925236702));
  EXPECT_EQ(info.name, "center_camera-intrinsic");
  EXPECT_EQ(info.sensor_name, "center_camera");
}

TEST(PjlabCalibrationTest, ReadsManualCalibExtrinsicAsCameraFromLidar) {
  const auto path = SharedDataset(kManualCalib) / kExtrinsicJson;
  ARMAP_SKIP_IF_MISSING(path);
  PjlabCalibInfo info;
  const absl::StatusOr<Rigid3d> camera_from_lidar = ReadPjlabExtrinsic(path, &info);
  ARMAP_ASSERT_OK(camera_from_lidar);
  EXPECT_EQ(info.sensor_name, "top_center_lidar");
  EXPECT_EQ(info.target_sensor_name, "center_camera");
  Eigen::Matrix<double, 3, 4> expected;
  expected << 0.0125908, -0.999895, -0.00713773, -0.0322306,  //
      0.0119283, 0.00728786, -0.999902, -0.352079,            //
      0.99985, 0.0125045, 0.0120187, -0.574468;
  // The printed rotation has 6 significant digits, ||R^T R - I|| ~ 1e-5;
  // projecting to a rotation moves entries by about that much.
  EXPECT_LT((camera_from_lidar->ToMatrix3x4() - expected).cwiseAbs().maxCoeff(), 5e-5);
  EXPECT_EQ(camera_from_lidar->translation, expected.col(3));
  // Lidar x (forward) is the camera's optical axis z; lidar z (up) is camera -y.
  EXPECT_GT((camera_from_lidar->rotation * Eigen::Vector3d::UnitX()).z(), 0.999);
  EXPECT_LT((camera_from_lidar->rotation * Eigen::Vector3d::UnitZ()).y(), -0.999);
}

TEST(PjlabCalibrationTest, ReadsTheGnssExtrinsicLayout) {
  // Other key order, rows/cols after data, a "1.0" in the last row.
  const auto path = SharedDataset("pjlab_lidar_seq_poses/data/gnss-to-top_center_lidar-extrinsic.json");
  ARMAP_SKIP_IF_MISSING(path);
  PjlabCalibInfo info;
  const absl::StatusOr<Rigid3d> lidar_from_gnss = ReadPjlabExtrinsic(path, &info);
  ARMAP_ASSERT_OK(lidar_from_gnss);
  EXPECT_EQ(info.sensor_name, "gnss");
  EXPECT_EQ(info.target_sensor_name, "top_center_lidar");
  Eigen::Matrix<double, 3, 4> expected;
  expected << 0, 1, 0, -1, -1, 0, 0, 0, 0, 0, 1, -1.3;
  EXPECT_LT((lidar_from_gnss->ToMatrix3x4() - expected).cwiseAbs().maxCoeff(), 1e-15);
}

TEST(PjlabCalibrationTest, ReadsAutoCalibTxt) {
  const auto path = SharedDataset("pjlab_lidar_camera/auto_calib_v2.0/data/ours/1/calib.txt");
  ARMAP_SKIP_IF_MISSING(path);
  const absl::StatusOr<PjlabCalibTxt> calib = ReadPjlabCalibTxt(path, 1920, 1200);  // calib.jpg's size
  ARMAP_ASSERT_OK(calib);
  EXPECT_THAT(calib->camera.params, ElementsAre(2152.8, 2155.5, 971.3, 605.9, -0.1192, 0.162, 0.00073985, 0.0014));
  EXPECT_EQ(calib->camera.height, 1200);
  EXPECT_EQ(calib->camera_from_lidar.translation, Eigen::Vector3d(-0.0323222, -0.396685, -0.0869361));
  EXPECT_GT((calib->camera_from_lidar.rotation * Eigen::Vector3d::UnitX()).z(), 0.999);
}

// ---------------------------------------------------------------------------
// Errors name the file and the field (or line)

class PjlabCalibrationErrorTest : public ::testing::Test {
 protected:
  void SetUp() override { path_ = MakeTempDir() / "calib.json"; }
  absl::Status ReadIntrinsics(const std::string& json) {
    WriteBytes(path_, json);
    return ReadPjlabCameraIntrinsics(path_).status();
  }
  absl::Status ReadExtrinsic(const std::string& json) {
    WriteBytes(path_, json);
    return ReadPjlabExtrinsic(path_).status();
  }
  // StatusIs(InvalidArgument) with the file name and `what`.
  auto Fails(const std::string& what) const {
    return StatusIs(absl::StatusCode::kInvalidArgument, AllOf(HasSubstr(path_.string()), HasSubstr(what)));
  }
  std::filesystem::path path_;
};

// An intrinsic file with `param` as the body of "param".
std::string IntrinsicJson(const std::string& param) { return R"({"cam-intrinsic": {"param": {)" + param + "}}}"; }

constexpr char kSize[] = R"("img_dist_w": 1920, "img_dist_h": 1200, )";
constexpr char kK[] = R"("cam_K": {"rows": 3, "cols": 3, "data": [[2000, 0, 960], [0, 2000, 600], [0, 0, 1]]}, )";
constexpr char kDist[] = R"("cam_dist": {"rows": 1, "cols": 4, "data": [[-0.1, 0.1, 0.001, 0.002]]})";

TEST_F(PjlabCalibrationErrorTest, IntrinsicsAcceptAWellFormedFile) {
  ARMAP_EXPECT_OK(ReadIntrinsics(IntrinsicJson(std::string(kSize) + kK + kDist)));
  // Flat data, and a zero k3, are accepted too.
  ARMAP_EXPECT_OK(ReadIntrinsics(IntrinsicJson(
      std::string(kSize) + R"("cam_K": {"rows": 3, "cols": 3, "data": [2000, 0, 960, 0, 2000, 600, 0, 0, 1]}, )" +
      R"("cam_dist": {"data": [[-0.1, 0.1, 0.001, 0.002, 0.0]]})")));
}

TEST_F(PjlabCalibrationErrorTest, IntrinsicsNameTheMissingField) {
  EXPECT_THAT(ReadIntrinsics(IntrinsicJson(std::string(kSize) + kDist)),
              Fails("missing field 'cam-intrinsic.param.cam_K'"));
  EXPECT_THAT(ReadIntrinsics(IntrinsicJson(std::string(kK) + kDist)),
              Fails("missing field 'cam-intrinsic.param.img_dist_w'"));
  EXPECT_THAT(ReadIntrinsics(IntrinsicJson(std::string(kSize) + kK + R"("cam_dist": {"rows": 1})")),
              Fails("missing field 'cam-intrinsic.param.cam_dist.data'"));
  EXPECT_THAT(ReadIntrinsics(R"({"cam-intrinsic": {"sensor_name": "cam"}})"), Fails("missing field '<name>.param'"));
}

TEST_F(PjlabCalibrationErrorTest, IntrinsicsRejectWhatTheOpenCVModelCannotHold) {
  EXPECT_THAT(ReadIntrinsics(IntrinsicJson(
                  std::string(kSize) + R"("cam_K": {"data": [[2000, 3, 960], [0, 2000, 600], [0, 0, 1]]}, )" + kDist)),
              Fails("field 'cam-intrinsic.param.cam_K.data' must be [[fx, 0, cx], [0, fy, cy], [0, 0, 1]] (no skew)"));
  EXPECT_THAT(ReadIntrinsics(IntrinsicJson(std::string(kSize) + kK +
                                           R"("cam_dist": {"data": [[-0.1, 0.1, 0.001, 0.002, 0.01]]})")),
              Fails("field 'cam-intrinsic.param.cam_dist.data' coefficient 5 (k3 or higher) = 0.01 is not supported"));
  EXPECT_THAT(ReadIntrinsics(IntrinsicJson(
                  std::string(kSize) +
                  R"("cam_K": {"rows": 2, "cols": 3, "data": [[2000, 0, 960], [0, 2000, 600], [0, 0, 1]]}, )" + kDist)),
              Fails("field 'cam-intrinsic.param.cam_K.data' has 3x3 values but rows/cols say 2x3"));
  EXPECT_THAT(ReadIntrinsics(IntrinsicJson(R"("img_dist_w": 1920.5, "img_dist_h": 1200, )" + std::string(kK) + kDist)),
              Fails("field 'cam-intrinsic.param.img_dist_w' must be an integer"));
}

TEST_F(PjlabCalibrationErrorTest, ExtrinsicErrorsNameTheField) {
  const std::string ok_rows = R"([[1, 0, 0, 1], [0, 1, 0, 2], [0, 0, 1, 3])";
  const auto extrinsic = [](const std::string& data) {
    return R"({"a-to-b-extrinsic": {"param": {"sensor_calib": {"data": )" + data + "}}}}";
  };
  ARMAP_EXPECT_OK(ReadExtrinsic(extrinsic(ok_rows + ", [0, 0, 0, 1]]")));
  EXPECT_THAT(ReadExtrinsic(extrinsic(ok_rows + ", [0, 0, 1, 1]]")),
              Fails("field 'a-to-b-extrinsic.param.sensor_calib.data' row 4 must be [0, 0, 0, 1]"));
  EXPECT_THAT(ReadExtrinsic(extrinsic(ok_rows + "]")),
              Fails("field 'a-to-b-extrinsic.param.sensor_calib.data' must be 4x4, got 3x4"));
  EXPECT_THAT(ReadExtrinsic(extrinsic("[[1, 0.05, 0, 1], [0, 1, 0, 2], [0, 0, 1, 3], [0, 0, 0, 1]]")),
              Fails("field 'a-to-b-extrinsic.param.sensor_calib.data' rotation matrix is not orthonormal"));
  EXPECT_THAT(ReadExtrinsic(extrinsic("[[1, 0, 0, 1], [0, 1, 0, 2], [0, 0, \"x\", 3], [0, 0, 0, 1]]")),
              Fails("has a non-number entry \"x\""));
  EXPECT_THAT(ReadExtrinsic(R"({"a": {"param": {}}, "b": {"param": {}}})"), Fails("several calibrations (a, b)"));
  EXPECT_THAT(ReadExtrinsic("{\"a\": "), Fails("not valid JSON"));
}

TEST_F(PjlabCalibrationErrorTest, CalibTxtErrorsNameTheLine) {
  const auto path = path_.parent_path() / "calib.txt";
  WriteBytes(path, "K: 2000 0 960 0 2000 600 0 0 1\nD: 0 0 0 0\n");
  EXPECT_THAT(
      ReadPjlabCalibTxt(path, 1920, 1200),
      StatusIs(absl::StatusCode::kInvalidArgument, AllOf(HasSubstr(path.string()), HasSubstr("missing 'T:' line"))));
  WriteBytes(path, "D: 0 0 0 0\nK: 2000 0 960 0 2000 600 0 0\n");
  EXPECT_THAT(ReadPjlabCalibTxt(path, 1920, 1200),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(path.string() + ":2:"), HasSubstr("'K' has 8 values, expected 9"))));
  WriteBytes(path, "K: 2000 0 960 0 2000 600 0 0 1\nD: 0 0 0 0\nT: 1 0 0 0 0 1 0 0 0 0 -1 0\n");
  EXPECT_THAT(ReadPjlabCalibTxt(path, 1920, 1200),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(path.string() + ":3:"), HasSubstr("'T' rotation matrix has determinant -1"))));
}

// ---------------------------------------------------------------------------
// The calibration against the photo (manual_calib: 0.pcd, 0.png)

struct PjlabScene {
  PointCloud cloud;  // lidar frame, x forward, z up
  Camera camera;     // OPENCV, of the PNG's size
  Rigid3d camera_from_lidar;
  cv::Mat gray;
};

void LoadManualCalibScene(PjlabScene* scene) {
  const auto dir = SharedDataset(kManualCalib);
  absl::StatusOr<PointCloud> cloud = ReadPcd(dir / "0.pcd");
  ARMAP_ASSERT_OK(cloud);
  absl::StatusOr<Camera> camera = ReadPjlabCameraIntrinsics(dir / kIntrinsicJson);
  ARMAP_ASSERT_OK(camera);
  absl::StatusOr<Rigid3d> camera_from_lidar = ReadPjlabExtrinsic(dir / kExtrinsicJson);
  ARMAP_ASSERT_OK(camera_from_lidar);
  scene->gray = cv::imread((dir / "0.png").string(), cv::IMREAD_GRAYSCALE);
  ASSERT_FALSE(scene->gray.empty());
  ASSERT_EQ(scene->gray.cols, camera->width);
  // The JSON says 1080 rows, the PNG has 1200 and cy = 576 is its centre
  // row, not 1080's; OpenCalib's own tool takes the size from the image.
  ASSERT_EQ(scene->gray.rows, 1200);
  camera->height = scene->gray.rows;
  scene->cloud = *std::move(cloud);
  scene->camera = *std::move(camera);
  scene->camera_from_lidar = *camera_from_lidar;
}

// Points nearer than this to the camera plane are on the car itself or too
// close for the lidar/camera parallax to be negligible.
constexpr double kMinDepthM = 1.0;

bool ProjectToImage(const Camera& camera, const Rigid3d& camera_from_lidar, const Eigen::Vector3d& point_in_lidar,
                    Eigen::Vector2d* pixel) {
  const Eigen::Vector3d point_in_camera = camera_from_lidar * point_in_lidar;
  return point_in_camera.z() >= kMinDepthM && camera.Project(point_in_camera, pixel) && camera.InImage(*pixel);
}

TEST(PjlabLidarCameraTest, CloudProjectsIntoTheImage) {
  ARMAP_SKIP_IF_MISSING(SharedDataset(kManualCalib));
  PjlabScene scene;
  ASSERT_NO_FATAL_FAILURE(LoadManualCalibScene(&scene));
  ASSERT_EQ(scene.cloud.size(), 78238u);  // SOURCE.md
  int num_in_image = 0;
  Eigen::Vector2d pixel;
  for (size_t i = 0; i < scene.cloud.size(); ++i) {
    num_in_image += ProjectToImage(scene.camera, scene.camera_from_lidar, scene.cloud.Point(i), &pixel);
  }
  // The camera sees 2 atan(960 / 2109.75) = 48.9 deg of the lidar's 360
  // (13.6%, 10.6k points), and its +-16 deg vertical view drops the two
  // lowest of the 64 beams (-25, -19 deg): ~10k expected; 9,964 observed.
  // +-20% allows for returns missing in the sky; a wrong or inverted
  // extrinsic gives a very different count (e.g. 0 when looking backwards).
  EXPECT_GT(num_in_image, 8000);
  EXPECT_LT(num_in_image, 12000);
}

// A lidar point with its direction in the "lidar view": a pinhole with the
// camera's rotation and intrinsics but centred on the lidar. From there a
// scan ring (a cone about the lidar's vertical axis) is a nearly horizontal
// curve, so ring neighbours are neighbours along an image row. In the real
// camera they are not: the camera sits 0.35 m below and 0.57 m ahead of the
// lidar, and the parallax moves a ring's near and far points apart by tens
// of rows at exactly the depth discontinuities we look for.
struct LidarViewPoint {
  Eigen::Vector3d point_in_lidar;
  Eigen::Vector2d pixel;  // in the lidar view
  double range_m;
};

std::vector<LidarViewPoint> ToLidarView(const PjlabScene& scene) {
  const std::vector<double>& p = scene.camera.params;
  const Camera view = Camera::Pinhole(scene.camera.width, scene.camera.height, p[0], p[1], p[2], p[3]);
  std::vector<LidarViewPoint> points;
  for (size_t i = 0; i < scene.cloud.size(); ++i) {
    const Eigen::Vector3d point_in_lidar = scene.cloud.Point(i);
    const Eigen::Vector3d direction = scene.camera_from_lidar.rotation * point_in_lidar;
    Eigen::Vector2d pixel;
    if (direction.z() < kMinDepthM || !view.Project(direction, &pixel)) continue;
    // A margin wider than the 2 deg (~75 px) perturbations keeps edge points
    // that only the perturbed extrinsics bring into the image.
    if (pixel.x() < -150 || pixel.x() > view.width + 150) continue;
    points.push_back({point_in_lidar, pixel, point_in_lidar.norm()});
  }
  return points;
}

// For each point, its right-hand neighbour on the same ring (-1 if none):
// the nearest point to the right within kMaxGapPx, +-2 rows. The lidar steps
// 0.2 deg in azimuth (7.4 px at fx = 2110); beams are >= 0.167 deg (6 px)
// apart, so +-2 rows never reaches the next ring.
std::vector<int> RingNeighbours(const std::vector<LidarViewPoint>& points) {
  constexpr double kMaxGapPx = 12.0;
  constexpr int kRowWindow = 2;
  std::unordered_map<long, std::vector<std::pair<double, int>>> by_row;  // row -> (column, index), sorted
  for (size_t i = 0; i < points.size(); ++i) {
    by_row[std::lround(points[i].pixel.y())].emplace_back(points[i].pixel.x(), static_cast<int>(i));
  }
  for (auto& [row, entries] : by_row) std::sort(entries.begin(), entries.end());
  std::vector<int> right(points.size(), -1);
  for (size_t i = 0; i < points.size(); ++i) {
    const long row = std::lround(points[i].pixel.y());
    double best_x = points[i].pixel.x() + kMaxGapPx;
    for (long r = row - kRowWindow; r <= row + kRowWindow; ++r) {
      const auto it = by_row.find(r);
      if (it == by_row.end()) continue;
      const auto next =
          std::upper_bound(it->second.begin(), it->second.end(), std::make_pair(points[i].pixel.x(), INT_MAX));
      if (next != it->second.end() && next->first <= best_x) {
        best_x = next->first;
        right[i] = next->second;
      }
    }
  }
  return right;
}

// Depth-discontinuity points: where the range jumps by more than 0.5 m
// between ring neighbours, the nearer point, on the occluding contour whose
// silhouette the camera sees as an edge.
std::vector<Eigen::Vector3d> DepthEdgePoints(const PjlabScene& scene) {
  constexpr double kMinRangeJumpM = 0.5;
  const std::vector<LidarViewPoint> points = ToLidarView(scene);
  const std::vector<int> right = RingNeighbours(points);
  std::vector<Eigen::Vector3d> edges;
  for (size_t i = 0; i < points.size(); ++i) {
    if (right[i] < 0) continue;
    const LidarViewPoint& a = points[i];
    const LidarViewPoint& b = points[right[i]];
    if (std::abs(a.range_m - b.range_m) > kMinRangeJumpM) {
      edges.push_back(a.range_m < b.range_m ? a.point_in_lidar : b.point_in_lidar);
    }
  }
  return edges;
}

// Sobel gradient magnitude, then the maximum over +-4 px along the row. The
// silhouette lies between a foreground point and its background neighbour,
// up to one azimuth step (7.4 px) away, so sampling the single pixel under
// the point mostly reads the object's interior texture.
cv::Mat EdgeStrength(const cv::Mat& gray) {
  cv::Mat dx, dy, magnitude, strength;
  cv::Sobel(gray, dx, CV_32F, 1, 0, 3);
  cv::Sobel(gray, dy, CV_32F, 0, 1, 3);
  cv::magnitude(dx, dy, magnitude);
  cv::dilate(magnitude, strength, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(9, 1)));
  return strength;
}

// Edge strength under each point projected with `camera_from_lidar`; NaN
// where the point leaves the image.
std::vector<double> StrengthAt(const PjlabScene& scene, const cv::Mat& strength,
                               const std::vector<Eigen::Vector3d>& points, const Rigid3d& camera_from_lidar) {
  std::vector<double> values;
  for (const Eigen::Vector3d& point_in_lidar : points) {
    Eigen::Vector2d pixel;
    const bool visible = ProjectToImage(scene.camera, camera_from_lidar, point_in_lidar, &pixel);
    values.push_back(visible ? strength.at<float>(std::lround(pixel.y()), std::lround(pixel.x())) : NAN);
  }
  return values;
}

// Means of `a` and `b` over the points seen in both, and the z score of the
// paired difference (mean / standard error).
struct PairedComparison {
  double mean_a = 0, mean_b = 0, z = 0;
  int n = 0;
};

PairedComparison Compare(const std::vector<double>& a, const std::vector<double>& b) {
  PairedComparison c;
  double sum_diff = 0, sum_diff_sq = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) || std::isnan(b[i])) continue;
    c.mean_a += a[i];
    c.mean_b += b[i];
    sum_diff += a[i] - b[i];
    sum_diff_sq += (a[i] - b[i]) * (a[i] - b[i]);
    ++c.n;
  }
  c.mean_a /= c.n;
  c.mean_b /= c.n;
  const double mean_diff = sum_diff / c.n;
  c.z = mean_diff / std::sqrt((sum_diff_sq / c.n - mean_diff * mean_diff) / c.n);
  return c;
}

Rigid3d WithYaw(const Rigid3d& camera_from_lidar, double yaw_deg) {
  const Eigen::Quaterniond yaw(Eigen::AngleAxisd(yaw_deg * M_PI / 180.0, Eigen::Vector3d::UnitZ()));  // lidar z: up
  return camera_from_lidar * Rigid3d(yaw, Eigen::Vector3d::Zero());
}

TEST(PjlabLidarCameraTest, DepthEdgesLandOnImageEdgesOnlyWithTheTrueExtrinsic) {
  ARMAP_SKIP_IF_MISSING(SharedDataset(kManualCalib));
  PjlabScene scene;
  ASSERT_NO_FATAL_FAILURE(LoadManualCalibScene(&scene));
  const std::vector<Eigen::Vector3d> edges = DepthEdgePoints(scene);
  ASSERT_GT(edges.size(), 1000u);  // 2,139 observed: poles, the car, railings, trees
  RecordProperty("num_depth_edge_points", static_cast<int>(edges.size()));
  const cv::Mat strength = EdgeStrength(scene.gray);
  const std::vector<double> truth = StrengthAt(scene, strength, edges, scene.camera_from_lidar);
  // Observed (mean edge strength, true vs perturbed, over ~1,650 points seen
  // under both): -2 deg yaw 120.9 vs 111.4 (ratio 1.085, paired z = 4.0);
  // +2 deg 118.9 vs 100.0 (1.19, z = 8.6). 2 deg moves points ~75 px, a
  // scale at which this intersection (trees, poles, road markings) still has
  // plenty of texture, hence a modest ratio; the paired standard error is
  // ~2% of the mean. We require z > 3 (not chance) and a ratio > 1.04 (about
  // half the weaker observed gap, leaving room for reader or filter changes).
  // A 20 px shift is detected more weakly (+u 1.04/z 2.2, +v 1.035/z 2.0,
  // -u 1.11, -v 1.12) and is not asserted; without the +-4 px window the -2
  // deg case is not significant either (1.048, z = 1.4). Checked the other
  // way round: with the file's extrinsic rotated by +1, +2 or -2 deg of yaw
  // taken as the truth this test fails (z = -3.3, -8.6, -4.0); at -1 deg it
  // still passes, so its resolution is about 2 deg.
  for (const double yaw_deg : {-2.0, 2.0}) {
    const PairedComparison c =
        Compare(truth, StrengthAt(scene, strength, edges, WithYaw(scene.camera_from_lidar, yaw_deg)));
    SCOPED_TRACE(::testing::Message() << "yaw " << yaw_deg << " deg: true " << c.mean_a << ", perturbed " << c.mean_b
                                      << ", ratio " << c.mean_a / c.mean_b << ", z " << c.z << ", n " << c.n);
    const std::string key = yaw_deg < 0 ? "yaw_minus_2deg" : "yaw_plus_2deg";
    RecordProperty(key + "_true_mean", std::to_string(c.mean_a));
    RecordProperty(key + "_perturbed_mean", std::to_string(c.mean_b));
    RecordProperty(key + "_z", std::to_string(c.z));
    EXPECT_GT(c.n, 1000);
    EXPECT_GT(c.z, 3.0);
    EXPECT_GT(c.mean_a, 1.04 * c.mean_b);
  }
}

}  // namespace
}  // namespace armap::io
