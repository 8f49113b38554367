#include "core/status.h"

#include <gtest/gtest.h>

#include "core/testing/status_matchers.h"

namespace armap {
namespace {

using ::armap::testing::IsOk;
using ::armap::testing::StatusIs;
using ::testing::HasSubstr;

absl::StatusOr<int> Half(int x) {
  if (x % 2) return absl::InvalidArgumentError(absl::StrCat("odd value ", x));
  return x / 2;
}

absl::StatusOr<int> Quarter(int x) {
  ARMAP_ASSIGN_OR_RETURN(int half, Half(x));
  ARMAP_ASSIGN_OR_RETURN(int quarter, Half(half));
  return quarter;
}

absl::Status CheckQuarter(int x) {
  ARMAP_RETURN_IF_ERROR(Quarter(x).status());
  return absl::OkStatus();
}

TEST(StatusTest, MacrosPropagate) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_THAT(Quarter(6), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("odd value 3")));
  EXPECT_THAT(CheckQuarter(4), IsOk());
  EXPECT_THAT(CheckQuarter(2), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("odd value 1")));
  EXPECT_THAT(Annotate(absl::NotFoundError("x"), "file.ply"), StatusIs(absl::StatusCode::kNotFound, "file.ply: x"));
}

}  // namespace
}  // namespace armap
