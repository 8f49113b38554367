#include "mapping/products/pois.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/json.h"
#include "core/status.h"
#include "datasets/synthetic/appearance.h"
#include "datasets/synthetic/capture_generator.h"
#include "mapping/lidar/lidar_map.h"
#include "mapping/products/pois_internal.h"
#include "mapping/products/pois_ocr.h"
#include "mapping/products/pois_text.h"

namespace armap::mapping {
namespace {

namespace fs = std::filesystem;
using internal::CategoryFromName;
using internal::CharacterErrorRate;

TEST(PoiTextTest, CharacterErrorRateOnCodePointsIgnoringSpaces) {
  EXPECT_DOUBLE_EQ(CharacterErrorRate("海天餐厅", "海天餐厅"), 0.0);
  EXPECT_DOUBLE_EQ(CharacterErrorRate("海天餐斤", "海天餐厅"), 0.25);  // one substitution of 4 code points
  EXPECT_DOUBLE_EQ(CharacterErrorRate("海天", "海天餐厅"), 0.5);
  EXPECT_DOUBLE_EQ(CharacterErrorRate("starlight coffee", "Starlight Coffee"), 0.0);
  EXPECT_DOUBLE_EQ(CharacterErrorRate("StarlightCoffee", "Starlight Coffee"), 0.0);
  EXPECT_DOUBLE_EQ(CharacterErrorRate("", ""), 0.0);
  EXPECT_DOUBLE_EQ(CharacterErrorRate("x", ""), 1.0);
}

TEST(PoiTextTest, CategoryRulesOnTheText) {
  EXPECT_EQ(CategoryFromName("平安大药房", ""), "pharmacy");
  EXPECT_EQ(CategoryFromName("招商银行", ""), "bank");
  EXPECT_EQ(CategoryFromName("老街面馆", ""), "restaurant");
  EXPECT_EQ(CategoryFromName("新鲜蔬菜", ""), "grocery");  // not a restaurant
  EXPECT_EQ(CategoryFromName("洗衣店", ""), "laundry");    // not clothing
  EXPECT_EQ(CategoryFromName("宠物医院", ""), "veterinary");
  EXPECT_EQ(CategoryFromName("", "Internet Cafe"), "internet_cafe");
  EXPECT_EQ(CategoryFromName("", "Corner Cafe"), "cafe");
  EXPECT_EQ(CategoryFromName("", "Home Inn"), "hotel");
  EXPECT_EQ(CategoryFromName("", "Dinner Place"), "");  // "inn" only as a word start
  EXPECT_EQ(CategoryFromName("一二三", "Xyz"), "");
}

TEST(PoiTextTest, MatchedIndicesFollowOneOptimalAlignment) {
  using internal::CodePoints;
  using internal::MatchedIndices;
  // 型心面包 vs 甜心面包: the first character substituted, the rest matched.
  EXPECT_EQ(MatchedIndices(CodePoints("甜心面包"), CodePoints("型心面包")), (std::vector<int>{-1, 1, 2, 3}));
  // A dropped character: 潮汕牛肉 read as 潮汕肉.
  EXPECT_EQ(MatchedIndices(CodePoints("潮汕牛肉"), CodePoints("潮汕肉")), (std::vector<int>{0, 1, -1, 2}));
  // An inserted one: 打印复印 read as 打印复复印 (the extra one unmatched).
  const std::vector<int> ins = MatchedIndices(CodePoints("打印复印"), CodePoints("打印复复印"));
  EXPECT_EQ(ins[0], 0);
  EXPECT_EQ(ins[1], 1);
  EXPECT_TRUE(ins[2] == 2 || ins[2] == 3);
  EXPECT_EQ(ins[3], 4);
  EXPECT_EQ(MatchedIndices(CodePoints("书店"), {}), (std::vector<int>{-1, -1}));
}

TEST(PoiTextTest, AlignedIndicesPairSubstitutions) {
  using internal::AlignedIndices;
  using internal::CodePoints;
  EXPECT_EQ(AlignedIndices(CodePoints("明月酒店"), CodePoints("明月驳店")), (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(AlignedIndices(CodePoints("川味小吃"), CodePoints("川小吃")), (std::vector<int>{0, -1, 1, 2}));
  // One dropped and one substituted: 川味小吃 read as 川小古.
  EXPECT_EQ(AlignedIndices(CodePoints("川味小吃"), CodePoints("川小古")), (std::vector<int>{0, -1, 1, 2}));
  const std::vector<int> ins = AlignedIndices(CodePoints("打印复印"), CodePoints("打印复复印"));
  EXPECT_EQ(ins[0], 0);
  EXPECT_EQ(ins[1], 1);
  EXPECT_TRUE(ins[2] == 2 || ins[2] == 3);
  EXPECT_EQ(ins[3], 4);
}

// The default thresholds of PoiOptions: 0.93 with a second view, 0.95 alone.
internal::FusedName Fuse(const std::vector<std::pair<std::string, std::vector<double>>>& readings) {
  std::vector<internal::CharReading> in;
  for (const auto& [text, conf] : readings) in.push_back({internal::CodePoints(text), conf});
  const PoiOptions options;
  return internal::FuseCharacters(in, options.min_char_confidence, options.min_char_confidence_single_view);
}

TEST(PoiTextTest, FusedNameFromViewsEachWithOneWrongCharacter) {
  // 明月酒店 read three times, each view wrong (and unsure) at a different
  // character: every position has two agreeing views.
  const internal::FusedName f = Fuse({{"归月酒店", {0.88, 0.99, 0.99, 0.99}},
                                      {"明月驳店", {0.97, 0.99, 0.82, 0.98}},
                                      {"明目酒店", {0.97, 0.85, 0.98, 0.97}}});
  EXPECT_EQ(internal::Utf8FromCodePoints(f.text), "明月酒店");
  EXPECT_EQ(f.num_views, 3);
  EXPECT_EQ(f.num_agreeing, (std::vector<int>{2, 2, 2, 3}));
  EXPECT_TRUE(f.AllSupported());
  // Winner's confidence per view: (1.94 + 1.98 + 1.97 + 2.94) / 3 / 4.
  EXPECT_NEAR(f.confidence, (1.94 + 1.98 + 1.97 + 2.94) / 12.0, 1e-9);

  // Two views, each sure where the other is wrong: one sure view supports a
  // character the other read unsurely.
  const internal::FusedName two = Fuse({{"归月酒店", {0.88, 0.99, 0.99, 0.99}}, {"明月驳店", {0.96, 0.99, 0.82, 0.95}}});
  EXPECT_EQ(internal::Utf8FromCodePoints(two.text), "明月酒店");
  EXPECT_TRUE(two.AllSupported());
}

TEST(PoiTextTest, FusedNameAlignsReadingsOneCharacterOff) {
  // A view that dropped 味 still votes for the other three characters; a
  // reading two characters longer does not vote at all.
  const internal::FusedName f = Fuse({{"川味小吃", {0.97, 0.98, 0.99, 0.92}},
                                      {"川小吃", {0.99, 0.99, 0.96}},
                                      {"川味小古", {0.98, 0.97, 0.99, 0.80}},
                                      {"川味小吃店铺", {0.99, 0.99, 0.99, 0.99, 0.99, 0.99}}});
  EXPECT_EQ(internal::Utf8FromCodePoints(f.text), "川味小吃");
  EXPECT_EQ(f.num_views, 3);
  EXPECT_EQ(f.num_agreeing, (std::vector<int>{3, 2, 3, 2}));
  EXPECT_TRUE(f.AllSupported());
}

TEST(PoiTextTest, DisagreeingUnsureReadingsGiveNoFusedName) {
  // 用 / 到 each read once below the single-view 0.95: no position winner is
  // sure, and 让, read by both, never reaches 0.93.
  const internal::FusedName f = Fuse({{"小用让", {0.99, 0.90, 0.57}}, {"小到让", {0.99, 0.91, 0.91}}});
  EXPECT_FALSE(f.AllSupported());
  EXPECT_TRUE(f.supported[0]);
  EXPECT_FALSE(f.supported[1]);
  EXPECT_FALSE(f.supported[2]);
  // A tie between two sure but different characters is no winner either.
  const internal::FusedName tie = Fuse({{"天产中介", {0.99, 0.99, 0.99, 0.97}}, {"后产中介", {0.99, 0.99, 0.99, 0.97}}});
  EXPECT_FALSE(tie.supported[0]);
  EXPECT_FALSE(tie.AllSupported());
  // Four views reading four characters at one position: the surest (0.98)
  // outweighs each other one but not their sum, so it is no winner (the
  // default city's 丰/页/夏/奢产中介 for 房产中介).
  const internal::FusedName split = Fuse({{"丰产中介", {0.93, 0.85, 0.99, 0.99}},
                                          {"页产中介", {0.90, 0.96, 0.99, 0.99}},
                                          {"夏产中介", {0.98, 0.99, 0.95, 0.94}},
                                          {"奢产中介", {0.89, 0.92, 0.70, 0.97}}});
  EXPECT_EQ(split.text[0], internal::CodePoints("夏")[0]);
  EXPECT_FALSE(split.supported[0]);
  EXPECT_TRUE(split.supported[1] && split.supported[2] && split.supported[3]);
  EXPECT_FALSE(split.AllSupported());
  // A name no view reads surely at any position: none.
  EXPECT_FALSE(Fuse({{"全于他下下", {0.97, 0.88, 0.86, 0.92, 0.92}}, {"萤草人了重", {0.79, 0.78, 0.93, 0.89, 0.79}}})
                   .AllSupported());
  EXPECT_TRUE(Fuse({}).text.empty());
}

TEST(PoiOptionsTest, ValidateNamesTheField) {
  EXPECT_TRUE(PoiOptions().Validate().ok());
  PoiOptions o;
  o.max_view_angle_deg = 95;
  EXPECT_NE(std::string(o.Validate().message()).find("max_view_angle_deg"), std::string::npos);
  o = PoiOptions();
  o.max_relief_m = 0.01;
  EXPECT_NE(std::string(o.Validate().message()).find("max_relief_m"), std::string::npos);
  o = PoiOptions();
  o.max_occluded_fraction = -0.1;
  EXPECT_NE(std::string(o.Validate().message()).find("max_occluded_fraction"), std::string::npos);
  o = PoiOptions();
  o.min_char_confidence = 1.5;
  EXPECT_NE(std::string(o.Validate().message()).find("min_char_confidence"), std::string::npos);
  o = PoiOptions();
  o.min_char_confidence_single_view = -0.1;
  EXPECT_NE(std::string(o.Validate().message()).find("min_char_confidence_single_view"), std::string::npos);
  o = PoiOptions();
  o.tesseract_languages = "";
  EXPECT_FALSE(o.Validate().ok());
}

TEST(PoiGeoJsonTest, RoundTrip) {
  const EnuFrame frame(GeoPoint{22.5431, 114.0579, 10.0});
  PoiSet set;
  Poi p;
  p.id = 3;
  p.name = "新华书店";
  p.name_en = "Xinhua Bookstore";
  p.category = "bookstore";
  p.confidence = 0.8;
  p.position = {12.5, -3.25, 3.9};
  p.panoramas = {"pano_0001", "pano_0002"};
  set.pois.push_back(p);
  const fs::path dir = fs::temp_directory_path() / ("armap_pois_rt_" + std::to_string(::getpid()));
  ASSERT_TRUE(WritePois(set, frame, dir).ok());
  auto back = ReadPois(dir / "pois.geojson", frame);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->pois.size(), 1u);
  EXPECT_EQ(back->pois[0].name, p.name);
  EXPECT_EQ(back->pois[0].name_en, p.name_en);
  EXPECT_EQ(back->pois[0].category, p.category);
  EXPECT_EQ(back->pois[0].panoramas, p.panoramas);
  EXPECT_LT((back->pois[0].position - p.position).norm(), 1e-9);
  // A feature without a name is refused, naming the file and the feature.
  {
    std::ofstream f(dir / "bad.geojson");
    f << R"({"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[114,22]},"properties":{}}]})";
  }
  auto bad = ReadPois(dir / "bad.geojson", frame);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message()).find("bad.geojson: features[0].properties"), std::string::npos);
  EXPECT_FALSE(ReadPois(dir / "missing.geojson", frame).ok());
  fs::remove_all(dir);
}

// A small synthetic city (seed 7, 80 m, 8 panoramas at 2048 px, 14 signs).
// gtest_discover_tests runs one process per case, so the capture is made
// once per machine (a file lock serialises the first build) and each
// process preprocesses its lidar (a few seconds).
struct Scene {
  fs::path root, capture;
  std::unique_ptr<LidarMap> lidar;
  ProductInputs inputs;
  GeoPoint origin;
};

Scene* BuildScene() {
  auto* s = new Scene;
  const fs::path shared = fs::temp_directory_path() / "armap_pois_test_scene_v1";
  s->root = fs::temp_directory_path() / ("armap_pois_test_" + std::to_string(::getpid()));
  fs::create_directories(s->root);
  fs::create_directories(shared);
  s->capture = shared / "capture";
  const int fd = ::open((shared / "lock").c_str(), O_CREAT | O_RDWR, 0644);
  if (fd < 0 || ::flock(fd, LOCK_EX) != 0) {
    ADD_FAILURE() << "cannot lock " << shared / "lock";
    return s;
  }
  if (!fs::exists(s->capture / "capture.json")) {
    synth::CaptureOptions o;
    o.city.size_m = 80;
    o.city.seed = 7;
    o.out_dir = s->capture;
    o.overwrite = true;
    o.num_panos = 8;
    o.num_queries = 0;
    o.pano_width_px = 2048;
    o.photo_root = ARMAP_SHARED_DATASETS;
    auto summary = synth::GenerateCapture(o);
    if (!summary.ok()) ADD_FAILURE() << summary.status();
  }
  ::flock(fd, LOCK_UN);
  ::close(fd);
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(s->capture / "lidar")) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  auto lidar = PreprocessLidar(files, LidarPreprocessOptions(), nullptr);
  if (!lidar.ok()) {
    ADD_FAILURE() << lidar.status();
    return s;
  }
  s->lidar = std::make_unique<LidarMap>(std::move(*lidar));
  // The panoramas at their true poses: the map builder's aligned poses are
  // within ~1 cm of them; this stage should not be tested through alignment.
  std::ifstream csv(s->capture / "gt" / "panos_gt.csv");
  std::string line;
  std::getline(csv, line);
  while (std::getline(csv, line)) {
    std::stringstream ss(line);
    std::vector<std::string> t;
    for (std::string tok; std::getline(ss, tok, ',');) t.push_back(tok);
    if (t.size() != 9) continue;
    PanoramaInput p;
    p.name = t[0];
    p.image = s->capture / "panos" / (t[0] + ".jpg");
    p.camera = Camera::Equirectangular(2048, 1024);
    p.timestamp_s = std::stod(t[1]);
    p.world_from_rig = Rigid3d(Eigen::Quaterniond(std::stod(t[5]), std::stod(t[6]), std::stod(t[7]), std::stod(t[8])),
                               Eigen::Vector3d(std::stod(t[2]), std::stod(t[3]), std::stod(t[4])));
    s->inputs.route_positions.push_back(p.world_from_rig.translation);
    s->inputs.panos.push_back(p);
  }
  auto capture = ReadJsonFile(s->capture / "capture.json");
  if (capture.ok() && capture->contains("origin")) {
    const Json& g = (*capture)["origin"];
    s->origin = {g.value("lat", 0.0), g.value("lon", 0.0), g.value("alt", 0.0)};
  }
  return s;
}

Scene& GetScene() {
  static Scene* scene = BuildScene();
  // This process's folder goes at exit (the shared capture stays).
  static struct Cleanup {
    fs::path root;
    ~Cleanup() {
      std::error_code ec;
      if (!root.empty()) fs::remove_all(root, ec);
    }
  } cleanup{scene->root};
  return *scene;
}

// A map folder EvaluatePois can read: manifest origin, views.json (one view
// per panorama at its centre) and pois/pois.geojson.
fs::path WriteEvalPackage(const Scene& s, const PoiSet& pois, const std::string& name) {
  const fs::path dir = s.root / name;
  fs::create_directories(dir);
  OrderedJson manifest{{"origin", {{"lat", s.origin.lat_deg}, {"lon", s.origin.lon_deg}, {"alt", s.origin.alt_m}}}};
  EXPECT_TRUE(WriteJsonFile(dir / "manifest.json", manifest).ok());
  OrderedJson views = OrderedJson::array();
  for (const PanoramaInput& p : s.inputs.panos) {
    const Rigid3d cam_from_world = p.world_from_rig.Inverse();
    const Eigen::Quaterniond& q = cam_from_world.rotation;
    views.push_back({{"source", p.name},
                     {"cam_from_world", {{"q", {q.w(), q.x(), q.y(), q.z()}},
                                         {"t", {cam_from_world.translation.x(), cam_from_world.translation.y(),
                                                cam_from_world.translation.z()}}}}});
  }
  EXPECT_TRUE(WriteJsonFile(dir / "views.json", OrderedJson{{"views", views}}).ok());
  EXPECT_TRUE(WritePois(pois, EnuFrame(s.origin), dir / "pois").ok());
  return dir;
}

PoiOptions TestOptions() {
  PoiOptions o;
  if (const char* d = std::getenv("TESSDATA_PREFIX")) o.tessdata_dir = d;
  return o;
}

// A rectified crop as the stage makes it (1.5 cm pixels, the board with a
// margin of wall): a sign drawn by the synthetic city's own sign renderer,
// pasted on a textured wall, blurred to the ~3 px of a 2048 px panorama
// seen from 15 m. The lidar's rectangle is 25 cm off to the right and 15 cm
// too tall (its errors on the default city). The board must be found in the
// image to 2 px (3 cm) on each edge: the position and the text crop come from
// it.
cv::Mat CropWithSign(const Eigen::Vector3d& wall_rgb, const Eigen::Vector3d& bg_rgb, const Eigen::Vector3d& text_rgb,
                     cv::Rect* truth_px, int margin_x_px = 50) {
  synth::Sign sign;
  sign.name_zh = "潮汕牛肉";
  sign.name_en = "Chaoshan Beef";
  sign.width_m = 4.0;
  sign.height_m = 1.0;
  sign.background_rgb = bg_rgb;
  sign.text_rgb = text_rgb;
  constexpr int kPxPerM = 66;  // 1.5 cm
  auto board = synth::DrawSign(sign, kPxPerM);
  EXPECT_TRUE(board.ok()) << board.status();
  if (!board.ok()) return {};
  // Wall: the wall colour with speckle (a photo texture's mottling).
  cv::Mat wall(board->rows + 2 * 30, board->cols + 2 * margin_x_px, CV_8UC3,
               cv::Scalar(wall_rgb.z() * 255, wall_rgb.y() * 255, wall_rgb.x() * 255));
  cv::Mat noise(wall.size(), CV_8UC3);
  cv::randn(noise, cv::Scalar::all(0), cv::Scalar::all(30));
  cv::GaussianBlur(noise, noise, cv::Size(0, 0), 2.0);
  wall += noise;
  *truth_px = cv::Rect(margin_x_px, 30, board->cols, board->rows);
  board->copyTo(wall(*truth_px));
  cv::GaussianBlur(wall, wall, cv::Size(0, 0), 1.5);
  return wall;
}

// A board's colours on its wall, for the board-location tests.
struct BoardColours {
  const char* what;
  Eigen::Vector3d wall, bg, text;
};

TEST(SignOcrTest, LocatesTheBoardInTheImageWhereTheLidarIsOff) {
  auto ocr = internal::SignOcr::Create("chi_sim+eng", TestOptions().tessdata_dir);
  ASSERT_TRUE(ocr.ok()) << ocr.status();
  const std::vector<BoardColours> cases = {
      {"red board on a grey wall", {0.55, 0.55, 0.52}, {0.8, 0.1, 0.1}, {1, 1, 1}},
      {"dark board on a light wall", {0.8, 0.78, 0.74}, {0.08, 0.08, 0.1}, {1, 0.97, 0.9}},
      {"white board on a light wall", {0.72, 0.72, 0.7}, {0.97, 0.97, 0.95}, {0.7, 0.05, 0.05}}};
  for (const BoardColours& c : cases) {
    cv::Rect truth;
    const cv::Mat crop = CropWithSign(c.wall, c.bg, c.text, &truth);
    ASSERT_FALSE(crop.empty());
    const cv::Rect lidar(truth.x + 17, truth.y - 5, truth.width, truth.height + 10);
    const internal::SignReading r = (*ocr)->Read(crop, lidar);
    EXPECT_TRUE(r.board_refined) << c.what;
    EXPECT_NEAR(r.board_px.x, truth.x, 2) << c.what;
    EXPECT_NEAR(r.board_px.y, truth.y, 2) << c.what;
    EXPECT_NEAR(r.board_px.x + r.board_px.width, truth.x + truth.width, 2) << c.what;
    EXPECT_NEAR(r.board_px.y + r.board_px.height, truth.y + truth.height, 2) << c.what;
  }
}

// The lidar often merges a board with a neighbouring box or awning: on the
// default city 13 of 45 read boards came out 1.5-2.7 m (35-65%) too wide,
// so the board filled under half of the middle of the lidar's rectangle.
// The board must still be found to 2 px on each edge (columns first), and
// its name read from the crop.
TEST(SignOcrTest, LocatesTheBoardWhenTheLidarMadeItTooWide) {
  auto ocr = internal::SignOcr::Create("chi_sim+eng", TestOptions().tessdata_dir);
  ASSERT_TRUE(ocr.ok()) << ocr.status();
  const std::vector<BoardColours> cases = {
      {"yellow board on a grey wall", {0.5, 0.5, 0.5}, {0.75, 0.6, 0.1}, {1, 1, 1}},
      {"green board on a light wall", {0.75, 0.74, 0.7}, {0.1, 0.55, 0.2}, {1, 1, 1}}};
  for (const BoardColours& c : cases) {
    for (const bool wide_left : {false, true}) {
      cv::Rect truth;
      const cv::Mat crop = CropWithSign(c.wall, c.bg, c.text, &truth, 220);
      ASSERT_FALSE(crop.empty());
      // 65% too wide, the extra on one side (and 20 px on the other).
      const int extra = truth.width * 65 / 100;
      const cv::Rect lidar(wide_left ? truth.x - extra + 20 : truth.x - 20, truth.y - 4, truth.width + extra,
                           truth.height + 8);
      const internal::SignReading r = (*ocr)->Read(crop, lidar);
      const std::string what = std::string(c.what) + (wide_left ? ", too wide to the left" : ", too wide to the right");
      EXPECT_TRUE(r.board_refined) << what;
      EXPECT_NEAR(r.board_px.x, truth.x, 2) << what;
      EXPECT_NEAR(r.board_px.y, truth.y, 2) << what;
      EXPECT_NEAR(r.board_px.x + r.board_px.width, truth.x + truth.width, 2) << what;
      EXPECT_NEAR(r.board_px.y + r.board_px.height, truth.y + truth.height, 2) << what;
      EXPECT_EQ(internal::CleanCjkReading(r.primary), "潮汕牛肉") << what << ": read '" << r.primary << "'";
    }
  }
}

// A drawn board on a wall margin as a 4096 px panorama sees it from
// distance_m (area-reduced to one panorama pixel, blurred half a pixel),
// resampled back onto the 1.5 cm crop grid the stage reads; `truth` is the
// board's rectangle in the crop, `source_px` one panorama pixel in crop
// pixels.
struct SeenBoard {
  cv::Mat crop;
  cv::Rect truth;
  double source_px = 0;
};
absl::StatusOr<SeenBoard> BoardSeenFrom(const synth::Sign& sign, double distance_m) {
  constexpr int kPxPerM = 66;  // 1.5 cm
  constexpr double kResM = 1.0 / kPxPerM;
  ARMAP_ASSIGN_OR_RETURN(cv::Mat board, synth::DrawSign(sign, kPxPerM));
  SeenBoard seen;
  seen.crop = cv::Mat(board.rows + 2 * 27, board.cols + 2 * 40, CV_8UC3, cv::Scalar(120, 125, 130));
  seen.truth = cv::Rect(40, 27, board.cols, board.rows);
  board.copyTo(seen.crop(seen.truth));
  seen.source_px = distance_m * (2 * M_PI / 4096) / kResM;
  cv::Mat pano_px;
  cv::resize(seen.crop, pano_px, cv::Size(), 1.0 / seen.source_px, 1.0 / seen.source_px, cv::INTER_AREA);
  cv::GaussianBlur(pano_px, pano_px, cv::Size(0, 0), 0.5);
  cv::resize(pano_px, seen.crop, seen.crop.size(), 0, 0, cv::INTER_CUBIC);
  return seen;
}

// Boards as a 4096 px panorama sees them from 20-30 m (one panorama pixel
// is 3-4.6 cm, 2-3 crop pixels: the board drawn at 1.5 cm, area-reduced to
// the panorama's pixels, blurred by their half-pixel point spread, and
// resampled back to the crop's 1.5 cm as Rectify does). Read sharpened at
// the panorama pixel's scale, each name comes out right (川味小厨 drawn
// so and seen from 35 m reads 川味小语: the test can fail).
TEST(SignOcrTest, ReadsBoardsSeenFromAfarInA4096PxPanorama) {
  auto ocr = internal::SignOcr::Create("chi_sim+eng", TestOptions().tessdata_dir);
  ASSERT_TRUE(ocr.ok()) << ocr.status();
  struct Case {
    const char* zh;
    const char* en;
    double distance_m;
  };
  for (const Case& c : {Case{"潮汕牛肉", "Chaoshan Beef", 20.0}, Case{"新华书店", "Xinhua Books", 25.0},
                        Case{"万家便利店", "Wanjia Mart", 30.0}, Case{"好又多超市", "Haoyouduo", 28.0}}) {
    synth::Sign sign;
    sign.name_zh = c.zh;
    sign.name_en = c.en;
    sign.width_m = 4.4;
    sign.height_m = 1.1;
    sign.background_rgb = {0.05, 0.25, 0.6};
    sign.text_rgb = {1.0, 0.97, 0.9};
    auto seen = BoardSeenFrom(sign, c.distance_m);
    ASSERT_TRUE(seen.ok()) << seen.status();
    const internal::SignReading r = (*ocr)->Read(seen->crop, seen->truth, seen->source_px);
    EXPECT_EQ(internal::CleanCjkReading(r.primary), c.zh) << c.distance_m << " m: read '" << r.primary << "'";
  }
}

// A Chinese line read with a character under the re-read threshold is read
// again (as a raw line, then by the fallback model) and the reading whose
// least sure character is surer kept: on boards seen from 25-40 m by a
// 4096 px panorama (so some first readings are unsure), the kept reading's
// least sure character is never less sure than the single-line reading's,
// a reading that was sure already is left alone, and sure readings are
// right.
TEST(SignOcrTest, UnsureLinesAreReadAgainAndTheSurerReadingKept) {
  auto plain = internal::SignOcr::Create("chi_sim+eng", TestOptions().tessdata_dir);
  ASSERT_TRUE(plain.ok()) << plain.status();
  (*plain)->set_raw_line_below(0.0);
  auto reread = internal::SignOcr::Create("chi_sim+eng", TestOptions().tessdata_dir,
                                          TestOptions().tesseract_fallback_languages);
  ASSERT_TRUE(reread.ok()) << reread.status();
  (*reread)->set_raw_line_below(0.95);
  auto min_cjk = [](const internal::SignReading& r) { return internal::CjkSurenessOf(r.primary_symbols).least; };
  auto num_cjk = [](const internal::SignReading& r) { return internal::CjkSurenessOf(r.primary_symbols).count; };
  int num_reread = 0;
  for (const char* zh : {"康宁药店", "时尚服饰", "川味小厨", "汽车美容"}) {
    for (const double distance_m : {25.0, 32.0, 40.0}) {
      synth::Sign sign;
      sign.name_zh = zh;
      sign.name_en = "Shop";
      sign.width_m = 4.0;
      sign.height_m = 1.0;
      sign.background_rgb = {0.6, 0.1, 0.1};
      sign.text_rgb = {1.0, 0.95, 0.6};
      auto seen = BoardSeenFrom(sign, distance_m);
      ASSERT_TRUE(seen.ok()) << seen.status();
      const internal::SignReading a = (*plain)->Read(seen->crop, seen->truth, seen->source_px);
      const internal::SignReading b = (*reread)->Read(seen->crop, seen->truth, seen->source_px);
      const std::string what = std::string(zh) + " from " + std::to_string(distance_m) + " m: '" + a.primary +
                               "' then '" + b.primary + "'";
      if (internal::CleanCjkReading(a.primary).empty()) continue;  // no Chinese line to re-read
      if (min_cjk(a) >= 0.95) {
        EXPECT_EQ(a.primary, b.primary) << what;
      } else {
        ++num_reread;
        EXPECT_GE(min_cjk(b), min_cjk(a)) << what;
        // A re-reading never wins by dropping characters.
        EXPECT_GE(num_cjk(b), num_cjk(a)) << what;
      }
      if (min_cjk(b) >= 0.95) {
        EXPECT_EQ(internal::CleanCjkReading(b.primary), zh) << what;
      }
    }
  }
  EXPECT_GT(num_reread, 0) << "no unsure first reading: the test checks nothing";
}

// The re-reading rule on its own: surer only when no Chinese character is
// lost (a reading of 3 of 4 characters, or of none, is not surer).
TEST(SignOcrTest, ARereadingThatDropsCharactersIsNotSurer) {
  using Symbols = std::vector<std::pair<char32_t, double>>;
  const Symbols unsure = {{U'房', 0.99}, {U'产', 0.98}, {U'中', 0.97}, {U'介', 0.80}};
  const Symbols dropped = {{U'房', 0.99}, {U'产', 0.98}, {U'中', 0.97}};
  const Symbols latin = {{U'F', 0.99}, {U'C', 0.99}};
  const Symbols surer = {{U'房', 0.99}, {U'产', 0.98}, {U'中', 0.97}, {U'介', 0.96}};
  const Symbols less_sure = {{U'房', 0.99}, {U'产', 0.70}, {U'中', 0.97}, {U'介', 0.96}};
  EXPECT_FALSE(internal::IsSurerRereading(dropped, unsure));
  EXPECT_FALSE(internal::IsSurerRereading(latin, unsure));
  EXPECT_FALSE(internal::IsSurerRereading(less_sure, unsure));
  EXPECT_TRUE(internal::IsSurerRereading(surer, unsure));
  EXPECT_FALSE(internal::IsSurerRereading(unsure, unsure)) << "equal is not surer";
  EXPECT_EQ(internal::CjkSurenessOf(latin).count, 0);
  EXPECT_DOUBLE_EQ(internal::CjkSurenessOf(latin).least, 1.0);
  EXPECT_EQ(internal::CjkSurenessOf(unsure).count, 4);
  EXPECT_DOUBLE_EQ(internal::CjkSurenessOf(unsure).least, 0.80);
}

// Row profiles of a board's text mask: a Chinese line's stroke rows dip
// between strokes (to a third of its peak here) and must stay one line; the
// English line below is parted from it by two near-empty rows; the rim's
// full rows are no text.
TEST(SignOcrTest, TextLinesFromTheRowProfile) {
  std::vector<double> f(44, 0.0);
  for (int r = 5; r < 25; ++r) f[r] = r % 2 ? 0.36 : 0.12;  // Chinese line
  f[25] = f[26] = 0.03;                                    // blurred gap
  for (int r = 27; r < 34; ++r) f[r] = 0.15;               // English line
  f[1] = f[42] = 0.9;                                      // rim
  const auto lines = internal::TextLineRows(f);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].first, 5);
  EXPECT_EQ(lines[0].second, 25);
  EXPECT_GE(lines[1].first, 26);
  EXPECT_EQ(lines[1].second, 34);
  // One line only, and nothing on an empty board.
  std::vector<double> one(30, 0.0);
  for (int r = 8; r < 20; ++r) one[r] = 0.2 + 0.1 * (r % 3);
  ASSERT_EQ(internal::TextLineRows(one).size(), 1u);
  EXPECT_EQ(internal::TextLineRows(one)[0], std::make_pair(8, 20));
  EXPECT_TRUE(internal::TextLineRows(std::vector<double>(30, 0.0)).empty());
}

// A 4 x 1 m board on a wall 15 m from the camera, scanned as the lidar
// would (the wall and the face, 3 cm spacing): nothing hides it; a 12 cm
// pole 5 m out in front of its right third hides some of its rays; the pole
// beside the line of sight hides none.
TEST(PoiOcclusionTest, PolesBetweenCameraAndBoard) {
  internal::SignCandidate board;
  board.centre = {0, 15, 4};
  board.outward = {0, -1, 0};
  board.right = (-board.outward).cross(Eigen::Vector3d::UnitZ()).normalized();
  board.width_m = 4;
  board.height_m = 1;
  const Eigen::Vector3d camera(0, 0, 2.5);
  std::vector<Eigen::Vector3d> points;
  for (double x = -4; x <= 4; x += 0.03) {
    for (double z = 0.5; z <= 8; z += 0.03) points.push_back({x, 15.15, z});  // wall
  }
  for (double x = -2; x <= 2; x += 0.03) {
    for (double z = 3.5; z <= 4.5; z += 0.03) points.push_back({x, 15.0, z});  // the board's face
  }
  EXPECT_EQ(internal::OccludedFraction(points, board, camera), 0.0);
  auto with_pole = [&](double x, double y) {
    std::vector<Eigen::Vector3d> p = points;
    for (double a = 0; a < 2 * M_PI; a += 0.2) {
      for (double z = 0.5; z <= 6; z += 0.05) p.push_back({x + 0.06 * std::cos(a), y + 0.06 * std::sin(a), z});
    }
    return internal::OccludedFraction(p, board, camera);
  };
  // In front of x = 1.2 m on the board, 5 m from the camera: x = 0.4 m.
  EXPECT_GT(with_pole(0.4, 5.0), 0.1);
  EXPECT_EQ(with_pole(3.0, 5.0), 0.0);
}

// A building's street wall as the lidar scans it (5 cm spacing, 0.5-9 m up,
// ground at z = 0) with a 4.4 x 1.1 m box sign 12 cm proud of it, its face
// centred `board_along_m` along the wall; the wall runs from `start` along
// `dir` for `length_m`, the street to its right (outward = dir x up), and
// the building behind it is hollow (the lidar never sees inside).
struct WallScene {
  internal::FacadePoints facade;
  Eigen::Vector3d board_centre, outward;
};
WallScene ScanWall(const Eigen::Vector2d& start, double angle_deg, double length_m, double board_along_m) {
  WallScene w;
  const Eigen::Vector2d dir(std::cos(angle_deg * M_PI / 180), std::sin(angle_deg * M_PI / 180));
  const Eigen::Vector2d out(dir.y(), -dir.x());
  auto add = [&](const Eigen::Vector2d& xy, double z) {
    w.facade.points.emplace_back(xy.x(), xy.y(), z);
    w.facade.height_above_ground_m.push_back(static_cast<float>(z));
  };
  for (double s = 0; s <= length_m; s += 0.05) {
    for (double z = 0.5; z <= 9.0; z += 0.05) add(start + dir * s, z);
  }
  constexpr double kWidthM = 4.4, kHeightM = 1.1, kReliefM = 0.12, kCentreZ = 3.8;
  for (double s = -kWidthM / 2; s <= kWidthM / 2; s += 0.05) {
    for (double z = kCentreZ - kHeightM / 2; z <= kCentreZ + kHeightM / 2; z += 0.05) {
      add(start + dir * (board_along_m + s) + out * kReliefM, z);
    }
  }
  const Eigen::Vector2d c = start + dir * board_along_m + out * kReliefM;
  w.board_centre = {c.x(), c.y(), kCentreZ};
  w.outward = {out.x(), out.y(), 0};
  return w;
}

// The nearest panorama stands behind the building (another street), the
// one on the board's street further off: the board is still found on the
// wall's street side (the facade is not turned inside out).
TEST(PoiBoardsTest, BoardFoundWhenTheNearestViewIsBehindTheWall) {
  const WallScene w = ScanWall({0, 0}, 0, 30, 22);  // wall along +x, street at -y
  ProductInputs inputs;
  inputs.route_positions = {{15, 24, 2.5}, {45, -18, 2.5}};  // 24 m behind it; 35 m off on its street
  const std::vector<internal::SignCandidate> boards =
      internal::FindSignCandidates(w.facade, inputs, TestOptions(), nullptr);
  ASSERT_EQ(boards.size(), 1u);
  // 5 cm: the lidar's 5 cm spacing; the relief to 2 cm (the wall's fit).
  EXPECT_LT((boards[0].centre - w.board_centre).norm(), 0.05) << boards[0].centre.transpose();
  EXPECT_GT(boards[0].outward.dot(w.outward), 0.999);
  EXPECT_NEAR(boards[0].relief_m, 0.12, 0.02);
  EXPECT_NEAR(boards[0].width_m, 4.4, 0.3);
}

// A 40 m facade at an angle between the Hough transform's 0.5 deg steps,
// its board near one end, 17 m from the segment's middle: the wall is
// fitted, not taken at the Hough angle, so the board's relief and place
// come out right there (off by the angle's error x 17 m otherwise).
TEST(PoiBoardsTest, BoardNearTheEndOfASlantedFacade) {
  for (const double angle_deg : {10.25, 33.6, -71.3}) {
    const WallScene w = ScanWall({3, -2}, angle_deg, 40, 37);
    ProductInputs inputs;
    const Eigen::Vector3d view = w.board_centre + 14 * w.outward;
    inputs.route_positions = {{view.x(), view.y(), 2.5}};
    const std::vector<internal::SignCandidate> boards =
        internal::FindSignCandidates(w.facade, inputs, TestOptions(), nullptr);
    ASSERT_EQ(boards.size(), 1u) << angle_deg;
    EXPECT_LT((boards[0].centre - w.board_centre).norm(), 0.05) << angle_deg << ": " << boards[0].centre.transpose();
    EXPECT_NEAR(boards[0].relief_m, 0.12, 0.02) << angle_deg;
    EXPECT_GT(boards[0].outward.dot(w.outward), 0.999) << angle_deg;
  }
}

TEST(PoisSceneTest, FindsAndNamesTheSignsTheCaptureSees) {
  Scene& s = GetScene();
  ASSERT_TRUE(s.lidar);
  auto pois = DetectPois(*s.lidar, s.inputs, WhiteModelLevel{}, TestOptions());
  ASSERT_TRUE(pois.ok()) << pois.status();
  EXPECT_TRUE(pois->summary.contains("seconds"));
  EXPECT_TRUE(pois->summary.contains("boards_found"));
  EXPECT_TRUE(pois->summary.contains("dropped_unsure_character"));
  EXPECT_TRUE(pois->summary.contains("views_occluded"));
  const fs::path map_dir = WriteEvalPackage(s, *pois, "map");
  auto report = EvaluatePois(map_dir, s.capture / "gt");
  ASSERT_TRUE(report.ok()) << report.status();
  std::printf("%s\n%s", report->dump(1).c_str(), PoiEvalMarkdown(*report).c_str());
  // Every POI kept is a real sign (within 2 m, CER <= 0.2): the confidence
  // threshold exists to keep garbage out; one miss is allowed. Recall is
  // weak (2 of 14 signs on this scene when written: most boards are read
  // from 10-25 m, 4-8 cm per source pixel), so only "some" is required.
  const int found = (*report)["pois_found"].get<int>();
  const int matched = (*report)["pois_matched"].get<int>();
  EXPECT_GE(found, 2);
  EXPECT_GE(matched, found - 1);
  // A located board is placed to a few centimetres; an unlocated one at
  // the lidar's estimate (a few decimetres along the facade). 1 m is well
  // inside the 2 m match radius.
  EXPECT_LT((*report)["position_err_median_m"].get<double>(), 1.0);
  for (const Poi& p : pois->pois) {
    EXPECT_GE(p.confidence, TestOptions().min_confidence);
    EXPECT_FALSE(p.panoramas.empty());
  }
}

// The same scene with every sign's face garbled in every panorama (its
// pixels shuffled and blurred): no POI may come out with a confident name.
TEST(PoisSceneTest, UnreadableSignsGiveNoPois) {
  Scene& s = GetScene();
  ASSERT_TRUE(s.lidar);
  auto gt = ReadJsonFile(s.capture / "gt" / "pois.geojson");
  ASSERT_TRUE(gt.ok()) << gt.status();
  const fs::path garbled = s.root / "garbled";
  fs::create_directories(garbled);
  ProductInputs inputs = s.inputs;
  std::mt19937 rng(5);
  for (PanoramaInput& p : inputs.panos) {
    cv::Mat img = cv::imread(p.image.string());
    ASSERT_FALSE(img.empty());
    cv::Mat mask(img.size(), CV_8U, cv::Scalar(0));
    const Rigid3d rig_from_world = p.world_from_rig.Inverse();
    for (const auto& f : (*gt)["features"]) {
      const auto& props = f["properties"];
      const auto c = props["position_enu"].get<std::vector<double>>();
      const double w = props["sign_width_m"].get<double>(), h = props["sign_height_m"].get<double>();
      // The sign's extent: a box around its centre (its facade direction is
      // not in the gt; the box covers both axes).
      std::vector<cv::Point> pts;
      for (double dx : {-0.6 * w, 0.6 * w}) {
        for (double dy : {-0.6 * w, 0.6 * w}) {
          for (double dz : {-0.7 * h, 0.7 * h}) {
            Eigen::Vector2d px;
            if (p.camera.Project(rig_from_world * Eigen::Vector3d(c[0] + dx, c[1] + dy, c[2] + dz), &px)) {
              pts.emplace_back(static_cast<int>(px.x()), static_cast<int>(px.y()));
            }
          }
        }
      }
      if (pts.size() < 8) continue;
      const cv::Rect r = cv::boundingRect(pts) & cv::Rect(0, 0, img.cols, img.rows);
      if (r.width > img.cols / 2 || r.area() == 0) continue;  // straddles the seam: skip
      mask(r).setTo(255);
    }
    // Shuffle the masked pixels among themselves, then blur: colours stay,
    // text is gone.
    std::vector<cv::Point> where;
    cv::findNonZero(mask, where);
    std::vector<cv::Vec3b> values;
    for (const auto& q : where) values.push_back(img.at<cv::Vec3b>(q));
    std::shuffle(values.begin(), values.end(), rng);
    for (size_t k = 0; k < where.size(); ++k) img.at<cv::Vec3b>(where[k]) = values[k];
    cv::Mat blurred;
    cv::GaussianBlur(img, blurred, cv::Size(0, 0), 3.0);
    blurred.copyTo(img, mask);
    p.image = garbled / p.image.filename();
    ASSERT_TRUE(cv::imwrite(p.image.string(), img));
  }
  auto pois = DetectPois(*s.lidar, inputs, WhiteModelLevel{}, TestOptions());
  ASSERT_TRUE(pois.ok()) << pois.status();
  for (const Poi& p : pois->pois) ADD_FAILURE() << "POI from garbled signs: '" << p.name << "' " << p.confidence;
  EXPECT_GT(pois->summary["boards_found"].get<int>(), 0);  // the boards are there, only unreadable
}

TEST(PoisSceneTest, BadInputsAreNamed) {
  Scene& s = GetScene();
  ASSERT_TRUE(s.lidar);
  ProductInputs inputs = s.inputs;
  ASSERT_FALSE(inputs.panos.empty());
  for (PanoramaInput& p : inputs.panos) p.image = s.root / "nowhere" / p.image.filename();
  auto missing = DetectPois(*s.lidar, inputs, WhiteModelLevel{}, TestOptions());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(std::string(missing.status().message()).find("nowhere"), std::string::npos) << missing.status();

  PoiOptions bad_langs = TestOptions();
  bad_langs.tesseract_languages = "xx_nope";
  auto langs = DetectPois(*s.lidar, s.inputs, WhiteModelLevel{}, bad_langs);
  ASSERT_FALSE(langs.ok());
  EXPECT_NE(std::string(langs.status().message()).find("xx_nope"), std::string::npos) << langs.status();

  PoiOptions bad_fallback = TestOptions();
  bad_fallback.tesseract_fallback_languages = "yy_nope";
  auto fallback = DetectPois(*s.lidar, s.inputs, WhiteModelLevel{}, bad_fallback);
  ASSERT_FALSE(fallback.ok());
  EXPECT_NE(std::string(fallback.status().message()).find("yy_nope"), std::string::npos) << fallback.status();

  PoiOptions bad = TestOptions();
  bad.max_views_per_sign = 0;
  auto invalid = DetectPois(*s.lidar, s.inputs, WhiteModelLevel{}, bad);
  EXPECT_EQ(invalid.status().code(), absl::StatusCode::kInvalidArgument);

  // No panoramas: nothing to read, no error.
  ProductInputs none;
  auto empty = DetectPois(*s.lidar, none, WhiteModelLevel{}, TestOptions());
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->pois.empty());

  // Eval: a missing gt and a package without POIs are named.
  auto no_gt = EvaluatePois(s.root, s.root / "no_gt");
  ASSERT_FALSE(no_gt.ok());
  EXPECT_NE(std::string(no_gt.status().message()).find("no_gt"), std::string::npos);
  const fs::path pkg = WriteEvalPackage(s, PoiSet{}, "empty_map");
  fs::remove_all(pkg / "pois");
  auto no_pois = EvaluatePois(pkg, s.capture / "gt");
  ASSERT_FALSE(no_pois.ok());
  EXPECT_NE(std::string(no_pois.status().message()).find("pois.geojson"), std::string::npos);
}

// Evaluation figures on hand-made answers against the scene's gt.
TEST(PoisSceneTest, EvaluationFiguresOnHandMadeAnswers) {
  Scene& s = GetScene();
  auto gt = ReadJsonFile(s.capture / "gt" / "pois.geojson");
  ASSERT_TRUE(gt.ok());
  const auto& features = (*gt)["features"];
  ASSERT_GE(features.size(), 4u);
  PoiSet answer;
  auto gt_poi = [&](size_t k) {
    Poi p;
    const auto c = features[k]["properties"]["position_enu"].get<std::vector<double>>();
    p.position = Eigen::Vector3d(c[0], c[1], c[2]);
    p.name = features[k]["properties"]["name"].get<std::string>();
    return p;
  };
  Poi exact = gt_poi(0);
  answer.pois.push_back(exact);
  Poi english = gt_poi(1);  // English name, 1 m off: matches through name_en
  english.name = features[1]["properties"]["name_en"].get<std::string>();
  english.position.x() += 1.0;
  answer.pois.push_back(english);
  Poi far = gt_poi(2);  // right name, 3 m off: no match
  far.position.x() += 3.0;
  answer.pois.push_back(far);
  Poi garbage = gt_poi(3);  // right place, wrong name: no match
  garbage.name = "一二三四五";
  answer.pois.push_back(garbage);
  const fs::path dir = WriteEvalPackage(s, answer, "handmade");
  auto report = EvaluatePois(dir, s.capture / "gt" / "pois.geojson");
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ((*report)["pois_found"].get<int>(), 4);
  EXPECT_EQ((*report)["pois_matched"].get<int>(), 2);
  EXPECT_DOUBLE_EQ((*report)["precision"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ((*report)["all_gt"]["recall"].get<double>(), 2.0 / features.size());
  EXPECT_DOUBLE_EQ((*report)["name_cer_median"].get<double>(), 0.0);
  EXPECT_NEAR((*report)["position_err_median_m"].get<double>(), 0.5, 1e-9);  // median of 0 and 1 m
  EXPECT_LE((*report)["gt_observable"].get<int>(), static_cast<int>(features.size()));
  EXPECT_GT((*report)["gt_observable"].get<int>(), 0);
}

}  // namespace
}  // namespace armap::mapping

