// JSON helpers over nlohmann-json: read a file with errors that name the
// file, and typed field access whose errors name the field.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace armap {

using Json = nlohmann::json;
// Keys keep insertion order: reports read the way they were written.
using OrderedJson = nlohmann::ordered_json;

absl::StatusOr<Json> ReadJsonFile(const std::filesystem::path& path);
absl::Status WriteJsonFile(const std::filesystem::path& path, const OrderedJson& value, int indent = 2);

// Reads `object[key]` as T. `where` names the document (a file name) in errors.
template <typename T>
absl::StatusOr<T> GetJsonField(const Json& object, const std::string& key, const std::string& where) {
  if (!object.is_object()) return absl::InvalidArgumentError(absl::StrCat(where, ": expected an object"));
  auto it = object.find(key);
  if (it == object.end()) return absl::InvalidArgumentError(absl::StrCat(where, ": missing field '", key, "'"));
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": field '", key, "' has the wrong type: ", e.what()));
  }
}

}  // namespace armap
