#include "core/json.h"

#include "core/files.h"

namespace armap {

absl::StatusOr<Json> ReadJsonFile(const std::filesystem::path& path) {
  auto text = ReadFileToString(path);
  if (!text.ok()) return text.status();
  Json value = Json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return absl::InvalidArgumentError(absl::StrCat(path.string(), ": not valid JSON"));
  return value;
}

absl::Status WriteJsonFile(const std::filesystem::path& path, const OrderedJson& value, int indent) {
  return WriteFileAtomic(path, value.dump(indent) + "\n");
}

}  // namespace armap
