#include "core/io/las.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/io/io_internal.h"
#include "core/status.h"

namespace armap::io {
namespace {

using internal::LoadLittleEndian;

// Byte offsets in the public header block (LAS 1.4 R15, table 3). All fields
// are little endian.
constexpr size_t kHeaderSizeFieldOffset = 94;    // uint16
constexpr size_t kOffsetToPointDataOffset = 96;  // uint32
constexpr size_t kPointFormatOffset = 104;       // uint8
constexpr size_t kRecordLengthOffset = 105;      // uint16
constexpr size_t kLegacyPointCountOffset = 107;  // uint32
constexpr size_t kScaleOffset = 131;             // 3 x double
constexpr size_t kOffsetOffset = 155;            // 3 x double
constexpr size_t kBoundsOffset = 179;            // max x, min x, max y, min y, max z, min z (double)
constexpr size_t kPointCount64Offset = 247;      // uint64, LAS 1.4 only

// Header size each version requires: 1.0-1.2 end after the bounds; 1.3 adds
// the waveform offset; 1.4 adds EVLR and 64-bit count fields.
size_t RequiredHeaderSize(int version_minor) {
  if (version_minor <= 2) return 227;
  if (version_minor == 3) return 235;
  return 375;
}

// Where the attributes we keep sit in a point record, per point format.
struct PointFormatLayout {
  uint16_t min_record_length;
  int gps_time_offset;        // -1: no GPS time
  int rgb_offset;             // -1: no colour
  int classification_offset;  // byte holding the class
  bool full_byte_class;       // formats 6-10: 8-bit class; 0-5: low 5 bits (the rest are flags)
};

constexpr std::array<PointFormatLayout, 11> kPointFormats = {{
    {20, -1, -1, 15, false},  // 0: core
    {28, 20, -1, 15, false},  // 1: + GPS time
    {26, -1, 20, 15, false},  // 2: + RGB
    {34, 20, 28, 15, false},  // 3: + GPS time + RGB
    {57, 20, -1, 15, false},  // 4: 1 + waveform packet
    {63, 20, 28, 15, false},  // 5: 3 + waveform packet
    {30, 22, -1, 16, true},   // 6: 1.4 core (GPS time always)
    {36, 22, 30, 16, true},   // 7: 6 + RGB
    {38, 22, 30, 16, true},   // 8: 7 + NIR
    {59, 22, -1, 16, true},   // 9: 6 + waveform packet
    {67, 22, 30, 16, true},   // 10: 8 + waveform packet
}};

constexpr absl::string_view kLazMessage =
    "compressed LAS (LAZ) is not supported; decompress it first (e.g. with laszip/PDAL)";

absl::Status Invalid(const std::string& path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

Eigen::Vector3d LoadVector3d(const char* p) {
  return {LoadLittleEndian<double>(p), LoadLittleEndian<double>(p + 8), LoadLittleEndian<double>(p + 16)};
}

// Parses and validates the public header block of `data`.
absl::StatusOr<LasHeaderInfo> ParseHeader(const std::string& path, absl::string_view data, size_t* offset_to_points) {
  if (data.size() < 4 || std::memcmp(data.data(), "LASF", 4) != 0) {
    return Invalid(path, "not a LAS file (no 'LASF' signature)");
  }
  if (data.size() < RequiredHeaderSize(2)) {
    return Invalid(path, absl::StrCat("truncated: ", data.size(), " bytes, shorter than the 227-byte LAS header"));
  }
  const char* h = data.data();
  LasHeaderInfo info;
  info.version_major = static_cast<uint8_t>(h[24]);
  info.version_minor = static_cast<uint8_t>(h[25]);
  if (info.version_major != 1 || info.version_minor > 4) {
    return Invalid(path, absl::StrCat("unsupported LAS version ", info.version_major, ".", info.version_minor,
                                      " (supported: 1.0-1.4)"));
  }
  const size_t header_size = LoadLittleEndian<uint16_t>(h + kHeaderSizeFieldOffset);
  const size_t required = RequiredHeaderSize(info.version_minor);
  if (header_size < required) {
    return Invalid(path, absl::StrCat("header size ", header_size, " is smaller than the ", required, " bytes LAS 1.",
                                      info.version_minor, " requires"));
  }
  if (header_size > data.size()) {
    return Invalid(path, absl::StrCat("truncated: header size ", header_size, " exceeds the file size ", data.size()));
  }
  const uint8_t format_id = static_cast<uint8_t>(h[kPointFormatOffset]);
  // Bits 7 and 6 of the format id are reserved for compression; LASzip sets bit 7.
  if ((format_id & 0xC0) != 0) return Invalid(path, kLazMessage);
  info.point_format = format_id & 0x3F;
  if (info.point_format >= static_cast<int>(kPointFormats.size())) {
    return Invalid(path,
                   absl::StrCat("unsupported point data record format ", info.point_format, " (supported: 0-10)"));
  }
  info.record_length = LoadLittleEndian<uint16_t>(h + kRecordLengthOffset);
  const uint16_t min_length = kPointFormats[info.point_format].min_record_length;
  if (info.record_length < min_length) {
    return Invalid(path, absl::StrCat("point record length ", info.record_length, " is smaller than the ", min_length,
                                      " bytes of point format ", info.point_format));
  }
  *offset_to_points = LoadLittleEndian<uint32_t>(h + kOffsetToPointDataOffset);
  if (*offset_to_points < header_size) {
    return Invalid(path, absl::StrCat("offset to point data ", *offset_to_points,
                                      " lies inside the header (header size ", header_size, ")"));
  }
  if (*offset_to_points > data.size()) {
    return Invalid(path, absl::StrCat("truncated: offset to point data ", *offset_to_points,
                                      " is beyond the end of the file (", data.size(), " bytes)"));
  }
  info.num_points = LoadLittleEndian<uint32_t>(h + kLegacyPointCountOffset);
  if (info.version_minor >= 4) {
    // LAS 1.4 writers set the legacy count to 0 for formats 6-10 or more than
    // 2^32 points; the 64-bit count is authoritative when present.
    const uint64_t count64 = LoadLittleEndian<uint64_t>(h + kPointCount64Offset);
    if (count64 != 0) info.num_points = count64;
  }
  info.scale = LoadVector3d(h + kScaleOffset);
  info.offset = LoadVector3d(h + kOffsetOffset);
  const char* bounds = h + kBoundsOffset;
  info.max = {LoadLittleEndian<double>(bounds), LoadLittleEndian<double>(bounds + 16),
              LoadLittleEndian<double>(bounds + 32)};
  info.min = {LoadLittleEndian<double>(bounds + 8), LoadLittleEndian<double>(bounds + 24),
              LoadLittleEndian<double>(bounds + 40)};
  if (!info.scale.allFinite() || (info.scale.array() == 0).any() || !info.offset.allFinite()) {
    return Invalid(path, "scale factors must be finite and non-zero and offsets finite");
  }
  return info;
}

// Decodes `header.num_points` records starting at `records`.
PointCloud DecodePoints(const LasHeaderInfo& header, const char* records) {
  const PointFormatLayout& format = kPointFormats[header.point_format];
  const size_t n = header.num_points;
  const size_t stride = header.record_length;
  auto position = [&](const char* record) {
    const Eigen::Vector3d integer(LoadLittleEndian<int32_t>(record), LoadLittleEndian<int32_t>(record + 4),
                                  LoadLittleEndian<int32_t>(record + 8));
    return Eigen::Vector3d(integer.cwiseProduct(header.scale) + header.offset);
  };
  auto rgb16 = [&](const char* record, int channel) {
    return LoadLittleEndian<uint16_t>(record + format.rgb_offset + 2 * channel);
  };

  // Pass 1: bounds (for the origin) and whether colours use 16 bits.
  Eigen::AlignedBox3d bounds;
  uint16_t max_rgb = 0;
  for (size_t i = 0; i < n; ++i) {
    const char* record = records + i * stride;
    bounds.extend(position(record));
    if (format.rgb_offset >= 0) max_rgb = std::max({max_rgb, rgb16(record, 0), rgb16(record, 1), rgb16(record, 2)});
  }
  const int rgb_shift = max_rgb > 255 ? 8 : 0;

  PointCloud cloud;
  cloud.origin = internal::ChooseOrigin(bounds);
  cloud.points.resize(n);
  cloud.intensity.resize(n);
  cloud.classification.resize(n);
  if (format.gps_time_offset >= 0) cloud.timestamp_s.resize(n);
  if (format.rgb_offset >= 0) cloud.colors.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const char* record = records + i * stride;
    cloud.points[i] = (position(record) - cloud.origin).cast<float>();
    cloud.intensity[i] = LoadLittleEndian<uint16_t>(record + 12);
    const auto class_byte = static_cast<uint8_t>(record[format.classification_offset]);
    cloud.classification[i] = format.full_byte_class ? class_byte : (class_byte & 0x1F);
    if (format.gps_time_offset >= 0) {
      cloud.timestamp_s[i] = LoadLittleEndian<double>(record + format.gps_time_offset);
    }
    if (format.rgb_offset >= 0) {
      cloud.colors[i] = {static_cast<uint8_t>(rgb16(record, 0) >> rgb_shift),
                         static_cast<uint8_t>(rgb16(record, 1) >> rgb_shift),
                         static_cast<uint8_t>(rgb16(record, 2) >> rgb_shift)};
    }
  }
  return cloud;
}

bool HasLazExtension(const std::filesystem::path& path) {
  return internal::ToLower(path.extension().string()) == ".laz";
}

}  // namespace

absl::StatusOr<PointCloud> ReadLas(const std::filesystem::path& path, LasHeaderInfo* header_info) {
  const std::string path_str = path.string();
  if (HasLazExtension(path)) return Invalid(path_str, kLazMessage);
  ARMAP_ASSIGN_OR_RETURN(const internal::MappedFile file, internal::MappedFile::Open(path));
  const absl::string_view data = file.data();
  size_t offset_to_points = 0;
  ARMAP_ASSIGN_OR_RETURN(const LasHeaderInfo header, ParseHeader(path_str, data, &offset_to_points));
  const uint64_t available = (data.size() - offset_to_points) / header.record_length;
  if (available < header.num_points) {
    return Invalid(path_str, absl::StrCat("truncated: expected ", header.num_points, " points, got ", available));
  }
  if (header_info != nullptr) *header_info = header;
  return DecodePoints(header, data.data() + offset_to_points);
}

}  // namespace armap::io
