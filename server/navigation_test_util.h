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
#include <string>

#include "core/geo.h"
#include "core/json.h"
#include "core/map/package.h"
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
    const fs::path network = copy / "roads" / "network.geojson";
    WriteGridNetwork(EnuFrame(manifest->origin), network);
    auto json = ReadJsonFile(copy / "manifest.json");
    EXPECT_TRUE(json.ok()) << json.status();
    auto sha = map::Sha256OfFile(network);
    EXPECT_TRUE(sha.ok()) << sha.status();
    (*json)["files"]["roads/network.geojson"] = {{"sha256", *sha}, {"bytes", fs::file_size(network)}};
    std::ofstream(copy / "manifest.json") << json->dump(2);
    return copy;
  }();
  return dir;
}

// Removes the copy (if one was made); call once per process at the end.
inline void RemoveNetworkMapCopy() {
  if (NetworkMapDir() != GetSmallMap().map_dir) fs::remove_all(NetworkMapDir());
}

}  // namespace armap::server::testing
