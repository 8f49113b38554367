#include "core/io/calibration.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/io/io_internal.h"
#include "core/io/text_internal.h"
#include "core/json.h"
#include "core/status.h"

namespace armap::io {
namespace {

// A field of a JSON document, for errors: "FILE: field 'a.param.cam_K' what".
struct Field {
  std::string file;
  std::string path;

  Field Child(absl::string_view key) const {
    return {file, path.empty() ? std::string(key) : absl::StrCat(path, ".", key)};
  }
  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(file, ": field '", path, "' ", what));
  }
  absl::Status Missing() const {
    return absl::InvalidArgumentError(absl::StrCat(file, ": missing field '", path, "'"));
  }
};

std::string StringOrEmpty(const Json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The object holding "param": the root itself, or its one member that has
// "param" (OpenCalib names it after the calibration, so the key varies).
absl::StatusOr<std::pair<Field, const Json*>> FindCalibration(const Json& root, const std::string& file,
                                                              PjlabCalibInfo* info) {
  if (!root.is_object()) return absl::InvalidArgumentError(absl::StrCat(file, ": expected a JSON object"));
  if (root.contains("param")) {
    if (info != nullptr) *info = {"", StringOrEmpty(root, "sensor_name"), StringOrEmpty(root, "target_sensor_name")};
    return std::make_pair(Field{file, ""}, &root);
  }
  std::vector<std::string> names;
  for (const auto& [key, value] : root.items()) {
    if (value.is_object() && value.contains("param")) names.push_back(key);
  }
  if (names.size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        file, names.empty() ? ": missing field '<name>.param' (expected {\"<name>\": {\"param\": {...}}})"
                            : absl::StrCat(": several calibrations (", absl::StrJoin(names, ", "), "); expected one")));
  }
  const Json& calib = root.at(names[0]);
  if (info != nullptr) {
    info->name = names[0];
    info->sensor_name = StringOrEmpty(calib, "sensor_name");
    info->target_sensor_name = StringOrEmpty(calib, "target_sensor_name");
  }
  return std::make_pair(Field{file, names[0]}, &calib);
}

absl::StatusOr<const Json*> GetObject(const Json& parent, const Field& field, absl::string_view key) {
  const Field child = field.Child(key);
  const auto it = parent.find(std::string(key));
  if (it == parent.end()) return child.Missing();
  if (!it->is_object()) return child.Error("is not an object");
  return &*it;
}

absl::StatusOr<int> GetPositiveInt(const Json& parent, const Field& field, absl::string_view key) {
  const Field child = field.Child(key);
  const auto it = parent.find(std::string(key));
  if (it == parent.end()) return child.Missing();
  if (!it->is_number() || it->get<double>() != std::floor(it->get<double>()) || it->get<double>() < 1 ||
      it->get<double>() > 65536) {
    return child.Error(absl::StrCat("must be an integer in 1..65536, got ", it->dump()));
  }
  return static_cast<int>(it->get<double>());
}

// object[key] as a count, or `fallback` when absent.
absl::StatusOr<size_t> GetOptionalSize(const Json& object, const Field& field, const char* key, size_t fallback) {
  const auto it = object.find(key);
  if (it == object.end()) return fallback;
  if (!it->is_number_unsigned()) return field.Child(key).Error(absl::StrCat("must be a count, got ", it->dump()));
  return it->get<size_t>();
}

// An OpenCV matrix {"rows": R, "cols": C, "data": [[...], ...] or [...]}.
// rows/cols are optional; when present they must match the data.
absl::StatusOr<Eigen::MatrixXd> GetMatrix(const Json& parent, const Field& field, absl::string_view key) {
  ARMAP_ASSIGN_OR_RETURN(const Json* object, GetObject(parent, field, key));
  const Field data_field = field.Child(key).Child("data");
  const auto data = object->find("data");
  if (data == object->end()) return data_field.Missing();
  if (!data->is_array() || data->empty()) return data_field.Error("must be a non-empty array");
  const bool nested = data->front().is_array();
  const size_t rows = nested ? data->size() : 1;
  const size_t cols = nested ? data->front().size() : data->size();
  std::vector<double> values;
  for (const Json& row : nested ? *data : Json::array({*data})) {
    if (!row.is_array() || row.size() != cols) return data_field.Error("must be rows of equal length");
    for (const Json& value : row) {
      if (!value.is_number()) return data_field.Error(absl::StrCat("has a non-number entry ", value.dump()));
      values.push_back(value.get<double>());
    }
  }
  for (double value : values) {
    if (!std::isfinite(value)) return data_field.Error("has a non-finite entry");
  }
  ARMAP_ASSIGN_OR_RETURN(const size_t declared_rows, GetOptionalSize(*object, field.Child(key), "rows", rows));
  ARMAP_ASSIGN_OR_RETURN(const size_t declared_cols, GetOptionalSize(*object, field.Child(key), "cols", cols));
  if (declared_rows * declared_cols != values.size() || (nested && (declared_rows != rows || declared_cols != cols))) {
    return data_field.Error(absl::StrCat("has ", nested ? absl::StrCat(rows, "x", cols) : absl::StrCat(values.size()),
                                         " values but rows/cols say ", declared_rows, "x", declared_cols));
  }
  // Flat data takes its shape from rows/cols (a row vector without them).
  Eigen::MatrixXd matrix(declared_rows, declared_cols);
  for (Eigen::Index i = 0; i < matrix.size(); ++i) matrix(i / matrix.cols(), i % matrix.cols()) = values[i];
  return matrix;
}

absl::Status CheckShape(const Eigen::MatrixXd& matrix, const Field& field, int rows, int cols) {
  if (matrix.rows() == rows && matrix.cols() == cols) return absl::OkStatus();
  return field.Error(absl::StrCat("must be ", rows, "x", cols, ", got ", matrix.rows(), "x", matrix.cols()));
}

// fx fy cx cy from an upper-triangular K without skew. Errors without location.
absl::StatusOr<std::vector<double>> PinholeParams(const Eigen::Matrix3d& k) {
  const double tolerance = 1e-9 * std::max(1.0, k.cwiseAbs().maxCoeff());
  const bool pinhole = std::abs(k(0, 1)) <= tolerance && std::abs(k(1, 0)) <= tolerance &&
                       std::abs(k(2, 0)) <= tolerance && std::abs(k(2, 1)) <= tolerance &&
                       std::abs(k(2, 2) - 1.0) <= 1e-9;
  if (!pinhole) {
    return absl::InvalidArgumentError("must be [[fx, 0, cx], [0, fy, cy], [0, 0, 1]] (no skew)");
  }
  return std::vector<double>{k(0, 0), k(1, 1), k(0, 2), k(1, 2)};
}

// k1 k2 p1 p2 from OpenCV's coefficient order k1 k2 p1 p2 [k3 [k4 k5 k6 ...]].
absl::StatusOr<std::vector<double>> DistortionParams(const std::vector<double>& coefficients) {
  if (coefficients.size() < 4) {
    return absl::InvalidArgumentError(absl::StrCat("has ", coefficients.size(), " coefficients; expected k1 k2 p1 p2"));
  }
  for (size_t i = 4; i < coefficients.size(); ++i) {
    if (coefficients[i] != 0.0) {
      return absl::InvalidArgumentError(absl::StrCat("coefficient ", i + 1, " (k3 or higher) = ", coefficients[i],
                                                     " is not supported by the OPENCV model (k1 k2 p1 p2)"));
    }
  }
  return std::vector<double>(coefficients.begin(), coefficients.begin() + 4);
}

absl::StatusOr<Camera> MakeOpenCVCamera(const std::vector<double>& pinhole, const std::vector<double>& distortion,
                                        int width_px, int height_px) {
  std::vector<double> params = pinhole;
  params.insert(params.end(), distortion.begin(), distortion.end());
  return Camera::Create("OPENCV", width_px, height_px, std::move(params));
}

absl::StatusOr<Rigid3d> RigidFromMatrix(const Eigen::Matrix<double, 3, 4>& matrix) {
  ARMAP_ASSIGN_OR_RETURN(const Eigen::Matrix3d rotation,
                         internal::NearestRotation(matrix.leftCols<3>(), kMaxCalibrationOrthonormalityError));
  return Rigid3d::FromMatrix(rotation, matrix.col(3));
}

template <typename T>
absl::StatusOr<T> AtField(absl::StatusOr<T> result, const Field& field) {
  if (result.ok()) return result;
  return field.Error(result.status().message());
}

// calib.txt's "KEY: numbers" lines by key, with their line numbers.
struct CalibTxtLine {
  std::vector<double> values;
  int line_number = 0;
};
using CalibTxtLines = std::map<std::string, CalibTxtLine>;

// Reads the K, D and T lines with their value counts checked (D may carry
// k3 and beyond; DistortionParams checks them).
absl::StatusOr<CalibTxtLines> ReadCalibTxtLines(const std::filesystem::path& path) {
  const std::map<std::string, size_t> expected_counts = {{"K", 9}, {"D", 4}, {"T", 12}};
  ARMAP_ASSIGN_OR_RETURN(std::string data, internal::ReadWholeFile(path));
  internal::LineReader reader(path.string(), std::move(data));
  CalibTxtLines lines;
  absl::string_view line;
  while (reader.Next(&line)) {
    if (internal::IsBlank(line)) continue;
    const size_t colon = line.find(':');
    const std::string key(internal::TrimSpaces(line.substr(0, colon)));
    const auto expected = expected_counts.find(key);
    if (colon == absl::string_view::npos || expected == expected_counts.end()) {
      return reader.Error("expected a line 'K: ...', 'D: ...' or 'T: ...'");
    }
    const auto [it, inserted] = lines.emplace(key, CalibTxtLine{{}, reader.line_number()});
    if (!inserted) {
      return reader.Error(absl::StrCat("second '", key, ":' line (first on line ", it->second.line_number, ")"));
    }
    for (absl::string_view token : internal::SplitWhitespace(line.substr(colon + 1))) {
      double value = 0.0;
      if (!internal::ParseDouble(token, &value) || !std::isfinite(value)) {
        return reader.Error(absl::StrCat("'", key, "' value '", token, "' is not a finite number"));
      }
      it->second.values.push_back(value);
    }
    const size_t count = it->second.values.size();
    if (key == "D" ? count < expected->second : count != expected->second) {
      return reader.Error(absl::StrCat("'", key, "' has ", count, " values, expected ", expected->second));
    }
  }
  for (const auto& [key, count] : expected_counts) {
    if (lines.count(key) == 0) {
      return absl::InvalidArgumentError(absl::StrCat(path.string(), ": missing '", key, ":' line"));
    }
  }
  return lines;
}

}  // namespace

absl::StatusOr<Camera> ReadPjlabCameraIntrinsics(const std::filesystem::path& path, PjlabCalibInfo* info) {
  ARMAP_ASSIGN_OR_RETURN(const Json root, ReadJsonFile(path));
  ARMAP_ASSIGN_OR_RETURN(const auto calib, FindCalibration(root, path.string(), info));
  ARMAP_ASSIGN_OR_RETURN(const Json* param, GetObject(*calib.second, calib.first, "param"));
  const Field param_field = calib.first.Child("param");
  ARMAP_ASSIGN_OR_RETURN(const int width_px, GetPositiveInt(*param, param_field, "img_dist_w"));
  ARMAP_ASSIGN_OR_RETURN(const int height_px, GetPositiveInt(*param, param_field, "img_dist_h"));
  ARMAP_ASSIGN_OR_RETURN(const Eigen::MatrixXd k, GetMatrix(*param, param_field, "cam_K"));
  const Field k_field = param_field.Child("cam_K").Child("data");
  ARMAP_RETURN_IF_ERROR(CheckShape(k, k_field, 3, 3));
  ARMAP_ASSIGN_OR_RETURN(const std::vector<double> pinhole, AtField(PinholeParams(k), k_field));
  ARMAP_ASSIGN_OR_RETURN(const Eigen::MatrixXd dist, GetMatrix(*param, param_field, "cam_dist"));
  const Field dist_field = param_field.Child("cam_dist").Child("data");
  if (dist.rows() != 1 && dist.cols() != 1) return dist_field.Error("must be a row or a column");
  ARMAP_ASSIGN_OR_RETURN(
      const std::vector<double> distortion,
      AtField(DistortionParams(std::vector<double>(dist.data(), dist.data() + dist.size())), dist_field));
  return AtField(MakeOpenCVCamera(pinhole, distortion, width_px, height_px), param_field);
}

absl::StatusOr<Rigid3d> ReadPjlabExtrinsic(const std::filesystem::path& path, PjlabCalibInfo* info) {
  ARMAP_ASSIGN_OR_RETURN(const Json root, ReadJsonFile(path));
  ARMAP_ASSIGN_OR_RETURN(const auto calib, FindCalibration(root, path.string(), info));
  ARMAP_ASSIGN_OR_RETURN(const Json* param, GetObject(*calib.second, calib.first, "param"));
  const Field param_field = calib.first.Child("param");
  ARMAP_ASSIGN_OR_RETURN(const Eigen::MatrixXd matrix, GetMatrix(*param, param_field, "sensor_calib"));
  const Field data_field = param_field.Child("sensor_calib").Child("data");
  ARMAP_RETURN_IF_ERROR(CheckShape(matrix, data_field, 4, 4));
  if (!matrix.row(3).isApprox(Eigen::RowVector4d(0, 0, 0, 1), 1e-9)) {
    return data_field.Error("row 4 must be [0, 0, 0, 1]");
  }
  return AtField(RigidFromMatrix(matrix.topRows<3>()), data_field);
}

absl::StatusOr<PjlabCalibTxt> ReadPjlabCalibTxt(const std::filesystem::path& path, int image_width_px,
                                                int image_height_px) {
  ARMAP_ASSIGN_OR_RETURN(CalibTxtLines lines, ReadCalibTxtLines(path));
  const auto at_line = [&](const std::string& key, const absl::Status& status) {
    return absl::InvalidArgumentError(
        absl::StrCat(path.string(), ":", lines[key].line_number, ": '", key, "' ", status.message()));
  };
  const Eigen::Matrix3d k = Eigen::Map<const Eigen::Matrix<double, 3, 3, Eigen::RowMajor>>(lines["K"].values.data());
  const absl::StatusOr<std::vector<double>> pinhole = PinholeParams(k);
  if (!pinhole.ok()) return at_line("K", pinhole.status());
  const absl::StatusOr<std::vector<double>> distortion = DistortionParams(lines["D"].values);
  if (!distortion.ok()) return at_line("D", distortion.status());
  const Eigen::Matrix<double, 3, 4> t =
      Eigen::Map<const Eigen::Matrix<double, 3, 4, Eigen::RowMajor>>(lines["T"].values.data());
  const absl::StatusOr<Rigid3d> camera_from_lidar = RigidFromMatrix(t);
  if (!camera_from_lidar.ok()) return at_line("T", camera_from_lidar.status());
  absl::StatusOr<Camera> camera = MakeOpenCVCamera(*pinhole, *distortion, image_width_px, image_height_px);
  if (!camera.ok()) return Annotate(camera.status(), path.string());
  return PjlabCalibTxt{*std::move(camera), *camera_from_lidar};
}

}  // namespace armap::io
