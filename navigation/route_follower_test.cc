// RouteFollower on its own (the unit the WebAssembly SDK compiles): on
// planned routes of seeded grid networks it gives exactly Guidance's
// updates when Guidance does not re-plan (Guidance is a thin layer over it),
// and it reports bad routes and poses.
#include "navigation/route_follower.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "navigation/guidance.h"
#include "navigation/planner.h"
#include "navigation/synthetic_network.h"

namespace armap::nav {
namespace {

TEST(RouteFollowerTest, SameUpdatesAsGuidanceWithoutReplanning) {
  GridNetworkOptions grid;
  grid.cols = 6;
  grid.rows = 6;
  auto graph = MakeGridNetwork(grid);
  ASSERT_TRUE(graph.ok()) << graph.status();
  const Planner planner(*graph);
  GuidanceOptions options;
  options.reroute = false;
  std::mt19937_64 rng(5);
  std::normal_distribution<double> noise(0.0, 1.5);
  int compared = 0, off_route_poses = 0;
  for (int trial = 0; trial < 5; ++trial) {
    const EdgePoint start = graph->Nearest({0, 0});
    const EdgePoint goal = graph->Nearest({150.0 + 10 * trial, 180.0});
    auto route = planner.Plan(start, goal, options.plan);
    ASSERT_TRUE(route.ok()) << route.status();
    auto guidance = Guidance::FromRoute(planner, *route, options);
    ASSERT_TRUE(guidance.ok()) << guidance.status();
    RouteFollower follower(options);
    ASSERT_EQ(follower.SetRoute(route->polyline_in_map, guidance->maneuvers()), "");
    EXPECT_DOUBLE_EQ(follower.length_m(), route->length_m);
    // Walk the route with noise; half-way, wander 15 m off to the side.
    double t = 0;
    const auto& line = route->polyline_in_map;
    for (size_t i = 1; i < line.size(); ++i) {
      const Eigen::Vector3d leg = line[i] - line[i - 1];
      const int steps = std::max(1, static_cast<int>(std::ceil(leg.head<2>().norm() / 0.7)));
      for (int k = 1; k <= steps; ++k) {
        Eigen::Vector3d p = line[i - 1] + leg * (static_cast<double>(k) / steps);
        p.x() += noise(rng);
        p.y() += noise(rng);
        if (i == line.size() / 2) p.x() += 15.0 * k / steps;
        const NavPose pose{p, std::nullopt, t += 0.5};
        auto g = guidance->Update(pose);
        ASSERT_TRUE(g.ok()) << g.status();
        FollowUpdate f;
        ASSERT_EQ(follower.Update(pose, &f), "");
        EXPECT_EQ(f.progress_m, g->progress_m);
        EXPECT_EQ(f.distance_to_route_m, g->distance_to_route_m);
        EXPECT_EQ(f.off_route, g->off_route);
        EXPECT_EQ(f.off_route_entered, g->off_route_entered);
        EXPECT_EQ(f.arrived, g->arrived);
        EXPECT_EQ(f.prompt.en, g->prompt.en);
        EXPECT_EQ(f.prompt.zh, g->prompt.zh);
        EXPECT_EQ(f.next.has_value(), g->next.has_value());
        ++compared;
        off_route_poses += f.off_route;
      }
    }
  }
  EXPECT_GT(compared, 500);
  EXPECT_GT(off_route_poses, 0) << "the walks must leave the route for the comparison to cover off-route";
}

TEST(RouteFollowerTest, BadRoutesAndPoses) {
  RouteFollower follower{RouteFollowOptions()};
  FollowUpdate u;
  EXPECT_NE(follower.Update(NavPose{}, &u).find("no route"), std::string::npos);
  EXPECT_NE(follower.SetRoute({Eigen::Vector3d::Zero()}, {}).find("fewer than 2 points"), std::string::npos);
  EXPECT_NE(follower.SetRoute({Eigen::Vector3d::Zero(), Eigen::Vector3d(NAN, 0, 0)}, {}).find("point 1 is not finite"),
            std::string::npos);
  ASSERT_EQ(follower.SetRoute({Eigen::Vector3d::Zero(), Eigen::Vector3d(0, 10, 0)}, {}), "");
  EXPECT_EQ(follower.Update(NavPose{Eigen::Vector3d(0, 1, 0), std::nullopt, 2.0}, &u), "");
  EXPECT_NE(follower.Update(NavPose{Eigen::Vector3d(0, 2, 0), std::nullopt, 1.0}, &u).find("time went backwards"),
            std::string::npos);
  EXPECT_NE(follower.Update(NavPose{Eigen::Vector3d(0, 2, 0), NAN, 3.0}, &u).find("non-finite"), std::string::npos);
  RouteFollowOptions bad;
  bad.onroute_distance_m = 7;
  EXPECT_EQ(bad.Check(), "RouteFollowOptions::onroute_distance_m = 7; must be < offroute_distance_m (6) for hysteresis");
}

}  // namespace
}  // namespace armap::nav
