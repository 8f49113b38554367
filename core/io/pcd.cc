// The only translation unit in armap that includes PCL's I/O headers: they
// are slow to compile and drag in Boost (docs/TOOLCHAIN.md).
#include "core/io/pcd.h"

#include <pcl/PCLPointCloud2.h>
#include <pcl/io/pcd_io.h>

#include <exception>
#include <initializer_list>
#include <optional>
#include <string>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/io/io_internal.h"
#include "core/status.h"

namespace armap::io {
namespace {

using internal::LoadLittleEndian;

struct FieldRef {
  uint32_t offset = 0;
  uint8_t datatype = 0;
};

struct PcdLayout {
  FieldRef x, y, z;
  std::optional<FieldRef> intensity, rgb, timestamp, classification;
};

// Value of a numeric field as double. PCL stores fields in host byte order,
// which is little endian on every platform armap targets.
double LoadField(const uint8_t* point, const FieldRef& field) {
  const char* p = reinterpret_cast<const char*>(point) + field.offset;
  switch (field.datatype) {
    case pcl::PCLPointField::INT8: return LoadLittleEndian<int8_t>(p);
    case pcl::PCLPointField::UINT8: return LoadLittleEndian<uint8_t>(p);
    case pcl::PCLPointField::INT16: return LoadLittleEndian<int16_t>(p);
    case pcl::PCLPointField::UINT16: return LoadLittleEndian<uint16_t>(p);
    case pcl::PCLPointField::INT32: return LoadLittleEndian<int32_t>(p);
    case pcl::PCLPointField::UINT32: return LoadLittleEndian<uint32_t>(p);
    case pcl::PCLPointField::INT64: return static_cast<double>(LoadLittleEndian<int64_t>(p));
    case pcl::PCLPointField::UINT64: return static_cast<double>(LoadLittleEndian<uint64_t>(p));
    case pcl::PCLPointField::FLOAT32: return LoadLittleEndian<float>(p);
    case pcl::PCLPointField::FLOAT64: return LoadLittleEndian<double>(p);
    default: return 0.0;
  }
}

bool IsNumeric(uint8_t datatype) {
  switch (datatype) {
    case pcl::PCLPointField::INT8:
    case pcl::PCLPointField::UINT8:
    case pcl::PCLPointField::INT16:
    case pcl::PCLPointField::UINT16:
    case pcl::PCLPointField::INT32:
    case pcl::PCLPointField::UINT32:
    case pcl::PCLPointField::INT64:
    case pcl::PCLPointField::UINT64:
    case pcl::PCLPointField::FLOAT32:
    case pcl::PCLPointField::FLOAT64: return true;
    default: return false;
  }
}

// First field whose lower-cased name is one of `names`.
const pcl::PCLPointField* FindField(const pcl::PCLPointCloud2& cloud, std::initializer_list<absl::string_view> names) {
  for (const pcl::PCLPointField& field : cloud.fields) {
    const std::string lower = internal::ToLower(field.name);
    for (absl::string_view name : names) {
      if (lower == name && field.count >= 1) return &field;
    }
  }
  return nullptr;
}

absl::StatusOr<std::optional<FieldRef>> OptionalNumericField(const std::string& path, const pcl::PCLPointCloud2& cloud,
                                                             std::initializer_list<absl::string_view> names) {
  const pcl::PCLPointField* field = FindField(cloud, names);
  if (field == nullptr) return std::optional<FieldRef>();
  if (!IsNumeric(field->datatype)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": field '", field->name, "' has unsupported datatype ", static_cast<int>(field->datatype)));
  }
  return std::optional<FieldRef>(FieldRef{field->offset, field->datatype});
}

absl::StatusOr<PcdLayout> MakeLayout(const std::string& path, const pcl::PCLPointCloud2& cloud) {
  PcdLayout layout;
  for (auto [ref, axis] : {std::pair{&layout.x, "x"}, {&layout.y, "y"}, {&layout.z, "z"}}) {
    ARMAP_ASSIGN_OR_RETURN(const std::optional<FieldRef> field, OptionalNumericField(path, cloud, {axis}));
    if (!field) return absl::InvalidArgumentError(absl::StrCat(path, ": PCD has no field '", axis, "'"));
    *ref = *field;
  }
  ARMAP_ASSIGN_OR_RETURN(layout.intensity, OptionalNumericField(path, cloud, {"intensity", "scalar_intensity"}));
  ARMAP_ASSIGN_OR_RETURN(layout.timestamp, OptionalNumericField(path, cloud, {"timestamp", "time", "t", "gps_time"}));
  ARMAP_ASSIGN_OR_RETURN(layout.classification, OptionalNumericField(path, cloud, {"classification"}));
  if (const pcl::PCLPointField* rgb = FindField(cloud, {"rgb", "rgba"})) {
    // PCL packs colour as 4 bytes (b, g, r, a) typed FLOAT32 or UINT32.
    if (rgb->datatype != pcl::PCLPointField::FLOAT32 && rgb->datatype != pcl::PCLPointField::UINT32 &&
        rgb->datatype != pcl::PCLPointField::INT32) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": field '", rgb->name, "' must be a packed 4-byte colour (TYPE F or U, SIZE 4)"));
    }
    layout.rgb = FieldRef{rgb->offset, rgb->datatype};
  }
  return layout;
}

// Fills `out` from the PCL blob, dropping non-finite points.
absl::Status ConvertCloud(const std::string& path, const pcl::PCLPointCloud2& blob, const PcdLayout& layout,
                          PointCloud* out, size_t* num_dropped) {
  const size_t n = static_cast<size_t>(blob.width) * blob.height;
  if (blob.data.size() < n * blob.point_step) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": truncated: expected ", n, " points, got ",
                                                   blob.point_step ? blob.data.size() / blob.point_step : 0));
  }
  auto point_data = [&](size_t i) { return blob.data.data() + i * blob.point_step; };
  auto position = [&](const uint8_t* p) {
    return Eigen::Vector3d(LoadField(p, layout.x), LoadField(p, layout.y), LoadField(p, layout.z));
  };
  Eigen::AlignedBox3d bounds;
  size_t num_finite = 0;
  for (size_t i = 0; i < n; ++i) {
    const Eigen::Vector3d p = position(point_data(i));
    if (!p.allFinite()) continue;
    bounds.extend(p);
    ++num_finite;
  }
  *num_dropped = n - num_finite;
  out->origin = internal::ChooseOrigin(bounds);
  out->points.reserve(num_finite);
  if (layout.intensity) out->intensity.reserve(num_finite);
  if (layout.timestamp) out->timestamp_s.reserve(num_finite);
  if (layout.rgb) out->colors.reserve(num_finite);
  if (layout.classification) out->classification.reserve(num_finite);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* data = point_data(i);
    const Eigen::Vector3d p = position(data);
    if (!p.allFinite()) continue;
    out->points.push_back((p - out->origin).cast<float>());
    if (layout.intensity) out->intensity.push_back(static_cast<float>(LoadField(data, *layout.intensity)));
    if (layout.timestamp) out->timestamp_s.push_back(LoadField(data, *layout.timestamp));
    if (layout.rgb) {
      const auto packed = LoadLittleEndian<uint32_t>(reinterpret_cast<const char*>(data) + layout.rgb->offset);
      out->colors.push_back(
          {static_cast<uint8_t>(packed >> 16), static_cast<uint8_t>(packed >> 8), static_cast<uint8_t>(packed)});
    }
    if (layout.classification) {
      const double value = LoadField(data, *layout.classification);
      if (!(value >= 0 && value <= 255)) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": point ", i, ": classification ", value, " is outside 0..255"));
      }
      out->classification.push_back(static_cast<uint8_t>(value));
    }
  }
  return absl::OkStatus();
}

const char* EncodingName(int pcl_data_type) {
  switch (pcl_data_type) {
    case 0: return "ascii";
    case 1: return "binary";
    case 2: return "binary_compressed";
    default: return "unknown";
  }
}

// PCL signals failure by return code (details on stderr) and, in places, by
// exceptions; both become a Status here.
absl::Status ReadWithPcl(const std::string& path, pcl::PCLPointCloud2* blob, int* data_type) {
  try {
    pcl::PCDReader reader;
    Eigen::Vector4f sensor_origin;
    Eigen::Quaternionf sensor_orientation;
    int pcd_version = 0;
    unsigned int data_offset = 0;
    if (reader.readHeader(path, *blob, sensor_origin, sensor_orientation, pcd_version, *data_type, data_offset) < 0) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": bad PCD header (PCL's reason is on stderr)"));
    }
    if (reader.read(path, *blob, sensor_origin, sensor_orientation, pcd_version) < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": cannot read PCD data, the file may be truncated (PCL's reason is on stderr)"));
    }
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": PCL failed to read the file: ", e.what()));
  } catch (...) {
    return absl::InternalError(absl::StrCat(path, ": PCL failed to read the file (unknown exception)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<PointCloud> ReadPcd(const std::filesystem::path& path, PcdReadInfo* info) {
  const std::string path_str = path.string();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return absl::NotFoundError(absl::StrCat(path_str, ": no such file"));
  }
  pcl::PCLPointCloud2 blob;
  int data_type = -1;
  ARMAP_RETURN_IF_ERROR(ReadWithPcl(path_str, &blob, &data_type));
  ARMAP_ASSIGN_OR_RETURN(const PcdLayout layout, MakeLayout(path_str, blob));
  PointCloud cloud;
  size_t num_dropped = 0;
  ARMAP_RETURN_IF_ERROR(ConvertCloud(path_str, blob, layout, &cloud, &num_dropped));
  if (info != nullptr) {
    info->width = blob.width;
    info->height = blob.height;
    info->num_non_finite_dropped = num_dropped;
    info->encoding = EncodingName(data_type);
  }
  return cloud;
}

}  // namespace armap::io
