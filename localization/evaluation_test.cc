#include "localization/evaluation.h"

#include <gtest/gtest.h>

namespace armap::loc {
namespace {

GroundTruthQuery Truth(const std::string& name, bool localizable) {
  return {name, Rigid3d(Eigen::Quaterniond::Identity(), Eigen::Vector3d(1, 2, 3)), localizable};
}

EvalAnswer Answer(bool success, const Eigen::Vector3d& centre_offset, double yaw_deg, double latency_ms) {
  EvalAnswer a;
  a.success = success;
  const Rigid3d truth(Eigen::Quaterniond::Identity(), Eigen::Vector3d(1, 2, 3));
  // A camera whose centre is moved by centre_offset and turned by yaw_deg.
  const Eigen::Quaterniond r(Eigen::AngleAxisd(yaw_deg * M_PI / 180, Eigen::Vector3d::UnitY()));
  const Eigen::Vector3d centre = CameraCenter(truth) + centre_offset;
  a.cam_from_world = Rigid3d(r, -(r * centre));
  a.latency_ms = latency_ms;
  a.stage_ms = {{"match", latency_ms / 2}};
  return a;
}

TEST(LocalizationEvaluationTest, ComputesTheContractFiguresAsDefined) {
  LocalizationEvaluation e;
  e.Add(Truth("a", true), Answer(true, {0.1, 0, 0}, 1.0, 10));    // within (0.25 m, 2 deg)
  e.Add(Truth("b", true), Answer(true, {0.4, 0, 0}, 3.0, 20));    // within (0.5 m, 5 deg) only
  e.Add(Truth("c", true), Answer(true, {7.0, 0, 0}, 0.0, 30));    // confident but wrong (> 5 m)
  e.Add(Truth("d", true), Answer(false, {0, 0, 0}, 0.0, 40));     // failed: a miss
  e.Add(Truth("e", false), Answer(false, {9, 9, 9}, 50.0, 50));   // unlocalizable, rejected
  e.Add(Truth("f", false), Answer(true, {0, 0, 0}, 0.0, 60));     // unlocalizable, accepted: wrong
  const OrderedJson j = e.ToJson();
  EXPECT_EQ(j["num_queries"], 6);
  EXPECT_EQ(j["num_localized"], 4);
  EXPECT_DOUBLE_EQ(j["recall"]["0.25m_2deg"].get<double>(), 1.0 / 4);
  EXPECT_DOUBLE_EQ(j["recall"]["0.5m_5deg"].get<double>(), 2.0 / 4);
  EXPECT_DOUBLE_EQ(j["recall"]["5m_10deg"].get<double>(), 2.0 / 4);
  EXPECT_EQ(j["false_confident"], 2);
  EXPECT_DOUBLE_EQ(j["unlocalizable_rejected"].get<double>(), 0.5);
  EXPECT_NEAR(j["median_pos_err_m"].get<double>(), 0.4, 1e-9);  // of the 3 localizable successes
  EXPECT_NEAR(j["median_rot_err_deg"].get<double>(), 1.0, 1e-9);
  EXPECT_NEAR(j["latency_ms"]["p50"].get<double>(), 35, 1e-9);
  EXPECT_NEAR(j["stages_ms"]["match"]["p50"].get<double>(), 17.5, 1e-9);
  EXPECT_EQ(j["queries"].size(), 6u);
  EXPECT_NE(e.ToMarkdown().find("| recall (0.25 m, 2 deg) | 25.0% |"), std::string::npos) << e.ToMarkdown();
}

TEST(LocalizationEvaluationTest, QuantileInterpolates) {
  EXPECT_DOUBLE_EQ(Quantile({}, 0.5), 0.0);
  EXPECT_DOUBLE_EQ(Quantile({3, 1, 2}, 0.5), 2.0);
  EXPECT_DOUBLE_EQ(Quantile({0, 10}, 0.9), 9.0);
  EXPECT_DOUBLE_EQ(Quantile({0, 10}, 1.0), 10.0);
}

}  // namespace
}  // namespace armap::loc
