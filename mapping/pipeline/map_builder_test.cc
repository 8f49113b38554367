#include "mapping/pipeline/map_builder.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "core/map/map_data.h"
#include "core/map/package.h"
#include "core/testing/status_matchers.h"
#include "datasets/synthetic/capture_generator.h"

namespace armap::mapping {
namespace {

using ::armap::testing::IsOk;
using ::armap::testing::StatusIs;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

// Per-process folders: two test runs on one machine (two build folders)
// must not share a workspace.
fs::path TempPath(const std::string& name) {
  return fs::temp_directory_path() / (name + "_" + std::to_string(::getpid()));
}

const fs::path& SmallCity() {
  static const fs::path dir = [] {
    const fs::path d = TempPath("armap_map_builder_test_city");
    fs::remove_all(d);
    synth::CaptureOptions o;
    o.city.size_m = 80;
    o.out_dir = d;
    o.num_panos = 8;
    o.num_queries = 0;
    o.pano_width_px = 1024;
    o.lidar.azimuth_resolution_deg = 1.0;
    o.photo_root = ARMAP_SHARED_DATASETS;
    EXPECT_TRUE(synth::GenerateCapture(o).ok());
    return d;
  }();
  return dir;
}

MapBuildOptions FastOptions() {
  MapBuildOptions o;
  o.views.size_px = 320;
  o.features.max_features = 800;
  o.retrieval.num_clusters = 16;
  return o;
}

TEST(MapBuilderTest, BuildsAPackageAndImprovesTheTrajectory) {
  const fs::path out = TempPath("armap_map_builder_test_map");
  MapBuildRequest request{SmallCity(), out, {}, /*overwrite=*/true, /*rerun_stages=*/{}};
  auto report = BuildMap(request, FastOptions());
  ASSERT_THAT(report.status(), IsOk());
  // Contract keys.
  for (const char* stage : {"ingest", "privacy", "views", "depth", "features", "matching", "alignment", "landmarks", "retrieval",
                            "whitemodel", "roads", "pois", "overview", "package"}) {
    EXPECT_TRUE((*report)["stages"].contains(stage)) << stage;
  }
  for (const char* key : {"panos", "views", "landmarks", "observations", "lidar_points"}) {
    EXPECT_TRUE((*report)["counts"].contains(key)) << key;
  }
  for (const char* key : {"total", "descriptors", "index"}) EXPECT_TRUE((*report)["size_bytes"].contains(key)) << key;
  EXPECT_TRUE((*report)["privacy"].contains("faces"));
  const auto& a = (*report)["alignment"];
  ASSERT_TRUE(a.contains("median_pos_err_m_after")) << report->dump(2);
  EXPECT_LT(a["median_pos_err_m_after"].get<double>(), a["median_pos_err_m_before"].get<double>());
  EXPECT_LT(a["median_rot_err_deg_after"].get<double>(), a["median_rot_err_deg_before"].get<double>());
  // Against the ground truth: this small capture goes 12.6 cm / 0.49 deg ->
  // about 3 cm / 0.12 deg (320 px views, 800 features; the default city
  // reaches 0.5 cm / 0.052 deg).
  EXPECT_LT(a["median_pos_err_m_after"].get<double>(), 0.4 * a["median_pos_err_m_before"].get<double>());
  EXPECT_LT(a["median_rot_err_deg_after"].get<double>(), 0.4 * a["median_rot_err_deg_before"].get<double>());
  // Panoramas are matched with their nearest neighbours, not only the next
  // one, and views facing each other are matched: ground landmarks anchor
  // height and roll.
  const auto& summaries = (*report)["stage_summaries"];
  EXPECT_GT(summaries["matching"]["pano_pairs"].get<int>(), 7);
  EXPECT_GT(summaries["alignment"]["anchored_level"].get<int>(), 0);
  EXPECT_GT((*report)["counts"]["landmarks"].get<long>(), 1000);

  auto manifest = map::ReadManifest(out);
  ASSERT_THAT(manifest.status(), IsOk());
  EXPECT_THAT(map::VerifyPackage(out, *manifest), IsOk());
  auto landmarks = map::ReadLandmarks(out / "landmarks.bin");
  ASSERT_THAT(landmarks.status(), IsOk());
  auto views = map::ReadViews(out / "views.json");
  ASSERT_THAT(views.status(), IsOk());
  EXPECT_EQ(views->size(), 8u * 9u);
  // The map products are in the package (and checksummed by its manifest).
  for (const char* file : {"whitemodel/full.city.json", "whitemodel/full.glb", "whitemodel/full.geojson",
                           "whitemodel/simplified.city.json", "whitemodel/simplified.glb", "whitemodel/simplified.geojson",
                           "roads/network.geojson", "pois/pois.geojson", "overview.png"}) {
    EXPECT_TRUE(manifest->files.count(file)) << file;
  }
  // The small city has 4 buildings; the route sees all of them.
  EXPECT_GE((*report)["whitemodel"].value("buildings", 0), 3) << (*report)["whitemodel"].dump();
  EXPECT_GT((*report)["size_bytes"]["whitemodel"].get<long>(), 0);

  // Resuming: nothing to recompute, every stage but ingest and package is cached.
  request.overwrite = false;
  fs::remove_all(out);
  auto again = BuildMap(request, FastOptions());
  ASSERT_THAT(again.status(), IsOk());
  for (const char* stage : {"privacy", "views", "depth", "features", "matching", "alignment", "landmarks", "retrieval"}) {
    EXPECT_TRUE((*again)["stages"][stage]["skipped"].get<bool>()) << stage;
  }
  // Rerunning one product (`armap map roads`): that stage and the ones after
  // it run again, the rest is reused, and the package is republished whole.
  MapBuildRequest rerun = request;
  rerun.rerun_stages = {"roads"};
  auto rerun_report = BuildMap(rerun, FastOptions());
  ASSERT_THAT(rerun_report.status(), IsOk());
  EXPECT_TRUE((*rerun_report)["stages"]["whitemodel"]["skipped"].get<bool>());
  for (const char* stage : {"roads", "pois", "overview"}) {
    EXPECT_FALSE((*rerun_report)["stages"][stage]["skipped"].get<bool>()) << stage;
  }
  auto republished = map::ReadManifest(out);
  ASSERT_THAT(republished.status(), IsOk());
  EXPECT_THAT(map::VerifyPackage(out, *republished), IsOk());
  // The folders are per process: leave nothing behind.
  for (const fs::path& p : {out, fs::path(out.string() + ".workspace"), SmallCity()}) fs::remove_all(p);
}

TEST(MapBuilderTest, BadConfigAndOutputsAreRefused) {
  EXPECT_THAT(MapBuildOptions::FromJson(Json::parse(R"({"features": {"max_featurs": 10}})"), "cfg.json"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("features.max_featurs")));
  EXPECT_THAT(MapBuildOptions::FromJson(Json::parse(R"({"features": {"max_features": "many"}})"), "cfg.json"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("wrong type")));
  EXPECT_THAT(MapBuildOptions::FromJson(Json::parse(R"({"views": {"size_px": 1}})"), "cfg.json"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("size_px")));
  auto ok = MapBuildOptions::FromJson(Json::parse(R"({"features": {"max_features": 10}})"), "cfg.json");
  ASSERT_THAT(ok.status(), IsOk());
  EXPECT_EQ(ok->features.max_features, 10);
  // A capture that does not exist: an error, and no output folder appears.
  const fs::path out = fs::temp_directory_path() / "armap_map_builder_test_none";
  fs::remove_all(out);
  MapBuildRequest request{fs::temp_directory_path() / "armap_no_capture_here", out, {}, false, {}};
  EXPECT_THAT(BuildMap(request, FastOptions()), StatusIs(absl::StatusCode::kNotFound, HasSubstr("armap_no_capture_here")));
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
}  // namespace armap::mapping
