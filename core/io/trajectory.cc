#include "core/io/trajectory.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <unordered_map>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/files.h"
#include "core/io/io_internal.h"
#include "core/io/text_internal.h"
#include "core/status.h"

namespace armap::io {
namespace {

using internal::LineReader;

constexpr size_t kNumColumns = 9;
constexpr const char* kColumnNames[kNumColumns] = {"name", "timestamp_s", "x", "y", "z", "qw", "qx", "qy", "qz"};
constexpr char kUtf8ByteOrderMark[] = "\xEF\xBB\xBF";

// printf("%.*f"): StrCat's 6 significant digits would print a Unix time as 1.7e+09.
std::string Fixed(double value, int decimals) {
  std::string out(32, '\0');
  int size = std::snprintf(out.data(), out.size(), "%.*f", decimals, value);
  if (size >= static_cast<int>(out.size())) {  // huge values: print again into a buffer that fits
    out.resize(static_cast<size_t>(size) + 1);
    size = std::snprintf(out.data(), out.size(), "%.*f", decimals, value);
  }
  out.resize(static_cast<size_t>(std::max(size, 0)));
  return out;
}

std::string QuotedList(const std::vector<absl::string_view>& items) {
  return absl::StrJoin(items, ", ",
                       [](std::string* out, absl::string_view item) { absl::StrAppend(out, "'", item, "'"); });
}

absl::Status CheckHeader(const LineReader& lines, absl::string_view header) {
  const std::vector<absl::string_view> columns = absl::StrSplit(header, ',');
  const std::string expected = absl::StrCat(" (the header must be exactly '", kTrajectoryCsvHeader, "')");
  for (size_t i = 0; i < std::min(columns.size(), kNumColumns); ++i) {
    if (columns[i] != kColumnNames[i]) {
      return lines.Error(absl::StrCat("bad header: column ", i + 1, " is '", columns[i], "', expected '",
                                      kColumnNames[i], "'", expected));
    }
  }
  if (columns.size() < kNumColumns) {
    const std::vector<absl::string_view> missing(std::begin(kColumnNames) + columns.size(), std::end(kColumnNames));
    return lines.Error(absl::StrCat("bad header: missing column(s) ", QuotedList(missing), expected));
  }
  if (columns.size() > kNumColumns) {
    const std::vector<absl::string_view> extra(columns.begin() + kNumColumns, columns.end());
    return lines.Error(absl::StrCat("bad header: unexpected extra column(s) ", QuotedList(extra), expected));
  }
  return absl::OkStatus();
}

// Parses one data row; checks that depend on other rows are the caller's.
absl::StatusOr<PoseStamped> ParseRow(const LineReader& lines, absl::string_view line,
                                     const TrajectoryReadOptions& options) {
  const std::vector<absl::string_view> fields = absl::StrSplit(line, ',');
  if (fields.size() != kNumColumns) {
    return lines.Error(
        absl::StrCat("expected ", kNumColumns, " columns (", kTrajectoryCsvHeader, "), got ", fields.size()));
  }
  PoseStamped pose;
  pose.name = std::string(internal::TrimSpaces(fields[0]));
  if (pose.name.empty()) return lines.Error("column 'name' is empty");
  double values[kNumColumns - 1];
  for (size_t i = 1; i < kNumColumns; ++i) {
    const absl::string_view token = internal::TrimSpaces(fields[i]);
    double& value = values[i - 1];
    if (!internal::ParseDouble(token, &value)) {
      return lines.Error(absl::StrCat("column '", kColumnNames[i], "' is not a number: '", token, "'"));
    }
    if (!std::isfinite(value)) {
      return lines.Error(absl::StrCat("column '", kColumnNames[i], "' is not finite: '", token, "'"));
    }
  }
  const Eigen::Quaterniond rotation(values[4], values[5], values[6], values[7]);
  const double norm = rotation.norm();
  if (!(std::abs(norm - 1.0) <= options.max_quaternion_norm_error)) {
    return lines.Error(absl::StrCat("non-unit quaternion (norm ", norm,
                                    "; accepted |norm - 1| <= ", options.max_quaternion_norm_error, ")"));
  }
  pose.timestamp_s = values[0];
  pose.world_from_rig = Rigid3d(rotation, Eigen::Vector3d(values[1], values[2], values[3]));  // normalises
  return pose;
}

absl::StatusOr<std::vector<PoseStamped>> ParseTrajectory(std::string where, std::string data,
                                                         const TrajectoryReadOptions& options) {
  ARMAP_RETURN_IF_ERROR(Annotate(options.Validate(), where));
  if (absl::StartsWith(data, kUtf8ByteOrderMark)) data.erase(0, sizeof(kUtf8ByteOrderMark) - 1);
  LineReader lines(std::move(where), std::move(data));
  absl::string_view line;
  bool has_header = false;
  while (!has_header && lines.Next(&line)) has_header = !internal::IsBlank(line);
  if (!has_header) {
    return absl::InvalidArgumentError(
        absl::StrCat(lines.where(), ": empty file (expected the header '", kTrajectoryCsvHeader, "')"));
  }
  ARMAP_RETURN_IF_ERROR(CheckHeader(lines, line));

  std::vector<PoseStamped> poses;
  std::unordered_map<std::string, int> line_by_name;
  int previous_line = 0;
  while (lines.Next(&line)) {
    if (internal::IsBlank(line)) continue;
    ARMAP_ASSIGN_OR_RETURN(PoseStamped pose, ParseRow(lines, line, options));
    if (!poses.empty() && !(pose.timestamp_s > poses.back().timestamp_s)) {
      return lines.Error(absl::StrCat("timestamps out of order: ", Fixed(pose.timestamp_s, 6), " s is not after ",
                                      Fixed(poses.back().timestamp_s, 6), " s on line ", previous_line));
    }
    const auto [it, inserted] = line_by_name.emplace(pose.name, lines.line_number());
    if (!inserted) {
      return lines.Error(absl::StrCat("duplicate name '", pose.name, "' (first on line ", it->second, ")"));
    }
    previous_line = lines.line_number();
    poses.push_back(std::move(pose));
  }
  if (poses.empty()) return absl::InvalidArgumentError(absl::StrCat(lines.where(), ": no poses after the header"));
  return poses;
}

absl::Status CheckWritableName(const std::string& name, size_t index) {
  const auto error = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("poses[", index, "] name '", name, "' ", why));
  };
  if (name.empty()) return error("is empty");
  if (name.find_first_of(",\n\r") != std::string::npos) return error("contains ',' or a line break");
  if (internal::TrimSpaces(name).size() != name.size()) return error("starts or ends with whitespace");
  return absl::OkStatus();
}

std::string FormatRow(const PoseStamped& pose) {
  const Eigen::Quaterniond& q = pose.world_from_rig.rotation;
  const Eigen::Vector3d& t = pose.world_from_rig.translation;
  return absl::StrCat(pose.name, ",", Fixed(pose.timestamp_s, 6), ",", Fixed(t.x(), 6), ",", Fixed(t.y(), 6), ",",
                      Fixed(t.z(), 6), ",", Fixed(q.w(), 9), ",", Fixed(q.x(), 9), ",", Fixed(q.y(), 9), ",",
                      Fixed(q.z(), 9), "\n");
}

}  // namespace

absl::Status TrajectoryReadOptions::Validate() const {
  if (!(max_quaternion_norm_error >= 0.0 && max_quaternion_norm_error < 1.0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "TrajectoryReadOptions::max_quaternion_norm_error = ", max_quaternion_norm_error, "; must be in [0, 1)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<PoseStamped>> ReadTrajectoryCsv(const std::filesystem::path& path,
                                                           const TrajectoryReadOptions& options) {
  ARMAP_ASSIGN_OR_RETURN(std::string data, internal::ReadWholeFile(path));
  return ParseTrajectory(path.string(), std::move(data), options);
}

absl::Status WriteTrajectoryCsv(const std::filesystem::path& path, const std::vector<PoseStamped>& poses) {
  std::string text = absl::StrCat(kTrajectoryCsvHeader, "\n");
  for (size_t i = 0; i < poses.size(); ++i) {
    ARMAP_RETURN_IF_ERROR(Annotate(CheckWritableName(poses[i].name, i), path.string()));
    text += FormatRow(poses[i]);
  }
  // Parse the text before writing it: the writer must never produce a file
  // its reader rejects (e.g. two timestamps equal once printed with %.6f).
  const absl::StatusOr<std::vector<PoseStamped>> reread = ParseTrajectory(path.string(), text, {});
  if (!reread.ok()) {
    return Annotate(reread.status(), "refusing to write an invalid trajectory (output line N holds poses[N-2])");
  }
  return WriteFileAtomic(path, text);
}

}  // namespace armap::io
