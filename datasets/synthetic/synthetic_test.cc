#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/camera.h"
#include "core/files.h"
#include "core/io/ply.h"
#include "core/io/trajectory.h"
#include "core/json.h"
#include "core/random.h"
#include "core/testing/status_matchers.h"
#include "datasets/synthetic/appearance.h"
#include "datasets/synthetic/bvh.h"
#include "datasets/synthetic/capture_generator.h"
#include "datasets/synthetic/city_model.h"
#include "datasets/synthetic/scene.h"

namespace armap::synth {
namespace {

using ::armap::testing::IsOk;
using ::armap::testing::StatusIs;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

fs::path TempDir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("armap_synth_test_" + name);
  fs::remove_all(dir);
  return dir;
}

// A small, fast capture: 60 m city, coarse lidar, small images.
CaptureOptions SmallCapture(const fs::path& out, uint64_t seed) {
  CaptureOptions o;
  o.city.seed = seed;
  o.city.size_m = 60;
  o.out_dir = out;
  o.num_panos = 3;
  o.num_queries = 4;
  o.pano_width_px = 512;
  o.query_width_px = 320;
  o.query_height_px = 240;
  o.lidar.beams = 16;
  o.lidar.azimuth_resolution_deg = 1.0;
  o.vehicle_speed_mps = 10.0;
  o.photo_root = ARMAP_SHARED_DATASETS;
  return o;
}

TEST(CityModelTest, DefaultCityHasTheRequestedStructure) {
  for (uint64_t seed : {1, 2, 3, 4, 5}) {
    CityOptions options;
    options.seed = seed;
    const City city = GenerateCity(options);
    EXPECT_GE(city.buildings.size(), 15u) << "seed " << seed;
    EXPECT_LE(city.buildings.size(), 40u) << "seed " << seed;
    int lod2 = 0;
    for (const Building& b : city.buildings) {
      EXPECT_GE(b.height_m, 6.0);
      EXPECT_LE(b.height_m, 120.0 + 1e-9);
      lod2 += b.IsLod2();
      // No building stands on a road or sidewalk.
      for (const auto& p : b.footprint) {
        EXPECT_EQ(city.GroundAt(p), City::Ground::kLot) << "building " << b.id << " corner " << p.transpose();
      }
    }
    EXPECT_GT(lod2, 0) << "some buildings must have stepped roofs";
    EXPECT_GT(city.signs.size(), 10u);
    // The route runs on carriageways only.
    for (size_t i = 0; i < city.route.points.size(); i += 10) {
      const auto g = city.GroundAt(city.route.points[i]);
      EXPECT_TRUE(g == City::Ground::kRoad || g == City::Ground::kCrossing) << city.route.points[i].transpose();
    }
  }
}

TEST(CityModelTest, WalkNetworkIsConnectedAndOnSidewalks) {
  const City city = GenerateCity(CityOptions{});
  std::vector<int> parent(city.walk_nodes.size());
  for (size_t i = 0; i < parent.size(); ++i) parent[i] = static_cast<int>(i);
  std::function<int(int)> find = [&](int x) { return parent[x] == x ? x : parent[x] = find(parent[x]); };
  for (const WalkEdge& e : city.walk_edges) parent[find(e.from)] = find(e.to);
  for (size_t i = 0; i < parent.size(); ++i) EXPECT_EQ(find(static_cast<int>(i)), find(0));
  for (const WalkEdge& e : city.walk_edges) {
    const auto mid = 0.5 * (city.walk_nodes[e.from].position + city.walk_nodes[e.to].position);
    const auto ground = city.GroundAt(mid);
    const auto expected = e.kind == "crossing" ? City::Ground::kCrossing : City::Ground::kSidewalk;
    EXPECT_EQ(ground, expected) << e.kind << " edge " << e.id << " at " << mid.transpose();
  }
}

TEST(BvhTest, MatchesBruteForce) {
  Rng rng(11);
  std::vector<Eigen::Vector3f> tris;
  for (int i = 0; i < 3000; ++i) {
    const Eigen::Vector3f c(rng.Uniform(-50, 50), rng.Uniform(-50, 50), rng.Uniform(0, 30));
    for (int k = 0; k < 3; ++k) tris.push_back(c + Eigen::Vector3f(rng.Uniform(-2, 2), rng.Uniform(-2, 2), rng.Uniform(-2, 2)));
  }
  Bvh bvh;
  bvh.Build(tris);
  for (int r = 0; r < 500; ++r) {
    Ray ray{Eigen::Vector3f(rng.Uniform(-60, 60), rng.Uniform(-60, 60), rng.Uniform(0, 30)),
            Eigen::Vector3f(rng.Normal(), rng.Normal(), rng.Normal()).normalized()};
    float best = 1e9f;
    int best_tri = -1;
    for (size_t t = 0; t < tris.size() / 3; ++t) {
      float d, u, v;
      if (IntersectTriangle(ray, tris[3 * t], tris[3 * t + 1] - tris[3 * t], tris[3 * t + 2] - tris[3 * t], &d, &u, &v) &&
          d > 1e-4f && d < best) {
        best = d;
        best_tri = static_cast<int>(t);
      }
    }
    TriangleHit hit;
    const bool found = bvh.Intersect(ray, 1e-4f, 1e9f, &hit);
    ASSERT_EQ(found, best_tri >= 0);
    if (found) {
      EXPECT_EQ(hit.triangle, best_tri);
      EXPECT_NEAR(hit.t, best, 1e-4f);
    }
  }
}

std::map<std::string, std::string> ReadTree(const fs::path& root) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file()) files[fs::relative(e.path(), root).string()] = *ReadFileToString(e.path());
  }
  return files;
}

// Texture detail must stay where it is on the surface at every mip level:
// a shift that grows with the level moves image features by a fraction of
// a pixel depending on distance, which no camera pose explains (it biased
// the alignment of the default city by ~0.04 deg). A linear ramp survives
// pyrDown's symmetric filter unchanged away from the borders, so every
// level must read back the ramp's value at the sampled coordinate.
TEST(AppearanceTest, MipLevelsKeepTextureDetailInPlace) {
  constexpr int kN = 256;
  cv::Mat ramp(kN, kN, CV_32FC3);
  for (int r = 0; r < kN; ++r) {
    for (int c = 0; c < kN; ++c) {
      // Texel (c, r) covers u in [c / kN, (c + 1) / kN); its centre holds u.
      ramp.at<cv::Vec3f>(r, c) = cv::Vec3f((c + 0.5f) / kN, (r + 0.5f) / kN, 0.5f);
    }
  }
  const PhotoPatchLibrary lib = PhotoPatchLibrary::FromPatches({ramp});
  for (int level = 0; level <= 4; ++level) {
    const double footprint = std::ldexp(1.0, level) * 1.01 / kN;  // just into `level`
    for (double u : {0.4, 0.4567, 0.5, 0.61}) {
      const double v = 1.0 - u;
      // The tiles repeat mirrored: u + 1 reads the patch at 1 - u, -u at u.
      for (const auto& [su, sv] : {std::pair{u, v}, std::pair{2.0 - u, 2.0 - v}, std::pair{-u, 2.0 + v}}) {
        const Eigen::Vector3d rgb = lib.Sample(0, su, sv, footprint);  // RGB: (0.5, v, u)
        // 0.02 level-0 texels; the bugs were (2^level - 1) / 2 texels, and
        // 2^level more in mirrored tiles.
        EXPECT_NEAR(rgb.z(), u, 0.02 / kN) << "level " << level << " u " << su;
        EXPECT_NEAR(rgb.y(), v, 0.02 / kN) << "level " << level << " v " << sv;
      }
    }
  }
}

TEST(CaptureTest, SameSeedGivesByteIdenticalOutput) {
  const fs::path a = TempDir("det_a"), b = TempDir("det_b");
  ASSERT_THAT(GenerateCapture(SmallCapture(a, 7)).status(), IsOk());
  ASSERT_THAT(GenerateCapture(SmallCapture(b, 7)).status(), IsOk());
  const auto files_a = ReadTree(a), files_b = ReadTree(b);
  ASSERT_EQ(files_a.size(), files_b.size());
  for (const auto& [name, bytes] : files_a) {
    ASSERT_TRUE(files_b.count(name)) << name;
    EXPECT_TRUE(files_b.at(name) == bytes) << name << " differs";
  }
  for (const char* required : {"capture.json", "trajectory.csv", "queries.json", "gt/panos_gt.csv", "gt/queries_gt.json",
                               "gt/buildings.geojson", "gt/roads.geojson", "gt/pois.geojson", "panos/pano_0000.jpg",
                               "lidar/chunk_000.ply", "queries/q0000.jpg"}) {
    EXPECT_TRUE(files_a.count(required)) << required;
  }
  fs::remove_all(a);
  fs::remove_all(b);
}

// Projects lidar points into an image with the true pose and checks that a
// pixel within 1 px casts a ray onto the same surface point. Returns the
// fraction of visible points that pass.
double ConsistentFraction(const Scene& scene, const PointCloud& cloud, const Camera& camera, const Rigid3d& cam_from_world,
                          int* num_checked) {
  const Rigid3d world_from_cam = cam_from_world.Inverse();
  const Eigen::Vector3d centre = world_from_cam.translation;
  const double pixel_angle = camera.IsPerspective() ? 1.0 / camera.FocalLengthX() : 2 * M_PI / camera.width;
  int checked = 0, passed = 0;
  for (size_t i = 0; i < cloud.size() && checked < 400; i += 97) {
    const Eigen::Vector3d p = cloud.Point(i);
    const double dist = (p - centre).norm();
    if (dist > 40.0) continue;
    Eigen::Vector2d pixel;
    if (!camera.Project(cam_from_world * p, &pixel) || !camera.InImage(pixel)) continue;
    // Visible from this camera? (lidar sees around corners the camera cannot)
    SceneHit direct;
    if (scene.Trace(centre, (p - centre) / dist, dist + 1.0, &direct) && direct.t < dist - 0.15) continue;
    ++checked;
    // 5 sigma of lidar range noise, plus how far a 1.5 px change of ray moves
    // the hit along the surface at this distance and incidence.
    const double cos_incidence = std::max(0.1, std::abs(direct.normal.dot((p - centre) / dist)));
    const double tolerance_m = 0.1 + 1.5 * dist * pixel_angle / cos_incidence;
    bool ok = false;
    for (int dy = -1; dy <= 1 && !ok; ++dy) {
      for (int dx = -1; dx <= 1 && !ok; ++dx) {
        const Eigen::Vector2d px(std::round(pixel.x()) + dx, std::round(pixel.y()) + dy);
        if ((px - pixel).cwiseAbs().maxCoeff() > 1.0 + 1e-9) continue;  // within 1 px
        const Eigen::Vector3d ray = world_from_cam.rotation * camera.Unproject(px);
        SceneHit hit;
        if (scene.Trace(centre, ray, 200.0, &hit) && (hit.point - p).norm() < tolerance_m) ok = true;
      }
    }
    passed += ok;
  }
  *num_checked = checked;
  return checked ? static_cast<double>(passed) / checked : 0.0;
}

TEST(CaptureTest, LidarPanoramasAndQueriesAreGeometricallyConsistent) {
  const fs::path dir = TempDir("geom");
  CaptureOptions options = SmallCapture(dir, 3);
  ASSERT_THAT(GenerateCapture(options).status(), IsOk());
  const City city = GenerateCity(options.city);
  const Scene scene(city);
  auto cloud = io::ReadPly(dir / "lidar" / "chunk_000.ply");
  ASSERT_THAT(cloud.status(), IsOk());
  ASSERT_GT(cloud->size(), 1000u);
  ASSERT_TRUE(cloud->HasTimestamps());
  ASSERT_TRUE(cloud->HasIntensity());

  auto panos_or = io::ReadTrajectoryCsv(dir / "gt" / "panos_gt.csv");
  ASSERT_THAT(panos_or.status(), IsOk());
  const std::vector<io::PoseStamped>& panos = *panos_or;
  ASSERT_EQ(panos.size(), 3u);
  const Camera pano = Camera::Equirectangular(options.pano_width_px, options.pano_width_px / 2);
  for (const io::PoseStamped& row : panos) {
    int checked = 0;
    const double fraction = ConsistentFraction(scene, *cloud, pano, row.world_from_rig.Inverse(), &checked);
    EXPECT_GT(checked, 50) << row.name;
    // Points on silhouettes may pass within 1 px of an edge; 97% must agree.
    EXPECT_GE(fraction, 0.97) << row.name << " (" << checked << " points)";
  }
  // The measured trajectory differs from the truth by the error model.
  auto measured_or = io::ReadTrajectoryCsv(dir / "trajectory.csv");
  ASSERT_THAT(measured_or.status(), IsOk());
  const std::vector<io::PoseStamped>& measured = *measured_or;
  ASSERT_EQ(measured.size(), panos.size());
  for (size_t i = 0; i < panos.size(); ++i) {
    const double err = (measured[i].world_from_rig.translation - panos[i].world_from_rig.translation).norm();
    EXPECT_GT(err, 1e-4);
    EXPECT_LT(err, 0.5);
  }

  auto queries = ReadJsonFile(dir / "queries.json");
  auto truth = ReadJsonFile(dir / "gt" / "queries_gt.json");
  ASSERT_THAT(queries.status(), IsOk());
  ASSERT_THAT(truth.status(), IsOk());
  int query_points = 0;
  for (size_t i = 0; i < (*queries)["queries"].size(); ++i) {
    const Json& q = (*queries)["queries"][i];
    const Json& gt = (*truth)["queries"][i];
    ASSERT_EQ(q["name"], gt["name"]);
    if (!gt["localizable"].get<bool>() || gt["occluded"].get<bool>()) continue;
    auto camera = Camera::Create(q["camera"]["model"], q["camera"]["width"], q["camera"]["height"],
                                 q["camera"]["params"].get<std::vector<double>>());
    ASSERT_THAT(camera.status(), IsOk());
    const auto qv = gt["cam_from_world"]["q"].get<std::vector<double>>();
    const auto tv = gt["cam_from_world"]["t"].get<std::vector<double>>();
    const Rigid3d cam_from_world(Eigen::Quaterniond(qv[0], qv[1], qv[2], qv[3]), Eigen::Vector3d(tv[0], tv[1], tv[2]));
    int checked = 0;
    const double fraction = ConsistentFraction(scene, *cloud, *camera, cam_from_world, &checked);
    if (checked < 20) continue;  // this chunk may not cover the query's view
    query_points += checked;
    EXPECT_GE(fraction, 0.97) << q["name"];
  }
  EXPECT_GT(query_points, 0) << "no query saw the first lidar chunk";
  fs::remove_all(dir);
}

TEST(CaptureTest, GroundTruthFilesAreComplete) {
  const fs::path dir = TempDir("gt");
  CaptureOptions options = SmallCapture(dir, 5);
  ASSERT_THAT(GenerateCapture(options).status(), IsOk());
  auto buildings = ReadJsonFile(dir / "gt" / "buildings.geojson");
  ASSERT_THAT(buildings.status(), IsOk());
  const City city = GenerateCity(options.city);
  ASSERT_EQ((*buildings)["features"].size(), city.buildings.size());
  for (const Json& f : (*buildings)["features"]) {
    const Json& ring = f["geometry"]["coordinates"][0];
    EXPECT_EQ(ring.front(), ring.back()) << "rings must be closed";
    // WGS84 near the origin: within 0.01 deg.
    EXPECT_NEAR(ring[0][0].get<double>(), options.city.origin.lon_deg, 0.01);
    EXPECT_NEAR(ring[0][1].get<double>(), options.city.origin.lat_deg, 0.01);
    EXPECT_GT(f["properties"]["height_m"].get<double>(), 0);
  }
  auto pois = ReadJsonFile(dir / "gt" / "pois.geojson");
  ASSERT_THAT(pois.status(), IsOk());
  EXPECT_EQ((*pois)["features"].size(), city.signs.size());
  for (const Json& f : (*pois)["features"]) EXPECT_FALSE(f["properties"]["name"].get<std::string>().empty());
  auto roads = ReadJsonFile(dir / "gt" / "roads.geojson");
  ASSERT_THAT(roads.status(), IsOk());
  int crossings = 0;
  for (const Json& f : (*roads)["features"]) crossings += f["properties"]["kind"] == "crossing";
  EXPECT_GT(crossings, 0);
  auto truth = ReadJsonFile(dir / "gt" / "queries_gt.json");
  for (const Json& q : (*truth)["queries"]) {
    const auto qv = q["cam_from_world"]["q"].get<std::vector<double>>();
    EXPECT_NEAR(Eigen::Vector4d(qv[0], qv[1], qv[2], qv[3]).norm(), 1.0, 1e-9);
  }
  fs::remove_all(dir);
}

TEST(CaptureTest, RefusesExistingAndUnwritableOutput) {
  const fs::path dir = TempDir("exists");
  fs::create_directories(dir);
  { std::ofstream(dir / "keep.txt") << "precious"; }
  EXPECT_THAT(GenerateCapture(SmallCapture(dir, 1)).status(),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr(dir.string())));
  EXPECT_EQ(*ReadFileToString(dir / "keep.txt"), "precious");  // nothing lost
  fs::remove_all(dir);

  EXPECT_THAT(GenerateCapture(SmallCapture("/proc/armap_city/out", 1)).status(),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("/proc/armap_city")));
  CaptureOptions bad = SmallCapture(TempDir("bad"), 1);
  bad.num_panos = 1;
  EXPECT_THAT(GenerateCapture(bad).status(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--panos")));
  bad = SmallCapture(TempDir("bad"), 1);
  bad.city.size_m = 10;
  EXPECT_THAT(GenerateCapture(bad).status(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("size_m")));
}

}  // namespace
}  // namespace armap::synth
