#include "core/io/ply.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/io/io_internal.h"
#include "core/status.h"

namespace armap::io {
namespace {

using internal::LoadBigEndian;
using internal::LoadLittleEndian;

// ---------------------------------------------------------------------------
// Header model

enum class PlyFormat { kAscii, kBinaryLittleEndian, kBinaryBigEndian };
enum class PlyType { kInt8, kUint8, kInt16, kUint16, kInt32, kUint32, kFloat32, kFloat64 };

struct PlyProperty {
  std::string name;
  PlyType type = PlyType::kFloat32;  // item type for lists
  bool is_list = false;
  PlyType list_count_type = PlyType::kUint8;
};

struct PlyElement {
  std::string name;
  uint64_t count = 0;
  std::vector<PlyProperty> properties;
};

struct PlyHeader {
  PlyFormat format = PlyFormat::kAscii;
  std::vector<PlyElement> elements;
  size_t data_offset = 0;  // first byte after "end_header\n"
};

size_t TypeSize(PlyType type) {
  switch (type) {
    case PlyType::kInt8:
    case PlyType::kUint8: return 1;
    case PlyType::kInt16:
    case PlyType::kUint16: return 2;
    case PlyType::kInt32:
    case PlyType::kUint32:
    case PlyType::kFloat32: return 4;
    case PlyType::kFloat64: return 8;
  }
  return 0;
}

std::optional<PlyType> TypeFromName(absl::string_view name) {
  // Both the original names and the sized aliases (PLY spec and rply/VTK).
  static const std::pair<absl::string_view, PlyType> kNames[] = {
      {"char", PlyType::kInt8},      {"int8", PlyType::kInt8},       {"uchar", PlyType::kUint8},
      {"uint8", PlyType::kUint8},    {"short", PlyType::kInt16},     {"int16", PlyType::kInt16},
      {"ushort", PlyType::kUint16},  {"uint16", PlyType::kUint16},   {"int", PlyType::kInt32},
      {"int32", PlyType::kInt32},    {"uint", PlyType::kUint32},     {"uint32", PlyType::kUint32},
      {"float", PlyType::kFloat32},  {"float32", PlyType::kFloat32}, {"double", PlyType::kFloat64},
      {"float64", PlyType::kFloat64}};
  for (const auto& [type_name, type] : kNames) {
    if (name == type_name) return type;
  }
  return std::nullopt;
}

const char* TypeName(PlyType type) {
  switch (type) {
    case PlyType::kInt8: return "char";
    case PlyType::kUint8: return "uchar";
    case PlyType::kInt16: return "short";
    case PlyType::kUint16: return "ushort";
    case PlyType::kInt32: return "int";
    case PlyType::kUint32: return "uint";
    case PlyType::kFloat32: return "float";
    case PlyType::kFloat64: return "double";
  }
  return "?";
}

// ---------------------------------------------------------------------------
// Header parsing

class HeaderParser {
 public:
  HeaderParser(std::string path, absl::string_view data) : path_(std::move(path)), data_(data) {}

  absl::StatusOr<PlyHeader> Parse() {
    absl::string_view line;
    if (!NextLine(&line) || line != "ply") return Error("bad header: file does not start with 'ply'");
    bool have_format = false;
    while (NextLine(&line)) {
      const std::vector<absl::string_view> tokens = internal::SplitWhitespace(line);
      if (tokens.empty()) continue;
      const absl::string_view keyword = tokens[0];
      if (keyword == "end_header") {
        if (!have_format) return Error("bad header: missing 'format' line");
        header_.data_offset = pos_;
        return std::move(header_);
      }
      if (keyword == "comment" || keyword == "obj_info") continue;
      if (keyword == "format") {
        ARMAP_RETURN_IF_ERROR(ParseFormat(tokens));
        have_format = true;
      } else if (keyword == "element") {
        ARMAP_RETURN_IF_ERROR(ParseElement(tokens));
      } else if (keyword == "property") {
        ARMAP_RETURN_IF_ERROR(ParseProperty(tokens));
      } else {
        return Error(absl::StrCat("bad header: unknown keyword '", keyword, "'"));
      }
    }
    return Error("bad header: no 'end_header' line");
  }

 private:
  // Lines end in "\n" or "\r\n"; `pos_` is left at the start of the next line.
  bool NextLine(absl::string_view* line) {
    if (pos_ >= data_.size()) return false;
    size_t end = data_.find('\n', pos_);
    if (end == absl::string_view::npos) end = data_.size();
    *line = data_.substr(pos_, end - pos_);
    if (!line->empty() && line->back() == '\r') line->remove_suffix(1);
    pos_ = std::min(end + 1, data_.size());
    ++line_number_;
    return true;
  }

  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(path_, ": header line ", line_number_, ": ", what));
  }

  absl::Status ParseFormat(const std::vector<absl::string_view>& tokens) {
    if (tokens.size() < 2) return Error("bad header: 'format' needs a value");
    if (tokens[1] == "ascii") {
      header_.format = PlyFormat::kAscii;
    } else if (tokens[1] == "binary_little_endian") {
      header_.format = PlyFormat::kBinaryLittleEndian;
    } else if (tokens[1] == "binary_big_endian") {
      header_.format = PlyFormat::kBinaryBigEndian;
    } else {
      return Error(absl::StrCat("bad header: unknown format '", tokens[1], "'"));
    }
    return absl::OkStatus();
  }

  absl::Status ParseElement(const std::vector<absl::string_view>& tokens) {
    PlyElement element;
    if (tokens.size() != 3 || !internal::ParseUint64(tokens[2], &element.count)) {
      return Error("bad header: expected 'element <name> <count>'");
    }
    element.name = std::string(tokens[1]);
    header_.elements.push_back(std::move(element));
    return absl::OkStatus();
  }

  absl::Status ParseProperty(const std::vector<absl::string_view>& tokens) {
    if (header_.elements.empty()) return Error("bad header: 'property' before any 'element'");
    PlyProperty property;
    if (tokens.size() == 5 && tokens[1] == "list") {
      const auto count_type = TypeFromName(tokens[2]);
      const auto item_type = TypeFromName(tokens[3]);
      if (!count_type || !item_type) {
        return Error(absl::StrCat("bad header: unknown list types '", tokens[2], " ", tokens[3], "'"));
      }
      property.is_list = true;
      property.list_count_type = *count_type;
      property.type = *item_type;
      property.name = std::string(tokens[4]);
    } else if (tokens.size() == 3) {
      const auto type = TypeFromName(tokens[1]);
      if (!type) return Error(absl::StrCat("bad header: unknown property type '", tokens[1], "'"));
      property.type = *type;
      property.name = std::string(tokens[2]);
    } else {
      return Error("bad header: expected 'property <type> <name>' or 'property list <type> <type> <name>'");
    }
    header_.elements.back().properties.push_back(std::move(property));
    return absl::OkStatus();
  }

  std::string path_;
  absl::string_view data_;
  size_t pos_ = 0;
  int line_number_ = 0;
  PlyHeader header_;
};

// ---------------------------------------------------------------------------
// Vertex layout: where each attribute we keep lives in a vertex record.

struct FieldRef {
  int index = -1;     // property index in the vertex element; -1 = absent
  size_t offset = 0;  // byte offset in a binary record
  PlyType type = PlyType::kFloat32;
  bool present() const { return index >= 0; }
};

struct VertexLayout {
  FieldRef x, y, z, intensity, timestamp, red, green, blue, classification;
  size_t stride = 0;  // bytes per binary record
  size_t num_properties = 0;
};

bool NameIn(const std::string& lower_name, std::initializer_list<absl::string_view> names) {
  return std::find(names.begin(), names.end(), lower_name) != names.end();
}

// Where a vertex property with this (lower-case) name goes; nullptr = skipped.
FieldRef* AttributeSlot(const std::string& name, VertexLayout* layout) {
  if (name == "x") return &layout->x;
  if (name == "y") return &layout->y;
  if (name == "z") return &layout->z;
  if (NameIn(name, {"intensity", "scalar_intensity"})) return &layout->intensity;
  if (NameIn(name, {"timestamp", "time", "t", "gps_time", "gpstime", "scalar_timestamp", "scalar_time",
                    "scalar_gps_time", "scalar_gpstime"})) {
    return &layout->timestamp;
  }
  if (name == "red") return &layout->red;
  if (name == "green") return &layout->green;
  if (name == "blue") return &layout->blue;
  if (NameIn(name, {"classification", "scalar_classification"})) return &layout->classification;
  return nullptr;
}

absl::StatusOr<VertexLayout> MakeVertexLayout(const std::string& path, const PlyElement& vertex) {
  VertexLayout layout;
  layout.num_properties = vertex.properties.size();
  for (size_t i = 0; i < vertex.properties.size(); ++i) {
    const PlyProperty& property = vertex.properties[i];
    if (property.is_list) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": list property '", property.name, "' in element vertex is not supported"));
    }
    const FieldRef ref{static_cast<int>(i), layout.stride, property.type};
    layout.stride += TypeSize(property.type);
    FieldRef* target = AttributeSlot(internal::ToLower(property.name), &layout);
    // The first property of a kind wins; duplicates are skipped like unknowns.
    if (target != nullptr && !target->present()) *target = ref;
  }
  for (const auto& [ref, axis] : {std::pair{&layout.x, "x"}, {&layout.y, "y"}, {&layout.z, "z"}}) {
    if (!ref->present()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": element vertex has no property '", axis, "'"));
    }
  }
  const bool any_color = layout.red.present() || layout.green.present() || layout.blue.present();
  const bool all_colors = layout.red.present() && layout.green.present() && layout.blue.present();
  if (any_color && !all_colors) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": vertex colors need all of red, green and blue"));
  }
  for (const FieldRef* color : {&layout.red, &layout.green, &layout.blue}) {
    if (color->present() && color->type != PlyType::kUint8 && color->type != PlyType::kUint16) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": vertex color property '",
                                                     vertex.properties[color->index].name, "' has type ",
                                                     TypeName(color->type), "; expected uchar or ushort"));
    }
  }
  return layout;
}

// 8-bit colour from a uchar or ushort value (16-bit colours keep their top byte).
uint8_t ToColor8(double value, PlyType type) {
  const double clamped = std::clamp(value, 0.0, type == PlyType::kUint16 ? 65535.0 : 255.0);
  const auto integer = static_cast<uint32_t>(clamped);
  return static_cast<uint8_t>(type == PlyType::kUint16 ? integer >> 8 : integer);
}

// ---------------------------------------------------------------------------
// Binary data

template <bool kBigEndian, typename T>
T Load(const char* p) {
  if constexpr (kBigEndian) {
    return LoadBigEndian<T>(p);
  } else {
    return LoadLittleEndian<T>(p);
  }
}

template <bool kBigEndian>
double LoadScalar(const char* p, PlyType type) {
  switch (type) {
    case PlyType::kInt8: return static_cast<int8_t>(*p);
    case PlyType::kUint8: return static_cast<uint8_t>(*p);
    case PlyType::kInt16: return Load<kBigEndian, int16_t>(p);
    case PlyType::kUint16: return Load<kBigEndian, uint16_t>(p);
    case PlyType::kInt32: return Load<kBigEndian, int32_t>(p);
    case PlyType::kUint32: return Load<kBigEndian, uint32_t>(p);
    case PlyType::kFloat32: return Load<kBigEndian, float>(p);
    case PlyType::kFloat64: return Load<kBigEndian, double>(p);
  }
  return 0.0;
}

// Byte size of one binary record of `element`, walking list properties.
// Returns nullopt when the record runs past `end`.
template <bool kBigEndian>
std::optional<size_t> BinaryRecordSize(const PlyElement& element, const char* record, const char* end) {
  size_t size = 0;
  for (const PlyProperty& property : element.properties) {
    if (!property.is_list) {
      size += TypeSize(property.type);
      continue;
    }
    const size_t count_size = TypeSize(property.list_count_type);
    if (record + size + count_size > end) return std::nullopt;
    const double count = LoadScalar<kBigEndian>(record + size, property.list_count_type);
    if (count < 0) return std::nullopt;
    size += count_size + static_cast<size_t>(count) * TypeSize(property.type);
  }
  if (record + size > end) return std::nullopt;
  return size;
}

// Offset of the first vertex record: skips the elements written before it.
template <bool kBigEndian>
absl::StatusOr<size_t> SkipBinaryElements(const std::string& path, const PlyHeader& header, size_t vertex_element_index,
                                          absl::string_view data) {
  size_t offset = header.data_offset;
  const char* end = data.data() + data.size();
  for (size_t e = 0; e < vertex_element_index; ++e) {
    const PlyElement& element = header.elements[e];
    for (uint64_t i = 0; i < element.count; ++i) {
      const auto size = BinaryRecordSize<kBigEndian>(element, data.data() + offset, end);
      if (!size) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": truncated: expected ", element.count, " ", element.name, " elements, got ", i));
      }
      offset += *size;
    }
  }
  return offset;
}

// Fills `cloud` from `num_vertices` fixed-size records. Two passes: the first
// finds the bounding box (for the origin), the second converts.
template <bool kBigEndian>
absl::Status DecodeBinaryVertices(const std::string& path, const VertexLayout& layout, const char* records,
                                  size_t num_vertices, PointCloud* cloud) {
  const size_t stride = layout.stride;
  auto position = [&](const char* record) {
    return Eigen::Vector3d(LoadScalar<kBigEndian>(record + layout.x.offset, layout.x.type),
                           LoadScalar<kBigEndian>(record + layout.y.offset, layout.y.type),
                           LoadScalar<kBigEndian>(record + layout.z.offset, layout.z.type));
  };
  Eigen::AlignedBox3d bounds;
  for (size_t i = 0; i < num_vertices; ++i) {
    const Eigen::Vector3d p = position(records + i * stride);
    if (p.allFinite()) bounds.extend(p);
  }
  cloud->origin = internal::ChooseOrigin(bounds);

  cloud->points.resize(num_vertices);
  if (layout.intensity.present()) cloud->intensity.resize(num_vertices);
  if (layout.timestamp.present()) cloud->timestamp_s.resize(num_vertices);
  if (layout.red.present()) cloud->colors.resize(num_vertices);
  if (layout.classification.present()) cloud->classification.resize(num_vertices);
  for (size_t i = 0; i < num_vertices; ++i) {
    const char* record = records + i * stride;
    const Eigen::Vector3d point = position(record);
    cloud->points[i] = (point - cloud->origin).cast<float>();
    auto load = [record](const FieldRef& f) { return LoadScalar<kBigEndian>(record + f.offset, f.type); };
    if (layout.intensity.present()) cloud->intensity[i] = static_cast<float>(load(layout.intensity));
    if (layout.timestamp.present()) cloud->timestamp_s[i] = load(layout.timestamp);
    if (layout.red.present()) {
      cloud->colors[i] = {ToColor8(load(layout.red), layout.red.type), ToColor8(load(layout.green), layout.green.type),
                          ToColor8(load(layout.blue), layout.blue.type)};
    }
    if (layout.classification.present()) {
      const double value = load(layout.classification);
      if (!(value >= 0 && value <= 255)) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": vertex ", i, ": classification ", value, " is outside 0..255"));
      }
      cloud->classification[i] = static_cast<uint8_t>(value);
    }
  }
  return absl::OkStatus();
}

template <bool kBigEndian>
absl::StatusOr<PointCloud> ReadBinaryBody(const std::string& path, const PlyHeader& header, size_t vertex_element_index,
                                          const VertexLayout& layout, absl::string_view data) {
  ARMAP_ASSIGN_OR_RETURN(const size_t vertex_offset,
                         SkipBinaryElements<kBigEndian>(path, header, vertex_element_index, data));
  const uint64_t expected = header.elements[vertex_element_index].count;
  const size_t available = layout.stride == 0 ? 0 : (data.size() - vertex_offset) / layout.stride;
  if (available < expected) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": truncated: expected ", expected, " vertices, got ", available));
  }
  PointCloud cloud;
  ARMAP_RETURN_IF_ERROR(DecodeBinaryVertices<kBigEndian>(path, layout, data.data() + vertex_offset,
                                                         static_cast<size_t>(expected), &cloud));
  return cloud;
}

// ---------------------------------------------------------------------------
// ASCII data

class AsciiLines {
 public:
  AsciiLines(absl::string_view data, size_t offset) : data_(data), pos_(offset) {}
  // Next non-blank line, without its line ending.
  bool Next(absl::string_view* line) {
    while (pos_ < data_.size()) {
      size_t end = data_.find('\n', pos_);
      if (end == absl::string_view::npos) end = data_.size();
      *line = data_.substr(pos_, end - pos_);
      pos_ = end + 1;
      if (line->find_first_not_of(" \t\r") != absl::string_view::npos) return true;
    }
    return false;
  }

 private:
  absl::string_view data_;
  size_t pos_;
};

absl::Status ParseAsciiVertex(const std::string& path, uint64_t vertex_index, absl::string_view line,
                              const VertexLayout& layout, Eigen::Vector3d* position, PointCloud* cloud) {
  const std::vector<absl::string_view> tokens = internal::SplitWhitespace(line);
  if (tokens.size() < layout.num_properties) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": vertex ", vertex_index, ": expected ",
                                                   layout.num_properties, " values, got ", tokens.size()));
  }
  auto value = [&](const FieldRef& f, const char* what, double* out) -> absl::Status {
    if (internal::ParseDouble(tokens[f.index], out)) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": vertex ", vertex_index, ": cannot parse ", what, " '", tokens[f.index], "'"));
  };
  ARMAP_RETURN_IF_ERROR(value(layout.x, "x", &position->x()));
  ARMAP_RETURN_IF_ERROR(value(layout.y, "y", &position->y()));
  ARMAP_RETURN_IF_ERROR(value(layout.z, "z", &position->z()));
  double v = 0;
  if (layout.intensity.present()) {
    ARMAP_RETURN_IF_ERROR(value(layout.intensity, "intensity", &v));
    cloud->intensity.push_back(static_cast<float>(v));
  }
  if (layout.timestamp.present()) {
    ARMAP_RETURN_IF_ERROR(value(layout.timestamp, "timestamp", &v));
    cloud->timestamp_s.push_back(v);
  }
  if (layout.red.present()) {
    std::array<double, 3> rgb{};
    ARMAP_RETURN_IF_ERROR(value(layout.red, "red", &rgb[0]));
    ARMAP_RETURN_IF_ERROR(value(layout.green, "green", &rgb[1]));
    ARMAP_RETURN_IF_ERROR(value(layout.blue, "blue", &rgb[2]));
    cloud->colors.push_back(
        {ToColor8(rgb[0], layout.red.type), ToColor8(rgb[1], layout.green.type), ToColor8(rgb[2], layout.blue.type)});
  }
  if (layout.classification.present()) {
    ARMAP_RETURN_IF_ERROR(value(layout.classification, "classification", &v));
    if (!(v >= 0 && v <= 255)) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": vertex ", vertex_index, ": classification ", v, " is outside 0..255"));
    }
    cloud->classification.push_back(static_cast<uint8_t>(v));
  }
  return absl::OkStatus();
}

absl::StatusOr<PointCloud> ReadAsciiBody(const std::string& path, const PlyHeader& header, size_t vertex_element_index,
                                         const VertexLayout& layout, absl::string_view data) {
  AsciiLines lines(data, header.data_offset);
  absl::string_view line;
  // ASCII PLY has one line per element record, lists included.
  for (size_t e = 0; e < vertex_element_index; ++e) {
    const PlyElement& element = header.elements[e];
    for (uint64_t i = 0; i < element.count; ++i) {
      if (!lines.Next(&line)) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": truncated: expected ", element.count, " ", element.name, " elements, got ", i));
      }
    }
  }
  const uint64_t expected = header.elements[vertex_element_index].count;
  PointCloud cloud;
  // Positions are parsed as doubles first: the origin depends on all of them.
  std::vector<Eigen::Vector3d> positions;
  // A corrupt count must not trigger a huge allocation: a vertex line has at
  // least 6 bytes ("0 0 0\n"), so the file size bounds the real count.
  positions.reserve(std::min<uint64_t>(expected, data.size() / 6 + 1));
  for (uint64_t i = 0; i < expected; ++i) {
    if (!lines.Next(&line)) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": truncated: expected ", expected, " vertices, got ", i));
    }
    Eigen::Vector3d position;
    ARMAP_RETURN_IF_ERROR(ParseAsciiVertex(path, i, line, layout, &position, &cloud));
    positions.push_back(position);
  }
  Eigen::AlignedBox3d bounds;
  for (const Eigen::Vector3d& p : positions) {
    if (p.allFinite()) bounds.extend(p);
  }
  cloud.origin = internal::ChooseOrigin(bounds);
  cloud.points.resize(positions.size());
  for (size_t i = 0; i < positions.size(); ++i) cloud.points[i] = (positions[i] - cloud.origin).cast<float>();
  return cloud;
}

// ---------------------------------------------------------------------------
// Writing

struct WriteLayout {
  bool double_positions = false;
  bool intensity = false, timestamp = false, colors = false, classification = false;
  size_t stride = 0;
};

absl::StatusOr<WriteLayout> MakeWriteLayout(const std::string& path, const PointCloud& cloud) {
  const size_t n = cloud.size();
  auto check = [&](size_t size, const char* name) -> absl::Status {
    if (size == 0 || size == n) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": cloud has ", n, " points but ", size, " ", name, " values"));
  };
  ARMAP_RETURN_IF_ERROR(check(cloud.intensity.size(), "intensity"));
  ARMAP_RETURN_IF_ERROR(check(cloud.timestamp_s.size(), "timestamp_s"));
  ARMAP_RETURN_IF_ERROR(check(cloud.colors.size(), "colors"));
  ARMAP_RETURN_IF_ERROR(check(cloud.classification.size(), "classification"));
  WriteLayout layout;
  layout.double_positions = !cloud.origin.isZero(0.0);
  layout.intensity = n > 0 && cloud.HasIntensity();
  layout.timestamp = n > 0 && cloud.HasTimestamps();
  layout.colors = n > 0 && cloud.HasColors();
  layout.classification = n > 0 && cloud.HasClassification();
  layout.stride = 3 * (layout.double_positions ? sizeof(double) : sizeof(float)) +
                  (layout.intensity ? sizeof(float) : 0) + (layout.timestamp ? sizeof(double) : 0) +
                  (layout.colors ? 3 : 0) + (layout.classification ? 1 : 0);
  return layout;
}

std::string MakeWriteHeader(const WriteLayout& layout, size_t num_points) {
  const char* position_type = layout.double_positions ? "double" : "float";
  std::string header = absl::StrCat("ply\nformat binary_little_endian 1.0\ncomment written by armap\n",
                                    "element vertex ", num_points, "\n");
  for (const char* axis : {"x", "y", "z"}) absl::StrAppend(&header, "property ", position_type, " ", axis, "\n");
  if (layout.intensity) header += "property float intensity\n";
  if (layout.timestamp) header += "property double timestamp\n";
  if (layout.colors) header += "property uchar red\nproperty uchar green\nproperty uchar blue\n";
  if (layout.classification) header += "property uchar classification\n";
  header += "end_header\n";
  return header;
}

template <typename T>
char* Put(char* out, T value) {
  std::memcpy(out, &value, sizeof(T));
  return out + sizeof(T);
}

// Writes record `i` at `out`; returns the end of the record.
char* EncodeRecord(const WriteLayout& layout, const PointCloud& cloud, size_t i, char* out) {
  if (layout.double_positions) {
    const Eigen::Vector3d p = cloud.Point(i);
    out = Put(Put(Put(out, p.x()), p.y()), p.z());
  } else {
    const Eigen::Vector3f& p = cloud.points[i];
    out = Put(Put(Put(out, p.x()), p.y()), p.z());
  }
  if (layout.intensity) out = Put(out, cloud.intensity[i]);
  if (layout.timestamp) out = Put(out, cloud.timestamp_s[i]);
  if (layout.colors) out = Put(Put(Put(out, cloud.colors[i][0]), cloud.colors[i][1]), cloud.colors[i][2]);
  if (layout.classification) out = Put(out, cloud.classification[i]);
  return out;
}

}  // namespace

absl::StatusOr<PointCloud> ReadPly(const std::filesystem::path& path) {
  const std::string path_str = path.string();
  ARMAP_ASSIGN_OR_RETURN(const internal::MappedFile file, internal::MappedFile::Open(path));
  const absl::string_view data = file.data();
  ARMAP_ASSIGN_OR_RETURN(const PlyHeader header, HeaderParser(path_str, data).Parse());
  const auto vertex_it = std::find_if(header.elements.begin(), header.elements.end(),
                                      [](const PlyElement& e) { return e.name == "vertex"; });
  if (vertex_it == header.elements.end()) {
    return absl::InvalidArgumentError(absl::StrCat(path_str, ": bad header: no 'element vertex'"));
  }
  const size_t vertex_index = static_cast<size_t>(vertex_it - header.elements.begin());
  ARMAP_ASSIGN_OR_RETURN(const VertexLayout layout, MakeVertexLayout(path_str, *vertex_it));
  switch (header.format) {
    case PlyFormat::kAscii: return ReadAsciiBody(path_str, header, vertex_index, layout, data);
    case PlyFormat::kBinaryLittleEndian: return ReadBinaryBody<false>(path_str, header, vertex_index, layout, data);
    case PlyFormat::kBinaryBigEndian: return ReadBinaryBody<true>(path_str, header, vertex_index, layout, data);
  }
  return absl::InternalError(absl::StrCat(path_str, ": unhandled PLY format"));
}

absl::Status WritePlyBinary(const std::filesystem::path& path, const PointCloud& cloud) {
  ARMAP_ASSIGN_OR_RETURN(const WriteLayout layout, MakeWriteLayout(path.string(), cloud));
  const size_t n = cloud.size();
  ARMAP_ASSIGN_OR_RETURN(internal::AtomicFileWriter writer, internal::AtomicFileWriter::Open(path));
  ARMAP_RETURN_IF_ERROR(writer.Append(MakeWriteHeader(layout, n)));
  // Records are encoded with memcpy into a reused chunk (~2 MB) and written in
  // bulk: per-value ostream calls are ~20x slower, and one buffer for the whole
  // file would cost a page fault per 4 KiB.
  constexpr size_t kPointsPerChunk = 1 << 16;
  std::string chunk(std::min(n, kPointsPerChunk) * layout.stride, '\0');
  for (size_t begin = 0; begin < n; begin += kPointsPerChunk) {
    const size_t end = std::min(n, begin + kPointsPerChunk);
    char* out = chunk.data();
    for (size_t i = begin; i < end; ++i) out = EncodeRecord(layout, cloud, i, out);
    ARMAP_RETURN_IF_ERROR(writer.Append(absl::string_view(chunk.data(), static_cast<size_t>(out - chunk.data()))));
  }
  return writer.Commit();
}

}  // namespace armap::io
