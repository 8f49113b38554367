#include "core/camera.h"

#include <gtest/gtest.h>

#include <limits>

#include "core/random.h"
#include "core/testing/status_matchers.h"

namespace armap {
namespace {

using ::armap::testing::StatusIs;
using ::testing::HasSubstr;

// Round trip pixel -> ray -> pixel over the whole image. 1e-6 px is far below
// anything that matters (feature localisation is ~0.3 px).
void ExpectRoundTrip(const Camera& camera) {
  Rng rng(7);
  for (int i = 0; i < 2000; ++i) {
    const Eigen::Vector2d pixel(rng.Uniform(-0.5, camera.width - 0.5), rng.Uniform(-0.5, camera.height - 0.5));
    const Eigen::Vector3d ray = camera.Unproject(pixel);
    EXPECT_NEAR(ray.norm(), 1.0, 1e-12);
    Eigen::Vector2d back;
    ASSERT_TRUE(camera.Project(ray * rng.Uniform(0.5, 50.0), &back));
    EXPECT_NEAR((back - pixel).norm(), 0.0, 1e-6) << camera.ModelName() << " at " << pixel.transpose();
  }
}

TEST(CameraTest, PinholeRoundTrip) { ExpectRoundTrip(Camera::Pinhole(1280, 960, 1000, 1000, 640, 480)); }

TEST(CameraTest, OpenCVRoundTrip) {
  auto camera = Camera::Create("OPENCV", 1280, 960, {1050, 1048, 641.5, 479.2, -0.12, 0.03, 0.001, -0.0005});
  ASSERT_TRUE(camera.ok());
  ExpectRoundTrip(*camera);
}

TEST(CameraTest, EquirectangularRoundTrip) { ExpectRoundTrip(Camera::Equirectangular(2048, 1024)); }

TEST(CameraTest, EquirectangularConvention) {
  const Camera pano = Camera::Equirectangular(2048, 1024);
  Eigen::Vector2d pixel;
  ASSERT_TRUE(pano.Project(Eigen::Vector3d(0, 0, 1), &pixel));  // forward -> centre
  EXPECT_NEAR(pixel.x(), 1023.5, 1e-9);
  EXPECT_NEAR(pixel.y(), 511.5, 1e-9);
  ASSERT_TRUE(pano.Project(Eigen::Vector3d(1, 0, 0), &pixel));  // right -> 3/4 width
  EXPECT_NEAR(pixel.x(), 1535.5, 1e-9);
  ASSERT_TRUE(pano.Project(Eigen::Vector3d(0, -1, 0.0001), &pixel));  // up -> top row
  EXPECT_LT(pixel.y(), 0.0);
}

TEST(CameraTest, OpenCVMatchesCvProjectPointsFormula) {
  // Distortion of a known normalized point, checked by hand against the
  // OpenCV formula: x' = x(1+k1 r^2+k2 r^4) + 2p1xy + p2(r^2+2x^2).
  const Eigen::Vector2d d = DistortOpenCV({0.3, -0.2}, -0.1, 0.01, 0.001, 0.002);
  const double r2 = 0.13, radial = 1 - 0.1 * r2 + 0.01 * r2 * r2;
  EXPECT_NEAR(d.x(), 0.3 * radial + 2 * 0.001 * 0.3 * -0.2 + 0.002 * (r2 + 2 * 0.09), 1e-15);
  EXPECT_NEAR(d.y(), -0.2 * radial + 0.001 * (r2 + 2 * 0.04) + 2 * 0.002 * 0.3 * -0.2, 1e-15);
}

TEST(CameraTest, OpenCVRejectsPointsThatWouldFoldIntoTheImage) {
  // k2 < 0: distortion turns back at r^2 = s*, roots of 1 + 3 k1 s + 5 k2 s^2.
  auto camera = Camera::Create("OPENCV", 320, 240, {250, 250, 160, 120, -0.12, -0.02, 0, 0});
  ASSERT_TRUE(camera.ok());
  const double s_max = MaxMonotonicRadiusSquared(-0.12, -0.02);
  EXPECT_NEAR(1 + 3 * -0.12 * s_max + 5 * -0.02 * s_max * s_max, 0.0, 1e-9);
  Eigen::Vector2d pixel;
  // 70 degrees off axis (r = 2.75, r^2 = 7.5 > s_max ~ 2.0): rejected, not folded into the image.
  EXPECT_FALSE(camera->Project(Eigen::Vector3d(2.75, 0.0, 1.0), &pixel));
  EXPECT_TRUE(camera->Project(Eigen::Vector3d(0.5, 0.2, 1.0), &pixel));
  EXPECT_EQ(MaxMonotonicRadiusSquared(0.0, 0.0), std::numeric_limits<double>::infinity());
}

TEST(CameraTest, CreateRejectsBadInput) {
  EXPECT_THAT(Camera::Create("FISHEYE_X", 10, 10, {}), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("FISHEYE_X")));
  EXPECT_THAT(Camera::Create("PINHOLE", 10, 10, {1, 1, 5}), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("4 params")));
  EXPECT_THAT(Camera::Create("PINHOLE", 0, 10, {1, 1, 5, 5}), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("0x10")));
  EXPECT_THAT(Camera::Create("PINHOLE", 10, 10, {0, 1, 5, 5}), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("fx=0")));
  EXPECT_THAT(Camera::Create("PINHOLE", 10, 10, {NAN, 1, 5, 5}), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("params[0]")));
}

}  // namespace
}  // namespace armap
