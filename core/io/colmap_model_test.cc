#include "core/io/colmap_model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "core/io/io_test_util.h"
#include "core/testing/status_matchers.h"

namespace armap::io {
namespace {

using ::armap::io::testing::AppendLE;
using ::armap::io::testing::MakeTempDir;
using ::armap::io::testing::ReadBytes;
using ::armap::io::testing::SharedDataset;
using ::armap::io::testing::WriteBytes;
using ::armap::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::filesystem::path LundModelDir() { return SharedDataset("lund_door_colmap/colmap_ground_truth"); }

// Models written and read back must be identical. Binary copies doubles, and
// text uses 17 significant digits, which round-trips every double, so only
// the rotation may move: it is re-normalized on each read (at most a few ulp),
// hence the 1e-12 tolerance on quaternion coefficients.
void ExpectModelsEqual(const ColmapModel& actual, const ColmapModel& expected) {
  ASSERT_EQ(actual.cameras.size(), expected.cameras.size());
  for (const auto& [id, camera] : expected.cameras) {
    const ColmapCamera& other = actual.cameras.at(id);
    EXPECT_EQ(other.camera_id, camera.camera_id);
    EXPECT_EQ(other.model_name, camera.model_name);
    EXPECT_EQ(other.width, camera.width);
    EXPECT_EQ(other.height, camera.height);
    EXPECT_EQ(other.params, camera.params);
  }
  ASSERT_EQ(actual.images.size(), expected.images.size());
  for (const auto& [id, image] : expected.images) {
    const ColmapImage& other = actual.images.at(id);
    EXPECT_EQ(other.name, image.name);
    EXPECT_EQ(other.camera_id, image.camera_id);
    EXPECT_LT((other.cam_from_world.rotation.coeffs() - image.cam_from_world.rotation.coeffs()).norm(), 1e-12);
    EXPECT_LT((other.cam_from_world.translation - image.cam_from_world.translation).norm(), 1e-12);
    EXPECT_EQ(other.points2D, image.points2D);
    EXPECT_EQ(other.point3D_ids, image.point3D_ids);
  }
  ASSERT_EQ(actual.points3D.size(), expected.points3D.size());
  for (const auto& [id, point] : expected.points3D) {
    const ColmapPoint3D& other = actual.points3D.at(id);
    EXPECT_EQ(other.xyz, point.xyz);
    EXPECT_EQ(other.color, point.color);
    EXPECT_EQ(other.error, point.error);
    EXPECT_EQ(other.track, point.track);
  }
}

TEST(ColmapModelTest, ReadsLundDoorTextModel) {
  ARMAP_SKIP_IF_MISSING(LundModelDir());
  const absl::StatusOr<ColmapModel> model = ReadColmapModel(LundModelDir());
  ARMAP_ASSERT_OK(model);
  // Expected values: SOURCE.md and the first data lines of each file.
  ASSERT_EQ(model->cameras.size(), 1u);
  const ColmapCamera& camera = model->cameras.at(1);
  EXPECT_EQ(camera.model_name, "SIMPLE_RADIAL");
  EXPECT_EQ(camera.width, 1296);
  EXPECT_EQ(camera.height, 1936);
  EXPECT_THAT(camera.params, ElementsAre(2435.38, 648, 968, -0.0336422));
  EXPECT_EQ(model->images.size(), 12u);
  EXPECT_EQ(model->points3D.size(), 11384u);

  const ColmapImage& image = model->images.at(1);
  EXPECT_EQ(image.name, "DSC_0001.JPG");
  EXPECT_EQ(image.camera_id, 1u);
  const Eigen::Quaterniond q_in_file(0.983789, 0.00113517, 0.176825, -0.0298644);
  EXPECT_LT((image.cam_from_world.rotation.coeffs() - q_in_file.normalized().coeffs()).norm(), 1e-15);
  EXPECT_EQ(image.cam_from_world.translation, Eigen::Vector3d(-7.60712, 0.428157, 2.75243));
  EXPECT_EQ(image.points2D.front(), Eigen::Vector2d(207.398, 25.1136));
  EXPECT_EQ(image.point3D_ids.front(), kInvalidPoint3DId);  // "-1" in the file

  const ColmapPoint3D& point = model->points3D.at(11687);
  EXPECT_EQ(point.xyz, Eigen::Vector3d(4.8222974381749717, 5.0850869261527736, 17.026220305575755));
  EXPECT_EQ(point.color, (std::array<uint8_t, 3>{164, 160, 160}));
  EXPECT_EQ(point.error, 2.2605292032103605);
  EXPECT_THAT(point.track,
              ElementsAre(std::pair{8u, 4066u}, std::pair{10u, 4130u}, std::pair{5u, 3970u}, std::pair{4u, 3945u},
                          std::pair{2u, 3860u}, std::pair{3u, 3783u}, std::pair{1u, 3906u}));

  // images.txt and points3D.txt describe the same observations from both
  // sides: every track element points back to its 3D point, and the totals
  // match the headers (6110.583333333333 obs/image * 12 = 73327 =
  // 6.4412333099086441 * 11384).
  size_t num_observations = 0;
  for (const auto& [id, p] : model->points3D) {
    for (const auto& [image_id, point2D_idx] : p.track) {
      ASSERT_EQ(model->images.at(image_id).point3D_ids.at(point2D_idx), id);
    }
    num_observations += p.track.size();
  }
  EXPECT_EQ(num_observations, 73327u);
}

TEST(ColmapModelTest, BinaryAndTextRoundTripsAreIdentical) {
  ARMAP_SKIP_IF_MISSING(LundModelDir());
  const absl::StatusOr<ColmapModel> original = ReadColmapModelText(LundModelDir());
  ARMAP_ASSERT_OK(original);
  const auto dir = MakeTempDir();

  ARMAP_ASSERT_OK(WriteColmapModelBinary(*original, dir / "bin"));
  const absl::StatusOr<ColmapModel> from_binary = ReadColmapModel(dir / "bin");
  ARMAP_ASSERT_OK(from_binary);
  ExpectModelsEqual(*from_binary, *original);

  ARMAP_ASSERT_OK(WriteColmapModelText(*from_binary, dir / "txt"));
  const absl::StatusOr<ColmapModel> from_text = ReadColmapModel(dir / "txt");
  ARMAP_ASSERT_OK(from_text);
  ExpectModelsEqual(*from_text, *original);
}

TEST(ColmapModelTest, TextMatchesColmapsOwnFormatting) {
  ARMAP_SKIP_IF_MISSING(LundModelDir());
  const absl::StatusOr<ColmapModel> model = ReadColmapModelText(LundModelDir());
  ARMAP_ASSERT_OK(model);
  const auto dir = MakeTempDir();
  ARMAP_ASSERT_OK(WriteColmapModelText(*model, dir));
  // COLMAP 3.8 prints with std::ostream precision 17 (%.17g).
  EXPECT_EQ(ReadBytes(dir / "cameras.txt"),
            "# Camera list with one line of data per camera:\n"
            "#   CAMERA_ID, MODEL, WIDTH, HEIGHT, PARAMS[]\n"
            "# Number of cameras: 1\n"
            "1 SIMPLE_RADIAL 1296 1936 2435.3800000000001 648 968 -0.033642199999999997\n");
  const std::string points = ReadBytes(dir / "points3D.txt");
  EXPECT_THAT(points, HasSubstr("# Number of points: 11384, mean track length: 6.4412333099086441\n"));
  // Data lines copied from the input file are reproduced exactly.
  EXPECT_THAT(points, HasSubstr("\n11687 4.8222974381749717 5.0850869261527736 17.026220305575755 164 160 160 "
                                "2.2605292032103605 8 4066 10 4130 5 3970 4 3945 2 3860 3 3783 1 3906\n"));
  EXPECT_THAT(ReadBytes(dir / "images.txt"), HasSubstr("# Number of images: 12, mean observations per image: "));
}

TEST(ColmapModelTest, PrefersBinaryWhenBothExist) {
  ARMAP_SKIP_IF_MISSING(LundModelDir());
  absl::StatusOr<ColmapModel> model = ReadColmapModelText(LundModelDir());
  ARMAP_ASSERT_OK(model);
  const auto dir = MakeTempDir();
  ARMAP_ASSERT_OK(WriteColmapModelText(*model, dir));
  model->points3D.erase(model->points3D.begin());  // tracks are not cross-checked this way round
  ARMAP_ASSERT_OK(WriteColmapModelBinary(*model, dir));
  const absl::StatusOr<ColmapModel> read = ReadColmapModel(dir);
  ARMAP_ASSERT_OK(read);
  EXPECT_EQ(read->points3D.size(), 11383u);
}

TEST(ColmapModelTest, EdgeCasesRoundTrip) {
  // An image without 2D points (COLMAP writes an empty line), a point with an
  // empty track, a name with a space, every camera model.
  ColmapModel model;
  int next_id = 1;
  for (int model_id = 0; model_id <= 10; ++model_id) {
    const ColmapCameraModelInfo* info = FindColmapCameraModelById(model_id);
    ASSERT_NE(info, nullptr);
    ColmapCamera camera{static_cast<uint32_t>(next_id), std::string(info->name), 640, 480, {}};
    for (int k = 0; k < info->num_params; ++k) camera.params.push_back(100.0 + k + 1.0 / 3.0);
    model.cameras[camera.camera_id] = camera;
    ++next_id;
  }
  ColmapImage empty_image;
  empty_image.image_id = 7;
  empty_image.camera_id = 3;
  empty_image.name = "sub dir/img 1.jpg";
  empty_image.cam_from_world = Rigid3d(Eigen::Quaterniond(0.5, -0.5, 0.5, 0.5), Eigen::Vector3d(1e-300, -2, 3e8));
  model.images[7] = empty_image;
  ColmapImage image = empty_image;
  image.image_id = 8;
  image.name = "b.jpg";
  image.points2D = {{0.5, 1.25}, {1e-7, 3000.125}};
  image.point3D_ids = {kInvalidPoint3DId, 42};
  model.images[8] = image;
  ColmapPoint3D lonely{5, Eigen::Vector3d(1, 2, 3), {0, 128, 255}, 0.0, {}};
  ColmapPoint3D seen{42, Eigen::Vector3d(-1, 0.1, 1e10), {1, 2, 3}, 0.7, {{8, 1}}};
  model.points3D[5] = lonely;
  model.points3D[42] = seen;

  const auto dir = MakeTempDir();
  for (const bool binary : {false, true}) {
    const auto out = dir / (binary ? "bin" : "txt");
    ARMAP_ASSERT_OK(binary ? WriteColmapModelBinary(model, out) : WriteColmapModelText(model, out));
    const absl::StatusOr<ColmapModel> read = ReadColmapModel(out);
    ARMAP_ASSERT_OK(read);
    ExpectModelsEqual(*read, model);
  }
}

TEST(ColmapModelTest, UnknownCameraModelNamesFileLineAndModel) {
  const auto dir = MakeTempDir();
  WriteBytes(dir / "cameras.txt", "# comment\n# comment\n# Number of cameras: 1\n1 KANNALA_BRANDT 640 480 1 2 3\n");
  WriteBytes(dir / "images.txt", "");
  WriteBytes(dir / "points3D.txt", "");
  const std::string cameras_path = (dir / "cameras.txt").string();
  EXPECT_THAT(ReadColmapModel(dir),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(cameras_path + ":4:"), HasSubstr("unknown camera model 'KANNALA_BRANDT'"))));

  WriteBytes(dir / "cameras.txt", "1 PINHOLE 640 480 500 500 320\n");
  EXPECT_THAT(ReadColmapModel(dir), StatusIs(absl::StatusCode::kInvalidArgument,
                                             AllOf(HasSubstr(cameras_path + ":1:"),
                                                   HasSubstr("camera model PINHOLE takes 4 params, got 3"))));
}

TEST(ColmapModelTest, UnknownCameraModelIdInBinary) {
  const auto dir = MakeTempDir();
  std::string cameras;
  AppendLE<uint64_t>(&cameras, 1);
  AppendLE<uint32_t>(&cameras, 1);
  AppendLE<int32_t>(&cameras, 42);  // not a COLMAP model id
  AppendLE<uint64_t>(&cameras, 640);
  AppendLE<uint64_t>(&cameras, 480);
  WriteBytes(dir / "cameras.bin", cameras);
  std::string empty;
  AppendLE<uint64_t>(&empty, 0);
  WriteBytes(dir / "images.bin", empty);
  WriteBytes(dir / "points3D.bin", empty);
  EXPECT_THAT(ReadColmapModel(dir),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr((dir / "cameras.bin").string()), HasSubstr("unknown camera model id 42"))));
}

TEST(ColmapModelTest, ImageWithUnknownCameraIsAnError) {
  const auto dir = MakeTempDir();
  WriteBytes(dir / "cameras.txt", "1 PINHOLE 640 480 500 500 320 240\n");
  WriteBytes(dir / "images.txt", "1 1 0 0 0 0 0 0 9 a.jpg\n\n");
  WriteBytes(dir / "points3D.txt", "");
  EXPECT_THAT(ReadColmapModel(dir),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr((dir / "images.txt").string()), HasSubstr("missing camera 9"))));
}

TEST(ColmapModelTest, BadTextValuesNameLineAndField) {
  const auto dir = MakeTempDir();
  WriteBytes(dir / "cameras.txt", "1 PINHOLE 640 480 500 500 320 240\n");
  WriteBytes(dir / "images.txt", "# header\n1 1 0 0 0 0 0 0 1 a.jpg\n10 20 -1 30 40\n");
  WriteBytes(dir / "points3D.txt", "");
  EXPECT_THAT(ReadColmapModel(dir),
              StatusIs(absl::StatusCode::kInvalidArgument, AllOf(HasSubstr("images.txt:3:"), HasSubstr("triplets"))));
  WriteBytes(dir / "images.txt", "1 1 0 0 0 0 zero 0 1 a.jpg\n\n");
  EXPECT_THAT(ReadColmapModel(dir), StatusIs(absl::StatusCode::kInvalidArgument,
                                             AllOf(HasSubstr("images.txt:1:"), HasSubstr("cannot parse TY 'zero'"))));
}

TEST(ColmapModelTest, TruncatedBinaryIsAnError) {
  ARMAP_SKIP_IF_MISSING(LundModelDir());
  const absl::StatusOr<ColmapModel> model = ReadColmapModelText(LundModelDir());
  ARMAP_ASSERT_OK(model);
  const auto dir = MakeTempDir();
  ARMAP_ASSERT_OK(WriteColmapModelBinary(*model, dir));
  std::string images = ReadBytes(dir / "images.bin");
  images.resize(images.size() / 2);
  WriteBytes(dir / "images.bin", images);
  EXPECT_THAT(ReadColmapModel(dir), StatusIs(absl::StatusCode::kInvalidArgument,
                                             AllOf(HasSubstr("images.bin"), HasSubstr("truncated at byte"))));
}

TEST(ColmapModelTest, TrackToMissingImageIsAnError) {
  const auto dir = MakeTempDir();
  WriteBytes(dir / "cameras.txt", "1 PINHOLE 640 480 500 500 320 240\n");
  WriteBytes(dir / "images.txt", "1 1 0 0 0 0 0 0 1 a.jpg\n10 20 5\n");
  WriteBytes(dir / "points3D.txt", "5 1 2 3 255 255 255 0.5 1 0 2 0\n");
  EXPECT_THAT(ReadColmapModel(dir), StatusIs(absl::StatusCode::kInvalidArgument,
                                             AllOf(HasSubstr("points3D.txt"), HasSubstr("missing image 2"))));
}

TEST(ColmapModelTest, MissingModelIsNotFound) {
  const auto dir = MakeTempDir();
  EXPECT_THAT(ReadColmapModel(dir), StatusIs(absl::StatusCode::kNotFound, HasSubstr(dir.string())));
}

TEST(ColmapModelTest, WriterRejectsInconsistentModels) {
  ColmapModel model;
  model.cameras[1] = ColmapCamera{1, "PINHOLE", 640, 480, {500, 500, 320}};
  EXPECT_THAT(WriteColmapModelText(model, MakeTempDir()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("takes 4 params, got 3")));
  model.cameras[1].params.push_back(240);
  ColmapImage image;
  image.image_id = 3;
  image.camera_id = 1;
  image.points2D = {{1, 2}};
  model.images[3] = image;  // no point3D_ids
  EXPECT_THAT(WriteColmapModelBinary(model, MakeTempDir()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("1 points2D but 0 point3D_ids")));
}

TEST(ColmapModelTest, ToCameraConvertsPerspectiveModels) {
  auto convert = [](const std::string& name, std::vector<double> params) {
    return ToCamera(ColmapCamera{1, name, 1296, 1936, std::move(params)});
  };
  absl::StatusOr<Camera> camera = convert("SIMPLE_RADIAL", {2435.38, 648, 968, -0.0336422});
  ARMAP_ASSERT_OK(camera);
  EXPECT_EQ(camera->model, CameraModelId::kOpenCV);
  EXPECT_THAT(camera->params, ElementsAre(2435.38, 2435.38, 648, 968, -0.0336422, 0, 0, 0));
  EXPECT_EQ(camera->width, 1296);

  camera = convert("SIMPLE_PINHOLE", {500, 320, 240});
  ARMAP_ASSERT_OK(camera);
  EXPECT_EQ(camera->model, CameraModelId::kPinhole);
  EXPECT_THAT(camera->params, ElementsAre(500, 500, 320, 240));

  camera = convert("RADIAL", {500, 320, 240, 0.1, -0.01});
  ARMAP_ASSERT_OK(camera);
  EXPECT_THAT(camera->params, ElementsAre(500, 500, 320, 240, 0.1, -0.01, 0, 0));

  camera = convert("PINHOLE", {500, 510, 320, 240});
  ARMAP_ASSERT_OK(camera);
  EXPECT_THAT(camera->params, ElementsAre(500, 510, 320, 240));

  camera = convert("OPENCV", {500, 510, 320, 240, 0.1, 0.2, 0.001, 0.002});
  ARMAP_ASSERT_OK(camera);
  EXPECT_EQ(camera->model, CameraModelId::kOpenCV);

  camera = convert("FULL_OPENCV", {500, 510, 320, 240, 0.1, 0.2, 0.001, 0.002, 0, 0, 0, 0});
  ARMAP_ASSERT_OK(camera);
  EXPECT_THAT(camera->params, ElementsAre(500, 510, 320, 240, 0.1, 0.2, 0.001, 0.002));
  EXPECT_THAT(convert("FULL_OPENCV", {500, 510, 320, 240, 0.1, 0.2, 0.001, 0.002, 0.3, 0, 0, 0}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("k3..k6")));

  for (const char* fisheye : {"OPENCV_FISHEYE", "SIMPLE_RADIAL_FISHEYE", "RADIAL_FISHEYE", "THIN_PRISM_FISHEYE"}) {
    std::vector<double> params(FindColmapCameraModel(fisheye)->num_params, 0.1);
    params[0] = 500;
    EXPECT_THAT(convert(fisheye, params),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr(std::string("camera model ") + fisheye + " cannot be used for localization yet")));
  }
  EXPECT_THAT(convert("PINHOLE", {-1, 500, 320, 240}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("camera 1")));
}

TEST(ColmapModelTest, CameraModelTableMatchesColmap) {
  // COLMAP 3.8 src/base/camera_models.h: model ids and parameter counts.
  const std::pair<const char*, int> expected[] = {{"SIMPLE_PINHOLE", 3},
                                                  {"PINHOLE", 4},
                                                  {"SIMPLE_RADIAL", 4},
                                                  {"RADIAL", 5},
                                                  {"OPENCV", 8},
                                                  {"OPENCV_FISHEYE", 8},
                                                  {"FULL_OPENCV", 12},
                                                  {"FOV", 5},
                                                  {"SIMPLE_RADIAL_FISHEYE", 4},
                                                  {"RADIAL_FISHEYE", 5},
                                                  {"THIN_PRISM_FISHEYE", 12}};
  for (int id = 0; id <= 10; ++id) {
    const ColmapCameraModelInfo* info = FindColmapCameraModel(expected[id].first);
    ASSERT_NE(info, nullptr) << expected[id].first;
    EXPECT_EQ(info->model_id, id);
    EXPECT_EQ(info->num_params, expected[id].second);
    EXPECT_EQ(FindColmapCameraModelById(id), info);
  }
  EXPECT_EQ(FindColmapCameraModel("UNKNOWN"), nullptr);
  EXPECT_EQ(FindColmapCameraModelById(11), nullptr);
}

}  // namespace
}  // namespace armap::io
