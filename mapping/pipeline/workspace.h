// The build workspace: one folder per stage, each with a stage.json that
// records the configuration it ran with and how long it took. A stage whose
// stage.json matches the current configuration is skipped (resumable
// builds); --overwrite clears the workspace.
#pragma once

#include <filesystem>
#include <string>

#include "absl/status/statusor.h"
#include "core/json.h"

namespace armap::mapping {

class Workspace {
 public:
  static absl::StatusOr<Workspace> Open(const std::filesystem::path& dir, bool overwrite);
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path StageDir(const std::string& stage) const { return dir_ / stage; }

  // True when `stage` finished with this exact configuration fingerprint.
  bool IsDone(const std::string& stage, const std::string& fingerprint) const;
  // Prepares an empty stage folder (removing partial output of an earlier run).
  absl::Status Begin(const std::string& stage) const;
  // Marks the stage finished: writes stage.json with the fingerprint, the
  // seconds it took and the stage's own summary.
  absl::Status Finish(const std::string& stage, const std::string& fingerprint, double seconds,
                      const OrderedJson& summary) const;
  // The summary and seconds a finished stage recorded.
  absl::StatusOr<OrderedJson> StageRecord(const std::string& stage) const;

 private:
  explicit Workspace(std::filesystem::path dir) : dir_(std::move(dir)) {}
  std::filesystem::path dir_;
};

// A short stable hash of a JSON value (FNV-1a over its compact dump), used to
// fingerprint stage configurations.
std::string Fingerprint(const OrderedJson& value);

}  // namespace armap::mapping
