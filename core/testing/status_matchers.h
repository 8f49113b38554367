// gMock matchers for absl::Status / StatusOr (Debian's Abseil lacks them):
//   EXPECT_THAT(Parse(x), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("file.ply")));
//   EXPECT_THAT(Parse(y), IsOk());
#pragma once

#include <gmock/gmock.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace armap::testing {

inline const absl::Status& GetStatus(const absl::Status& status) { return status; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& status_or) { return status_or.status(); }

MATCHER_P2(StatusIs, code, message_matcher,
           std::string("has code ") + absl::StatusCodeToString(code)) {
  const absl::Status& status = GetStatus(arg);
  if (status.code() != code) {
    *result_listener << "whose status is " << status.ToString();
    return false;
  }
  return ::testing::ExplainMatchResult(message_matcher, std::string(status.message()), result_listener);
}

MATCHER(IsOk, "is OK") {
  const absl::Status& status = GetStatus(arg);
  if (!status.ok()) *result_listener << "whose status is " << status.ToString();
  return status.ok();
}

}  // namespace armap::testing

#define ARMAP_ASSERT_OK(expr) ASSERT_THAT((expr), ::armap::testing::IsOk())
#define ARMAP_EXPECT_OK(expr) EXPECT_THAT((expr), ::armap::testing::IsOk())
