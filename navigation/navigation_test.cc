#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/random.h"
#include "core/testing/status_matchers.h"
#include "navigation/evaluation.h"
#include "navigation/guidance.h"
#include "navigation/planner.h"
#include "navigation/synthetic_network.h"
#include "navigation/walk_graph.h"

namespace armap::nav {
namespace {

using ::armap::testing::StatusIs;
using ::testing::HasSubstr;

struct E {
  int a, b;
  EdgeKind kind = EdgeKind::kSidewalk;
};

WalkGraph MakeGraph(const std::vector<Eigen::Vector2d>& xy, const std::vector<E>& es, std::vector<Poi> pois = {}) {
  std::vector<WalkNode> nodes;
  for (size_t i = 0; i < xy.size(); ++i) nodes.push_back({static_cast<int64_t>(i), {xy[i].x(), xy[i].y(), 0}});
  std::vector<WalkEdge> edges;
  for (size_t i = 0; i < es.size(); ++i) {
    WalkEdge e;
    e.id = static_cast<int64_t>(100 + i);
    e.from = es[i].a;
    e.to = es[i].b;
    e.kind = es[i].kind;
    e.length_m = (xy[es[i].a] - xy[es[i].b]).norm();
    edges.push_back(e);
  }
  auto g = WalkGraph::Create(std::move(nodes), std::move(edges), std::move(pois), "test");
  EXPECT_TRUE(g.ok()) << g.status();
  return std::move(*g);
}

EdgePoint At(const WalkGraph& g, edge_t e, double offset) {
  EdgePoint p;
  p.edge = e;
  p.offset_m = offset;
  p.point_in_map = g.PointAt(e, offset);
  return p;
}

// Independent reference: Bellman-Ford style relaxation to a fixpoint.
double ReferenceCost(const WalkGraph& g, const Planner& planner, const EdgePoint& s, const EdgePoint& t, const PlanOptions& o) {
  const double inf = std::numeric_limits<double>::infinity();
  auto cost = [&](edge_t e) {
    for (int64_t id : o.avoid_edge_ids)
      if (g.edges()[e].id == id && e != s.edge && e != t.edge) return inf;
    return planner.EdgeCost(e, o);
  };
  std::vector<double> d(g.num_nodes(), inf);
  const WalkEdge& es = g.edges()[s.edge];
  const double fs = s.offset_m / es.polyline_length_m;
  d[es.from] = fs * cost(s.edge);
  d[es.to] = std::min(d[es.to], (1 - fs) * cost(s.edge));
  for (bool changed = true; changed;) {
    changed = false;
    for (edge_t e = 0; e < g.num_edges(); ++e) {
      const double c = cost(e);
      const node_t a = g.edges()[e].from, b = g.edges()[e].to;
      if (d[a] + c < d[b] - 1e-12) d[b] = d[a] + c, changed = true;
      if (d[b] + c < d[a] - 1e-12) d[a] = d[b] + c, changed = true;
    }
  }
  const WalkEdge& eg = g.edges()[t.edge];
  const double fg = t.offset_m / eg.polyline_length_m;
  double best = std::min(d[eg.from] + fg * cost(t.edge), d[eg.to] + (1 - fg) * cost(t.edge));
  if (s.edge == t.edge) best = std::min(best, std::abs(fg - fs) * cost(s.edge));
  return best;
}

TEST(PlannerTest, AStarIsOptimalOnRandomGraphs) {
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    GridNetworkOptions go;
    go.cols = 12;
    go.rows = 9;
    go.drop_fraction = 0.25;
    go.seed = seed;
    auto g = MakeGridNetwork(go);
    ASSERT_TRUE(g.ok()) << g.status();
    // The hierarchy is built for a 15 m crossing penalty: odd queries use it.
    const Planner planner(*g, 16, 15.0);
    ASSERT_TRUE(planner.has_hierarchy());
    Rng rng(seed);
    for (int q = 0; q < 40; ++q) {
      PlanOptions o;
      o.crossing_penalty_m = q % 2 ? 15.0 : 0.0;
      if (q % 3 == 0)
        for (int k = 0; k < 10; ++k) o.avoid_edge_ids.push_back(rng.UniformInt(0, static_cast<int>(g->num_edges()) - 1));
      const edge_t es = rng.UniformInt(0, static_cast<int>(g->num_edges()) - 1);
      const edge_t eg = q == 5 ? es : static_cast<edge_t>(rng.UniformInt(0, static_cast<int>(g->num_edges()) - 1));
      const EdgePoint s = At(*g, es, rng.Uniform() * g->edges()[es].polyline_length_m);
      const EdgePoint t = At(*g, eg, rng.Uniform() * g->edges()[eg].polyline_length_m);
      const double ref = ReferenceCost(*g, planner, s, t, o);
      auto astar = planner.Plan(s, t, o, SearchAlgorithm::kAStar);
      auto dijkstra = planner.Plan(s, t, o, SearchAlgorithm::kDijkstra);
      auto euclid = planner.Plan(s, t, o, SearchAlgorithm::kAStarEuclidean);
      auto automatic = planner.Plan(s, t, o);
      auto hierarchy = planner.Plan(s, t, o, SearchAlgorithm::kContractionHierarchy);
      const bool hierarchy_applies = o.avoid_edge_ids.empty() && o.crossing_penalty_m == 15.0;
      if (!hierarchy_applies) {
        EXPECT_THAT(hierarchy, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("hierarchy")));
      }
      if (!std::isfinite(ref)) {
        EXPECT_THAT(astar, StatusIs(absl::StatusCode::kNotFound, HasSubstr("cannot be reached")));
        continue;
      }
      ASSERT_TRUE(astar.ok()) << astar.status();
      ASSERT_TRUE(dijkstra.ok()) << dijkstra.status();
      ASSERT_TRUE(euclid.ok()) << euclid.status();
      ASSERT_TRUE(automatic.ok()) << automatic.status();
      EXPECT_NEAR(automatic->cost, ref, 1e-6 * (1 + ref));
      if (hierarchy_applies) {
        ASSERT_TRUE(hierarchy.ok()) << hierarchy.status();
        EXPECT_NEAR(hierarchy->cost, ref, 1e-6 * (1 + ref)) << "seed " << seed << " query " << q;
        double hierarchy_steps = 0;
        for (const RouteStep& st : hierarchy->steps) hierarchy_steps += st.length_m;
        EXPECT_NEAR(hierarchy_steps, hierarchy->length_m, 1e-6);
        EXPECT_LT((Xy(hierarchy->polyline_in_map.back()) - Xy(t.point_in_map)).norm(), 1e-6);
        // The unpacked edges form a connected walk.
        for (size_t k = 1; k < hierarchy->polyline_in_map.size(); ++k)
          EXPECT_LT((Xy(hierarchy->polyline_in_map[k]) - Xy(hierarchy->polyline_in_map[k - 1])).norm(), 60.0);
      }
      EXPECT_NEAR(euclid->cost, ref, 1e-6 * (1 + ref));
      EXPECT_NEAR(astar->cost, ref, 1e-6 * (1 + ref)) << "seed " << seed << " query " << q;
      EXPECT_NEAR(dijkstra->cost, ref, 1e-6 * (1 + ref));
      EXPECT_LE(astar->nodes_settled, dijkstra->nodes_settled);
      EXPECT_LE(euclid->nodes_settled, dijkstra->nodes_settled);
      // The route's geometry runs from start to goal and its steps add up.
      EXPECT_LT((Xy(astar->polyline_in_map.front()) - Xy(s.point_in_map)).norm(), 1e-6);
      EXPECT_LT((Xy(astar->polyline_in_map.back()) - Xy(t.point_in_map)).norm(), 1e-6);
      double steps = 0;
      for (const RouteStep& st : astar->steps) {
        steps += st.length_m;
        for (int64_t id : o.avoid_edge_ids) {
          if (st.edge != s.edge && st.edge != t.edge) {
            EXPECT_NE(g->edges()[st.edge].id, id);
          }
        }
      }
      EXPECT_NEAR(steps, astar->length_m, 1e-6);
    }
  }
}

TEST(PlannerTest, LandmarksOnADisconnectedGraph) {
  // Two components: the landmark bound must prune, not mislead.
  const WalkGraph g = MakeGraph({{0, 0}, {0, 10}, {0, 20}, {100, 0}, {100, 10}}, {{0, 1}, {1, 2}, {3, 4}});
  for (int landmarks : {0, 1, 4}) {
    const Planner planner(g, landmarks);
    EXPECT_EQ(planner.num_landmarks(), landmarks);
    for (auto algorithm : {SearchAlgorithm::kAuto, SearchAlgorithm::kAStar, SearchAlgorithm::kContractionHierarchy})
      EXPECT_THAT(planner.Plan(At(g, 0, 2), At(g, 2, 5), PlanOptions{}, algorithm),
                  StatusIs(absl::StatusCode::kNotFound, HasSubstr("cannot be reached")));
    auto r = planner.Plan(At(g, 0, 2), At(g, 1, 5), PlanOptions{});
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_NEAR(r->length_m, 13, 1e-9);
  }
}

TEST(PlannerTest, CrossingPenaltyAndAlternatives) {
  // Two ways from node 0 to node 4: straight over a crossing (1-2), or a
  // longer sidewalk detour through node 3.
  const WalkGraph g = MakeGraph({{-10, 0}, {0, 0}, {20, 0}, {10, -12}, {30, 0}},
                                {{0, 1}, {1, 2, EdgeKind::kCrossing}, {1, 3}, {3, 2}, {2, 4}});
  const Planner planner(g);
  const EdgePoint s = At(g, 0, 0.0), t = At(g, 4, 10.0);
  PlanOptions o;
  o.crossing_penalty_m = 0;
  auto r = planner.Plan(s, t, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->num_crossings, 1);
  o.crossing_penalty_m = 50;
  r = planner.Plan(s, t, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->num_crossings, 0);
  EXPECT_NEAR(r->length_m, 20 + 2 * std::hypot(10.0, 12.0), 1e-9);

  o.crossing_penalty_m = 0;
  o.num_alternatives = 2;
  o.max_alternative_stretch = 2.0;
  auto routes = planner.PlanWithAlternatives(s, t, o);
  ASSERT_TRUE(routes.ok()) << routes.status();
  ASSERT_EQ(routes->size(), 2u);  // only two distinct ways exist
  EXPECT_EQ((*routes)[0].num_crossings, 1);
  EXPECT_EQ((*routes)[1].num_crossings, 0);
  EXPECT_LE((*routes)[1].cost, 2.0 * (*routes)[0].cost);
}

TEST(SnapTest, NearestAndHeadingAware) {
  // A plus-shaped junction at (0, 0).
  const WalkGraph g = MakeGraph({{0, 0}, {0, 50}, {50, 0}, {0, -50}, {-50, 0}}, {{0, 1}, {0, 2}, {0, 3}, {0, 4}});
  SnapOptions so;
  auto p = g.Snap({1.0, 20.0, 0}, std::nullopt, so);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->edge, 0u);
  EXPECT_NEAR(p->offset_m, 20.0, 1e-9);
  EXPECT_NEAR(p->distance_m, 1.0, 1e-9);
  // Near the junction both the north and east arms are close: the heading decides.
  auto north = g.Snap({1.5, 1.2, 0}, 0.0, so);
  auto east = g.Snap({1.5, 1.2, 0}, 90.0, so);
  auto west = g.Snap({1.5, 1.2, 0}, 270.0, so);
  ASSERT_TRUE(north.ok() && east.ok() && west.ok());
  EXPECT_EQ(north->edge, 0u);
  EXPECT_EQ(east->edge, 1u);
  EXPECT_EQ(west->edge, 1u);  // walking either way along an edge matches it
  // Without a heading: the nearest (the east arm, 1.2 m away).
  auto none = g.Snap({1.5, 1.2, 0}, std::nullopt, so);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->edge, 1u);
  // A far edge never wins on heading alone.
  auto far = g.Snap({30.0, 2.0, 0}, 0.0, so);
  ASSERT_TRUE(far.ok());
  EXPECT_EQ(far->edge, 1u);
}

TEST(SnapTest, RefusesStartFarOutside) {
  const WalkGraph g = MakeGraph({{0, 0}, {0, 50}}, {{0, 1}});
  EXPECT_THAT(g.Snap({5000.0, 20.0, 0}, std::nullopt, SnapOptions{}, "start"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("start is 5000 m from the pedestrian network")));
}

// A straight 200 m route north with a junction at y = 100 (branches east and west).
WalkGraph TeeGraph() {
  return MakeGraph({{0, 0}, {0, 100}, {0, 200}, {100, 100}, {-100, 100}}, {{0, 1}, {1, 2}, {1, 3}, {1, 4}});
}

TEST(GuidanceTest, NoFalseOffRouteUnderOneMetreNoise) {
  const WalkGraph g = TeeGraph();
  const Planner planner(g);
  GuidanceOptions o;
  int false_alarms = 0;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    Rng rng(seed);
    auto guidance = Guidance::Start(planner, {{0, 0, 0}, 0.0, 0}, At(g, 1, 100.0), o);
    ASSERT_TRUE(guidance.ok()) << guidance.status();
    for (int k = 0; k < 330; ++k) {
      const double y = 0.6 * k;
      NavPose pose{{rng.Normal(0, 1.0), y + rng.Normal(0, 1.0), 0}, rng.Normal(0, 10.0), 0.5 * k};
      auto u = guidance->Update(pose);
      ASSERT_TRUE(u.ok());
      if (u->off_route_entered) ++false_alarms;
      if (u->arrived) break;
    }
  }
  EXPECT_EQ(false_alarms, 0);
}

TEST(GuidanceTest, HysteresisIgnoresASpikeButNotASustainedOffset) {
  const WalkGraph g = TeeGraph();
  const Planner planner(g);
  GuidanceOptions o;
  o.reroute = false;
  auto guidance = Guidance::Start(planner, {{0, 0, 0}, 0.0, 0}, At(g, 1, 100.0), o);
  ASSERT_TRUE(guidance.ok());
  double t = 0;
  auto feed = [&](double x, double y) {
    auto u = guidance->Update({{x, y, 0}, 0.0, t += 0.5});
    EXPECT_TRUE(u.ok());
    return *u;
  };
  EXPECT_FALSE(feed(0, 10).off_route);
  EXPECT_FALSE(feed(9, 11).off_route);  // one jump of 9 m
  EXPECT_FALSE(feed(0, 12).off_route);
  EXPECT_FALSE(feed(8, 13).off_route);
  EXPECT_FALSE(feed(8, 14).off_route);
  EXPECT_TRUE(feed(8, 15).off_route_entered);  // third consecutive pose
  // Leaves only below the lower threshold, after two poses.
  EXPECT_TRUE(feed(4, 16).off_route);
  EXPECT_TRUE(feed(1, 17).off_route);
  EXPECT_FALSE(feed(1, 18).off_route);
}

TEST(GuidanceTest, WrongTurnDetectedWithinTenMetresAndRerouted) {
  const WalkGraph g = TeeGraph();
  const Planner planner(g);
  GuidanceOptions o;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    Rng rng(seed);
    auto guidance = Guidance::Start(planner, {{0, 0, 0}, 0.0, 0}, At(g, 1, 100.0), o);
    ASSERT_TRUE(guidance.ok());
    double t = 0, detected_at = -1;
    for (double s = 0; s < 140; s += 0.6) {
      // North to the junction, then east (the wrong way).
      const Eigen::Vector3d truth = s <= 100 ? Eigen::Vector3d(0, s, 0) : Eigen::Vector3d(s - 100, 100, 0);
      const double heading = s <= 100 ? 0.0 : 90.0;
      auto u = guidance->Update(
          {truth + Eigen::Vector3d(rng.Normal(0, 1), rng.Normal(0, 1), 0), heading + rng.Normal(0, 10), t += 0.5});
      ASSERT_TRUE(u.ok());
      if (u->off_route_entered) {
        ASSERT_GT(s, 100.0) << "false alarm before the wrong turn, seed " << seed;
        detected_at = s - 100;
        EXPECT_TRUE(u->rerouted);
        EXPECT_EQ(u->route_version, 1);
        EXPECT_GE(u->reroute_ms, 0.0);
        // The new route leads back west to the junction, then north.
        EXPECT_NEAR(guidance->route().length_m, detected_at + 100, 4.0);
        break;
      }
    }
    ASSERT_GE(detected_at, 0) << "wrong turn missed, seed " << seed;
    EXPECT_LE(detected_at, 10.0);
  }
}

TEST(InstructionsTest, LShapedRoutes) {
  for (const double east : {30.0, -30.0}) {
    const WalkGraph g = MakeGraph({{0, 0}, {0, 50}, {east, 50}}, {{0, 1}, {1, 2}});
    const Planner planner(g);
    auto route = planner.Plan(At(g, 0, 0), At(g, 1, 30), PlanOptions{});
    ASSERT_TRUE(route.ok());
    const std::vector<Maneuver> m = BuildManeuvers(g, *route, InstructionOptions{});
    ASSERT_EQ(m.size(), 3u);
    EXPECT_EQ(m[0].type, ManeuverType::kDepart);
    EXPECT_EQ(m[0].text_zh, "向北出发");
    EXPECT_EQ(m[0].text_en, "Head north");
    EXPECT_EQ(m[1].type, east > 0 ? ManeuverType::kTurnRight : ManeuverType::kTurnLeft);
    EXPECT_NEAR(m[1].at_m, 50, 1e-9);
    EXPECT_EQ(m[2].type, ManeuverType::kArrive);
    EXPECT_NEAR(m[2].at_m, 80, 1e-9);
    const Prompt p = PromptFor(m[1], 30.2);
    EXPECT_EQ(p.zh, east > 0 ? "在 30 米后右转" : "在 30 米后左转");
    EXPECT_EQ(p.en, east > 0 ? "In 30 m, turn right" : "In 30 m, turn left");
    EXPECT_EQ(PromptFor(m[2], 0.4).zh, "到达目的地");
    EXPECT_EQ(PromptFor(m[2], 0.4).en, "You have arrived");

    // Guidance gives the same prompt 20 m after the start and arrives at the end.
    GuidanceOptions o;
    auto guidance = Guidance::FromRoute(planner, *route, o);
    ASSERT_TRUE(guidance.ok());
    auto u = guidance->Update({{0, 20, 0}, 0.0, 1});
    ASSERT_TRUE(u.ok());
    EXPECT_EQ(u->prompt.en, east > 0 ? "In 30 m, turn right" : "In 30 m, turn left");
    EXPECT_NEAR(u->remaining_m, 60, 1e-9);
    for (double y = 25; y <= 50; y += 5) ASSERT_TRUE(guidance->Update({{0, y, 0}, 0.0, y}).ok());
    u = guidance->Update({{east * 0.98, 50, 0}, east > 0 ? 90.0 : 270.0, 60});
    ASSERT_TRUE(u.ok());
    EXPECT_TRUE(u->arrived);
    EXPECT_EQ(u->prompt.zh, "到达目的地");
  }
}

TEST(InstructionsTest, StraightOverACrossing) {
  const WalkGraph g = MakeGraph({{0, 0}, {0, 40}, {0, 56}, {0, 100}}, {{0, 1}, {1, 2, EdgeKind::kCrossing}, {2, 3}});
  const Planner planner(g);
  auto route = planner.Plan(At(g, 0, 0), At(g, 2, 44), PlanOptions{});
  ASSERT_TRUE(route.ok());
  const std::vector<Maneuver> m = BuildManeuvers(g, *route, InstructionOptions{});
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[1].type, ManeuverType::kStraight);
  EXPECT_TRUE(m[1].onto_crossing);
  EXPECT_EQ(PromptFor(m[1], 10).zh, "在 10 米后直行过马路");
  EXPECT_EQ(PromptFor(m[1], 10).en, "In 10 m, go straight across the street");
}

TEST(ArPolylineTest, ResampledAndRoundedAtGroundHeight) {
  const WalkGraph g = MakeGraph({{0, 0}, {0, 50}, {30, 50}}, {{0, 1}, {1, 2}});
  const Planner planner(g);
  auto route = planner.Plan(At(g, 0, 0), At(g, 1, 30), PlanOptions{});
  ASSERT_TRUE(route.ok());
  ArPolylineOptions o;
  const auto line = ArPolyline(*route, o);
  ASSERT_GT(line.size(), 70u);
  double closest_to_corner = 1e9;
  for (size_t i = 1; i < line.size(); ++i) {
    EXPECT_LE((Xy(line[i]) - Xy(line[i - 1])).norm(), o.spacing_m + 1e-6);
    EXPECT_NEAR(line[i].z(), o.ground_offset_m, 1e-9);
    closest_to_corner = std::min(closest_to_corner, (Xy(line[i]) - Eigen::Vector2d(0, 50)).norm());
  }
  // A 3 m radius arc passes (sqrt(2) - 1) * 3 = 1.24 m inside the corner.
  EXPECT_NEAR(closest_to_corner, (std::sqrt(2.0) - 1) * o.corner_radius_m, 0.1);
  EXPECT_LT((Xy(line.back()) - Eigen::Vector2d(30, 50)).norm(), 1e-6);
}

TEST(BadInputTest, UnknownPoiListsCloseNames) {
  Poi a;
  a.id = 1;
  a.name = "星光咖啡";
  a.name_en = "Starlight Coffee";
  Poi b;
  b.id = 2;
  b.name = "平安药房";
  b.name_en = "Ping An Pharmacy";
  const WalkGraph g = MakeGraph({{0, 0}, {0, 50}}, {{0, 1}}, {a, b});
  auto found = g.FindPoi("starlight COFFEE");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ((*found)->id, 1);
  found = g.FindPoi("星光咖啡");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ((*found)->id, 1);
  auto missing = g.FindPoi("Starlite Cofee");
  EXPECT_THAT(missing, StatusIs(absl::StatusCode::kNotFound, HasSubstr("closest names: 星光咖啡 (Starlight Coffee)")));
}

class GeoJsonFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("armap_nav_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path Write(const std::string& name, const std::string& text) {
    const auto p = dir_ / name;
    std::ofstream(p) << text;
    return p;
  }
  std::filesystem::path dir_;
};

constexpr char kNodes[] =
    R"({"type":"Feature","geometry":{"type":"Point","coordinates":[114.0579,22.5431]},"properties":{"kind":"walk_node","id":0,"degree":1}},
       {"type":"Feature","geometry":{"type":"Point","coordinates":[114.0579,22.5436]},"properties":{"kind":"walk_node","id":1,"degree":1}})";

TEST_F(GeoJsonFileTest, LoadsNetworkAndPois) {
  const auto net = Write("network.geojson", std::string(R"({"type":"FeatureCollection","features":[)") + kNodes +
                                                R"(,{"type":"Feature","geometry":{"type":"LineString","coordinates":[[114.0579,22.5431],[114.0579,22.5436]]},"properties":{"kind":"sidewalk","id":7,"from":0,"to":1,"length_m":55.3,"width_m":3}},
       {"type":"Feature","geometry":{"type":"LineString","coordinates":[[114.0570,22.5431],[114.0590,22.5431]]},"properties":{"kind":"road","id":0}}]})");
  const auto pois = Write("pois.geojson",
                          R"({"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[114.0579,22.5433]},"properties":{"id":3,"name":"星光咖啡","name_en":"Starlight Coffee","category":"cafe","confidence":0.9,"position_enu":[5,20,3],"panoramas":[]}}]})");
  auto g = LoadWalkGraph(net, pois, EnuFrame({22.5431, 114.0579, 10.0}));
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->num_nodes(), 2u);
  ASSERT_EQ(g->num_edges(), 1u);  // the road is ignored
  EXPECT_NEAR(g->edges()[0].polyline_length_m, 55.3, 0.3);
  EXPECT_NEAR(g->nodes()[0].position_in_map.z(), 0.0, 1e-6);  // no altitude: on the reference plane
  ASSERT_EQ(g->pois().size(), 1u);
  EXPECT_NEAR(g->pois()[0].position_in_map.y(), 20.0, 1e-12);
}

TEST_F(GeoJsonFileTest, CorruptFilesNameFileAndFeature) {
  const EnuFrame frame({22.5431, 114.0579, 10.0});
  const auto missing_node = Write("bad_edge.geojson", std::string(R"({"type":"FeatureCollection","features":[)") + kNodes +
                                                          R"(,{"type":"Feature","geometry":{"type":"LineString","coordinates":[[114.0579,22.5431],[114.0579,22.5436]]},"properties":{"kind":"crossing","id":7,"from":0,"to":9,"length_m":55.3}}]})");
  EXPECT_THAT(LoadWalkGraph(missing_node, {}, frame),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::AllOf(HasSubstr("bad_edge.geojson: feature 2"), HasSubstr("node 9"))));
  const auto zero = Write("zero.geojson", std::string(R"({"type":"FeatureCollection","features":[)") + kNodes +
                                              R"(,{"type":"Feature","geometry":{"type":"LineString","coordinates":[[114.0579,22.5431],[114.0579,22.5436]]},"properties":{"kind":"sidewalk","id":7,"from":0,"to":1,"length_m":0}}]})");
  EXPECT_THAT(LoadWalkGraph(zero, {}, frame), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("zero.geojson: feature 2: length_m = 0")));
  const auto nan = Write("nan.geojson", R"({"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":["x",22.5]},"properties":{"kind":"walk_node","id":0}}]})");
  EXPECT_THAT(LoadWalkGraph(nan, {}, frame), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("nan.geojson: feature 0")));
  const auto truncated = Write("truncated.geojson", R"({"type":"FeatureCollection","features":[)");
  EXPECT_THAT(LoadWalkGraph(truncated, {}, frame), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("truncated.geojson")));
}

TEST(EvaluationTest, IdenticalNetworksMeetTheGoals) {
  GridNetworkOptions go;
  go.cols = 6;
  go.rows = 6;
  go.drop_fraction = 0.1;
  auto g = MakeGridNetwork(go);
  ASSERT_TRUE(g.ok());
  NavigationEvalOptions o;
  o.num_routes = 20;
  auto report = EvaluateNavigation(*g, *g, o);
  ASSERT_TRUE(report.ok()) << report.status();
  const auto& j = *report;
  EXPECT_EQ(j["routes"].get<int>(), 20);
  EXPECT_NEAR(j["route_length_ratio_vs_gt"].get<double>(), 1.0, 1e-9);
  EXPECT_EQ(j["false_offroute_rate"].get<double>(), 0.0);
  EXPECT_GT(j["wrong_turn_walks"].get<int>(), 10);
  EXPECT_EQ(j["missed_offroute_rate"].get<double>(), 0.0);
  EXPECT_LE(j["offroute_detect_distance_m"]["p90"].get<double>(), 10.0);
  EXPECT_TRUE(j["plan_ms"].contains("p99"));
  EXPECT_TRUE(j["reroute_ms"].contains("p99"));
}

}  // namespace
}  // namespace armap::nav

namespace armap::nav {
namespace {

// A map whose network stops at x = 60 m where the truth runs on to 100 m,
// with the mapped area ending there too: routes ending beyond it snap to the
// map's end (shorter than the truth) and are judged apart.
TEST(EvaluationTest, RoutesBeyondTheMappedAreaAreReportedApart) {
  const WalkGraph truth = MakeGraph({{0, 0}, {50, 0}, {100, 0}, {50, 30}}, {{0, 1}, {1, 2}, {1, 3}});
  const WalkGraph map = MakeGraph({{0, 0}, {50, 0}, {60, 0}, {50, 30}}, {{0, 1}, {1, 2}, {1, 3}});
  NavigationEvalOptions o;
  o.num_routes = 40;
  o.guidance.snap.max_snap_distance_m = 60;
  auto unfair = EvaluateNavigation(map, truth, o);
  ASSERT_TRUE(unfair.ok()) << unfair.status();
  EXPECT_LT((*unfair)["route_length_ratio_vs_gt_min"].get<double>(), 0.95);
  EXPECT_EQ((*unfair)["routes_in_mapped_area"].get<int>(), 40);

  o.mapped_area_in_map = {{{{-2, -2}, {61, -2}, {61, 32}, {-2, 32}}}};
  auto fair = EvaluateNavigation(map, truth, o);
  ASSERT_TRUE(fair.ok()) << fair.status();
  const auto& j = *fair;
  const int mapped = j["routes_in_mapped_area"].get<int>();
  EXPECT_GT(mapped, 5);
  EXPECT_LT(mapped, 40);
  EXPECT_NEAR(j["route_length_ratio_vs_gt"].get<double>(), 1.0, 1e-9);
  EXPECT_EQ(j["routes_within_1pct"].get<double>(), 1.0);
  EXPECT_EQ(j["all_routes"]["routes_compared"].get<int>(), 40);
  EXPECT_LT(j["all_routes"]["route_length_ratio_vs_gt_min"].get<double>(), 0.95);
  // The worst route is one beyond the mapped area, listed with its points.
  ASSERT_FALSE(j["worst_routes"].empty());
  EXPECT_FALSE(j["worst_routes"][0]["in_mapped_area"].get<bool>());
  EXPECT_GT(j["worst_routes"][0]["true_goal_xy_m"][0].get<double>() + j["worst_routes"][0]["true_start_xy_m"][0].get<double>(), 60);

  o.mapped_area_in_map = {{{{0, 0}, {1, std::nan("")}, {1, 1}}}};
  EXPECT_THAT(EvaluateNavigation(map, truth, o).status(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("mapped_area_in_map")));
}

}  // namespace
}  // namespace armap::nav
