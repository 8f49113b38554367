#include "core/io/colmap_model.h"

#include <algorithm>
#include <climits>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/files.h"
#include "core/io/io_internal.h"
#include "core/io/text_internal.h"
#include "core/status.h"

namespace armap::io {
namespace {

using internal::AppendLittleEndian;
using internal::FormatDoublePrecision17;

constexpr ColmapCameraModelInfo kCameraModels[] = {
    {0, "SIMPLE_PINHOLE", 3},
    {1, "PINHOLE", 4},
    {2, "SIMPLE_RADIAL", 4},
    {3, "RADIAL", 5},
    {4, "OPENCV", 8},
    {5, "OPENCV_FISHEYE", 8},
    {6, "FULL_OPENCV", 12},
    {7, "FOV", 5},
    {8, "SIMPLE_RADIAL_FISHEYE", 4},
    {9, "RADIAL_FISHEYE", 5},
    {10, "THIN_PRISM_FISHEYE", 12},
};

constexpr char kCamerasText[] = "cameras.txt";
constexpr char kImagesText[] = "images.txt";
constexpr char kPointsText[] = "points3D.txt";
constexpr char kCamerasBinary[] = "cameras.bin";
constexpr char kImagesBinary[] = "images.bin";
constexpr char kPointsBinary[] = "points3D.bin";

// ---------------------------------------------------------------------------
// Validation shared by readers and writers

absl::Status CheckCameraParams(const std::string& where, const ColmapCamera& camera) {
  const ColmapCameraModelInfo* info = FindColmapCameraModel(camera.model_name);
  if (info == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": unknown camera model '", camera.model_name, "'"));
  }
  if (static_cast<int>(camera.params.size()) != info->num_params) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": camera model ", camera.model_name, " takes ",
                                                   info->num_params, " params, got ", camera.params.size()));
  }
  return absl::OkStatus();
}

// Cross-references: images -> cameras, tracks -> images and 2D points.
absl::Status CheckReferences(const ColmapModel& model, const std::string& images_path, const std::string& points_path) {
  for (const auto& [image_id, image] : model.images) {
    if (model.cameras.count(image.camera_id) == 0) {
      return absl::InvalidArgumentError(absl::StrCat(images_path, ": image ", image_id, " ('", image.name,
                                                     "') refers to missing camera ", image.camera_id));
    }
    if (image.points2D.size() != image.point3D_ids.size()) {
      return absl::InvalidArgumentError(absl::StrCat(images_path, ": image ", image_id, " has ", image.points2D.size(),
                                                     " points2D but ", image.point3D_ids.size(), " point3D_ids"));
    }
  }
  for (const auto& [point3D_id, point] : model.points3D) {
    for (const auto& [image_id, point2D_idx] : point.track) {
      const auto image = model.images.find(image_id);
      if (image == model.images.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat(points_path, ": point ", point3D_id, ": track refers to missing image ", image_id));
      }
      if (point2D_idx >= image->second.points2D.size()) {
        return absl::InvalidArgumentError(absl::StrCat(points_path, ": point ", point3D_id,
                                                       ": track refers to 2D point ", point2D_idx, " of image ",
                                                       image_id, ", which has only ", image->second.points2D.size()));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status CheckModelForWriting(const ColmapModel& model, const std::filesystem::path& dir) {
  const std::string where = dir.string();
  for (const auto& [camera_id, camera] : model.cameras) {
    if (camera.camera_id != camera_id) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": cameras[", camera_id, "] has camera_id ", camera.camera_id));
    }
    ARMAP_RETURN_IF_ERROR(CheckCameraParams(absl::StrCat(where, ": camera ", camera_id), camera));
  }
  for (const auto& [image_id, image] : model.images) {
    if (image.image_id != image_id) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": images[", image_id, "] has image_id ", image.image_id));
    }
  }
  for (const auto& [point3D_id, point] : model.points3D) {
    if (point.point3D_id != point3D_id) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": points3D[", point3D_id, "] has point3D_id ", point.point3D_id));
    }
  }
  return CheckReferences(model, where, where);
}

// ---------------------------------------------------------------------------
// Text reading

// The shared line reader plus COLMAP's comment convention.
class TextLines {
 public:
  TextLines(std::string path, std::string data) : reader_(std::move(path), std::move(data)) {}

  // Next raw line (no line ending); false at the end of the file.
  bool NextRaw(absl::string_view* line) { return reader_.Next(line); }

  // Next line that is neither blank nor a '#' comment.
  bool NextData(absl::string_view* line) {
    while (NextRaw(line)) {
      const size_t first = line->find_first_not_of(" \t");
      if (first != absl::string_view::npos && (*line)[first] != '#') return true;
    }
    return false;
  }

  absl::Status Error(absl::string_view what) const { return reader_.Error(what); }
  const std::string& path() const { return reader_.where(); }

 private:
  internal::LineReader reader_;
};

absl::StatusOr<TextLines> OpenText(const std::filesystem::path& path) {
  ARMAP_ASSIGN_OR_RETURN(std::string data, ReadFileToString(path));
  return TextLines(path.string(), std::move(data));
}

absl::Status ParseDoubleField(const TextLines& lines, absl::string_view token, absl::string_view field, double* value) {
  if (internal::ParseDouble(token, value)) return absl::OkStatus();
  return lines.Error(absl::StrCat("cannot parse ", field, " '", token, "'"));
}

template <typename T>
absl::Status ParseUnsignedField(const TextLines& lines, absl::string_view token, absl::string_view field, T* value) {
  uint64_t parsed = 0;
  if (!internal::ParseUint64(token, &parsed) || parsed > std::numeric_limits<T>::max()) {
    return lines.Error(absl::StrCat("cannot parse ", field, " '", token, "'"));
  }
  *value = static_cast<T>(parsed);
  return absl::OkStatus();
}

absl::Status ParseImageSize(const TextLines& lines, absl::string_view token, absl::string_view field, int* value) {
  uint32_t parsed = 0;
  ARMAP_RETURN_IF_ERROR(ParseUnsignedField(lines, token, field, &parsed));
  if (parsed == 0 || parsed > INT_MAX) return lines.Error(absl::StrCat(field, " ", parsed, " must be > 0"));
  *value = static_cast<int>(parsed);
  return absl::OkStatus();
}

absl::Status ReadCamerasText(const std::filesystem::path& path, ColmapModel* model) {
  ARMAP_ASSIGN_OR_RETURN(TextLines lines, OpenText(path));
  absl::string_view line;
  while (lines.NextData(&line)) {
    const std::vector<absl::string_view> tokens = internal::SplitWhitespace(line);
    if (tokens.size() < 4) return lines.Error("expected CAMERA_ID MODEL WIDTH HEIGHT PARAMS[]");
    ColmapCamera camera;
    ARMAP_RETURN_IF_ERROR(ParseUnsignedField(lines, tokens[0], "CAMERA_ID", &camera.camera_id));
    camera.model_name = std::string(tokens[1]);
    ARMAP_RETURN_IF_ERROR(ParseImageSize(lines, tokens[2], "WIDTH", &camera.width));
    ARMAP_RETURN_IF_ERROR(ParseImageSize(lines, tokens[3], "HEIGHT", &camera.height));
    for (size_t i = 4; i < tokens.size(); ++i) {
      double param = 0;
      ARMAP_RETURN_IF_ERROR(ParseDoubleField(lines, tokens[i], absl::StrCat("PARAMS[", i - 4, "]"), &param));
      camera.params.push_back(param);
    }
    const absl::Status params_ok = CheckCameraParams(absl::StrCat("camera ", camera.camera_id), camera);
    if (!params_ok.ok()) return lines.Error(params_ok.message());
    if (!model->cameras.emplace(camera.camera_id, camera).second) {
      return lines.Error(absl::StrCat("duplicate CAMERA_ID ", camera.camera_id));
    }
  }
  return absl::OkStatus();
}

absl::Status ParsePoints2DLine(const TextLines& lines, absl::string_view line, ColmapImage* image) {
  const std::vector<absl::string_view> tokens = internal::SplitWhitespace(line);
  if (tokens.size() % 3 != 0) {
    return lines.Error(absl::StrCat("POINTS2D has ", tokens.size(), " values; expected triplets (X, Y, POINT3D_ID)"));
  }
  image->points2D.reserve(tokens.size() / 3);
  image->point3D_ids.reserve(tokens.size() / 3);
  for (size_t i = 0; i < tokens.size(); i += 3) {
    Eigen::Vector2d xy;
    ARMAP_RETURN_IF_ERROR(ParseDoubleField(lines, tokens[i], "X", &xy.x()));
    ARMAP_RETURN_IF_ERROR(ParseDoubleField(lines, tokens[i + 1], "Y", &xy.y()));
    uint64_t point3D_id = kInvalidPoint3DId;
    if (tokens[i + 2] != "-1")
      ARMAP_RETURN_IF_ERROR(ParseUnsignedField(lines, tokens[i + 2], "POINT3D_ID", &point3D_id));
    image->points2D.push_back(xy);
    image->point3D_ids.push_back(point3D_id);
  }
  return absl::OkStatus();
}

absl::Status ReadImagesText(const std::filesystem::path& path, ColmapModel* model) {
  ARMAP_ASSIGN_OR_RETURN(TextLines lines, OpenText(path));
  absl::string_view line;
  while (lines.NextData(&line)) {
    const std::vector<absl::string_view> tokens = internal::SplitWhitespace(line);
    if (tokens.size() < 10) return lines.Error("expected IMAGE_ID QW QX QY QZ TX TY TZ CAMERA_ID NAME");
    ColmapImage image;
    ARMAP_RETURN_IF_ERROR(ParseUnsignedField(lines, tokens[0], "IMAGE_ID", &image.image_id));
    double q[4] = {}, t[3] = {};
    const char* q_names[] = {"QW", "QX", "QY", "QZ"};
    const char* t_names[] = {"TX", "TY", "TZ"};
    for (int i = 0; i < 4; ++i) ARMAP_RETURN_IF_ERROR(ParseDoubleField(lines, tokens[1 + i], q_names[i], &q[i]));
    for (int i = 0; i < 3; ++i) ARMAP_RETURN_IF_ERROR(ParseDoubleField(lines, tokens[5 + i], t_names[i], &t[i]));
    if (Eigen::Vector4d(q[0], q[1], q[2], q[3]).norm() == 0) return lines.Error("quaternion is zero");
    image.cam_from_world = Rigid3d(Eigen::Quaterniond(q[0], q[1], q[2], q[3]), Eigen::Vector3d(t[0], t[1], t[2]));
    ARMAP_RETURN_IF_ERROR(ParseUnsignedField(lines, tokens[8], "CAMERA_ID", &image.camera_id));
    // The name is the rest of the line, so names with spaces survive.
    absl::string_view name = line.substr(static_cast<size_t>(tokens[9].data() - line.data()));
    name.remove_suffix(name.size() - (name.find_last_not_of(" \t") + 1));
    image.name = std::string(name);
    // The POINTS2D line always follows, possibly empty (COLMAP writes an
    // empty line for an image without 2D points).
    absl::string_view points_line;
    if (lines.NextRaw(&points_line)) ARMAP_RETURN_IF_ERROR(ParsePoints2DLine(lines, points_line, &image));
    if (!model->images.emplace(image.image_id, image).second) {
      return lines.Error(absl::StrCat("duplicate IMAGE_ID ", image.image_id));
    }
  }
  return absl::OkStatus();
}

absl::Status ReadPoints3DText(const std::filesystem::path& path, ColmapModel* model) {
  ARMAP_ASSIGN_OR_RETURN(TextLines lines, OpenText(path));
  absl::string_view line;
  while (lines.NextData(&line)) {
    const std::vector<absl::string_view> tokens = internal::SplitWhitespace(line);
    if (tokens.size() < 8 || tokens.size() % 2 != 0) {
      return lines.Error("expected POINT3D_ID X Y Z R G B ERROR followed by (IMAGE_ID, POINT2D_IDX) pairs");
    }
    ColmapPoint3D point;
    ARMAP_RETURN_IF_ERROR(ParseUnsignedField(lines, tokens[0], "POINT3D_ID", &point.point3D_id));
    for (int i = 0; i < 3; ++i) ARMAP_RETURN_IF_ERROR(ParseDoubleField(lines, tokens[1 + i], "X/Y/Z", &point.xyz[i]));
    for (int i = 0; i < 3; ++i)
      ARMAP_RETURN_IF_ERROR(ParseUnsignedField(lines, tokens[4 + i], "R/G/B", &point.color[i]));
    ARMAP_RETURN_IF_ERROR(ParseDoubleField(lines, tokens[7], "ERROR", &point.error));
    point.track.reserve((tokens.size() - 8) / 2);
    for (size_t i = 8; i < tokens.size(); i += 2) {
      std::pair<uint32_t, uint32_t> element;
      ARMAP_RETURN_IF_ERROR(ParseUnsignedField(lines, tokens[i], "IMAGE_ID", &element.first));
      ARMAP_RETURN_IF_ERROR(ParseUnsignedField(lines, tokens[i + 1], "POINT2D_IDX", &element.second));
      point.track.push_back(element);
    }
    if (!model->points3D.emplace(point.point3D_id, std::move(point)).second) {
      return lines.Error(absl::StrCat("duplicate POINT3D_ID ", tokens[0]));
    }
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Binary reading

class BinaryReader {
 public:
  BinaryReader(std::string path, std::string data) : path_(std::move(path)), data_(std::move(data)) {}

  template <typename T>
  absl::Status Read(T* value, absl::string_view what) {
    if (data_.size() - pos_ < sizeof(T)) return Truncated(what);
    *value = internal::LoadLittleEndian<T>(data_.data() + pos_);
    pos_ += sizeof(T);
    return absl::OkStatus();
  }

  absl::Status ReadNullTerminated(std::string* value, absl::string_view what) {
    const size_t end = data_.find('\0', pos_);
    if (end == std::string::npos) return Truncated(what);
    value->assign(data_, pos_, end - pos_);
    pos_ = end + 1;
    return absl::OkStatus();
  }

  // Rejects counts that cannot fit in the rest of the file, before anyone
  // reserves memory for them.
  absl::Status CheckCount(uint64_t count, size_t min_bytes_each, absl::string_view what) const {
    if (count > (data_.size() - pos_) / std::max<size_t>(min_bytes_each, 1)) return Truncated(what);
    return absl::OkStatus();
  }

  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(path_, ": byte ", pos_, ": ", what));
  }
  const std::string& path() const { return path_; }

 private:
  absl::Status Truncated(absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(path_, ": truncated at byte ", pos_, " while reading ", what));
  }

  std::string path_;
  std::string data_;
  size_t pos_ = 0;
};

absl::StatusOr<BinaryReader> OpenBinary(const std::filesystem::path& path) {
  ARMAP_ASSIGN_OR_RETURN(std::string data, internal::ReadWholeFile(path));
  return BinaryReader(path.string(), std::move(data));
}

absl::Status ReadCamerasBinary(const std::filesystem::path& path, ColmapModel* model) {
  ARMAP_ASSIGN_OR_RETURN(BinaryReader in, OpenBinary(path));
  uint64_t num_cameras = 0;
  ARMAP_RETURN_IF_ERROR(in.Read(&num_cameras, "the number of cameras"));
  ARMAP_RETURN_IF_ERROR(in.CheckCount(num_cameras, 24, "cameras"));
  for (uint64_t i = 0; i < num_cameras; ++i) {
    ColmapCamera camera;
    int32_t model_id = 0;
    uint64_t width = 0, height = 0;
    ARMAP_RETURN_IF_ERROR(in.Read(&camera.camera_id, "camera_id"));
    ARMAP_RETURN_IF_ERROR(in.Read(&model_id, "model_id"));
    ARMAP_RETURN_IF_ERROR(in.Read(&width, "width"));
    ARMAP_RETURN_IF_ERROR(in.Read(&height, "height"));
    const ColmapCameraModelInfo* info = FindColmapCameraModelById(model_id);
    if (info == nullptr) {
      return in.Error(absl::StrCat("camera ", camera.camera_id, ": unknown camera model id ", model_id));
    }
    if (width == 0 || height == 0 || width > INT_MAX || height > INT_MAX) {
      return in.Error(absl::StrCat("camera ", camera.camera_id, ": bad size ", width, "x", height));
    }
    camera.model_name = std::string(info->name);
    camera.width = static_cast<int>(width);
    camera.height = static_cast<int>(height);
    camera.params.resize(info->num_params);
    for (double& param : camera.params) ARMAP_RETURN_IF_ERROR(in.Read(&param, "camera params"));
    if (!model->cameras.emplace(camera.camera_id, camera).second) {
      return in.Error(absl::StrCat("duplicate camera_id ", camera.camera_id));
    }
  }
  return absl::OkStatus();
}

absl::Status ReadImagesBinary(const std::filesystem::path& path, ColmapModel* model) {
  ARMAP_ASSIGN_OR_RETURN(BinaryReader in, OpenBinary(path));
  uint64_t num_images = 0;
  ARMAP_RETURN_IF_ERROR(in.Read(&num_images, "the number of images"));
  ARMAP_RETURN_IF_ERROR(in.CheckCount(num_images, 73, "images"));
  for (uint64_t i = 0; i < num_images; ++i) {
    ColmapImage image;
    double qt[7] = {};  // qw qx qy qz tx ty tz
    ARMAP_RETURN_IF_ERROR(in.Read(&image.image_id, "image_id"));
    for (double& v : qt) ARMAP_RETURN_IF_ERROR(in.Read(&v, "qvec/tvec"));
    if (Eigen::Vector4d(qt[0], qt[1], qt[2], qt[3]).norm() == 0) {
      return in.Error(absl::StrCat("image ", image.image_id, ": quaternion is zero"));
    }
    image.cam_from_world =
        Rigid3d(Eigen::Quaterniond(qt[0], qt[1], qt[2], qt[3]), Eigen::Vector3d(qt[4], qt[5], qt[6]));
    ARMAP_RETURN_IF_ERROR(in.Read(&image.camera_id, "camera_id"));
    ARMAP_RETURN_IF_ERROR(in.ReadNullTerminated(&image.name, "the image name"));
    uint64_t num_points2D = 0;
    ARMAP_RETURN_IF_ERROR(in.Read(&num_points2D, "num_points2D"));
    ARMAP_RETURN_IF_ERROR(in.CheckCount(num_points2D, 24, "points2D"));
    image.points2D.resize(num_points2D);
    image.point3D_ids.resize(num_points2D);
    for (uint64_t j = 0; j < num_points2D; ++j) {
      ARMAP_RETURN_IF_ERROR(in.Read(&image.points2D[j].x(), "points2D"));
      ARMAP_RETURN_IF_ERROR(in.Read(&image.points2D[j].y(), "points2D"));
      ARMAP_RETURN_IF_ERROR(in.Read(&image.point3D_ids[j], "point3D_id"));
    }
    if (!model->images.emplace(image.image_id, image).second) {
      return in.Error(absl::StrCat("duplicate image_id ", image.image_id));
    }
  }
  return absl::OkStatus();
}

absl::Status ReadPoints3DBinary(const std::filesystem::path& path, ColmapModel* model) {
  ARMAP_ASSIGN_OR_RETURN(BinaryReader in, OpenBinary(path));
  uint64_t num_points = 0;
  ARMAP_RETURN_IF_ERROR(in.Read(&num_points, "the number of points"));
  ARMAP_RETURN_IF_ERROR(in.CheckCount(num_points, 51, "points3D"));
  for (uint64_t i = 0; i < num_points; ++i) {
    ColmapPoint3D point;
    ARMAP_RETURN_IF_ERROR(in.Read(&point.point3D_id, "point3D_id"));
    for (int k = 0; k < 3; ++k) ARMAP_RETURN_IF_ERROR(in.Read(&point.xyz[k], "xyz"));
    for (int k = 0; k < 3; ++k) ARMAP_RETURN_IF_ERROR(in.Read(&point.color[k], "color"));
    ARMAP_RETURN_IF_ERROR(in.Read(&point.error, "error"));
    uint64_t track_length = 0;
    ARMAP_RETURN_IF_ERROR(in.Read(&track_length, "track_length"));
    ARMAP_RETURN_IF_ERROR(in.CheckCount(track_length, 8, "track"));
    point.track.resize(track_length);
    for (auto& [image_id, point2D_idx] : point.track) {
      ARMAP_RETURN_IF_ERROR(in.Read(&image_id, "track image_id"));
      ARMAP_RETURN_IF_ERROR(in.Read(&point2D_idx, "track point2D_idx"));
    }
    const uint64_t id = point.point3D_id;
    if (!model->points3D.emplace(id, std::move(point)).second) {
      return in.Error(absl::StrCat("duplicate point3D_id ", id));
    }
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Writing

std::string D(double value) { return FormatDoublePrecision17(value); }

size_t NumObservations(const ColmapModel& model) {
  size_t num_observations = 0;
  for (const auto& [id, image] : model.images) {
    num_observations += std::count_if(image.point3D_ids.begin(), image.point3D_ids.end(),
                                      [](uint64_t point3D_id) { return point3D_id != kInvalidPoint3DId; });
  }
  return num_observations;
}

// COLMAP writes the normalized quaternion (w, x, y, z).
Eigen::Vector4d NormalizedQvec(const Rigid3d& cam_from_world) {
  const Eigen::Quaterniond q = cam_from_world.rotation.normalized();
  return {q.w(), q.x(), q.y(), q.z()};
}

std::string CamerasText(const ColmapModel& model) {
  std::string out = absl::StrCat("# Camera list with one line of data per camera:\n",
                                 "#   CAMERA_ID, MODEL, WIDTH, HEIGHT, PARAMS[]\n",
                                 "# Number of cameras: ", model.cameras.size(), "\n");
  for (const auto& [id, camera] : model.cameras) {
    absl::StrAppend(&out, id, " ", camera.model_name, " ", camera.width, " ", camera.height);
    for (double param : camera.params) absl::StrAppend(&out, " ", D(param));
    out += "\n";
  }
  return out;
}

std::string ImagesText(const ColmapModel& model) {
  const double mean_observations =
      model.images.empty() ? 0.0 : static_cast<double>(NumObservations(model)) / model.images.size();
  std::string out = absl::StrCat("# Image list with two lines of data per image:\n",
                                 "#   IMAGE_ID, QW, QX, QY, QZ, TX, TY, TZ, CAMERA_ID, NAME\n",
                                 "#   POINTS2D[] as (X, Y, POINT3D_ID)\n", "# Number of images: ", model.images.size(),
                                 ", mean observations per image: ", D(mean_observations), "\n");
  for (const auto& [id, image] : model.images) {
    const Eigen::Vector4d q = NormalizedQvec(image.cam_from_world);
    const Eigen::Vector3d& t = image.cam_from_world.translation;
    absl::StrAppend(&out, id, " ", D(q[0]), " ", D(q[1]), " ", D(q[2]), " ", D(q[3]), " ", D(t[0]), " ", D(t[1]), " ",
                    D(t[2]), " ", image.camera_id, " ", image.name, "\n");
    for (size_t j = 0; j < image.points2D.size(); ++j) {
      if (j > 0) out += " ";
      absl::StrAppend(&out, D(image.points2D[j].x()), " ", D(image.points2D[j].y()), " ");
      if (image.point3D_ids[j] == kInvalidPoint3DId) {
        out += "-1";
      } else {
        absl::StrAppend(&out, image.point3D_ids[j]);
      }
    }
    out += "\n";
  }
  return out;
}

std::string Points3DText(const ColmapModel& model) {
  const double mean_track_length =
      model.points3D.empty() ? 0.0 : static_cast<double>(NumObservations(model)) / model.points3D.size();
  std::string out =
      absl::StrCat("# 3D point list with one line of data per point:\n",
                   "#   POINT3D_ID, X, Y, Z, R, G, B, ERROR, TRACK[] as (IMAGE_ID, POINT2D_IDX)\n",
                   "# Number of points: ", model.points3D.size(), ", mean track length: ", D(mean_track_length), "\n");
  for (const auto& [id, point] : model.points3D) {
    // Like COLMAP, every field before the track is followed by a space.
    absl::StrAppend(&out, id, " ", D(point.xyz.x()), " ", D(point.xyz.y()), " ", D(point.xyz.z()), " ",
                    int{point.color[0]}, " ", int{point.color[1]}, " ", int{point.color[2]}, " ", D(point.error), " ");
    for (size_t j = 0; j < point.track.size(); ++j) {
      if (j > 0) out += " ";
      absl::StrAppend(&out, point.track[j].first, " ", point.track[j].second);
    }
    out += "\n";
  }
  return out;
}

std::string CamerasBinary(const ColmapModel& model) {
  std::string out;
  AppendLittleEndian<uint64_t>(&out, model.cameras.size());
  for (const auto& [id, camera] : model.cameras) {
    AppendLittleEndian<uint32_t>(&out, id);
    AppendLittleEndian<int32_t>(&out, FindColmapCameraModel(camera.model_name)->model_id);
    AppendLittleEndian<uint64_t>(&out, static_cast<uint64_t>(camera.width));
    AppendLittleEndian<uint64_t>(&out, static_cast<uint64_t>(camera.height));
    for (double param : camera.params) AppendLittleEndian<double>(&out, param);
  }
  return out;
}

std::string ImagesBinary(const ColmapModel& model) {
  std::string out;
  AppendLittleEndian<uint64_t>(&out, model.images.size());
  for (const auto& [id, image] : model.images) {
    AppendLittleEndian<uint32_t>(&out, id);
    const Eigen::Vector4d q = NormalizedQvec(image.cam_from_world);
    for (int k = 0; k < 4; ++k) AppendLittleEndian<double>(&out, q[k]);
    for (int k = 0; k < 3; ++k) AppendLittleEndian<double>(&out, image.cam_from_world.translation[k]);
    AppendLittleEndian<uint32_t>(&out, image.camera_id);
    out.append(image.name);
    out.push_back('\0');
    AppendLittleEndian<uint64_t>(&out, image.points2D.size());
    for (size_t j = 0; j < image.points2D.size(); ++j) {
      AppendLittleEndian<double>(&out, image.points2D[j].x());
      AppendLittleEndian<double>(&out, image.points2D[j].y());
      AppendLittleEndian<uint64_t>(&out, image.point3D_ids[j]);
    }
  }
  return out;
}

std::string Points3DBinary(const ColmapModel& model) {
  std::string out;
  AppendLittleEndian<uint64_t>(&out, model.points3D.size());
  for (const auto& [id, point] : model.points3D) {
    AppendLittleEndian<uint64_t>(&out, id);
    for (int k = 0; k < 3; ++k) AppendLittleEndian<double>(&out, point.xyz[k]);
    for (int k = 0; k < 3; ++k) AppendLittleEndian<uint8_t>(&out, point.color[k]);
    AppendLittleEndian<double>(&out, point.error);
    AppendLittleEndian<uint64_t>(&out, point.track.size());
    for (const auto& [image_id, point2D_idx] : point.track) {
      AppendLittleEndian<uint32_t>(&out, image_id);
      AppendLittleEndian<uint32_t>(&out, point2D_idx);
    }
  }
  return out;
}

bool AllExist(const std::filesystem::path& dir, std::initializer_list<const char*> names) {
  std::error_code ec;
  return std::all_of(names.begin(), names.end(),
                     [&](const char* name) { return std::filesystem::is_regular_file(dir / name, ec); });
}

absl::Status CameraNotUsable(const ColmapCamera& camera, absl::string_view reason) {
  return absl::InvalidArgumentError(absl::StrCat("camera ", camera.camera_id, ": camera model ", camera.model_name,
                                                 " cannot be used for localization yet", reason));
}

}  // namespace

const ColmapCameraModelInfo* FindColmapCameraModel(std::string_view model_name) {
  for (const ColmapCameraModelInfo& info : kCameraModels) {
    if (info.name == model_name) return &info;
  }
  return nullptr;
}

const ColmapCameraModelInfo* FindColmapCameraModelById(int model_id) {
  for (const ColmapCameraModelInfo& info : kCameraModels) {
    if (info.model_id == model_id) return &info;
  }
  return nullptr;
}

absl::StatusOr<ColmapModel> ReadColmapModelText(const std::filesystem::path& dir) {
  ColmapModel model;
  ARMAP_RETURN_IF_ERROR(ReadCamerasText(dir / kCamerasText, &model));
  ARMAP_RETURN_IF_ERROR(ReadImagesText(dir / kImagesText, &model));
  ARMAP_RETURN_IF_ERROR(ReadPoints3DText(dir / kPointsText, &model));
  ARMAP_RETURN_IF_ERROR(CheckReferences(model, (dir / kImagesText).string(), (dir / kPointsText).string()));
  return model;
}

absl::StatusOr<ColmapModel> ReadColmapModelBinary(const std::filesystem::path& dir) {
  ColmapModel model;
  ARMAP_RETURN_IF_ERROR(ReadCamerasBinary(dir / kCamerasBinary, &model));
  ARMAP_RETURN_IF_ERROR(ReadImagesBinary(dir / kImagesBinary, &model));
  ARMAP_RETURN_IF_ERROR(ReadPoints3DBinary(dir / kPointsBinary, &model));
  ARMAP_RETURN_IF_ERROR(CheckReferences(model, (dir / kImagesBinary).string(), (dir / kPointsBinary).string()));
  return model;
}

absl::StatusOr<ColmapModel> ReadColmapModel(const std::filesystem::path& dir) {
  if (AllExist(dir, {kCamerasBinary, kImagesBinary, kPointsBinary})) return ReadColmapModelBinary(dir);
  if (AllExist(dir, {kCamerasText, kImagesText, kPointsText})) return ReadColmapModelText(dir);
  return absl::NotFoundError(
      absl::StrCat(dir.string(), ": no COLMAP model (expected cameras, images and ", "points3D as .bin or .txt)"));
}

absl::Status WriteColmapModelText(const ColmapModel& model, const std::filesystem::path& dir) {
  ARMAP_RETURN_IF_ERROR(CheckModelForWriting(model, dir));
  ARMAP_RETURN_IF_ERROR(EnsureWritableDirectory(dir));
  ARMAP_RETURN_IF_ERROR(WriteFileAtomic(dir / kCamerasText, CamerasText(model)));
  ARMAP_RETURN_IF_ERROR(WriteFileAtomic(dir / kImagesText, ImagesText(model)));
  return WriteFileAtomic(dir / kPointsText, Points3DText(model));
}

absl::Status WriteColmapModelBinary(const ColmapModel& model, const std::filesystem::path& dir) {
  ARMAP_RETURN_IF_ERROR(CheckModelForWriting(model, dir));
  ARMAP_RETURN_IF_ERROR(EnsureWritableDirectory(dir));
  ARMAP_RETURN_IF_ERROR(WriteFileAtomic(dir / kCamerasBinary, CamerasBinary(model)));
  ARMAP_RETURN_IF_ERROR(WriteFileAtomic(dir / kImagesBinary, ImagesBinary(model)));
  return WriteFileAtomic(dir / kPointsBinary, Points3DBinary(model));
}

absl::StatusOr<Camera> ToCamera(const ColmapCamera& colmap_camera) {
  const ColmapCamera& c = colmap_camera;
  ARMAP_RETURN_IF_ERROR(CheckCameraParams(absl::StrCat("camera ", c.camera_id), c));
  const std::vector<double>& p = c.params;
  std::string model_name;
  std::vector<double> params;
  if (c.model_name == "SIMPLE_PINHOLE") {
    model_name = "PINHOLE";
    params = {p[0], p[0], p[1], p[2]};
  } else if (c.model_name == "PINHOLE" || c.model_name == "OPENCV") {
    model_name = c.model_name;
    params = p;
  } else if (c.model_name == "SIMPLE_RADIAL") {
    model_name = "OPENCV";
    params = {p[0], p[0], p[1], p[2], p[3], 0, 0, 0};
  } else if (c.model_name == "RADIAL") {
    model_name = "OPENCV";
    params = {p[0], p[0], p[1], p[2], p[3], p[4], 0, 0};
  } else if (c.model_name == "FULL_OPENCV") {
    // fx fy cx cy k1 k2 p1 p2 k3 k4 k5 k6: OPENCV when the rational and k3 terms vanish.
    if (std::any_of(p.begin() + 8, p.end(), [](double k) { return k != 0; })) {
      return CameraNotUsable(c, " (k3..k6 are non-zero; armap's OPENCV model has only k1, k2, p1, p2)");
    }
    model_name = "OPENCV";
    params.assign(p.begin(), p.begin() + 8);
  } else if (c.model_name == "FOV") {
    // fx fy cx cy omega: omega = 0 is an undistorted pinhole.
    if (p[4] != 0) return CameraNotUsable(c, " (FOV distortion omega != 0 has no OPENCV equivalent)");
    model_name = "PINHOLE";
    params.assign(p.begin(), p.begin() + 4);
  } else {
    return CameraNotUsable(c, " (fisheye models are not supported)");
  }
  absl::StatusOr<Camera> camera = Camera::Create(model_name, c.width, c.height, std::move(params));
  if (!camera.ok()) return Annotate(camera.status(), absl::StrCat("camera ", c.camera_id));
  return camera;
}

}  // namespace armap::io
