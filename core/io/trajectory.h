// The capture folder's trajectory file (docs/ARCHITECTURE.md, "Capture
// folder"): measured rig poses, world_from_rig in the map frame.
//
//   name,timestamp_s,x,y,z,qw,qx,qy,qz
//   pano_0000,0.000000,12.500000,-3.250000,1.800000,1.000000000,0.000000000,0.000000000,0.000000000
//
// x, y, z are the rig position in metres (the translation of world_from_rig);
// the quaternion [w, x, y, z] is its rotation. The mapping pipeline's ingest
// stage rejects bad captures with these readers, so every error is
// InvalidArgument "PATH:LINE: reason" (LINE is 1-based and counts the header
// as line 1) naming the column where one is at fault.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/rigid3.h"

namespace armap::io {

inline constexpr char kTrajectoryCsvHeader[] = "name,timestamp_s,x,y,z,qw,qx,qy,qz";

struct PoseStamped {
  std::string name;          // pano name: panos/NAME.jpg
  double timestamp_s = 0.0;  // capture time, seconds (any epoch)
  Rigid3d world_from_rig;
};

struct TrajectoryReadOptions {
  // Largest accepted | |q| - 1 |. Our writer prints 9 decimals (norm error
  // ~1e-9) and exports with 4-5 decimals stay below 1e-4; a hand edit or a
  // swapped column is off by far more than 1e-3.
  double max_quaternion_norm_error = 1e-3;

  // InvalidArgument naming the field when a value is out of range.
  absl::Status Validate() const;
};

// Reads a trajectory CSV. The header must be exactly kTrajectoryCsvHeader
// (extra columns are an error naming them). Fields may be padded with spaces
// and tabs; blank lines are skipped; a UTF-8 byte-order mark is ignored.
// Each of these is InvalidArgument naming the file and line:
//   - a row without exactly 9 columns, an empty name;
//   - a column that is not a number, or not finite (named: "column 'qx'");
//   - a quaternion whose norm differs from 1 by more than
//     options.max_quaternion_norm_error ("non-unit quaternion (norm 1.2)");
//   - a timestamp not strictly greater than the previous row's
//     ("timestamps out of order");
//   - a name already used on an earlier line ("duplicate name");
//   - a file without rows (empty, or only a header).
// Accepted quaternions are normalised.
[[nodiscard]] absl::StatusOr<std::vector<PoseStamped>> ReadTrajectoryCsv(const std::filesystem::path& path,
                                                                         const TrajectoryReadOptions& options = {});

// Writes `poses` in the format above: "%.6f" for timestamps and positions
// (1 us, 1 um), "%.9f" for quaternion components. The file is written to a
// temporary name and renamed into place. Refuses (InvalidArgument, nothing
// written) what ReadTrajectoryCsv would reject: names that are empty, contain
// ',' or a line break, or start/end with whitespace, and poses that fail the
// checks above once printed (e.g. timestamps within 1 us of each other).
[[nodiscard]] absl::Status WriteTrajectoryCsv(const std::filesystem::path& path, const std::vector<PoseStamped>& poses);

}  // namespace armap::io
