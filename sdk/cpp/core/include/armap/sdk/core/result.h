// Plain error and result types of the portable client core (no Abseil), so
// the same sources build natively and with emscripten. Codes equal absl's
// and gRPC's; the native SDK turns an Error into an absl::Status by a cast.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace armap::sdk {

enum class ErrorCode : int32_t {
  kOk = 0,
  kInvalidArgument = 3,
  kNotFound = 5,
  kFailedPrecondition = 9,
  kOutOfRange = 11,
  kInternal = 13,
};
// "OK", "INVALID_ARGUMENT", ... (the gRPC names).
inline const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return "OK";
    case ErrorCode::kInvalidArgument: return "INVALID_ARGUMENT";
    case ErrorCode::kNotFound: return "NOT_FOUND";
    case ErrorCode::kFailedPrecondition: return "FAILED_PRECONDITION";
    case ErrorCode::kOutOfRange: return "OUT_OF_RANGE";
    case ErrorCode::kInternal: return "INTERNAL";
  }
  return "UNKNOWN";
}

struct [[nodiscard]] Error {
  ErrorCode code = ErrorCode::kOk;
  std::string message;
  bool ok() const { return code == ErrorCode::kOk; }
  static Error Ok() { return Error{}; }
  static Error InvalidArgument(std::string m) { return Error{ErrorCode::kInvalidArgument, std::move(m)}; }
  static Error FailedPrecondition(std::string m) { return Error{ErrorCode::kFailedPrecondition, std::move(m)}; }
  static Error OutOfRange(std::string m) { return Error{ErrorCode::kOutOfRange, std::move(m)}; }
};

// A value or an Error (never both).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit, like absl::StatusOr
  Result(Error error) : error_(std::move(error)) {  // NOLINT
    if (error_.ok()) error_ = Error{ErrorCode::kInternal, "Result constructed from an OK error without a value"};
  }
  bool ok() const { return value_.has_value(); }
  const Error& error() const { return error_; }
  const T& value() const& { return *value_; }
  T& value() & { return *value_; }
  T&& value() && { return std::move(*value_); }
  const T& operator*() const& { return *value_; }
  T& operator*() & { return *value_; }
  const T* operator->() const { return &*value_; }
  T* operator->() { return &*value_; }

 private:
  std::optional<T> value_;
  Error error_;
};

}  // namespace armap::sdk
