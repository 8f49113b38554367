#include "mapping/products/roads.h"

#include <unistd.h>

#include <cmath>
#include <limits>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/json.h"
#include "core/map/package.h"
#include "core/testing/status_matchers.h"
#include "core/testing/temp_dir.h"
#include "datasets/synthetic/appearance.h"
#include "datasets/synthetic/city_model.h"
#include "datasets/synthetic/lidar_sim.h"
#include "datasets/synthetic/scene.h"
#include "mapping/products/whitemodel.h"

namespace armap::mapping {
namespace {

namespace fs = std::filesystem;
using ::armap::testing::StatusIs;
using ::testing::HasSubstr;

// Per-process temporary folders, removed at the end.
class TempDir : public ::armap::testing::TempDir {
 public:
  explicit TempDir(const std::string& name) : ::armap::testing::TempDir("armap_roads_test", name) {}
};

const GeoPoint kOrigin{22.5431, 114.0579, 10.0};

// A map folder with just the manifest (the eval reads the origin from it).
void WriteManifest(const fs::path& map_dir) {
  map::Manifest m;
  m.map_id = "roads_test";
  m.created_by = "roads_test";
  m.created_utc = "2026-01-01T00:00:00Z";
  m.origin = kOrigin;
  fs::create_directories(map_dir);
  ASSERT_TRUE(WriteJsonFile(map_dir / "manifest.json", m.ToJson()).ok());
}

// The synthetic city's pedestrian network in the gt/roads.geojson form.
void WriteGroundTruth(const synth::City& city, const fs::path& path) {
  const EnuFrame frame(city.options.origin);
  auto coord = [&](const Eigen::Vector2d& p) {
    const GeoPoint g = frame.Wgs84FromEnu(Eigen::Vector3d(p.x(), p.y(), 0));
    return Json::array({g.lon_deg, g.lat_deg});
  };
  OrderedJson features = OrderedJson::array();
  for (const synth::WalkNode& n : city.walk_nodes) {
    features.push_back({{"type", "Feature"},
                        {"geometry", {{"type", "Point"}, {"coordinates", coord(n.position)}}},
                        {"properties", {{"kind", "walk_node"}, {"id", n.id}}}});
  }
  for (const synth::WalkEdge& e : city.walk_edges) {
    features.push_back({{"type", "Feature"},
                        {"geometry",
                         {{"type", "LineString"},
                          {"coordinates", Json::array({coord(city.walk_nodes[e.from].position), coord(city.walk_nodes[e.to].position)})}}},
                        {"properties", {{"kind", e.kind}, {"id", e.id}, {"from", e.from}, {"to", e.to}, {"width_m", e.width_m}}}});
  }
  ASSERT_TRUE(WriteJsonFile(path, OrderedJson{{"type", "FeatureCollection"}, {"features", features}}).ok());
}

Eigen::Matrix3d RigRotation(const Eigen::Vector2d& heading) {
  // Rig frame: z forward, x right, y down.
  Eigen::Matrix3d r;
  r.col(0) = Eigen::Vector3d(heading.y(), -heading.x(), 0);
  r.col(1) = Eigen::Vector3d(0, 0, -1);
  r.col(2) = Eigen::Vector3d(heading.x(), heading.y(), 0);
  return r;
}

struct SimulatedCapture {
  LidarMap lidar;
  ProductInputs inputs;
  WhiteModelLevel footprints;  // the city's true footprints (stand-in for the white models)
};

// A 100 m city (one junction) scanned along its route: a 32-beam lidar at a
// coarser azimuth than the default capture so the test stays in seconds.
SimulatedCapture Simulate(const synth::City& city) {
  SimulatedCapture out;
  const synth::Scene scene(city);
  auto appearance = synth::Appearance::Create(scene, "");
  EXPECT_TRUE(appearance.ok()) << appearance.status();
  synth::LidarOptions lo;
  lo.azimuth_resolution_deg = 0.6;
  lo.max_range_m = 50;
  const double speed_mps = 5.0;
  const double duration_s = city.route.LengthM() / speed_mps;
  auto world_from_rig = [&](double t) {
    Eigen::Vector2d p, h;
    city.route.Sample(t * speed_mps, &p, &h);
    return Rigid3d(Eigen::Quaterniond(RigRotation(h.normalized())), Eigen::Vector3d(p.x(), p.y(), 2.5));
  };
  PointCloud all;
  EXPECT_TRUE(synth::SimulateLidar(scene, **appearance, lo, world_from_rig, duration_s, 7,
                                   [&](int, PointCloud&& c) {
                                     for (size_t i = 0; i < c.size(); ++i) {
                                       all.points.push_back((c.origin + c.points[i].cast<double>()).cast<float>());
                                       all.intensity.push_back(c.intensity[i]);
                                     }
                                     return absl::OkStatus();
                                   })
                  .ok());
  LidarPreprocessOptions po;
  po.sor_neighbors = 8;
  auto lidar = PreprocessLidarCloud(std::move(all), po, nullptr);
  EXPECT_TRUE(lidar.ok()) << lidar.status();
  out.lidar = std::move(*lidar);
  // The route as the map builder passes it: panorama positions every ~8 m.
  for (double s = 1.0; s < city.route.LengthM(); s += 8.0) {
    Eigen::Vector2d p, h;
    city.route.Sample(s, &p, &h);
    out.inputs.route_positions.emplace_back(p.x(), p.y(), 2.5);
  }
  for (const synth::Building& b : city.buildings) {
    BuildingModel m;
    m.id = b.id;
    m.footprint = b.footprint;
    m.height_m = b.height_m;
    out.footprints.buildings.push_back(m);
  }
  return out;
}

synth::City SmallCity(bool with_buildings) {
  synth::CityOptions co;
  co.seed = 3;
  co.size_m = 100;
  co.origin = kOrigin;
  synth::City city = synth::GenerateCity(co);
  if (!with_buildings) {
    city.buildings.clear();
    city.signs.clear();
  }
  return city;
}

// Builds, writes and evaluates; checks the figures against the city's truth.
void CheckAgainstTruth(const synth::City& city, const SimulatedCapture& capture, const std::string& name) {
  RoadNetworkOptions options;
  // Intermediate rasters for a look, on request.
  if (const char* debug = std::getenv("ARMAP_ROADS_TEST_DEBUG_DIR")) options.debug_dir = fs::path(debug) / name;
  auto network = BuildRoadNetwork(capture.lidar, capture.inputs, capture.footprints, options);
  ASSERT_TRUE(network.ok()) << network.status();
  EXPECT_GT(network->edges.size(), 4u);
  EXPECT_FALSE(network->coverage.empty());
  EXPECT_TRUE(network->summary.contains("seconds"));
  EXPECT_EQ(network->summary["edges"].get<size_t>(), network->edges.size());

  TempDir tmp(name);
  const fs::path map_dir = tmp.path() / "map";
  WriteManifest(map_dir);
  const EnuFrame frame(kOrigin);
  ASSERT_TRUE(WriteRoadNetwork(*network, frame, map_dir / "roads").ok());
  WriteGroundTruth(city, tmp.path() / "roads.geojson");

  // The files read back as written (WGS84 round trip to the millimetre).
  auto back = ReadRoadNetwork(map_dir / "roads" / "network.geojson", frame);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->edges.size(), network->edges.size());
  ASSERT_EQ(back->nodes.size(), network->nodes.size());
  for (size_t i = 0; i < back->edges.size(); ++i) {
    EXPECT_EQ(back->edges[i].kind, network->edges[i].kind);
    EXPECT_EQ(back->edges[i].from, network->edges[i].from);
    ASSERT_EQ(back->edges[i].polyline.size(), network->edges[i].polyline.size());
    EXPECT_LT((back->edges[i].polyline[0] - network->edges[i].polyline[0]).norm(), 1e-3);
  }

  auto eval = EvaluateRoadNetwork(map_dir, tmp.path() / "roads.geojson");
  ASSERT_TRUE(eval.ok()) << eval.status();
  const OrderedJson& e = *eval;
  SCOPED_TRACE(e.dump(1));
  // The goals (precision and recall >= 0.9, offset <= 0.5 m) over
  // the mapped area; the one junction's four corners must all be found.
  EXPECT_GE(e["length_precision"].get<double>(), 0.9);
  EXPECT_GE(e["length_recall"].get<double>(), 0.9);
  EXPECT_LE(e["mean_offset_m"].get<double>(), 0.5);
  EXPECT_EQ(e["junctions_gt"].get<int>(), 4);
  EXPECT_DOUBLE_EQ(e["junction_recall"].get<double>(), 1.0);
  EXPECT_GE(e["length_recall_by_kind"]["crossing"].get<double>(), 0.9);
  // Corners where the crossings start: each of our junctions lies at the
  // true corner (the crossing point of the GT sidewalk centrelines), not
  // rounded outwards by the medial axis;
  // a route with two crossings would be off by twice that.
  {
    double worst = 0;
    int junctions = 0;
    for (const WalkNetworkNode& n : network->nodes) {
      if (n.degree < 3) continue;
      double nearest = std::numeric_limits<double>::infinity();
      for (const synth::WalkNode& g : city.walk_nodes) nearest = std::min(nearest, (n.position.head<2>() - g.position).norm());
      worst = std::max(worst, nearest);
      ++junctions;
    }
    std::printf("%s: %d junctions, farthest %.2f m from a true corner\n", name.c_str(), junctions, worst);
    EXPECT_GE(junctions, 4);
    EXPECT_LE(worst, 0.5);  // 0.26 and 0.43 m here; 0.64 and 0.66 m without the step
  }
  // The whole GT reaches beyond the lidar: its recall cannot exceed the mapped one's.
  EXPECT_LE(e["whole_gt"]["length_recall"].get<double>(), e["length_recall"].get<double>() + 1e-9);
  const std::string table = RoadEvaluationMarkdown(e);
  EXPECT_THAT(table, HasSubstr("| length_precision |"));
  std::printf("%s: %zu nodes, %zu edges\n%s", name.c_str(), network->nodes.size(), network->edges.size(), table.c_str());
}

TEST(RoadNetwork, SyntheticCityMatchesGroundTruth) {
  const synth::City city = SmallCity(true);
  const SimulatedCapture capture = Simulate(city);
  CheckAgainstTruth(city, capture, "city");
}

TEST(RoadNetwork, CaptureWithoutBuildings) {
  const synth::City city = SmallCity(false);
  ASSERT_TRUE(city.buildings.empty());
  SimulatedCapture capture = Simulate(city);
  ASSERT_TRUE(capture.footprints.buildings.empty());
  CheckAgainstTruth(city, capture, "no_buildings");
}

TEST(RoadNetwork, NoGroundGivesAnEmptyNetworkWithAWarning) {
  // A facade alone: nothing the ground filter accepts.
  PointCloud wall;
  for (int i = 0; i < 200; ++i) {
    for (int k = 0; k < 100; ++k) {
      wall.points.emplace_back(0.f, 0.1f * i, 2.0f + 0.1f * k);
      wall.intensity.push_back(50.f);
    }
  }
  auto lidar = PreprocessLidarCloud(std::move(wall), LidarPreprocessOptions(), nullptr);
  ASSERT_TRUE(lidar.ok()) << lidar.status();
  ASSERT_EQ(lidar->num_ground(), 0u);
  ProductInputs inputs;
  inputs.route_positions = {{5, 0, 2.5}, {5, 10, 2.5}};
  auto network = BuildRoadNetwork(*lidar, inputs, WhiteModelLevel(), RoadNetworkOptions());
  ASSERT_TRUE(network.ok()) << network.status();
  EXPECT_TRUE(network->nodes.empty());
  EXPECT_TRUE(network->edges.empty());
  ASSERT_EQ(network->summary["warnings"].size(), 1u);
  EXPECT_THAT(network->summary["warnings"][0].get<std::string>(), HasSubstr("no ground"));
}

TEST(RoadNetwork, RouteAwayFromTheGroundGivesAnEmptyNetwork) {
  PointCloud ground;
  for (int i = 0; i < 100; ++i) {
    for (int k = 0; k < 100; ++k) {
      ground.points.emplace_back(0.2f * i, 0.2f * k, 0.f);
      ground.intensity.push_back(20.f);
    }
  }
  ProductInputs inputs;
  inputs.route_positions = {{500, 0, 2.5}, {510, 0, 2.5}};
  auto network = BuildRoadNetworkFromGround(ground, inputs, WhiteModelLevel(), RoadNetworkOptions());
  ASSERT_TRUE(network.ok()) << network.status();
  EXPECT_TRUE(network->edges.empty());
  EXPECT_THAT(network->summary["warnings"][0].get<std::string>(), HasSubstr("route"));
}

TEST(RoadNetwork, BadInputs) {
  PointCloud ground;
  ground.points.emplace_back(0.f, 0.f, 0.f);
  ground.intensity.push_back(1.f);
  ProductInputs inputs;
  EXPECT_THAT(BuildRoadNetworkFromGround(ground, inputs, WhiteModelLevel(), RoadNetworkOptions()).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("route_positions")));
  inputs.route_positions = {{0, 0, 0}};
  RoadNetworkOptions bad;
  bad.cell_size_m = 0;
  EXPECT_THAT(BuildRoadNetworkFromGround(ground, inputs, WhiteModelLevel(), bad).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("RoadNetworkOptions::cell_size_m")));
  bad = RoadNetworkOptions();
  bad.sidewalk_intensity_ratio = -1;
  EXPECT_THAT(bad.Validate(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sidewalk_intensity_ratio")));
  // Without intensity, sidewalks cannot be told from the road: empty, with a warning.
  ground.intensity.clear();
  auto network = BuildRoadNetworkFromGround(ground, inputs, WhiteModelLevel(), RoadNetworkOptions());
  ASSERT_TRUE(network.ok());
  EXPECT_THAT(network->summary["warnings"][0].get<std::string>(), HasSubstr("intensity"));
}

// Hand-made GT: two 40 m sidewalks 10 m apart (x = 0 and x = 10, y in
// [0, 40]) joined by a crossing at y = 20. The coverage spans y < 30 only.
struct HandMade {
  TempDir tmp{"hand"};
  fs::path map_dir = tmp.path() / "map";
  fs::path gt = tmp.path() / "gt";
  EnuFrame frame{kOrigin};
  HandMade() {
    synth::City city;
    city.options.origin = kOrigin;
    city.walk_nodes = {{0, {0, 0}}, {1, {0, 20}}, {2, {0, 40}}, {3, {10, 0}}, {4, {10, 20}}, {5, {10, 40}}};
    city.walk_edges = {{0, 0, 1, "sidewalk", 4}, {1, 1, 2, "sidewalk", 4}, {2, 3, 4, "sidewalk", 4},
                       {3, 4, 5, "sidewalk", 4}, {4, 1, 4, "crossing", 4}};
    fs::create_directories(gt);
    WriteGroundTruth(city, gt / "roads.geojson");
    WriteManifest(map_dir);
  }
  // Our network: the GT shifted by (dx, 0) (sidewalks) and (0, dy) (the crossing).
  RoadNetwork Shifted(double dx, double dy) const {
    RoadNetwork n;
    const double xs[2] = {0, 10};
    for (int s = 0; s < 2; ++s) {
      for (int k = 0; k < 3; ++k) n.nodes.push_back({3 * s + k, Eigen::Vector3d(xs[s] + dx, 20.0 * k + (k == 1 ? dy : 0), 0), k == 1 ? 3 : 1});
    }
    auto edge = [&](int id, int a, int b, const char* kind) {
      n.edges.push_back({id, a, b, kind, {n.nodes[a].position, n.nodes[b].position}, 20, 4});
    };
    edge(0, 0, 1, "sidewalk");
    edge(1, 1, 2, "sidewalk");
    edge(2, 3, 4, "sidewalk");
    edge(3, 4, 5, "sidewalk");
    edge(4, 1, 4, "crossing");
    n.coverage = {{{{-5, -5}, {15, -5}, {15, 30}, {-5, 30}}}};
    return n;
  }
};

TEST(RoadNetworkEval, PerfectAndShiftedNetworks) {
  HandMade h;
  ASSERT_TRUE(WriteRoadNetwork(h.Shifted(0, 0), h.frame, h.map_dir / "roads").ok());
  auto e = EvaluateRoadNetwork(h.map_dir, h.gt);  // the gt/ folder form
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_NEAR((*e)["length_precision"].get<double>(), 1.0, 1e-9);
  EXPECT_NEAR((*e)["length_recall"].get<double>(), 1.0, 1e-9);
  EXPECT_NEAR((*e)["mean_offset_m"].get<double>(), 0.0, 1e-3);
  EXPECT_NEAR((*e)["junction_recall"].get<double>(), 1.0, 1e-9);
  EXPECT_EQ((*e)["junctions_gt"].get<int>(), 2);
  // Mapped GT: the sidewalks up to y = 30 (2 x 30 m) and the crossing (10 m).
  EXPECT_NEAR((*e)["gt_length_m"].get<double>(), 70.0, 0.5);
  EXPECT_NEAR((*e)["whole_gt"]["gt_length_m"].get<double>(), 90.0, 1e-6);
  EXPECT_NEAR((*e)["whole_gt"]["length_recall"].get<double>(), 1.0, 1e-9);

  // 1 m sideways: everything still matches. Mapped area (70 m of ours):
  // the sidewalks are 1 m off except within 1 m of the GT crossing, where
  // the x = 1 one is |y - 20| off (saving 1 m x m); the crossing is 0 m off
  // except its last metre beyond the GT sidewalk at x = 10 (0.5 m mean).
  ASSERT_TRUE(WriteRoadNetwork(h.Shifted(1.0, 0), h.frame, h.map_dir / "roads").ok());
  e = EvaluateRoadNetwork(h.map_dir, h.gt / "roads.geojson");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_NEAR((*e)["length_precision"].get<double>(), 1.0, 1e-9);
  EXPECT_NEAR((*e)["mean_offset_m"].get<double>(), (60.0 - 1.0 + 0.5) / 70.0, 0.01);
  EXPECT_NEAR((*e)["whole_gt"]["mean_offset_m"].get<double>(), (80.0 - 1.0 + 0.5) / 90.0, 0.01);

  // 3.5 m sideways: the sidewalks match only within 2 m of a perpendicular
  // line (4 m), the crossing over its overlap with the GT one (6.5 m) plus
  // 2 m within reach of a GT sidewalk: 12.5 of the 70 mapped GT metres.
  // Ours counts inside the GT's extent (x <= 11): the x = 3.5 sidewalk
  // (30 m, 4 matched) and the crossing up to x = 11 (7.5 m, 7.5 matched).
  // No junction within 3 m.
  ASSERT_TRUE(WriteRoadNetwork(h.Shifted(3.5, 0), h.frame, h.map_dir / "roads").ok());
  e = EvaluateRoadNetwork(h.map_dir, h.gt);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_NEAR((*e)["length_precision"].get<double>(), 11.5 / 37.5, 0.01);
  EXPECT_NEAR((*e)["length_recall"].get<double>(), 12.5 / 70.0, 0.01);
  EXPECT_NEAR((*e)["junction_recall"].get<double>(), 0.0, 1e-9);
}

TEST(RoadNetworkEval, BadInputsNameTheFile) {
  HandMade h;
  // No network written yet.
  const absl::Status missing = EvaluateRoadNetwork(h.map_dir, h.gt).status();
  EXPECT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.message()), HasSubstr("network.geojson"));
  ASSERT_TRUE(WriteRoadNetwork(h.Shifted(0, 0), h.frame, h.map_dir / "roads").ok());
  // GT without pedestrian lines.
  ASSERT_TRUE(WriteJsonFile(h.tmp.path() / "empty.geojson", OrderedJson{{"type", "FeatureCollection"}, {"features", Json::array()}}).ok());
  EXPECT_THAT(EvaluateRoadNetwork(h.map_dir, h.tmp.path() / "empty.geojson").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty.geojson")));
  // A GT that is not GeoJSON.
  ASSERT_TRUE(WriteJsonFile(h.tmp.path() / "bad.geojson", OrderedJson{{"type", "Feature"}}).ok());
  EXPECT_THAT(EvaluateRoadNetwork(h.map_dir, h.tmp.path() / "bad.geojson").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("FeatureCollection")));
  // An edge to a missing node.
  RoadNetwork broken = h.Shifted(0, 0);
  broken.edges[0].to = 99;
  ASSERT_TRUE(WriteRoadNetwork(broken, h.frame, h.map_dir / "roads").ok());
  EXPECT_THAT(ReadRoadNetwork(h.map_dir / "roads" / "network.geojson", h.frame).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("missing node")));
}

}  // namespace
}  // namespace armap::mapping
