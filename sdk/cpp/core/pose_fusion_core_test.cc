// PoseFusionCore (the portable algorithm) on its own: the same poses as the
// PoseFusion wrapper, bit for bit, on a simulated walk with outliers; plain
// error codes; outlier rejection through the core's own API.
#include "armap/sdk/core/pose_fusion_core.h"

#include <gtest/gtest.h>

#include <utility>

#include "armap/sdk/pose_fusion.h"
#include "sdk/cpp/fusion_sim.h"

namespace armap::sdk {
namespace {

using testing::AnchorAhead;
using testing::AnchorError;
using testing::SimulateWalk;
using testing::Walk;
using testing::WalkOptions;

TEST(PoseFusionCoreTest, SameResultsAsTheWrapperWithOutliers) {
  WalkOptions o;
  o.seed = 5;
  o.duration_s = 90;
  o.outlier_fraction = 0.15;
  const Walk walk = SimulateWalk(o);
  Result<PoseFusionCore> core = PoseFusionCore::Create(FusionOptions());
  ASSERT_TRUE(core.ok()) << core.error().message;
  auto wrapper = PoseFusion::Create(PoseFusionOptions());
  ASSERT_TRUE(wrapper.ok());
  size_t next_fix = 0;
  int compared = 0, outliers = 0, rejected_outliers = 0;
  double max_late_error_m = 0;
  for (const auto& frame : walk.frames) {
    ASSERT_TRUE(core->AddTracking(frame.time_s, frame.session_from_cam).ok());
    ASSERT_TRUE((*wrapper)->AddTracking(frame.time_s, frame.session_from_cam).ok());
    while (next_fix < walk.fixes.size() && walk.fixes[next_fix].deliver_time_s <= frame.time_s) {
      const auto& fix = walk.fixes[next_fix];
      Result<FixOutcome> a = core->AddFix(fix.capture_time_s, fix.map_from_cam, 1.0);
      auto b = (*wrapper)->AddFix(fix.capture_time_s, fix.map_from_cam, 1.0);
      ASSERT_TRUE(a.ok() && b.ok());
      EXPECT_EQ(*a, *b);
      if (fix.outlier && next_fix > 0) {
        ++outliers;
        rejected_outliers += *a == FixOutcome::kRejected;
      }
      ++next_fix;
    }
    if (!core->initialized()) continue;
    Result<Rigid3> a = core->MapFromCam(frame.time_s);
    auto b = (*wrapper)->MapFromCam(frame.time_s);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a->qw, b->qw);
    EXPECT_EQ(a->qz, b->qz);
    EXPECT_EQ(a->tx, b->tx);
    EXPECT_EQ(a->ty, b->ty);
    EXPECT_EQ(a->tz, b->tz);
    ++compared;
    if (frame.time_s > 15) {
      max_late_error_m = std::max(max_late_error_m, AnchorError(*a, frame.true_map_from_cam, AnchorAhead(frame)).norm());
    }
  }
  EXPECT_GT(compared, 5000);
  ASSERT_GE(outliers, 1) << "the walk must contain outliers for this test to mean anything";
  EXPECT_EQ(rejected_outliers, outliers);
  // Outliers are 2-10 m off; the anchor error stays at the fixes' noise.
  EXPECT_LT(max_late_error_m, 0.5);
  EXPECT_EQ(core->stats().num_fixes, (*wrapper)->stats().num_fixes);
  EXPECT_EQ(core->stats().num_rejected, (*wrapper)->stats().num_rejected);
}

TEST(PoseFusionCoreTest, PlainErrors) {
  FusionOptions bad;
  bad.window_size = 0;
  Result<PoseFusionCore> invalid = PoseFusionCore::Create(bad);
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(invalid.error().message.find("PoseFusionOptions::window_size = 0"), std::string::npos);

  Result<PoseFusionCore> core = PoseFusionCore::Create(FusionOptions());
  ASSERT_TRUE(core.ok());
  EXPECT_EQ(core->MapFromSession().error().code, ErrorCode::kFailedPrecondition);
  Result<FixOutcome> early = core->AddFix(0, Rigid3{}, 1);
  EXPECT_EQ(early.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(early.error().message.find("no tracking yet"), std::string::npos);
  ASSERT_TRUE(core->AddTracking(1, Rigid3{}).ok());
  const Error back = core->AddTracking(0.5, Rigid3{});
  EXPECT_EQ(back.code, ErrorCode::kInvalidArgument);
  EXPECT_NE(back.message.find("before"), std::string::npos);
  Result<FixOutcome> first = core->AddFix(1, Rigid3{1, 0, 0, 0, 5, 6, 7}, 1);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, FixOutcome::kInitialized);
  EXPECT_EQ(core->MapFromCam(5).error().code, ErrorCode::kOutOfRange);
  // Moving keeps the state.
  PoseFusionCore moved = std::move(core).value();
  EXPECT_TRUE(moved.initialized());
  Result<Rigid3> p = moved.MapFromCam(1);
  ASSERT_TRUE(p.ok());
  EXPECT_NEAR(p->tx, 5, 1e-9);
  moved.Reset();
  EXPECT_FALSE(moved.initialized());
}

}  // namespace
}  // namespace armap::sdk
