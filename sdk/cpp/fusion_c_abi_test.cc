// Pose fusion through the C ABI (libarmap_sdk_c.so only, as C# and other FFI
// callers use it): a simulated walk, the error codes and messages, the
// struct_size rules.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>

#include "armap/armap_c.h"
#include "fusion_sim.h"

namespace {

using armap::sdk::testing::AnchorAhead;
using armap::sdk::testing::AnchorError;
using armap::sdk::testing::SimulateWalk;
using armap::sdk::testing::Walk;
using armap::sdk::testing::WalkOptions;

ArmapRigid3 ToC(const armap::sdk::Rigid3& p) { return ArmapRigid3{p.qw, p.qx, p.qy, p.qz, p.tx, p.ty, p.tz}; }
armap::sdk::Rigid3 FromC(const ArmapRigid3& p) { return armap::sdk::Rigid3{p.qw, p.qx, p.qy, p.qz, p.tx, p.ty, p.tz}; }

TEST(FusionCAbiTest, WalkWithOutliersConvergesAndRejectsThem) {
  WalkOptions o;
  o.seed = 11;
  o.duration_s = 90;
  o.outlier_fraction = 0.1;
  const Walk walk = SimulateWalk(o);
  ArmapFusionOptions options;
  ASSERT_EQ(armap_fusion_options_init(&options), ARMAP_OK);
  EXPECT_EQ(options.struct_size, sizeof(ArmapFusionOptions));
  EXPECT_EQ(options.session_up_axis, ARMAP_SESSION_UP_Y);
  EXPECT_GT(options.blend_time_s, 0);
  ArmapFusion* fusion = nullptr;
  ASSERT_EQ(armap_fusion_create(&options, &fusion), ARMAP_OK) << armap_last_error();
  size_t next = 0;
  int outliers = 0, rejected_outliers = 0;
  double max_late_error = 0;
  for (const auto& frame : walk.frames) {
    const ArmapRigid3 tracking = ToC(frame.session_from_cam);
    ASSERT_EQ(armap_fusion_add_tracking(fusion, frame.time_s, &tracking), ARMAP_OK) << armap_last_error();
    while (next < walk.fixes.size() && walk.fixes[next].deliver_time_s <= frame.time_s) {
      const ArmapRigid3 fix = ToC(walk.fixes[next].map_from_cam);
      int32_t outcome = -1;
      ASSERT_EQ(armap_fusion_add_fix(fusion, walk.fixes[next].capture_time_s, &fix, 0.9, &outcome), ARMAP_OK)
          << armap_last_error();
      if (next > 0 && walk.fixes[next].outlier) {
        ++outliers;
        rejected_outliers += outcome == ARMAP_FIX_REJECTED;
      }
      ++next;
    }
    ArmapRigid3 map_from_cam;
    const int32_t rc = armap_fusion_map_from_cam(fusion, frame.time_s, &map_from_cam);
    if (next == 0) {
      EXPECT_EQ(rc, ARMAP_FAILED_PRECONDITION);
      continue;
    }
    ASSERT_EQ(rc, ARMAP_OK) << armap_last_error();
    if (frame.time_s > 15) {
      const double e = AnchorError(FromC(map_from_cam), frame.true_map_from_cam, AnchorAhead(frame)).norm();
      max_late_error = std::max(max_late_error, e);
    }
  }
  ASSERT_GT(outliers, 0) << "the walk must contain outliers";
  EXPECT_EQ(rejected_outliers, outliers);
  EXPECT_LT(max_late_error, 0.3);

  ArmapFusionStats stats;
  ASSERT_EQ(armap_fusion_stats_init(&stats), ARMAP_OK);
  ASSERT_EQ(armap_fusion_get_stats(fusion, &stats), ARMAP_OK);
  EXPECT_EQ(stats.initialized, 1);
  EXPECT_EQ(stats.num_tracking, static_cast<int64_t>(walk.frames.size()));
  EXPECT_EQ(stats.num_fixes, static_cast<int64_t>(walk.fixes.size()));
  EXPECT_GE(stats.num_rejected, outliers);
  ArmapRigid3 map_from_session;
  EXPECT_EQ(armap_fusion_map_from_session(fusion, &map_from_session), ARMAP_OK);
  EXPECT_NEAR(map_from_session.qw * map_from_session.qw + map_from_session.qx * map_from_session.qx +
                  map_from_session.qy * map_from_session.qy + map_from_session.qz * map_from_session.qz,
              1.0, 1e-9);
  ASSERT_EQ(armap_fusion_reset(fusion), ARMAP_OK);
  ASSERT_EQ(armap_fusion_get_stats(fusion, &stats), ARMAP_OK);
  EXPECT_EQ(stats.initialized, 0);
  EXPECT_EQ(stats.num_fixes, 0);
  armap_fusion_free(fusion);
}

TEST(FusionCAbiTest, ErrorsCarryCodesAndMessages) {
  ArmapFusion* fusion = reinterpret_cast<ArmapFusion*>(0x1);
  EXPECT_EQ(armap_fusion_create(nullptr, nullptr), ARMAP_INVALID_ARGUMENT);
  EXPECT_NE(std::strstr(armap_last_error(), "out is NULL"), nullptr) << armap_last_error();
  ArmapFusionOptions options;
  ASSERT_EQ(armap_fusion_options_init(&options), ARMAP_OK);
  options.struct_size = 8;
  EXPECT_EQ(armap_fusion_create(&options, &fusion), ARMAP_INVALID_ARGUMENT);
  EXPECT_EQ(fusion, nullptr);
  EXPECT_NE(std::strstr(armap_last_error(), "struct_size"), nullptr) << armap_last_error();
  ASSERT_EQ(armap_fusion_options_init(&options), ARMAP_OK);
  options.window_size = -3;
  EXPECT_EQ(armap_fusion_create(&options, &fusion), ARMAP_INVALID_ARGUMENT);
  EXPECT_NE(std::strstr(armap_last_error(), "window_size"), nullptr) << armap_last_error();
  options.window_size = 0;  // zero = default
  options.session_up_axis = 5;
  EXPECT_EQ(armap_fusion_create(&options, &fusion), ARMAP_INVALID_ARGUMENT);
  EXPECT_NE(std::strstr(armap_last_error(), "session_up_axis"), nullptr) << armap_last_error();

  ASSERT_EQ(armap_fusion_create(nullptr, &fusion), ARMAP_OK);
  EXPECT_STREQ(armap_last_error(), "");
  const ArmapRigid3 identity{1, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(armap_fusion_add_fix(fusion, 0, &identity, 1, nullptr), ARMAP_FAILED_PRECONDITION);
  EXPECT_NE(std::strstr(armap_last_error(), "no tracking"), nullptr) << armap_last_error();
  EXPECT_EQ(armap_fusion_add_tracking(fusion, 0, nullptr), ARMAP_INVALID_ARGUMENT);
  EXPECT_NE(std::strstr(armap_last_error(), "session_from_cam is NULL"), nullptr);
  EXPECT_EQ(armap_fusion_add_tracking(nullptr, 0, &identity), ARMAP_INVALID_ARGUMENT);
  ArmapRigid3 bad = identity;
  bad.tx = NAN;
  EXPECT_EQ(armap_fusion_add_tracking(fusion, 0, &bad), ARMAP_INVALID_ARGUMENT);
  ASSERT_EQ(armap_fusion_add_tracking(fusion, 0, &identity), ARMAP_OK);
  int32_t outcome = -1;
  ASSERT_EQ(armap_fusion_add_fix_sigma(fusion, 0, &identity, 0.05, 0.5, &outcome), ARMAP_OK);
  EXPECT_EQ(outcome, ARMAP_FIX_INITIALIZED);
  EXPECT_EQ(armap_fusion_add_fix_sigma(fusion, 0, &identity, -1, 0.5, &outcome), ARMAP_INVALID_ARGUMENT);
  ArmapRigid3 out;
  EXPECT_EQ(armap_fusion_map_from_cam(fusion, 100, &out), ARMAP_OUT_OF_RANGE);
  ArmapFusionStats stats;
  std::memset(&stats, 0, sizeof(stats));
  EXPECT_EQ(armap_fusion_get_stats(fusion, &stats), ARMAP_INVALID_ARGUMENT);
  EXPECT_NE(std::strstr(armap_last_error(), "armap_fusion_stats_init"), nullptr);
  armap_fusion_free(fusion);
  armap_fusion_free(nullptr);
}

}  // namespace
