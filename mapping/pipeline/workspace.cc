#include "mapping/pipeline/workspace.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/files.h"
#include "core/status.h"

namespace armap::mapping {

std::string Fingerprint(const OrderedJson& value) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : value.dump()) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return absl::StrFormat("%016x", h);
}

absl::StatusOr<Workspace> Workspace::Open(const std::filesystem::path& dir, bool overwrite) {
  std::error_code ec;
  if (overwrite) std::filesystem::remove_all(dir, ec);
  ARMAP_RETURN_IF_ERROR(EnsureWritableDirectory(dir));
  return Workspace(std::filesystem::absolute(dir, ec));
}

bool Workspace::IsDone(const std::string& stage, const std::string& fingerprint) const {
  auto record = ReadJsonFile(StageDir(stage) / "stage.json");
  return record.ok() && record->value("fingerprint", "") == fingerprint && record->value("done", false);
}

absl::Status Workspace::Begin(const std::string& stage) const {
  std::error_code ec;
  std::filesystem::remove_all(StageDir(stage), ec);
  return EnsureWritableDirectory(StageDir(stage));
}

absl::Status Workspace::Finish(const std::string& stage, const std::string& fingerprint, double seconds,
                               const OrderedJson& summary) const {
  return WriteJsonFile(StageDir(stage) / "stage.json", OrderedJson{{"stage", stage},
                                                                     {"done", true},
                                                                     {"fingerprint", fingerprint},
                                                                     {"seconds", seconds},
                                                                     {"summary", summary}});
}

absl::StatusOr<OrderedJson> Workspace::StageRecord(const std::string& stage) const {
  ARMAP_ASSIGN_OR_RETURN(Json record, ReadJsonFile(StageDir(stage) / "stage.json"));
  return OrderedJson::parse(record.dump());
}

}  // namespace armap::mapping
