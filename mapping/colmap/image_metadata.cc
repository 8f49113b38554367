#include "mapping/colmap/image_metadata.h"

#include <libexif/exif-data.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace armap::mapping {
namespace {

uint16_t BigEndian16(const unsigned char* b) { return static_cast<uint16_t>((b[0] << 8) | b[1]); }
uint32_t BigEndian32(const unsigned char* b) {
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}

// JPEG: walk the marker segments to the first start-of-frame (SOFn).
bool JpegSize(std::ifstream& in, int* width, int* height) {
  unsigned char b[8];
  in.seekg(2);  // past SOI
  while (in.read(reinterpret_cast<char*>(b), 2)) {
    if (b[0] != 0xFF) return false;
    unsigned char marker = b[1];
    while (marker == 0xFF) {  // fill bytes
      if (!in.read(reinterpret_cast<char*>(&marker), 1)) return false;
    }
    if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;  // no length
    if (marker == 0xD9 || marker == 0xDA) return false;                                    // EOI / SOS before any SOF
    if (!in.read(reinterpret_cast<char*>(b), 2)) return false;
    const uint16_t length = BigEndian16(b);
    if (length < 2) return false;
    const bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof) {
      if (length < 7 || !in.read(reinterpret_cast<char*>(b), 5)) return false;
      *height = BigEndian16(b + 1);
      *width = BigEndian16(b + 3);
      return *width > 0 && *height > 0;
    }
    in.seekg(length - 2, std::ios::cur);
  }
  return false;
}

bool PngSize(std::ifstream& in, int* width, int* height) {
  unsigned char b[16];
  in.seekg(8);  // past the signature
  if (!in.read(reinterpret_cast<char*>(b), 16)) return false;
  if (b[4] != 'I' || b[5] != 'H' || b[6] != 'D' || b[7] != 'R') return false;
  *width = static_cast<int>(BigEndian32(b + 8));
  *height = static_cast<int>(BigEndian32(b + 12));
  return *width > 0 && *height > 0;
}

// Degrees from an EXIF GPS coordinate: 3 rationals (degrees, minutes,
// seconds).
bool Dms(ExifEntry* entry, ExifByteOrder order, double* degrees) {
  if (entry == nullptr || entry->format != EXIF_FORMAT_RATIONAL || entry->components != 3 || entry->data == nullptr ||
      entry->size < 24) {
    return false;
  }
  double dms[3];
  for (int i = 0; i < 3; ++i) {
    const ExifRational r = exif_get_rational(entry->data + 8 * i, order);
    if (r.denominator == 0) return false;
    dms[i] = static_cast<double>(r.numerator) / r.denominator;
  }
  *degrees = dms[0] + dms[1] / 60.0 + dms[2] / 3600.0;
  return std::isfinite(*degrees);
}

char RefLetter(ExifEntry* entry) {
  if (entry == nullptr || entry->data == nullptr || entry->size < 1) return 0;
  return static_cast<char>(absl::ascii_toupper(entry->data[0]));
}

std::string AsciiTag(ExifContent* ifd, ExifTag tag) {
  ExifEntry* entry = exif_content_get_entry(ifd, tag);
  if (entry == nullptr || entry->format != EXIF_FORMAT_ASCII || entry->data == nullptr) return "";
  std::string value(reinterpret_cast<const char*>(entry->data), entry->size);
  value = value.substr(0, value.find('\0'));
  return std::string(absl::StripAsciiWhitespace(value));
}

void ReadExif(const std::filesystem::path& path, ImageMetadata* out) {
  ExifData* data = exif_data_new_from_file(path.c_str());
  if (data == nullptr) return;
  const ExifByteOrder order = exif_data_get_byte_order(data);
  out->make = AsciiTag(data->ifd[EXIF_IFD_0], EXIF_TAG_MAKE);
  out->model = AsciiTag(data->ifd[EXIF_IFD_0], EXIF_TAG_MODEL);
  if (ExifEntry* focal = exif_content_get_entry(data->ifd[EXIF_IFD_EXIF], EXIF_TAG_FOCAL_LENGTH);
      focal != nullptr && focal->format == EXIF_FORMAT_RATIONAL && focal->data != nullptr && focal->size >= 8) {
    const ExifRational r = exif_get_rational(focal->data, order);
    if (r.denominator != 0) out->focal_length_mm = static_cast<double>(r.numerator) / r.denominator;
  }

  ExifContent* gps = data->ifd[EXIF_IFD_GPS];
  double lat = 0, lon = 0;
  const char lat_ref = RefLetter(exif_content_get_entry(gps, static_cast<ExifTag>(EXIF_TAG_GPS_LATITUDE_REF)));
  const char lon_ref = RefLetter(exif_content_get_entry(gps, static_cast<ExifTag>(EXIF_TAG_GPS_LONGITUDE_REF)));
  if (Dms(exif_content_get_entry(gps, static_cast<ExifTag>(EXIF_TAG_GPS_LATITUDE)), order, &lat) &&
      Dms(exif_content_get_entry(gps, static_cast<ExifTag>(EXIF_TAG_GPS_LONGITUDE)), order, &lon) &&
      (lat_ref == 'N' || lat_ref == 'S') && (lon_ref == 'E' || lon_ref == 'W')) {
    if (lat_ref == 'S') lat = -lat;
    if (lon_ref == 'W') lon = -lon;
    if (std::abs(lat) <= 90 && std::abs(lon) <= 180 && !(lat == 0 && lon == 0)) {
      GeoPoint point;
      point.lat_deg = lat;
      point.lon_deg = lon;
      ExifEntry* alt = exif_content_get_entry(gps, static_cast<ExifTag>(EXIF_TAG_GPS_ALTITUDE));
      if (alt != nullptr && alt->format == EXIF_FORMAT_RATIONAL && alt->data != nullptr && alt->size >= 8) {
        const ExifRational r = exif_get_rational(alt->data, order);
        if (r.denominator != 0) {
          point.alt_m = static_cast<double>(r.numerator) / r.denominator;
          // GPSAltitudeRef: 0 above sea level, 1 below.
          ExifEntry* ref = exif_content_get_entry(gps, static_cast<ExifTag>(EXIF_TAG_GPS_ALTITUDE_REF));
          if (ref != nullptr && ref->data != nullptr && ref->size >= 1 && ref->data[0] == 1) point.alt_m = -point.alt_m;
          out->gps_has_altitude = true;
        }
      }
      out->gps = point;
    }
  }
  exif_data_unref(data);
}

}  // namespace

absl::StatusOr<ImageMetadata> ReadImageMetadata(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return absl::NotFoundError(absl::StrCat(path.string(), ": image not found"));
  }
  ImageMetadata out;
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) return absl::PermissionDeniedError(absl::StrCat(path.string(), ": cannot open"));
    std::array<unsigned char, 8> magic{};
    in.read(reinterpret_cast<char*>(magic.data()), magic.size());
    if (in.gcount() >= 2) {
      in.clear();
      if (magic[0] == 0xFF && magic[1] == 0xD8) {
        if (!JpegSize(in, &out.width, &out.height)) out.width = out.height = 0;
      } else if (magic[0] == 0x89 && magic[1] == 'P' && magic[2] == 'N' && magic[3] == 'G') {
        if (!PngSize(in, &out.width, &out.height)) out.width = out.height = 0;
      }
    }
  }
  ReadExif(path, &out);
  return out;
}

}  // namespace armap::mapping
