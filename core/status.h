// Status propagation for armap. Debian 12's Abseil (20220623) has Status and
// StatusOr but not the propagation macros, so we define thin ARMAP_ ones.
#pragma once

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

#define ARMAP_STATUS_CONCAT_INNER_(a, b) a##b
#define ARMAP_STATUS_CONCAT_(a, b) ARMAP_STATUS_CONCAT_INNER_(a, b)

// Returns the status from the enclosing function when `expr` is not OK.
#define ARMAP_RETURN_IF_ERROR(expr)                        \
  do {                                                     \
    if (::absl::Status armap_status_ = (expr); !armap_status_.ok()) \
      return armap_status_;                                \
  } while (0)

// ARMAP_ASSIGN_OR_RETURN(T value, Expr()) declares/assigns `value` from a
// StatusOr<T>, or returns its error status.
#define ARMAP_ASSIGN_OR_RETURN(lhs, rexpr) \
  ARMAP_ASSIGN_OR_RETURN_IMPL_(ARMAP_STATUS_CONCAT_(armap_statusor_, __LINE__), lhs, rexpr)
#define ARMAP_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                 \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

namespace armap {

// Prefixes a status message with context, keeping the code.
inline absl::Status Annotate(const absl::Status& status, absl::string_view context) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(context, ": ", status.message()));
}

}  // namespace armap
