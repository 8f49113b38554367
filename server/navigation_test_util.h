// Test helper shared by the server's and the SDK's navigation tests: the
// small fixture map with a pedestrian network. The fixture's own
// roads/network.geojson is used when it has one; a fixture cache from before
// the map products gets a per-process copy with a 4 x 4 sidewalk grid written
// in (and listed in its manifest, so the package still verifies).
#pragma once

#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include <Eigen/Core>

#include "core/geo.h"
#include "core/json.h"
#include "core/map/package.h"
#include "navigation/walk_graph.h"
#include "tests/fixtures/small_map.h"

namespace armap::server::testing {

namespace fs = std::filesystem;
using ::armap::testing::GetSmallMap;

// A 4 x 4 grid of sidewalks, 20 m apart, the middle column's links marked
// as crossings, in the package's frame.
inline void WriteGridNetwork(const EnuFrame& frame, const fs::path& path) {
  Json nodes = Json::array(), features = Json::array();
  auto lonlat = [&](double x, double y) {
    const GeoPoint g = frame.Wgs84FromEnu({x, y, 0});
    return Json::array({g.lon_deg, g.lat_deg});
  };
  auto id = [](int i, int j) { return i * 4 + j + 1; };
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) {
      features.push_back({{"type", "Feature"},
                          {"properties", {{"kind", "walk_node"}, {"id", id(i, j)}}},
                          {"geometry", {{"type", "Point"}, {"coordinates", lonlat(j * 20.0 - 30, i * 20.0 - 30)}}}});
    }
  }
  int edge_id = 100;
  auto link = [&](int i0, int j0, int i1, int j1, bool crossing) {
    features.push_back(
        {{"type", "Feature"},
         {"properties",
          {{"kind", crossing ? "crossing" : "sidewalk"}, {"id", edge_id++}, {"from", id(i0, j0)}, {"to", id(i1, j1)},
           {"length_m", 20.0}, {"width_m", 2.0}}},
         {"geometry",
          {{"type", "LineString"},
           {"coordinates", Json::array({lonlat(j0 * 20.0 - 30, i0 * 20.0 - 30), lonlat(j1 * 20.0 - 30, i1 * 20.0 - 30)})}}}});
  };
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) {
      if (j + 1 < 4) link(i, j, i, j + 1, false);
      if (i + 1 < 4) link(i, j, i + 1, j, j == 1);
    }
  }
  fs::create_directories(path.parent_path());
  std::ofstream(path) << Json({{"type", "FeatureCollection"}, {"features", features}}).dump();
}

// Lists MAP/rel_path, written by a test, in the package's manifest (its
// sha256 and size), so that the package still verifies.
inline void ListInManifest(const fs::path& map_dir, const std::string& rel_path) {
  const fs::path path = map_dir / rel_path;
  auto json = ReadJsonFile(map_dir / "manifest.json");
  EXPECT_TRUE(json.ok()) << json.status();
  auto sha = map::Sha256OfFile(path);
  EXPECT_TRUE(sha.ok()) << sha.status();
  if (!json.ok() || !sha.ok()) return;
  (*json)["files"][rel_path] = {{"sha256", *sha}, {"bytes", fs::file_size(path)}};
  std::ofstream(map_dir / "manifest.json") << json->dump(2);
}

// The small map when it has a network, else a per-process copy with one.
inline const fs::path& NetworkMapDir() {
  static const fs::path dir = [] {
    const fs::path small = GetSmallMap().map_dir;
    if (fs::exists(small / "roads" / "network.geojson")) return small;
    const fs::path copy = fs::temp_directory_path() / ("armap_nav_test_map_" + std::to_string(::getpid()));
    fs::remove_all(copy);
    fs::copy(small, copy, fs::copy_options::recursive);
    auto manifest = map::ReadManifest(copy);
    EXPECT_TRUE(manifest.ok()) << manifest.status();
    WriteGridNetwork(EnuFrame(manifest->origin), copy / "roads" / "network.geojson");
    ListInManifest(copy, "roads/network.geojson");
    return copy;
  }();
  return dir;
}

// Removes the copy (if one was made); call once per process at the end.
inline void RemoveNetworkMapCopy() {
  if (NetworkMapDir() != GetSmallMap().map_dir) fs::remove_all(NetworkMapDir());
}

// A per-process copy of NetworkMapDir() whose pois/pois.geojson holds the
// small city's ground-truth POIs (its own POI stage reads none of the signs
// in so small a capture), so that routes can go to a POI by name. Remove it
// with RemovePoiMapCopy().
inline const fs::path& PoiMapDir() {
  static const fs::path dir = [] {
    const fs::path copy = fs::temp_directory_path() / ("armap_poi_test_map_" + std::to_string(::getpid()));
    fs::remove_all(copy);
    fs::copy(NetworkMapDir(), copy, fs::copy_options::recursive);
    fs::create_directories(copy / "pois");
    fs::copy_file(GetSmallMap().capture_dir / "gt" / "pois.geojson", copy / "pois" / "pois.geojson",
                  fs::copy_options::overwrite_existing);
    ListInManifest(copy, "pois/pois.geojson");
    return copy;
  }();
  return dir;
}

inline void RemovePoiMapCopy() {
  fs::remove_all(PoiMapDir());
  RemoveNetworkMapCopy();
}

// A route target on PoiMapDir(): a start node and the POI reachable from
// the network (the server snaps within 50 m) that lies farthest from it.
struct FixtureRouteTarget {
  std::string poi_name;     // as in pois.geojson (CJK)
  std::string poi_name_en;
  GeoPoint start;                 // WGS84 of `start_in_map`
  Eigen::Vector3d start_in_map;
  GeoPoint poi_snapped;           // where the network reaches the POI
  double start_to_poi_m = 0;      // in plan, start to the snapped POI
};

// `from_in_map` is snapped to the network for the start; without it the
// start is the network's first node.
inline FixtureRouteTarget FarthestReachablePoi(std::optional<Eigen::Vector3d> from_in_map = std::nullopt) {
  FixtureRouteTarget target;
  auto manifest = map::ReadManifest(PoiMapDir());
  EXPECT_TRUE(manifest.ok()) << manifest.status();
  if (!manifest.ok()) return target;
  const EnuFrame frame(manifest->origin);
  auto graph = nav::LoadWalkGraph(PoiMapDir() / "roads" / "network.geojson", PoiMapDir() / "pois" / "pois.geojson",
                                  frame);
  EXPECT_TRUE(graph.ok()) << graph.status();
  if (!graph.ok() || graph->nodes().empty()) return target;
  target.start_in_map = graph->nodes()[0].position_in_map;
  if (from_in_map) {
    auto snapped = graph->Snap(*from_in_map, std::nullopt, nav::SnapOptions());
    EXPECT_TRUE(snapped.ok()) << snapped.status();
    if (snapped.ok()) target.start_in_map = snapped->point_in_map;
  }
  target.start = frame.Wgs84FromEnu(target.start_in_map);
  target.start_to_poi_m = -1;
  for (const nav::Poi& p : graph->pois()) {
    auto snapped = graph->Snap(p.position_in_map, std::nullopt, nav::SnapOptions());
    if (!snapped.ok() || p.name.empty() || p.name_en.empty()) continue;
    const double d = (snapped->point_in_map - target.start_in_map).head<2>().norm();
    if (d > target.start_to_poi_m) {
      target.start_to_poi_m = d;
      target.poi_name = p.name;
      target.poi_name_en = p.name_en;
      target.poi_snapped = frame.Wgs84FromEnu(snapped->point_in_map);
    }
  }
  EXPECT_GT(target.start_to_poi_m, 20.0) << "no POI of the small city lies far enough along its network";
  return target;
}

}  // namespace armap::server::testing
