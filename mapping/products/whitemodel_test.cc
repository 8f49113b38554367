#include "mapping/products/whitemodel.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/json.h"
#include "core/testing/status_matchers.h"
#include "core/testing/temp_dir.h"
#include "datasets/synthetic/appearance.h"
#include "datasets/synthetic/city_model.h"
#include "datasets/synthetic/lidar_sim.h"
#include "datasets/synthetic/scene.h"
#include "mapping/products/whitemodel_geometry.h"

namespace armap::mapping {
namespace {

namespace fs = std::filesystem;
using ::armap::testing::StatusIs;
using ::testing::HasSubstr;

// Per-process temporary folders, removed at the end.
class TempDir : public ::armap::testing::TempDir {
 public:
  explicit TempDir(const std::string& name) : ::armap::testing::TempDir("armap_whitemodel_test", name) {}
};

const GeoPoint kOrigin{22.5431, 114.0579, 10.0};

void WriteManifest(const fs::path& map_dir) {
  fs::create_directories(map_dir);
  OrderedJson m{{"format", "armap-map"}, {"origin", {{"lat", kOrigin.lat_deg}, {"lon", kOrigin.lon_deg}, {"alt", kOrigin.alt_m}}}};
  ASSERT_TRUE(WriteJsonFile(map_dir / "manifest.json", m).ok());
}

// gt/buildings.geojson as the synthetic capture writes it (footprint, height_m, lod, roof_parts).
void WriteGroundTruth(const synth::City& city, const fs::path& path) {
  const EnuFrame frame(city.options.origin);
  auto ring = [&](const std::vector<Eigen::Vector2d>& poly) {
    OrderedJson r = OrderedJson::array();
    for (size_t i = 0; i <= poly.size(); ++i) {
      const GeoPoint g = frame.Wgs84FromEnu({poly[i % poly.size()].x(), poly[i % poly.size()].y(), 0});
      r.push_back({g.lon_deg, g.lat_deg});
    }
    return OrderedJson::array({r});
  };
  OrderedJson features = OrderedJson::array();
  for (const synth::Building& b : city.buildings) {
    OrderedJson parts = OrderedJson::array();
    for (const synth::BuildingPart& p : b.parts) parts.push_back({{"height_m", p.top_m}, {"polygon", ring(p.polygon)}});
    features.push_back({{"type", "Feature"},
                        {"geometry", {{"type", "Polygon"}, {"coordinates", ring(b.footprint)}}},
                        {"properties", {{"id", b.id}, {"height_m", b.height_m}, {"lod", b.IsLod2() ? 2 : 1}, {"roof_parts", parts}}}});
  }
  fs::create_directories(path.parent_path());
  ASSERT_TRUE(WriteJsonFile(path, OrderedJson{{"type", "FeatureCollection"}, {"features", features}}).ok());
}

Eigen::Matrix3d RigRotation(const Eigen::Vector2d& heading) {
  Eigen::Matrix3d r;  // rig: z forward, x right, y down
  r.col(0) = Eigen::Vector3d(heading.y(), -heading.x(), 0);
  r.col(1) = Eigen::Vector3d(0, 0, -1);
  r.col(2) = Eigen::Vector3d(heading.x(), heading.y(), 0);
  return r;
}

// A 100 m city (one junction) scanned along its route with a coarser lidar
// than the default capture (0.6 deg, 60 m), so the test takes seconds.
// Buildings are capped at 12 m: without panoramas, heights come from the wall
// tops the lidar sees (its +15 deg beams reach 12 m from 35 m away).
synth::City SmallCity(bool with_buildings, double lower_level_step_m = 0.0) {
  synth::CityOptions co;
  co.seed = 3;
  co.size_m = 100;
  co.origin = kOrigin;
  synth::City city = synth::GenerateCity(co);
  if (!with_buildings) {
    city.buildings.clear();
    city.signs.clear();
  }
  for (synth::Building& b : city.buildings) {
    b.height_m = 0;
    for (size_t k = 0; k < b.parts.size(); ++k) {
      // Keep distinct levels distinct (LOD2): the lower ones 3 m below.
      synth::BuildingPart& p = b.parts[k];
      const double top = 11.0 + 0.5 * (b.id % 3);
      p.top_m = p.top_m < b.parts[0].top_m - 1 ? (lower_level_step_m > 0 ? top - lower_level_step_m : 8.0) : top;
      b.height_m = std::max(b.height_m, p.top_m);
    }
  }
  return city;
}

LidarMap SimulateLidar(const synth::City& city) {
  const synth::Scene scene(city);
  auto appearance = synth::Appearance::Create(scene, "");
  EXPECT_TRUE(appearance.ok()) << appearance.status();
  synth::LidarOptions lo;
  lo.azimuth_resolution_deg = 0.6;
  lo.max_range_m = 60;
  const double speed_mps = 5.0;
  auto world_from_rig = [&](double t) {
    Eigen::Vector2d p, h;
    city.route.Sample(t * speed_mps, &p, &h);
    return Rigid3d(Eigen::Quaterniond(RigRotation(h.normalized())), Eigen::Vector3d(p.x(), p.y(), 2.5));
  };
  PointCloud all;
  EXPECT_TRUE(synth::SimulateLidar(scene, **appearance, lo, world_from_rig, city.route.LengthM() / speed_mps, 7,
                                   [&](int, PointCloud&& c) {
                                     for (size_t i = 0; i < c.size(); ++i)
                                       all.points.push_back((c.origin + c.points[i].cast<double>()).cast<float>());
                                     return absl::OkStatus();
                                   })
                  .ok());
  LidarPreprocessOptions po;
  po.sor_neighbors = 8;
  auto lidar = PreprocessLidarCloud(std::move(all), po, nullptr);
  EXPECT_TRUE(lidar.ok()) << lidar.status();
  return std::move(*lidar);
}

// Every simplified building stays within the level's stated tolerances of
// its full model: outline (plan) and roof-part heights.
// The capture positions the free-space rays start from: every 10th route
// point, at the rig's 2.5 m.
ProductInputs RouteInputs(const synth::City& city) {
  ProductInputs inputs;
  for (size_t i = 0; i < city.route.points.size(); i += 10) {
    inputs.route_positions.push_back({city.route.points[i].x(), city.route.points[i].y(), 2.5});
  }
  return inputs;
}

void ExpectSimplifiedWithinTolerances(const WhiteModelResult& r, const WhiteModelOptions& o) {
  ASSERT_EQ(r.full.buildings.size(), r.simplified.buildings.size());
  EXPECT_LE(r.summary["simplified_max_outline_distance_m"].get<double>(), o.simplified_tolerance_m + 1e-9);
  EXPECT_LE(r.summary["simplified_max_height_deviation_m"].get<double>(), o.simplified_height_tolerance_m + 1e-9);
  EXPECT_LE(r.simplified.NumVertices(), r.full.NumVertices());
  for (size_t i = 0; i < r.full.buildings.size(); ++i) {
    const BuildingModel& f = r.full.buildings[i];
    const BuildingModel& s = r.simplified.buildings[i];
    SCOPED_TRACE(::testing::Message() << "building " << f.id);
    EXPECT_LE(internal::OutlineDistance(f.footprint, s.footprint), o.simplified_tolerance_m + 1e-6);
    EXPECT_LE(s.parts.size(), f.parts.size());
    // Every full part's centre lies under a simplified part within the height tolerance.
    for (const RoofPart& fp : f.parts) {
      Eigen::Vector2d c = Eigen::Vector2d::Zero();
      for (const Eigen::Vector2d& p : fp.polygon) c += p;
      c /= static_cast<double>(fp.polygon.size());
      bool covered = false;
      for (const RoofPart& sp : s.parts) {
        const internal::Polygon2 tiny{c + Eigen::Vector2d(-0.05, -0.05), c + Eigen::Vector2d(0.05, -0.05),
                                      c + Eigen::Vector2d(0.05, 0.05), c + Eigen::Vector2d(-0.05, 0.05)};
        if (internal::PolygonIoU(tiny, sp.polygon) > 0) {
          covered = true;
          EXPECT_LE(std::abs(sp.height_m - fp.height_m), o.simplified_height_tolerance_m + 1e-6);
        }
      }
      EXPECT_TRUE(covered);
    }
  }
}

TEST(WhiteModels, SyntheticCityMatchesGroundTruth) {
  const synth::City city = SmallCity(true);
  ASSERT_GE(city.buildings.size(), 4u);
  const LidarMap lidar = SimulateLidar(city);
  ProductInputs inputs;  // no panoramas: the capped buildings' tops are in the lidar
  auto result = BuildWhiteModels(lidar, inputs, WhiteModelOptions());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->summary["buildings"].get<int>(), static_cast<int>(result->full.buildings.size()));
  EXPECT_TRUE(result->summary["seconds"].contains("total"));

  TempDir dir("city");
  const fs::path map_dir = dir.path() / "map";
  WriteManifest(map_dir);
  const EnuFrame frame(kOrigin);
  ASSERT_TRUE(WriteWhiteModels(*result, frame, map_dir / "whitemodel").ok());
  WriteGroundTruth(city, dir.path() / "gt" / "buildings.geojson");
  auto report = EvaluateWhiteModels(map_dir, dir.path() / "gt");
  ASSERT_TRUE(report.ok()) << report.status();
  SCOPED_TRACE(report->dump(1));
  std::printf("small city: %d gt, %d found, IoU median %.3f p10 %.3f, height err median %.3f m, vertex ratio %.3f, %d LOD2\n",
              (*report)["buildings_gt"].get<int>(), (*report)["buildings_found"].get<int>(),
              (*report)["footprint_iou_median"].get<double>(), (*report)["footprint_iou_p10"].get<double>(),
              (*report)["height_err_median_m"].get<double>(), (*report)["vertex_reduction_ratio"].get<double>(),
              result->summary["buildings_lod2"].get<int>());
  for (const auto& b : (*report)["buildings"]) std::printf("  gt %d IoU %.3f\n", b["gt_id"].get<int>(), b["iou"].get<double>());
  const int gt = (*report)["buildings_gt"].get<int>();
  EXPECT_EQ(gt, static_cast<int>(city.buildings.size()));
  // The route runs along one street: buildings are seen from one or two
  // sides, notches facing away are never seen (the default city: IoU median
  // 0.85). Every building must still be found, its footprint mostly right.
  EXPECT_EQ((*report)["buildings_found"].get<int>(), gt);
  EXPECT_GE((*report)["footprint_iou_median"].get<double>(), 0.8);
  // Wall tops seen by the lidar: centimetres (range noise 2 cm, 5 cm voxels).
  EXPECT_LE((*report)["height_err_median_m"].get<double>(), 0.3);
  EXPECT_LE((*report)["vertex_reduction_ratio"].get<double>(), 1.0);
  ExpectSimplifiedWithinTolerances(*result, WhiteModelOptions());
  EXPECT_GT((*report)["vertex_reduction_ratio"].get<double>(), 0.0);

  // Files: both levels in all three formats.
  for (const char* level : {"full", "simplified"}) {
    for (const char* ext : {".city.json", ".glb", ".geojson"})
      EXPECT_TRUE(fs::exists(map_dir / "whitemodel" / (std::string(level) + ext))) << level << ext;
  }
  // CityJSON 1.1 structure.
  auto city_json = ReadJsonFile(map_dir / "whitemodel" / "full.city.json");
  ASSERT_TRUE(city_json.ok());
  EXPECT_EQ((*city_json)["type"], "CityJSON");
  EXPECT_EQ((*city_json)["version"], "1.1");
  ASSERT_TRUE((*city_json)["transform"].contains("scale"));
  ASSERT_TRUE((*city_json)["vertices"].is_array());
  ASSERT_FALSE((*city_json)["vertices"].empty());
  EXPECT_TRUE((*city_json)["vertices"][0][0].is_number_integer());
  int buildings = 0;
  for (const auto& [id, o] : (*city_json)["CityObjects"].items()) {
    if (o["type"] == "Building") {
      ++buildings;
      EXPECT_TRUE(o["attributes"].contains("measuredHeight")) << id;
      for (const Json& g : o["geometry"]) {
        EXPECT_EQ(g["type"], "Solid");
        EXPECT_EQ(g["lod"], "1");
      }
    } else {
      EXPECT_EQ(o["type"], "BuildingPart") << id;
      EXPECT_EQ(o["geometry"][0]["lod"], "2");
    }
  }
  EXPECT_EQ(buildings, static_cast<int>(result->full.buildings.size()));
  EXPECT_EQ((*city_json)["metadata"]["+enuOrigin"]["lat"].get<double>(), kOrigin.lat_deg);
  // glTF 2.0 binary header.
  std::ifstream glb(map_dir / "whitemodel" / "full.glb", std::ios::binary);
  char magic[4];
  uint32_t version = 0;
  glb.read(magic, 4);
  glb.read(reinterpret_cast<char*>(&version), 4);
  EXPECT_EQ(std::string(magic, 4), "glTF");
  EXPECT_EQ(version, 2u);
  // GeoJSON reads back to the same footprints (through WGS84: < 1 mm).
  auto back = ReadWhiteModelGeoJson(map_dir / "whitemodel" / "full.geojson", frame);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->buildings.size(), result->full.buildings.size());
  for (size_t i = 0; i < back->buildings.size(); ++i) {
    EXPECT_NEAR(back->buildings[i].height_m, result->full.buildings[i].height_m, 1e-9);
    EXPECT_NEAR(internal::PolygonIoU(back->buildings[i].footprint, result->full.buildings[i].footprint), 1.0, 1e-4);
  }
  EXPECT_EQ(back->NumVertices(), result->full.NumVertices());
}

// A U-shaped building whose courtyard opens onto the street, alone in the
// small city, and its model with the free-space rays (route given) and
// without them.
TEST(WhiteModels, UShapedBuildingStaysOneBuildingAndItsCourtyardIsCarved) {
  synth::City city = SmallCity(true);
  ASSERT_FALSE(city.streets.empty());
  const synth::Street* along_x = nullptr;
  const synth::Street* along_y = nullptr;
  for (const synth::Street& st : city.streets) (st.along_x ? along_x : along_y) = &st;
  ASSERT_NE(along_x, nullptr);
  // North of the west-east street (the route), east of the other one.
  const double y0 = along_x->position_m + along_x->OuterEdgeOffset() + 2.0;
  const double x0 = (along_y ? along_y->position_m + along_y->OuterEdgeOffset() : 0.0) + 4.0;
  const double x1 = x0 + 24.0, arm = 7.0, depth = 22.0, yard = 15.0;
  auto rect = [](double ax, double ay, double bx, double by) {
    return std::vector<Eigen::Vector2d>{{ax, ay}, {bx, ay}, {bx, by}, {ax, by}};
  };
  synth::Building u;
  u.id = 0;
  u.shape = "U";
  u.footprint = {{x0, y0}, {x0 + arm, y0}, {x0 + arm, y0 + yard}, {x1 - arm, y0 + yard},
                 {x1 - arm, y0}, {x1, y0}, {x1, y0 + depth}, {x0, y0 + depth}};
  ASSERT_GT(internal::SignedArea(u.footprint), 0);
  u.parts = {{rect(x0, y0, x0 + arm, y0 + depth), 11.0}, {rect(x1 - arm, y0, x1, y0 + depth), 11.0},
             {rect(x0 + arm, y0 + yard, x1 - arm, y0 + depth), 11.0}};
  u.height_m = 11.0;
  city.buildings = {u};
  city.signs.clear();
  const LidarMap lidar = SimulateLidar(city);

  const ProductInputs with_route = RouteInputs(city);
  WhiteModelOptions no_rays;
  no_rays.free_ray_max_height_m = 0;
  auto rays = BuildWhiteModels(lidar, with_route, WhiteModelOptions());
  auto plain = BuildWhiteModels(lidar, with_route, no_rays);
  ASSERT_TRUE(rays.ok()) << rays.status();
  ASSERT_TRUE(plain.ok()) << plain.status();
  ASSERT_EQ(rays->full.buildings.size(), 1u);
  ASSERT_EQ(plain->full.buildings.size(), 1u);
  EXPECT_GT(rays->summary["free_space_rays"].get<int>(), 0);
  EXPECT_EQ(plain->summary["free_space_rays"].get<int>(), 0);
  const double iou_rays = internal::PolygonIoU(rays->full.buildings[0].footprint, u.footprint);
  const double iou_plain = internal::PolygonIoU(plain->full.buildings[0].footprint, u.footprint);
  std::printf("U-shaped building: footprint IoU %.3f with free-space rays, %.3f without\n", iou_rays, iou_plain);
  // The courtyard is 150 of 528 m^2 of the footprint's box (filled: IoU
  // 0.72). The lidar sees its walls but little of its floor (0.86 from the
  // ground alone); the rays to its walls carve it (0.99 when written).
  EXPECT_GE(iou_rays, 0.95);
  EXPECT_GE(iou_rays, iou_plain + 0.05);
}

// A tower set back on a podium, alone in the small city: its walls seen
// above the podium's roof make a LOD2 part of the tower's height.
TEST(WhiteModels, SetbackTowerIsALod2PartOfItsOwnHeight) {
  synth::City city = SmallCity(true);
  const synth::Street* along_x = nullptr;
  const synth::Street* along_y = nullptr;
  for (const synth::Street& st : city.streets) (st.along_x ? along_x : along_y) = &st;
  ASSERT_NE(along_x, nullptr);
  const double y0 = along_x->position_m + along_x->OuterEdgeOffset() + 2.0;
  const double x0 = (along_y ? along_y->position_m + along_y->OuterEdgeOffset() : 0.0) + 4.0;
  auto rect = [](double ax, double ay, double bx, double by) {
    return std::vector<Eigen::Vector2d>{{ax, ay}, {bx, ay}, {bx, by}, {ax, by}};
  };
  // Podium 7 m, tower 13 m (within the small city's lidar reach, no
  // panoramas), set back 5 m from the street front and 6 m from the sides.
  synth::Building b;
  b.id = 0;
  b.shape = "setback";
  b.footprint = rect(x0, y0, x0 + 26, y0 + 20);
  const std::vector<Eigen::Vector2d> tower = rect(x0 + 6, y0 + 5, x0 + 20, y0 + 16);
  b.parts = {{b.footprint, 7.0}, {tower, 13.0}};
  b.height_m = 13.0;
  city.buildings = {b};
  city.signs.clear();
  const LidarMap lidar = SimulateLidar(city);
  const ProductInputs inputs = RouteInputs(city);
  auto result = BuildWhiteModels(lidar, inputs, WhiteModelOptions());
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->full.buildings.size(), 1u);
  const BuildingModel& m = result->full.buildings[0];
  EXPECT_EQ(result->summary["setback_towers"].get<int>(), 1);
  EXPECT_EQ(m.lod, 2);
  // Heights from the wall tops: centimetres off (range noise, voxels), 0.3 m allowed.
  EXPECT_NEAR(m.height_m, 13.0, 0.3);
  const RoofPart* top = nullptr;
  for (const RoofPart& p : m.parts)
    if (!top || p.height_m > top->height_m) top = &p;
  ASSERT_NE(top, nullptr);
  const double tower_iou = internal::PolygonIoU(top->polygon, tower);
  std::printf("setback tower: model %.2f m, tower part IoU %.3f, footprint IoU %.3f\n", m.height_m, tower_iou,
              internal::PolygonIoU(m.footprint, b.footprint));
  // The tower's plan is the box of its walls seen above the podium (0.91
  // when written: its far side is seen from farther, less of it).
  EXPECT_GE(tower_iou, 0.8);
  for (const RoofPart& p : m.parts) {
    if (&p != top) {
      EXPECT_NEAR(p.height_m, 7.0, 0.3);
    }
  }
  EXPECT_GE(internal::PolygonIoU(m.footprint, b.footprint), 0.9);
  ExpectSimplifiedWithinTolerances(*result, WhiteModelOptions());
}

TEST(WhiteModels, SceneWithoutBuildingsGivesNoModels) {
  // Trees, lamp poles and parked cars along the street are not buildings.
  const synth::City city = SmallCity(false);
  ASSERT_TRUE(city.buildings.empty());
  ASSERT_FALSE(city.trees.empty() && city.poles.empty());
  const LidarMap lidar = SimulateLidar(city);
  auto result = BuildWhiteModels(lidar, ProductInputs(), WhiteModelOptions());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->full.buildings.empty());
  EXPECT_TRUE(result->simplified.buildings.empty());
  EXPECT_EQ(result->summary["buildings"].get<int>(), 0);
  TempDir dir("empty");
  ASSERT_TRUE(WriteWhiteModels(*result, EnuFrame(kOrigin), dir.path()).ok());
  auto back = ReadWhiteModelGeoJson(dir.path() / "simplified.geojson", EnuFrame(kOrigin));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(back->buildings.empty());
}

TEST(WhiteModels, CloudWithoutGroundGivesNoModelsAndAWarning) {
  // A wall in the air: no ground, so no base to measure heights from.
  PointCloud cloud;
  for (double x = 0; x < 20; x += 0.05)
    for (double z = 5; z < 15; z += 0.05) cloud.points.emplace_back(x, 0.0, z);
  auto lidar = PreprocessLidarCloud(std::move(cloud), LidarPreprocessOptions(), nullptr);
  ASSERT_TRUE(lidar.ok()) << lidar.status();
  ASSERT_EQ(lidar->num_ground(), 0u);
  auto result = BuildWhiteModels(*lidar, ProductInputs(), WhiteModelOptions());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->full.buildings.empty());
  ASSERT_EQ(result->summary["warnings"].size(), 1u);
  EXPECT_THAT(result->summary["warnings"][0].get<std::string>(), HasSubstr("no ground"));
}

TEST(WhiteModels, OptionsNameTheBadField) {
  WhiteModelOptions o;
  o.simplified_tolerance_m = 0;
  EXPECT_THAT(o.Validate(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("simplified_tolerance_m")));
  o = WhiteModelOptions();
  o.full_tolerance_m = 2 * o.simplified_tolerance_m;
  EXPECT_THAT(o.Validate(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("full_tolerance_m")));
  o = WhiteModelOptions();
  o.grid_cell_m = -1;
  PointCloud cloud;
  cloud.points.emplace_back(0, 0, 0);
  auto lidar = PreprocessLidarCloud(std::move(cloud), LidarPreprocessOptions(), nullptr);
  ASSERT_TRUE(lidar.ok());
  EXPECT_THAT(BuildWhiteModels(*lidar, ProductInputs(), o).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("grid_cell_m")));
}

TEST(WhiteModels, TwoLevelBuildingsAreLod2AndTheSimplifiedLevelJoinsCloseLevels) {
  // The lower wings 2.2 m below the main roof: distinct levels for the full
  // model (lod2_min_step_m 1.5), one level within the simplified level's
  // 3 m height tolerance.
  const synth::City city = SmallCity(true, 2.2);
  int gt_lod2 = 0;
  for (const synth::Building& b : city.buildings) gt_lod2 += b.IsLod2();
  ASSERT_GE(gt_lod2, 1);
  const LidarMap lidar = SimulateLidar(city);
  const WhiteModelOptions options;
  auto result = BuildWhiteModels(lidar, ProductInputs(), options);
  ASSERT_TRUE(result.ok()) << result.status();
  int lod2 = 0;
  for (size_t i = 0; i < result->full.buildings.size(); ++i) {
    const BuildingModel& f = result->full.buildings[i];
    if (f.lod != 2) continue;
    ++lod2;
    // Its levels: the truth's two heights within 0.5 m (wall tops in the lidar).
    const auto [lo, hi] = std::minmax_element(f.parts.begin(), f.parts.end(),
                                              [](const RoofPart& a, const RoofPart& b) { return a.height_m < b.height_m; });
    EXPECT_NEAR(hi->height_m - lo->height_m, 2.2, 0.5) << "building " << f.id;
    // Simplified: one LOD1 block, fewer vertices.
    const BuildingModel& s = result->simplified.buildings[i];
    EXPECT_EQ(s.lod, 1) << "building " << f.id;
    EXPECT_EQ(s.parts.size(), 1u);
  }
  EXPECT_GE(lod2, 1);
  EXPECT_LT(result->simplified.NumVertices(), result->full.NumVertices());
  ExpectSimplifiedWithinTolerances(*result, options);
  // A tighter height tolerance keeps the levels apart.
  WhiteModelOptions tight = options;
  tight.simplified_height_tolerance_m = 1.0;
  auto kept = BuildWhiteModels(lidar, ProductInputs(), tight);
  ASSERT_TRUE(kept.ok()) << kept.status();
  for (size_t i = 0; i < kept->full.buildings.size(); ++i) {
    if (kept->full.buildings[i].lod == 2) {
      EXPECT_EQ(kept->simplified.buildings[i].lod, 2);
    }
  }
  ExpectSimplifiedWithinTolerances(*kept, tight);
}

// Eval figures on hand-made models: one exact, one shifted, one missing.
TEST(WhiteModelEval, FiguresOnHandMadeModels) {
  TempDir dir("eval");
  const fs::path map_dir = dir.path() / "map";
  WriteManifest(map_dir);
  synth::City city;
  city.options.origin = kOrigin;
  auto square = [](double x0, double y0, double s) {
    return std::vector<Eigen::Vector2d>{{x0, y0}, {x0 + s, y0}, {x0 + s, y0 + s}, {x0, y0 + s}};
  };
  for (int k = 0; k < 3; ++k) {
    synth::Building b;
    b.id = k;
    b.footprint = square(40.0 * k, 0, 20);
    b.parts = {{b.footprint, 10.0 + k}};
    b.height_m = 10.0 + k;
    city.buildings.push_back(b);
  }
  WriteGroundTruth(city, dir.path() / "gt" / "buildings.geojson");
  WhiteModelResult r;
  BuildingModel exact;
  exact.id = 0;
  exact.footprint = square(0, 0, 20);
  exact.height_m = 10.2;  // 0.2 m too high
  exact.parts = {{exact.footprint, exact.height_m}};
  BuildingModel shifted = exact;
  shifted.id = 1;
  shifted.footprint = square(42, 0, 20);  // 2 m east: IoU = 18*20 / (2*400 - 360) = 0.818
  shifted.height_m = 11.0;
  shifted.parts = {{shifted.footprint, shifted.height_m}};
  r.full.buildings = {exact, shifted};
  r.simplified = r.full;
  r.simplified.tolerance_m = 1.0;
  ASSERT_TRUE(WriteWhiteModels(r, EnuFrame(kOrigin), map_dir / "whitemodel").ok());
  auto report = EvaluateWhiteModels(map_dir, dir.path() / "gt" / "buildings.geojson");
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ((*report)["buildings_gt"].get<int>(), 3);
  EXPECT_EQ((*report)["buildings_found"].get<int>(), 2);
  // IoUs {1, 0.818, 0}: median 0.818, p10 (interpolated) 0.2 * 0.818.
  EXPECT_NEAR((*report)["footprint_iou_median"].get<double>(), 360.0 / 440.0, 1e-4);
  EXPECT_NEAR((*report)["footprint_iou_p10"].get<double>(), 0.2 * 360.0 / 440.0, 1e-4);
  EXPECT_NEAR((*report)["height_err_median_m"].get<double>(), 0.1, 1e-6);  // median of {0.2, 0}
  EXPECT_NEAR((*report)["vertex_reduction_ratio"].get<double>(), 1.0, 1e-9);
  EXPECT_EQ((*report)["observed"]["buildings_gt"].get<int>(), 3);  // no views.json: all observed
}

TEST(WhiteModelEval, BadFilesAreNamed) {
  TempDir dir("bad");
  const fs::path map_dir = dir.path() / "map";
  WriteManifest(map_dir);
  WhiteModelResult r;
  ASSERT_TRUE(WriteWhiteModels(r, EnuFrame(kOrigin), map_dir / "whitemodel").ok());
  const fs::path gt = dir.path() / "buildings.geojson";
  {
    std::ofstream f(gt);
    f << "{\"type\": \"FeatureCollection\", \"features\": [{\"type\": \"Feature\", \"geometry\"";  // truncated
  }
  EXPECT_THAT(EvaluateWhiteModels(map_dir, gt).status(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(gt.string())));
  {
    std::ofstream f(gt);
    f << R"({"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "Polygon",
          "coordinates": [[[114.0, 22.5], [114.001, 22.5], [114.001, 22.501], [114.0, 22.5]]]}, "properties": {}}]})";
  }
  EXPECT_THAT(EvaluateWhiteModels(map_dir, gt).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("features[0].properties: missing field 'height_m'")));
  EXPECT_THAT(EvaluateWhiteModels(map_dir, dir.path() / "nothing.geojson").status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("nothing.geojson")));
  EXPECT_FALSE(EvaluateWhiteModels(dir.path() / "no_map", gt).ok());
}

TEST(WhiteModelGeometry, RectilinearizeSnapsANoisyL) {
  // An L with 0.1 m noise on its vertices and a slightly slanted edge.
  const internal::Polygon2 noisy{{0, 0}, {20.1, 0.05}, {20, 10.1}, {10.05, 9.9}, {9.9, 20}, {0.1, 20.05}};
  const internal::Polygon2 snapped = internal::Rectilinearize(noisy, 15.0);
  ASSERT_EQ(snapped.size(), 6u);
  EXPECT_FALSE(internal::AxisEdges(snapped).empty());
  const internal::Polygon2 truth{{0, 0}, {20, 0}, {20, 10}, {10, 10}, {10, 20}, {0, 20}};
  EXPECT_GT(internal::PolygonIoU(snapped, truth), 0.98);
  // Rectangles of the L: 3 grid cells, merged into 2 when heights agree.
  std::vector<internal::Rect> pieces = internal::RectilinearPieces(truth);
  ASSERT_EQ(pieces.size(), 3u);
  std::vector<double> heights{10, 10, 10}, areas;
  for (const internal::Rect& p : pieces) areas.push_back((p.u1 - p.u0) * (p.v1 - p.v0));
  internal::MergePieces(&pieces, &heights, &areas, 1.0);
  EXPECT_EQ(pieces.size(), 2u);
}

TEST(WhiteModelGeometry, RectilinearizeMergesASnappedAwayJogIntoARectangle) {
  // A raster outline of the default city: a 0.5 m spike on the bottom edge
  // snaps to a zero-length jog; left in, it broke the axis edges (and with
  // them the heights measured on them).
  const internal::Polygon2 spiky{{-89.87, 3.87}, {-89.87, 37.48}, {-66.52, 37.48}, {-66.52, 3.87},
                                 {-87.36, 3.87}, {-87.61, 4.37},  {-87.86, 3.87}};
  const internal::Polygon2 snapped = internal::Rectilinearize(spiky, 45.0);
  ASSERT_EQ(snapped.size(), 4u);
  EXPECT_FALSE(internal::AxisEdges(snapped).empty());
  const internal::Polygon2 truth{{-89.87, 3.87}, {-66.52, 3.87}, {-66.52, 37.48}, {-89.87, 37.48}};
  EXPECT_GT(internal::PolygonIoU(snapped, truth), 0.999);
  // Repeated and collinear vertices go, in any order; a triangle stays.
  EXPECT_EQ(internal::RemoveRepeatedAndCollinear({{0, 0}, {5, 0}, {5, 0}, {10, 0}, {10, 10}, {0, 10}}).size(), 4u);
  EXPECT_EQ(internal::RemoveRepeatedAndCollinear({{0, 0}, {1, 0}, {0, 1}}).size(), 3u);
}

TEST(WhiteModelGeometry, SimplifyDropsJogsWithinTheTolerance) {
  // A rectangle with a 0.4 m deep, 3 m wide jog: gone at 1 m, kept at 0.2 m.
  const internal::Polygon2 jog{{0, 0}, {10, 0}, {10, 4}, {10.4, 4}, {10.4, 7}, {10, 7}, {10, 12}, {0, 12}};
  EXPECT_EQ(internal::Simplify(jog, 1.0).size(), 4u);
  EXPECT_EQ(internal::Simplify(jog, 0.2).size(), 8u);
  EXPECT_NEAR(internal::PolygonIoU({{0, 0}, {2, 0}, {2, 2}, {0, 2}}, {{1, 0}, {3, 0}, {3, 2}, {1, 2}}), 1.0 / 3.0, 1e-9);
}

TEST(WhiteModelGeometry, SimplifyWithinDropsShallowNotchesOnly) {
  // 20 x 12 m with a 0.6 m deep notch and a 0.8 m step (under 1 m) and a
  // 3 m deep courtyard notch (over it).
  const internal::Polygon2 poly{{0, 0}, {20, 0}, {20, 5}, {20.8, 5}, {20.8, 12}, {14, 12}, {14, 11.4}, {10, 11.4},
                                {10, 12}, {7, 12}, {7, 9}, {3, 9}, {3, 12}, {0, 12}};
  const internal::Polygon2 s = internal::SimplifyWithin(poly, 1.0);
  EXPECT_EQ(s.size(), 8u);  // the rectangle with the courtyard notch
  EXPECT_LE(internal::OutlineDistance(poly, s), 1.0);
  EXPECT_GT(internal::PolygonIoU(poly, s), 0.95);
  // Merged edges sit between the old ones (0.3 m from either side of the
  // 0.6 m notch), so at 0.25 m nothing may go.
  const internal::Polygon2 kept = internal::SimplifyWithin(poly, 0.25);
  EXPECT_EQ(kept.size(), poly.size());
  EXPECT_LE(internal::OutlineDistance(poly, kept), 0.25);
  // Outline distance: a square shifted by 0.5 m is 0.5 m away.
  EXPECT_NEAR(internal::OutlineDistance({{0, 0}, {4, 0}, {4, 4}, {0, 4}}, {{0.5, 0}, {4.5, 0}, {4.5, 4}, {0.5, 4}}), 0.5, 1e-9);
  // The three rectangles of a U are one 8-vertex outline; two apart are none.
  const std::vector<internal::Rect> u{{0, 0, 30, 10}, {0, 10, 10, 20}, {20, 10, 30, 20}};
  const internal::Polygon2 outline = internal::UnionOutline(u);
  EXPECT_EQ(outline.size(), 8u);
  EXPECT_NEAR(internal::PolygonArea(outline), 500.0, 1e-6);
  EXPECT_GT(internal::SignedArea(outline), 0);
  EXPECT_TRUE(internal::UnionOutline({{0, 0, 1, 1}, {3, 0, 4, 1}}).empty());
}

}  // namespace
}  // namespace armap::mapping
