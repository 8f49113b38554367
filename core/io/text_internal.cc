#include "core/io/text_internal.h"

#include <cmath>

#include <Eigen/LU>
#include <Eigen/SVD>

#include "absl/strings/str_cat.h"

namespace armap::io::internal {

bool LineReader::Next(absl::string_view* line) {
  if (pos_ >= data_.size()) return false;
  size_t end = data_.find('\n', pos_);
  if (end == std::string::npos) end = data_.size();
  *line = absl::string_view(data_).substr(pos_, end - pos_);
  if (!line->empty() && line->back() == '\r') line->remove_suffix(1);
  pos_ = end + 1;
  ++line_number_;
  return true;
}

absl::Status LineReader::Error(absl::string_view what) const {
  return absl::InvalidArgumentError(absl::StrCat(where_, ":", line_number_, ": ", what));
}

bool IsBlank(absl::string_view line) { return TrimSpaces(line).empty(); }

absl::string_view TrimSpaces(absl::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

double OrthonormalityError(const Eigen::Matrix3d& matrix) {
  return (matrix.transpose() * matrix - Eigen::Matrix3d::Identity()).norm();
}

absl::StatusOr<Eigen::Matrix3d> NearestRotation(const Eigen::Matrix3d& matrix, double max_orthonormality_error) {
  if (!matrix.allFinite()) return absl::InvalidArgumentError("rotation matrix has a non-finite entry");
  const double error = OrthonormalityError(matrix);
  if (error > max_orthonormality_error) {
    return absl::InvalidArgumentError(absl::StrCat("rotation matrix is not orthonormal (||R^T R - I|| = ", error, " > ",
                                                   max_orthonormality_error, ")"));
  }
  const double det = matrix.determinant();
  if (!(det > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("rotation matrix has determinant ", det, " (a reflection, not a rotation)"));
  }
  // det(M) = det(U) * prod(singular values) * det(V^T) with singular values
  // >= 0, so det(M) > 0 makes U V^T a proper rotation (no sign fix needed).
  const Eigen::JacobiSVD<Eigen::Matrix3d> svd(matrix, Eigen::ComputeFullU | Eigen::ComputeFullV);
  return Eigen::Matrix3d(svd.matrixU() * svd.matrixV().transpose());
}

}  // namespace armap::io::internal
