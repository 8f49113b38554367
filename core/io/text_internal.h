// Line-oriented text parsing shared by the trajectory, pose-list and
// calibration readers in core/io. Not a public API.
#pragma once

#include <string>
#include <utility>

#include <Eigen/Core>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace armap::io::internal {

// Iterates the lines of an in-memory file with 1-based line numbers, so
// errors read "path:line: what" like a compiler's.
class LineReader {
 public:
  LineReader(std::string where, std::string data) : where_(std::move(where)), data_(std::move(data)) {}

  // Next line without its "\n" or "\r\n"; false at the end of the data. A
  // final line ending does not start another (empty) line.
  bool Next(absl::string_view* line);
  int line_number() const { return line_number_; }
  const std::string& where() const { return where_; }

  // InvalidArgument "where:line: what" for the current line.
  absl::Status Error(absl::string_view what) const;

 private:
  std::string where_;
  std::string data_;
  size_t pos_ = 0;
  int line_number_ = 0;
};

// True for lines holding only spaces and tabs.
bool IsBlank(absl::string_view line);

// Strips leading and trailing spaces and tabs.
absl::string_view TrimSpaces(absl::string_view s);

// ||R^T R - I||_F: 0 for a rotation, ~1e-6 for the 9-digit matrices in the
// PJLab pose files, ~1 for a matrix with a swapped or mistyped entry.
double OrthonormalityError(const Eigen::Matrix3d& matrix);

// The rotation nearest to `matrix` in the Frobenius norm (U V^T of its SVD).
// Files print rotation matrices with a few digits, so they are only
// approximately orthonormal; converting such a matrix straight to a
// quaternion would silently absorb the error. Rejects (InvalidArgument,
// without location: callers prefix it) non-finite matrices, matrices whose
// OrthonormalityError exceeds `max_orthonormality_error`, and reflections
// (det < 0), which no rotation approximates.
absl::StatusOr<Eigen::Matrix3d> NearestRotation(const Eigen::Matrix3d& matrix, double max_orthonormality_error);

}  // namespace armap::io::internal
