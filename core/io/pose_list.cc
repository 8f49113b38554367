#include "core/io/pose_list.h"

#include <cmath>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/io/io_internal.h"
#include "core/io/text_internal.h"
#include "core/status.h"

namespace armap::io {
namespace {

constexpr size_t kNumFields = 13;
constexpr const char* kFieldNames[kNumFields] = {"name", "r11", "r12", "r13", "tx",  "r21", "r22",
                                                 "r23",  "ty",  "r31", "r32", "r33", "tz"};

absl::StatusOr<NamedPose> ParsePoseLine(const internal::LineReader& lines, absl::string_view line) {
  const std::vector<absl::string_view> tokens = internal::SplitWhitespace(line);
  if (tokens.size() != kNumFields) {
    return lines.Error(absl::StrCat(
        "expected ", kNumFields, " fields (name r11 r12 r13 tx r21 r22 r23 ty r31 r32 r33 tz), got ", tokens.size()));
  }
  Eigen::Matrix<double, 3, 4> matrix;  // row-major in the file
  for (size_t i = 1; i < kNumFields; ++i) {
    double value = 0.0;
    if (!internal::ParseDouble(tokens[i], &value) || !std::isfinite(value)) {
      return lines.Error(absl::StrCat("field '", kFieldNames[i], "' is not a finite number: '", tokens[i], "'"));
    }
    matrix((i - 1) / 4, (i - 1) % 4) = value;
  }
  absl::StatusOr<Eigen::Matrix3d> rotation =
      internal::NearestRotation(matrix.leftCols<3>(), kMaxPoseRotationOrthonormalityError);
  if (!rotation.ok()) return lines.Error(rotation.status().message());
  return NamedPose{std::string(tokens[0]), Rigid3d::FromMatrix(*rotation, matrix.col(3))};
}

}  // namespace

absl::StatusOr<std::vector<NamedPose>> ReadPoseMatrixList(const std::filesystem::path& path) {
  ARMAP_ASSIGN_OR_RETURN(std::string data, internal::ReadWholeFile(path));
  internal::LineReader lines(path.string(), std::move(data));
  std::vector<NamedPose> poses;
  absl::string_view line;
  while (lines.Next(&line)) {
    const absl::string_view trimmed = internal::TrimSpaces(line);
    if (trimmed.empty() || trimmed.front() == '#') continue;
    ARMAP_ASSIGN_OR_RETURN(NamedPose pose, ParsePoseLine(lines, line));
    poses.push_back(std::move(pose));
  }
  if (poses.empty()) return absl::InvalidArgumentError(absl::StrCat(path.string(), ": no poses"));
  return poses;
}

}  // namespace armap::io
