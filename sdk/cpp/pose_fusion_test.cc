// PoseFusion on simulated walks (fusion_sim.h): convergence on clean fixes,
// outlier rejection, smoothness, drift following; plus the API's contract.
#include "armap/sdk/pose_fusion.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "core/testing/status_matchers.h"
#include "fusion_sim.h"

namespace armap::sdk {
namespace {

using ::armap::testing::IsOk;
using ::armap::testing::StatusIs;
using ::testing::HasSubstr;
using testing::Quantile;
using testing::RunFusion;
using testing::RunNaive;
using testing::SimulateWalk;
using testing::ToIsometry;
using testing::TrackErrors;
using testing::Walk;
using testing::WalkOptions;

double Max(const std::vector<double>& v) { return v.empty() ? 0 : *std::max_element(v.begin(), v.end()); }

// Errors of the frames after time_s.
std::vector<double> After(const TrackErrors& e, double time_s) {
  std::vector<double> out;
  for (size_t i = 0; i < e.time_s.size(); ++i) {
    if (e.time_s[i] >= time_s) out.push_back(e.error_m[i]);
  }
  return out;
}

WalkOptions CleanWalk(uint32_t seed) {
  WalkOptions o;
  o.seed = seed;
  o.duration_s = 60;
  o.drift_fraction = 0;
  o.yaw_drift_deg_per_min = 0;
  o.outlier_fraction = 0;
  return o;
}

TEST(PoseFusionTest, ConvergesOnCleanFixes) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    const Walk walk = SimulateWalk(CleanWalk(seed));
    const TrackErrors fusion = RunFusion(walk, PoseFusionOptions());
    ASSERT_TRUE(fusion.ok);
    for (FixOutcome outcome : fusion.outcomes) EXPECT_NE(outcome, FixOutcome::kRejected) << "seed " << seed;
    // After three fixes (16 s) the anchor error is at the fixes' noise level
    // (3 cm, 0.3 deg per axis) averaged down.
    const std::vector<double> late = After(fusion, 16);
    ASSERT_FALSE(late.empty());
    EXPECT_LT(Quantile(late, 0.5), 0.05) << "seed " << seed;
    EXPECT_LT(Max(late), 0.12) << "seed " << seed;
  }
}

TEST(PoseFusionTest, ExactFixesGiveTheExactPoseInBothSessionConventions) {
  for (bool y_up : {true, false}) {
    WalkOptions o = CleanWalk(4);
    o.session_y_up = y_up;
    o.fix_position_sigma_m = 0;
    o.fix_rotation_sigma_deg = 0;
    PoseFusionOptions options;
    options.session_up_axis = y_up ? SessionUpAxis::kY : SessionUpAxis::kZ;
    const Walk walk = SimulateWalk(o);
    const TrackErrors fusion = RunFusion(walk, options);
    ASSERT_TRUE(fusion.ok);
    EXPECT_LT(Max(After(fusion, 2)), 1e-6) << (y_up ? "y up" : "z up");
  }
}

TEST(PoseFusionTest, RejectsOutliers) {
  int outliers = 0, rejected_outliers = 0, good = 0, rejected_good = 0;
  for (uint32_t seed = 1; seed <= 6; ++seed) {
    WalkOptions o;
    o.seed = seed;
    o.duration_s = 150;
    o.outlier_fraction = 0.05;
    const Walk walk = SimulateWalk(o);
    const TrackErrors fusion = RunFusion(walk, PoseFusionOptions());
    ASSERT_TRUE(fusion.ok);
    ASSERT_EQ(fusion.outcomes.size(), walk.fixes.size());
    for (size_t i = 1; i < walk.fixes.size(); ++i) {  // the first fix has nothing to be checked against
      if (walk.fixes[i].outlier) {
        ++outliers;
        rejected_outliers += fusion.outcomes[i] == FixOutcome::kRejected;
      } else {
        ++good;
        rejected_good += fusion.outcomes[i] == FixOutcome::kRejected;
      }
    }
    // Outliers are metres off: had one got in, the error would show it.
    EXPECT_LT(Max(After(fusion, 10)), 0.5) << "seed " << seed;
  }
  ASSERT_GE(outliers, 3) << "the walks must contain outliers for this test to mean anything";
  EXPECT_EQ(rejected_outliers, outliers);
  EXPECT_LE(rejected_good, good / 50) << rejected_good << " of " << good << " good fixes rejected";
}

TEST(PoseFusionTest, RecoversFromAWrongFirstFix) {
  WalkOptions o;
  o.seed = 9;
  o.duration_s = 60;
  o.outlier_fraction = 0;
  Walk walk = SimulateWalk(o);
  Eigen::Isometry3d wrong = ToIsometry(walk.fixes[0].map_from_cam);
  wrong.translation() += Eigen::Vector3d(6, -3, 0);
  walk.fixes[0].map_from_cam = testing::ToRigid3(wrong);
  walk.fixes[0].outlier = true;
  const TrackErrors fusion = RunFusion(walk, PoseFusionOptions());
  ASSERT_TRUE(fusion.ok);
  ASSERT_GE(fusion.outcomes.size(), 4u);
  EXPECT_EQ(fusion.outcomes[0], FixOutcome::kInitialized);
  EXPECT_EQ(fusion.outcomes[1], FixOutcome::kRejected);  // one against one: the estimate stands
  EXPECT_EQ(fusion.outcomes[2], FixOutcome::kReset);     // two agreeing fixes outvote it
  // The correction glides in (capped speed): no jump, and good 10 s later.
  EXPECT_LT(Max(fusion.jump_m), 0.05);
  EXPECT_LT(Max(After(fusion, walk.fixes[2].deliver_time_s + 10)), 0.15);
}

TEST(PoseFusionTest, NoJumpOver5cmBetweenFramesWhereSnappingJumps) {
  double fusion_max_jump = 0, naive_max_jump = 0;
  for (uint32_t seed = 1; seed <= 3; ++seed) {
    WalkOptions o;
    o.seed = seed;
    o.duration_s = 120;
    const Walk walk = SimulateWalk(o);
    const TrackErrors fusion = RunFusion(walk, PoseFusionOptions());
    ASSERT_TRUE(fusion.ok);
    fusion_max_jump = std::max(fusion_max_jump, Max(fusion.jump_m));
    naive_max_jump = std::max(naive_max_jump, Max(RunNaive(walk, o.rate_hz).jump_m));
  }
  EXPECT_LT(fusion_max_jump, 0.05);
  EXPECT_GT(naive_max_jump, 0.05) << "the metric must see the naive baseline's jumps";
}

TEST(PoseFusionTest, FollowsTrackingDrift) {
  // 2% drift (twice the benchmark's): the estimate must keep up, and do
  // better than freezing map_from_session after the first fixes.
  for (uint32_t seed : {1u, 2u}) {
    WalkOptions o;
    o.seed = seed;
    o.duration_s = 150;
    o.drift_fraction = 0.02;
    o.yaw_drift_deg_per_min = 1.0;
    o.outlier_fraction = 0;
    const Walk walk = SimulateWalk(o);
    const TrackErrors fusion = RunFusion(walk, PoseFusionOptions());
    ASSERT_TRUE(fusion.ok);
    Walk frozen = walk;
    frozen.fixes.resize(3);
    const TrackErrors stale = RunFusion(frozen, PoseFusionOptions());
    const std::vector<double> late = After(fusion, 60);
    EXPECT_LT(Quantile(late, 0.5), 0.12) << "seed " << seed;
    EXPECT_GT(Quantile(After(stale, 60), 0.5), 3 * Quantile(late, 0.5)) << "seed " << seed;
  }
}

TEST(PoseFusionTest, EstimatesTheDriftRate) {
  WalkOptions o;
  o.seed = 3;
  o.duration_s = 90;
  o.drift_fraction = 0.01;
  o.yaw_drift_deg_per_min = 0;
  o.outlier_fraction = 0;
  const Walk walk = SimulateWalk(o);
  auto fusion = PoseFusion::Create();
  ASSERT_THAT(fusion.status(), IsOk());
  size_t next = 0;
  for (const auto& frame : walk.frames) {
    ASSERT_THAT((*fusion)->AddTracking(frame.time_s, frame.session_from_cam), IsOk());
    while (next < walk.fixes.size() && walk.fixes[next].deliver_time_s <= frame.time_s) {
      ASSERT_THAT((*fusion)->AddFix(walk.fixes[next].capture_time_s, walk.fixes[next].map_from_cam, 1).status(), IsOk());
      ++next;
    }
  }
  const PoseFusionStats stats = (*fusion)->stats();
  EXPECT_EQ(stats.num_fixes, static_cast<int64_t>(walk.fixes.size()));
  EXPECT_EQ(stats.num_rejected, 0);
  EXPECT_GT(stats.drift_rate, 0.004);
  EXPECT_LT(stats.drift_rate, 0.02);
  EXPECT_GT(stats.window_inliers, 5);
  EXPECT_GT(stats.position_sigma_m, 0);
  EXPECT_LT(stats.position_sigma_m, 0.1);
}

TEST(PoseFusionTest, OptionsValidateNameTheField) {
  PoseFusionOptions o;
  EXPECT_THAT(o.Validate(), IsOk());
  o.window_size = 0;
  EXPECT_THAT(o.Validate(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("PoseFusionOptions::window_size")));
  o = PoseFusionOptions();
  o.blend_time_s = -1;
  EXPECT_THAT(PoseFusion::Create(o).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("PoseFusionOptions::blend_time_s")));
  o = PoseFusionOptions();
  o.min_confidence = 0;
  EXPECT_THAT(o.Validate(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("min_confidence")));
  o = PoseFusionOptions();
  o.session_up_axis = static_cast<SessionUpAxis>(7);
  EXPECT_THAT(o.Validate(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("session_up_axis")));
}

TEST(PoseFusionTest, ContractErrors) {
  auto fusion = PoseFusion::Create();
  ASSERT_THAT(fusion.status(), IsOk());
  PoseFusion& f = **fusion;
  const Rigid3 identity;
  EXPECT_FALSE(f.initialized());
  EXPECT_THAT(f.MapFromSession().status(), StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::_));
  EXPECT_THAT(f.MapFromCam(0).status(), StatusIs(absl::StatusCode::kFailedPrecondition, ::testing::_));
  EXPECT_THAT(f.AddFix(0, identity, 1).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("no tracking yet")));
  ASSERT_THAT(f.AddTracking(1.0, identity), IsOk());
  ASSERT_THAT(f.AddTracking(2.0, identity), IsOk());
  EXPECT_THAT(f.AddTracking(1.5, identity), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("before")));
  Rigid3 nan = identity;
  nan.tx = std::nan("");
  EXPECT_THAT(f.AddTracking(3.0, nan), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not finite")));
  Rigid3 zero_q = identity;
  zero_q.qw = 0;
  EXPECT_THAT(f.AddFix(1.5, zero_q, 1).status(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("quaternion")));
  EXPECT_THAT(f.AddFix(0.5, identity, 1).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("tracking spans")));
  // Low confidence: counted, ignored.
  auto low = f.AddFix(1.5, identity, 0.01);
  ASSERT_THAT(low.status(), IsOk());
  EXPECT_EQ(*low, FixOutcome::kRejected);
  EXPECT_FALSE(f.initialized());
  // The first real fix snaps.
  Rigid3 map_from_cam;
  map_from_cam.tx = 10;
  auto first = f.AddFix(1.5, map_from_cam, 1);
  ASSERT_THAT(first.status(), IsOk());
  EXPECT_EQ(*first, FixOutcome::kInitialized);
  auto pose = f.MapFromCam(2.0);
  ASSERT_THAT(pose.status(), IsOk());
  EXPECT_NEAR(pose->tx, 10, 1e-9);
  EXPECT_THAT(f.MapFromCam(5.0).status(), StatusIs(absl::StatusCode::kOutOfRange, ::testing::_));
  EXPECT_EQ(f.stats().num_fixes, 2);
  f.Reset();
  EXPECT_FALSE(f.initialized());
  EXPECT_EQ(f.stats().num_fixes, 0);
}

}  // namespace
}  // namespace armap::sdk
