#include "core/map/map_data.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/files.h"
#include "core/json.h"
#include "core/status.h"

namespace armap::map {
namespace {

constexpr char kLandmarksMagic[8] = {'A', 'R', 'M', 'A', 'P', 'L', 'M', '1'};
constexpr uint32_t kLandmarksVersion = 1;

template <typename T>
void Put(std::string* out, const T& value) {
  out->append(reinterpret_cast<const char*>(&value), sizeof(T));
}
template <typename T>
void PutArray(std::string* out, const std::vector<T>& values) {
  out->append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
}

// Bounds-checked reader over a file's bytes.
class ByteReader {
 public:
  ByteReader(const std::string& data, std::string where) : data_(data), where_(std::move(where)) {}
  template <typename T>
  absl::Status Get(T* value) {
    if (pos_ + sizeof(T) > data_.size()) return Truncated();
    std::memcpy(value, data_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return absl::OkStatus();
  }
  template <typename T>
  absl::Status GetArray(size_t n, std::vector<T>* values) {
    if (n > (data_.size() - pos_) / sizeof(T)) return Truncated();
    values->resize(n);
    std::memcpy(values->data(), data_.data() + pos_, n * sizeof(T));
    pos_ += n * sizeof(T);
    return absl::OkStatus();
  }
  bool AtEnd() const { return pos_ == data_.size(); }

 private:
  absl::Status Truncated() const { return absl::DataLossError(absl::StrCat(where_, ": truncated at byte ", pos_)); }
  const std::string& data_;
  std::string where_;
  size_t pos_ = 0;
};

}  // namespace

void Landmarks::Add(const Eigen::Vector3d& position, const uint8_t* descriptor, const std::vector<view_t>& views,
                    const std::vector<Eigen::Vector2f>& pixels) {
  positions.push_back(position);
  descriptors.insert(descriptors.end(), descriptor, descriptor + descriptor_dim);
  obs_view.insert(obs_view.end(), views.begin(), views.end());
  obs_pixel.insert(obs_pixel.end(), pixels.begin(), pixels.end());
  obs_begin.push_back(static_cast<uint32_t>(obs_view.size()));
}

absl::Status Landmarks::Validate(size_t num_views) const {
  if (descriptor_dim <= 0 || descriptors.size() != positions.size() * static_cast<size_t>(descriptor_dim)) {
    return absl::DataLossError("landmarks: descriptor array size does not match the landmark count");
  }
  if (obs_begin.size() != positions.size() + 1 || obs_begin.front() != 0 || obs_begin.back() != obs_view.size() ||
      obs_pixel.size() != obs_view.size()) {
    return absl::DataLossError("landmarks: observation offsets are inconsistent");
  }
  for (size_t i = 0; i + 1 < obs_begin.size(); ++i) {
    if (obs_begin[i] > obs_begin[i + 1]) return absl::DataLossError("landmarks: observation offsets decrease");
  }
  for (view_t v : obs_view) {
    if (v >= num_views) return absl::DataLossError(absl::StrCat("landmarks: observation of unknown view ", v));
  }
  for (const Eigen::Vector3d& p : positions) {
    if (!p.allFinite()) return absl::DataLossError("landmarks: non-finite position");
  }
  return absl::OkStatus();
}

absl::Status WriteViews(const std::filesystem::path& path, const std::vector<MapView>& views) {
  OrderedJson list = OrderedJson::array();
  for (const MapView& v : views) {
    const Eigen::Quaterniond& q = v.cam_from_world.rotation;
    const Eigen::Vector3d& t = v.cam_from_world.translation;
    list.push_back({{"id", v.id},
                    {"name", v.name},
                    {"source", v.source},
                    {"camera", {{"model", v.camera.ModelName()}, {"width", v.camera.width}, {"height", v.camera.height},
                                {"params", v.camera.params}}},
                    {"cam_from_world", {{"q", {q.w(), q.x(), q.y(), q.z()}}, {"t", {t.x(), t.y(), t.z()}}}}});
  }
  return WriteJsonFile(path, OrderedJson{{"views", list}}, 1);
}

absl::StatusOr<std::vector<MapView>> ReadViews(const std::filesystem::path& path) {
  ARMAP_ASSIGN_OR_RETURN(Json json, ReadJsonFile(path));
  const std::string where = path.string();
  ARMAP_ASSIGN_OR_RETURN(Json list, GetJsonField<Json>(json, "views", where));
  if (!list.is_array()) return absl::InvalidArgumentError(absl::StrCat(where, ": 'views' must be an array"));
  std::vector<MapView> views;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string ctx = absl::StrCat(where, ": views[", i, "]");
    const Json& j = list[i];
    MapView v;
    ARMAP_ASSIGN_OR_RETURN(v.id, GetJsonField<view_t>(j, "id", ctx));
    if (v.id != i) return absl::InvalidArgumentError(absl::StrCat(ctx, ": id ", v.id, " must equal its position"));
    ARMAP_ASSIGN_OR_RETURN(v.name, GetJsonField<std::string>(j, "name", ctx));
    ARMAP_ASSIGN_OR_RETURN(v.source, GetJsonField<std::string>(j, "source", ctx));
    ARMAP_ASSIGN_OR_RETURN(Json cam, GetJsonField<Json>(j, "camera", ctx));
    ARMAP_ASSIGN_OR_RETURN(std::string model, GetJsonField<std::string>(cam, "model", ctx + ".camera"));
    ARMAP_ASSIGN_OR_RETURN(int width, GetJsonField<int>(cam, "width", ctx + ".camera"));
    ARMAP_ASSIGN_OR_RETURN(int height, GetJsonField<int>(cam, "height", ctx + ".camera"));
    ARMAP_ASSIGN_OR_RETURN(std::vector<double> params, GetJsonField<std::vector<double>>(cam, "params", ctx + ".camera"));
    auto camera = Camera::Create(model, width, height, params);
    if (!camera.ok()) return Annotate(camera.status(), ctx);
    v.camera = *camera;
    ARMAP_ASSIGN_OR_RETURN(Json pose, GetJsonField<Json>(j, "cam_from_world", ctx));
    ARMAP_ASSIGN_OR_RETURN(std::vector<double> q, GetJsonField<std::vector<double>>(pose, "q", ctx + ".cam_from_world"));
    ARMAP_ASSIGN_OR_RETURN(std::vector<double> t, GetJsonField<std::vector<double>>(pose, "t", ctx + ".cam_from_world"));
    if (q.size() != 4 || t.size() != 3) return absl::InvalidArgumentError(absl::StrCat(ctx, ": cam_from_world needs q[4] and t[3]"));
    const Eigen::Quaterniond quat(q[0], q[1], q[2], q[3]);
    if (std::abs(quat.norm() - 1.0) > 1e-3) return absl::InvalidArgumentError(absl::StrCat(ctx, ": non-unit quaternion"));
    v.cam_from_world = Rigid3d(quat, Eigen::Vector3d(t[0], t[1], t[2]));
    views.push_back(std::move(v));
  }
  return views;
}

absl::Status WriteLandmarks(const std::filesystem::path& path, const Landmarks& lm) {
  std::string out;
  out.append(kLandmarksMagic, sizeof(kLandmarksMagic));
  Put(&out, kLandmarksVersion);
  Put(&out, static_cast<uint32_t>(lm.descriptor_dim));
  Put(&out, static_cast<uint64_t>(lm.size()));
  Put(&out, static_cast<uint64_t>(lm.num_observations()));
  PutArray(&out, lm.positions);
  PutArray(&out, lm.descriptors);
  PutArray(&out, lm.obs_begin);
  PutArray(&out, lm.obs_view);
  PutArray(&out, lm.obs_pixel);
  return WriteFileAtomic(path, out);
}

absl::StatusOr<Landmarks> ReadLandmarks(const std::filesystem::path& path) {
  ARMAP_ASSIGN_OR_RETURN(std::string data, ReadFileToString(path));
  const std::string where = path.string();
  ByteReader reader(data, where);
  char magic[8];
  for (char& c : magic) ARMAP_RETURN_IF_ERROR(reader.Get(&c));
  if (std::memcmp(magic, kLandmarksMagic, sizeof(magic)) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": not an armap landmarks file"));
  }
  uint32_t version = 0, dim = 0;
  uint64_t count = 0, num_obs = 0;
  ARMAP_RETURN_IF_ERROR(reader.Get(&version));
  if (version != kLandmarksVersion) {
    return absl::FailedPreconditionError(absl::StrCat(where, ": landmarks format version ", version, " is not supported"));
  }
  ARMAP_RETURN_IF_ERROR(reader.Get(&dim));
  ARMAP_RETURN_IF_ERROR(reader.Get(&count));
  ARMAP_RETURN_IF_ERROR(reader.Get(&num_obs));
  if (dim == 0 || dim > 1024) return absl::InvalidArgumentError(absl::StrCat(where, ": descriptor dim ", dim, " is invalid"));
  Landmarks lm;
  lm.descriptor_dim = static_cast<int>(dim);
  ARMAP_RETURN_IF_ERROR(reader.GetArray(count, &lm.positions));
  ARMAP_RETURN_IF_ERROR(reader.GetArray(count * dim, &lm.descriptors));
  ARMAP_RETURN_IF_ERROR(reader.GetArray(count + 1, &lm.obs_begin));
  ARMAP_RETURN_IF_ERROR(reader.GetArray(num_obs, &lm.obs_view));
  ARMAP_RETURN_IF_ERROR(reader.GetArray(num_obs, &lm.obs_pixel));
  if (!reader.AtEnd()) return absl::DataLossError(absl::StrCat(where, ": trailing bytes after the landmarks"));
  return lm;
}

}  // namespace armap::map
