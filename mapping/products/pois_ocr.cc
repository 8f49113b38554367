#include "mapping/products/pois_ocr.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <tesseract/baseapi.h>
#include <tesseract/resultiterator.h>

#include "absl/strings/str_cat.h"
#include "mapping/products/pois_text.h"

namespace armap::mapping::internal {
namespace {

absl::StatusOr<std::unique_ptr<tesseract::TessBaseAPI>> InitApi(const std::string& languages,
                                                                const std::filesystem::path& tessdata_dir) {
  auto api = std::make_unique<tesseract::TessBaseAPI>();
  const std::string dir = tessdata_dir.string();
  if (api->Init(dir.empty() ? nullptr : dir.c_str(), languages.c_str(), tesseract::OEM_LSTM_ONLY) != 0) {
    return absl::FailedPreconditionError(absl::StrCat("Tesseract cannot load languages '", languages, "' from ",
                                                      dir.empty() ? "its default tessdata folder" : dir));
  }
  api->SetPageSegMode(tesseract::PSM_SINGLE_LINE);
  // Quiet: no debug file, no dictionary-free guessing of page layout.
  api->SetVariable("debug_file", "/dev/null");
  return api;
}

// One text line of the grey image (text dark on white), scaled so the line
// is ~40 px tall (Tesseract's LSTM models are trained around 30-50 px).
struct LineReading {
  std::string text;
  double confidence = 0.0;
  std::vector<std::pair<char32_t, double>> symbols;
  double MinCjkConfidence() const { return CjkSurenessOf(symbols).least; }
};

// One Tesseract pass over the line scaled to target_px, in page segmentation
// mode psm.
LineReading ReadLineOnce(tesseract::TessBaseAPI* api, const cv::Mat& gray, const cv::Rect& roi, int row0, int row1,
                         double target_px, tesseract::PageSegMode psm, const std::string& debug_path) {
  cv::Mat line;
  const double scale = target_px / std::max(1, row1 - row0);
  // The pad is white: the rows beyond the line hold the next line's or
  // the rim's tops, which Tesseract reads as strokes.
  cv::Mat src = gray(roi).clone();
  src.rowRange(0, std::max(0, row0 - roi.y)).setTo(255);
  src.rowRange(std::min(src.rows, row1 - roi.y), src.rows).setTo(255);
  cv::resize(src, line, cv::Size(), scale, scale, scale > 1 ? cv::INTER_CUBIC : cv::INTER_AREA);
  cv::copyMakeBorder(line, line, 12, 12, 12, 12, cv::BORDER_CONSTANT, cv::Scalar(255));
  if (!debug_path.empty()) cv::imwrite(debug_path, line);
  api->SetPageSegMode(psm);
  api->SetImage(line.data, line.cols, line.rows, 1, static_cast<int>(line.step));
  api->SetSourceResolution(300);
  char* text = api->GetUTF8Text();
  std::string s = text ? text : "";
  delete[] text;
  LineReading out;
  out.confidence = std::max(0, api->MeanTextConf()) / 100.0;
  // Each character's own confidence: a name is only as sure as its least
  // sure character (one wrong character of four already fails CER 0.2).
  if (std::unique_ptr<tesseract::ResultIterator> it{api->GetIterator()}) {
    do {
      std::unique_ptr<char[]> sym{it->GetUTF8Text(tesseract::RIL_SYMBOL)};
      if (!sym) continue;
      const double c = std::max(0.0f, it->Confidence(tesseract::RIL_SYMBOL)) / 100.0;
      for (char32_t cp : CodePoints(sym.get())) out.symbols.push_back({cp, c});
    } while (it->Next(tesseract::RIL_SYMBOL));
  }
  api->Clear();
  api->SetPageSegMode(tesseract::PSM_SINGLE_LINE);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  out.text = std::move(s);
  return out;
}

// raw_line_below: when the reading's least sure CJK character is under
// this, the line is read again as a raw line, then by `fallback` when set
// (see below); 0: never.
LineReading ReadLine(tesseract::TessBaseAPI* api, const cv::Mat& gray, int row0, int row1, int col0, int col1,
                     const std::string& debug_path, double raw_line_below = 0.0,
                     tesseract::TessBaseAPI* fallback = nullptr) {
  const int pad = std::max(2, (row1 - row0) / 4);
  const cv::Rect roi(std::max(0, col0 - pad), std::max(0, row0 - pad),
                     std::min(gray.cols, col1 + pad) - std::max(0, col0 - pad),
                     std::min(gray.rows, row1 + pad) - std::max(0, row0 - pad));
  if (roi.width < 8 || roi.height < 4) return {};
  // Blurred text reads differently at different sizes (no one size wins on
  // our boards): the line is read at ~40 and ~28 px, the more confident
  // reading kept; a confident first reading ends the search. (A third size,
  // 64 px, found 2 more of 55 signs on the default city for 2.5x the time;
  // picking the size by the least sure character instead made more
  // confident wrong readings on a second seed.)
  LineReading best;
  for (const double target_px : {40.0, 28.0}) {
    LineReading r = ReadLineOnce(api, gray, roi, row0, row1, target_px, tesseract::PSM_SINGLE_LINE,
                                 target_px == 40.0 ? debug_path : "");
    if (!r.text.empty() && r.confidence > best.confidence) best = std::move(r);
    if (best.confidence >= 0.85) break;
  }
  // A line whose least sure character is unsure is read once more at 40 px
  // as a raw line (PSM 13: no layout analysis; the single-line mode's
  // own line finding cuts blurred Chinese strokes differently), and that
  // reading kept when its least sure character is surer. On the default
  // city's 187 line crops (4096 px panoramas) the right readings went 103 ->
  // 114 and those with every character >= 0.93 91 -> 107, while the wrong
  // ones with every character >= 0.93 stayed 5 (none >= 0.95).
  if (raw_line_below > 0 && !best.text.empty() && best.MinCjkConfidence() < raw_line_below) {
    LineReading r = ReadLineOnce(api, gray, roi, row0, row1, 40.0, tesseract::PSM_RAW_LINE, "");
    if (!r.text.empty() && IsSurerRereading(r.symbols, best.symbols)) best = std::move(r);
  }
  // Still unsure: the fallback model (Tesseract's script-level Han model,
  // HanS, trained on more fonts than chi_sim) reads it at 40 px, kept on the
  // same terms. On the default city it read 康宁药店 and 汽车美容 with
  // every character >= 0.97 where chi_sim's surest readings had one at 0.94
  // and 0.83-0.91.
  if (fallback != nullptr && raw_line_below > 0 && best.MinCjkConfidence() < raw_line_below) {
    LineReading r = ReadLineOnce(fallback, gray, roi, row0, row1, 40.0, tesseract::PSM_SINGLE_LINE, "");
    if (!r.text.empty() && IsSurerRereading(r.symbols, best.symbols)) best = std::move(r);
  }
  return best;
}

}  // namespace

CjkSureness CjkSurenessOf(const std::vector<std::pair<char32_t, double>>& symbols) {
  CjkSureness s;
  for (const auto& [cp, confidence] : symbols) {
    if (!IsCjk(cp)) continue;
    ++s.count;
    s.least = std::min(s.least, confidence);
  }
  return s;
}

bool IsSurerRereading(const std::vector<std::pair<char32_t, double>>& rereading,
                      const std::vector<std::pair<char32_t, double>>& current) {
  const CjkSureness a = CjkSurenessOf(rereading), b = CjkSurenessOf(current);
  return a.count >= std::max(1, b.count) && a.least > b.least;
}

absl::StatusOr<std::unique_ptr<SignOcr>> SignOcr::Create(const std::string& languages,
                                                         const std::filesystem::path& tessdata_dir,
                                                         const std::string& fallback_languages) {
  std::unique_ptr<SignOcr> ocr(new SignOcr());
  // The primary line is read without eng when the set has other languages:
  // with chi_sim+eng, Tesseract prefers Latin letters for blurred Chinese
  // characters ("自行车行" -> "ane"); Latin-only signs get a second read with eng.
  std::string without_eng;
  for (size_t start = 0; start <= languages.size();) {
    size_t end = languages.find('+', start);
    if (end == std::string::npos) end = languages.size();
    const std::string lang = languages.substr(start, end - start);
    if (!lang.empty() && lang != "eng") without_eng += (without_eng.empty() ? "" : "+") + lang;
    start = end + 1;
  }
  const bool has_eng = ("+" + languages + "+").find("+eng+") != std::string::npos;
  auto primary = InitApi(without_eng.empty() ? languages : without_eng, tessdata_dir);
  if (!primary.ok()) return primary.status();
  ocr->primary_ = std::move(*primary);
  auto secondary = InitApi(has_eng ? "eng" : languages, tessdata_dir);
  if (!secondary.ok()) return secondary.status();
  ocr->secondary_ = std::move(*secondary);
  if (!fallback_languages.empty()) {
    auto fallback = InitApi(fallback_languages, tessdata_dir);
    if (!fallback.ok()) return fallback.status();
    ocr->fallback_ = std::move(*fallback);
  }
  return ocr;
}

SignOcr::~SignOcr() {
  if (primary_) primary_->End();
  if (secondary_) secondary_->End();
  if (fallback_) fallback_->End();
}

namespace {

// The board's rectangle. A board is one flat colour (its text aside); the
// wall around it is a textured photo, often of a similar colour, and the
// lidar's rectangle can be off by decimetres. So the candidate background
// colours are the commonest colours of the *flat* pixels (low local
// gradient) inside the expected rectangle; for each, the board is the
// pixels of that colour, closed over the text, opened to drop specks of
// matching wall, with the
// text's holes filled; its rectangle the rows and columns the region fills
// at least half of (a bounding box would follow any leak into the wall).
// The first candidate whose rectangle is board-like wins: inside the crop
// (the crop has a margin of wall all round; a region reaching the crop's
// edge both ways is wall), neither a speck nor much larger than expected.
// *located: the rectangle is the image's both ways (else, where the region
// leaked, the lidar's).
bool LocateBoard(const cv::Mat& lab, const cv::Rect& expected, cv::Rect* board, bool* located) {
  const cv::Rect inner(expected.x + expected.width / 6, expected.y + expected.height / 6,
                       std::max(1, expected.width * 2 / 3), std::max(1, expected.height * 2 / 3));
  const cv::Rect r = inner & cv::Rect(0, 0, lab.cols, lab.rows);
  if (r.area() < 20) return false;
  cv::Mat lightness, gx, gy, grad;
  cv::extractChannel(lab, lightness, 0);
  cv::Sobel(lightness, gx, CV_32F, 1, 0, 3);
  cv::Sobel(lightness, gy, CV_32F, 0, 1, 3);
  cv::magnitude(gx, gy, grad);
  cv::blur(grad, grad, cv::Size(5, 5));
  // Flat: below the 40th percentile of the gradient in the inner rectangle
  // (a board's background is more than that share of it: text covers less).
  std::vector<float> g;
  for (int y = r.y; y < r.y + r.height; ++y) {
    for (int x = r.x; x < r.x + r.width; ++x) g.push_back(grad.at<float>(y, x));
  }
  std::nth_element(g.begin(), g.begin() + g.size() * 4 / 10, g.end());
  const float flat_max = std::max(g[g.size() * 4 / 10], 1.0f);
  std::map<int, std::pair<int, cv::Vec3d>> bins;  // 8-unit Lab bins
  for (int y = r.y; y < r.y + r.height; ++y) {
    for (int x = r.x; x < r.x + r.width; ++x) {
      if (grad.at<float>(y, x) > flat_max) continue;
      const cv::Vec3f v = lab.at<cv::Vec3f>(y, x);
      const int key = (static_cast<int>(v[0] / 8) * 64 + static_cast<int>((v[1] + 128) / 8)) * 64 +
                      static_cast<int>((v[2] + 128) / 8);
      auto& b = bins[key];
      ++b.first;
      b.second += cv::Vec3d(v[0], v[1], v[2]);
    }
  }
  std::vector<std::pair<int, cv::Vec3d>> modes;
  for (const auto& [key, b] : bins) modes.push_back({b.first, b.second / b.first});
  std::sort(modes.begin(), modes.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  const int k = std::max(3, expected.height / 6) | 1;
  auto filled_run = [](const std::vector<double>& frac, int seed) {
    int a = seed, b = seed;
    while (a > 0 && frac[a - 1] >= 0.5) --a;
    while (b + 1 < static_cast<int>(frac.size()) && frac[b + 1] >= 0.5) ++b;
    return std::make_pair(a, b + 1);
  };
  for (size_t m = 0; m < std::min<size_t>(3, modes.size()); ++m) {
    if (modes[m].first < 0.05 * r.area()) break;
    const cv::Vec3d c = modes[m].second;
    cv::Mat mask(lab.size(), CV_8U);
    for (int y = 0; y < lab.rows; ++y) {
      for (int x = 0; x < lab.cols; ++x) {
        const cv::Vec3f v = lab.at<cv::Vec3f>(y, x);
        const double d2 = (v[0] - c[0]) * (v[0] - c[0]) + (v[1] - c[1]) * (v[1] - c[1]) + (v[2] - c[2]) * (v[2] - c[2]);
        mask.at<uint8_t>(y, x) = d2 < 14.0 * 14.0 && grad.at<float>(y, x) <= 2 * flat_max ? 255 : 0;
      }
    }
    cv::morphologyEx(mask, mask, cv::MORPH_CLOSE, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(k, k)));
    cv::morphologyEx(mask, mask, cv::MORPH_OPEN, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(5, 5)));
    cv::Mat labels, stats, centroids;
    const int n = cv::connectedComponentsWithStats(mask, labels, stats, centroids, 8);
    // The board's colour can come out in several pieces (the text line cuts
    // the thin strips of background above and below it): the piece most
    // inside the inner rectangle, with it every piece with a good share of
    // the inner rectangle, and every piece mostly inside the lidar's
    // rectangle level with it (at least half its rows shared).
    std::vector<int> overlap(n, 0), inside(n, 0);
    for (int y = 0; y < lab.rows; ++y) {
      for (int x = 0; x < lab.cols; ++x) {
        const int l = labels.at<int>(y, x);
        if (r.contains(cv::Point(x, y))) ++overlap[l];
        if (expected.contains(cv::Point(x, y))) ++inside[l];
      }
    }
    overlap[0] = 0;
    const int best = static_cast<int>(std::max_element(overlap.begin(), overlap.end()) - overlap.begin());
    if (overlap[best] == 0) continue;
    const int by0 = stats.at<int>(best, cv::CC_STAT_TOP), by1 = by0 + stats.at<int>(best, cv::CC_STAT_HEIGHT);
    std::vector<char> keep(n, 0);
    for (int l = 1; l < n; ++l) {
      const int y0 = stats.at<int>(l, cv::CC_STAT_TOP), h = stats.at<int>(l, cv::CC_STAT_HEIGHT);
      const int shared = std::min(by1, y0 + h) - std::max(by0, y0);
      keep[l] = overlap[l] >= 0.2 * overlap[best] ||
                (inside[l] >= 0.5 * stats.at<int>(l, cv::CC_STAT_AREA) && shared >= 0.5 * h);
    }
    cv::Mat region(lab.size(), CV_8U, cv::Scalar(0));
    for (int y = 0; y < lab.rows; ++y) {
      for (int x = 0; x < lab.cols; ++x) {
        if (keep[labels.at<int>(y, x)]) region.at<uint8_t>(y, x) = 255;
      }
    }
    // The text is a hole in the background: filled, the board is solid.
    {
      std::vector<std::vector<cv::Point>> contours;
      cv::findContours(region.clone(), contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
      cv::drawContours(region, contours, -1, cv::Scalar(255), cv::FILLED);
    }
    // ... and where the text line cuts the background's thin strips above
    // and below it, the pieces left and right of it are bridged: each row
    // of the board is filled between its outermost board pixels.
    for (int y = 0; y < region.rows; ++y) {
      uint8_t* row = region.ptr<uint8_t>(y);
      int first = -1, last = -1;
      for (int x = 0; x < region.cols; ++x) {
        if (row[x]) last = x, first = first < 0 ? x : first;
      }
      for (int x = std::max(0, first); x <= last; ++x) row[x] = 255;
    }
    // Rows first (within the inner rectangle's columns), then columns
    // within those rows; when the lidar made the board too wide (a
    // neighbouring box or awning merged in: the board fills under half of
    // the inner rectangle's rows), columns first (within the inner
    // rectangle's rows, the height being the lidar's surer extent).
    auto extent = [&](bool rows_first) -> std::optional<std::array<int, 4>> {
      const int n1 = rows_first ? lab.rows : lab.cols, n2 = rows_first ? lab.cols : lab.rows;
      const int a0 = rows_first ? r.x : r.y, a1 = rows_first ? r.x + r.width : r.y + r.height;
      const int s0 = rows_first ? r.y : r.x, s1 = rows_first ? r.y + r.height : r.x + r.width;
      auto count = [&](int i, int lo, int hi) {
        return rows_first ? cv::countNonZero(region.row(i).colRange(lo, hi))
                          : cv::countNonZero(region.col(i).rowRange(lo, hi));
      };
      auto count2 = [&](int j, int lo, int hi) {
        return rows_first ? cv::countNonZero(region.col(j).rowRange(lo, hi))
                          : cv::countNonZero(region.row(j).colRange(lo, hi));
      };
      std::vector<double> frac1(n1);
      for (int i = 0; i < n1; ++i) frac1[i] = count(i, a0, a1) / double(a1 - a0);
      const int seed1 = static_cast<int>(std::max_element(frac1.begin() + s0, frac1.begin() + s1) - frac1.begin());
      if (frac1[seed1] < 0.5) return std::nullopt;
      const auto [p0, p1] = filled_run(frac1, seed1);
      std::vector<double> frac2(n2);
      for (int j = 0; j < n2; ++j) frac2[j] = count2(j, p0, p1) / double(p1 - p0);
      const int seed2 = static_cast<int>(std::max_element(frac2.begin() + a0, frac2.begin() + a1) - frac2.begin());
      if (frac2[seed2] < 0.5) return std::nullopt;
      const auto [q0, q1] = filled_run(frac2, seed2);
      if (rows_first) return std::array<int, 4>{q0, q1, p0, p1};
      return std::array<int, 4>{p0, p1, q0, q1};
    };
    std::optional<std::array<int, 4>> ext = extent(true);
    if (!ext) ext = extent(false);
    if (!ext) continue;
    const auto [x0, x1, y0, y1] = *ext;
    // A run reaching the crop's edge has leaked into a wall of the board's
    // colour: in that direction the lidar's extent stands.
    cv::Rect b(x0, y0, x1 - x0, y1 - y0);
    const bool leak_x = x0 <= 1 || x1 >= lab.cols - 1, leak_y = y0 <= 1 || y1 >= lab.rows - 1;
    if (leak_x && leak_y) continue;  // wall
    if (leak_x) b.x = expected.x, b.width = expected.width;
    if (leak_y) b.y = expected.y, b.height = expected.height;
    if (b.area() > 2.5 * expected.area() || b.area() < 0.25 * expected.area()) continue;
    if (b.height > 2 * expected.height || b.width < expected.width / 3) continue;
    // The background stops at the board's frame: each edge moves out to
    // the outermost strong edge within a few pixels (the frame's outer
    // edge against the wall).
    auto snap = [&](int* edge, int step, bool horizontal) {
      std::vector<double> profile;
      for (int k = 0; k <= 6; ++k) {
        const int pos = *edge + step * k;
        if (pos < 0 || pos >= (horizontal ? lab.rows : lab.cols)) break;
        const cv::Mat line = horizontal ? cv::Mat(cv::abs(gy.row(pos).colRange(b.x, b.x + b.width)))
                                        : cv::Mat(cv::abs(gx.col(pos).rowRange(b.y, b.y + b.height)));
        profile.push_back(cv::mean(line)[0]);
      }
      if (profile.empty()) return;
      const double peak = *std::max_element(profile.begin(), profile.end());
      for (int k = static_cast<int>(profile.size()) - 1; k >= 0; --k) {
        if (profile[k] >= 0.6 * peak) {
          *edge += step * k;
          return;
        }
      }
    };
    int top = b.y, bottom = b.y + b.height - 1, left = b.x, right = b.x + b.width - 1;
    if (!leak_y) snap(&top, -1, true), snap(&bottom, 1, true);
    if (!leak_x) snap(&left, -1, false), snap(&right, 1, false);
    b = cv::Rect(left, top, right - left + 1, bottom - top + 1);
    *board = b;
    *located = !leak_x && !leak_y;
    return true;
  }
  return false;
}

}  // namespace

std::vector<std::pair<int, int>> TextLineRows(std::vector<double> f) {
  for (double& v : f) {
    if (v >= 0.6) v = 0;  // the rim
  }
  const int n = static_cast<int>(f.size());
  const double peak = n ? *std::max_element(f.begin(), f.end()) : 0.0;
  if (peak < 0.03) return {};
  struct Run { int r0, r1; double mass; };
  std::vector<Run> runs;
  // Split [r0, r1) at its deepest interior valley when that is far below
  // the text on both sides (the gap between two blurred lines), else keep it.
  std::function<void(int, int)> split = [&](int r0, int r1) {
    if (r1 - r0 < 3) return;
    int best = -1;
    double best_v = std::numeric_limits<double>::infinity();
    for (int r = r0 + 3; r + 3 <= r1; ++r) {
      if (f[r] < best_v) best_v = f[r], best = r;
    }
    if (best >= 0) {
      const double left = *std::max_element(f.begin() + r0, f.begin() + best);
      const double right = *std::max_element(f.begin() + best + 1, f.begin() + r1);
      if (best_v < 0.25 * std::min(left, right)) {
        split(r0, best);
        split(best + 1, r1);
        return;
      }
    }
    double mass = 0;
    for (int r = r0; r < r1; ++r) mass += f[r];
    runs.push_back({r0, r1, mass});
  };
  for (int r = 0; r < n;) {
    if (f[r] <= 0.05 * peak) {
      ++r;
      continue;
    }
    int e = r;
    while (e < n && f[e] > 0.05 * peak) ++e;
    split(r, e);
    r = e;
  }
  std::sort(runs.begin(), runs.end(), [](const Run& x, const Run& y) { return x.mass > y.mass; });
  std::vector<std::pair<int, int>> out;
  for (const Run& run : runs) {
    if (run.r1 - run.r0 < 4) continue;
    out.push_back({run.r0, run.r1});
    if (out.size() == 2) break;
  }
  return out;
}

SignReading SignOcr::Read(const cv::Mat& full_bgr, const cv::Rect& expected_px, double source_px) {
  SignReading out;
  sharpen_sigma_px_ = std::clamp(source_px, 1.0, 6.0);
  out.board_px = expected_px & cv::Rect(0, 0, full_bgr.cols, full_bgr.rows);
  if (full_bgr.empty() || out.board_px.height < 8 || out.board_px.width < 16) return out;
  cv::Mat full_lab;
  full_bgr.convertTo(full_lab, CV_32FC3, 1.0 / 255.0);
  cv::cvtColor(full_lab, full_lab, cv::COLOR_BGR2Lab);
  cv::Rect board;
  bool located = false;
  if (LocateBoard(full_lab, out.board_px, &board, &located)) {
    out.board_px = board;
    out.board_refined = located;
  }
  ReadText(full_bgr, full_lab, &out);
  // A board located in the image is usually the better crop, but where the
  // located rectangle is off (a frame or a neighbouring box of the same
  // colour taken in) the lidar's rectangle can read better: when the first
  // reading is not a sure Chinese name, the lidar's is read too and the
  // better kept (a Chinese reading over none, then the more confident).
  auto num_cjk = [](const SignReading& r) {
    int n = 0;
    for (char32_t ch : CodePoints(r.primary)) n += IsCjk(ch);
    return n;
  };
  const cv::Rect lidar_px = expected_px & cv::Rect(0, 0, full_bgr.cols, full_bgr.rows);
  if (out.board_px != lidar_px && (num_cjk(out) < 2 || out.primary_confidence < 0.85)) {
    SignReading alt;
    alt.board_px = lidar_px;
    ReadText(full_bgr, full_lab, &alt);
    const bool alt_cjk = num_cjk(alt) >= 2, out_cjk = num_cjk(out) >= 2;
    if ((alt_cjk && !out_cjk) || (alt_cjk == out_cjk && alt.primary_confidence > out.primary_confidence)) {
      alt.board_px = out.board_px;
      alt.board_refined = out.board_refined;
      out = std::move(alt);
    }
  }
  // Still an unsure Chinese reading: the text read again from a thinner
  // grey, stretched to the strongest text pixel instead of the 99.5%
  // quantile (a far board's blurred strokes never reach the text colour, so
  // the quantile stretch saturates them into blobs: 旅行社, 房产中介 at
  // 17-27 m), kept when its least sure character is surer. Default city:
  // crops read right with every character >= 0.95 went 105 -> 107 (one of
  // them 房产中介 at 17 m), the wrong ones so sure stayed 3; the POIs stayed
  // 37 of 55 in two runs. The 99.9% quantile read no more than the 99.5%.
  if (raw_line_below_ > 0 && num_cjk(out) >= 2 && CjkSurenessOf(out.primary_symbols).least < raw_line_below_) {
    SignReading thin;
    thin.board_px = out.board_px;
    thin.board_refined = out.board_refined;
    ReadText(full_bgr, full_lab, &thin, /*grey_top_quantile=*/1.0);
    if (IsSurerRereading(thin.primary_symbols, out.primary_symbols)) out = std::move(thin);
  }
  return out;
}

void SignOcr::ReadText(const cv::Mat& full_bgr, const cv::Mat& full_lab, SignReading* out, double grey_top_quantile) {
  // Inside the rim (the sign's frame is drawn in a text-like colour).
  const int rim = std::max(1, out->board_px.height / 20);
  const cv::Rect inside(out->board_px.x + rim, out->board_px.y + rim, out->board_px.width - 2 * rim,
                        out->board_px.height - 2 * rim);
  if (inside.height < 8 || inside.width < 16) return;
  const cv::Mat bgr = full_bgr(inside);
  const cv::Mat lab = full_lab(inside);
  // Two colours: the background is the most common colour of the board;
  // the text the mean of the pixels most unlike it in the board's middle
  // (where text is; the edges may hold rim, wall or a pole).
  const int mx = bgr.cols / 40;
  const cv::Rect mid(bgr.cols / 10, bgr.rows / 10, bgr.cols * 8 / 10, bgr.rows * 8 / 10);
  if (mid.area() < 50) return;
  std::map<int, std::pair<int, cv::Vec3d>> bins;
  for (int r = mid.y; r < mid.y + mid.height; ++r) {
    for (int c = mid.x; c < mid.x + mid.width; ++c) {
      const cv::Vec3f v = lab.at<cv::Vec3f>(r, c);
      const int key = (static_cast<int>(v[0] / 8) * 64 + static_cast<int>((v[1] + 128) / 8)) * 64 +
                      static_cast<int>((v[2] + 128) / 8);
      auto& bin = bins[key];
      ++bin.first;
      bin.second += cv::Vec3d(v[0], v[1], v[2]);
    }
  }
  const auto mode = std::max_element(bins.begin(), bins.end(),
                                     [](const auto& x, const auto& y) { return x.second.first < y.second.first; });
  const cv::Vec3d bg_d = mode->second.second / mode->second.first;
  const cv::Vec3f c_bg(static_cast<float>(bg_d[0]), static_cast<float>(bg_d[1]), static_cast<float>(bg_d[2]));
  std::vector<std::pair<float, cv::Vec3f>> far;
  for (int r = mid.y; r < mid.y + mid.height; ++r) {
    for (int c = mid.x; c < mid.x + mid.width; ++c) {
      const cv::Vec3f v = lab.at<cv::Vec3f>(r, c);
      far.push_back({static_cast<float>(cv::norm(v - c_bg)), v});
    }
  }
  const size_t top = std::max<size_t>(1, far.size() / 12);
  std::nth_element(far.begin(), far.begin() + top, far.end(), [](const auto& x, const auto& y) { return x.first > y.first; });
  cv::Vec3d tx_d(0, 0, 0);
  for (size_t k = 0; k < top; ++k) tx_d += cv::Vec3d(far[k].second[0], far[k].second[1], far[k].second[2]);
  tx_d /= static_cast<double>(top);
  const cv::Vec3f c_tx(static_cast<float>(tx_d[0]), static_cast<float>(tx_d[1]), static_cast<float>(tx_d[2]));
  const cv::Vec3f axis = c_tx - c_bg;
  const double axis2 = axis.dot(axis);
  out->contrast = std::sqrt(axis2);
  if (out->contrast < 12.0) return;  // one colour: no legible text
  // Grey: position along the background -> text colour axis, stretched
  // between the background (median) and the strongest text pixels (the
  // k-means text centre is pulled towards the background by blurred stroke
  // edges; clamping there would fill the strokes' insides).
  cv::Mat t_img(lab.size(), CV_32F);
  std::vector<float> ts;
  ts.reserve(lab.total());
  for (int r = 0; r < lab.rows; ++r) {
    for (int c = 0; c < lab.cols; ++c) {
      const float t = static_cast<float>((lab.at<cv::Vec3f>(r, c) - c_bg).dot(axis) / axis2);
      t_img.at<float>(r, c) = t;
      ts.push_back(t);
    }
  }
  auto quantile = [&](double q) {
    const size_t k = std::min(ts.size() - 1, static_cast<size_t>(q * (ts.size() - 1)));
    std::nth_element(ts.begin(), ts.begin() + k, ts.end());
    return static_cast<double>(ts[k]);
  };
  const double t_lo = quantile(0.5), t_hi = std::max(t_lo + 0.3, quantile(grey_top_quantile));
  cv::Mat gray(lab.size(), CV_8U), mask(lab.size(), CV_8U);
  // Tesseract reads the grey image sharpened (an unsharp mask: 2.5 times
  // the detail above a Gaussian of one panorama pixel at the board, 4 crop
  // pixels for a 2048 px panorama seen from 20 m): the panorama's blur
  // merges a blurred Chinese character's strokes into one blob. On the
  // 2048 px default city's 176 crops a fixed 4 px Gaussian read 41 names
  // right where the unsharpened grey read 34 (1.5 times: 38; 4 times: 34);
  // at 4096 px the pixel-sized Gaussian read 36 of 55 signs, 4 px 33. The
  // text mask (lines, extent) stays unsharpened.
  cv::Mat t_sharp;
  {
    cv::Mat blurred;
    cv::GaussianBlur(t_img, blurred, cv::Size(0, 0), sharpen_sigma_px_);
    t_sharp = t_img + 2.5 * (t_img - blurred);
  }
  for (int r = 0; r < lab.rows; ++r) {
    for (int c = 0; c < lab.cols; ++c) {
      const double u = (t_img.at<float>(r, c) - t_lo) / (t_hi - t_lo);
      const double ug = (t_sharp.at<float>(r, c) - t_lo) / (t_hi - t_lo);
      gray.at<uint8_t>(r, c) = cv::saturate_cast<uint8_t>(255.0 * (1.0 - std::clamp(ug, 0.0, 1.0)));
      mask.at<uint8_t>(r, c) = u > 0.5 ? 1 : 0;
    }
  }
  // Text never touches the board's edge: what does is rim or wall, and
  // becomes background.
  {
    cv::Mat labels, stats, centroids;
    const int n = cv::connectedComponentsWithStats(mask, labels, stats, centroids, 8);
    std::vector<char> edge(n, 0);
    for (int l = 1; l < n; ++l) {
      const int x = stats.at<int>(l, cv::CC_STAT_LEFT), y = stats.at<int>(l, cv::CC_STAT_TOP);
      const int w = stats.at<int>(l, cv::CC_STAT_WIDTH), h = stats.at<int>(l, cv::CC_STAT_HEIGHT);
      edge[l] = x == 0 || y == 0 || x + w == mask.cols || y + h == mask.rows;
    }
    for (int r = 0; r < mask.rows; ++r) {
      for (int c = 0; c < mask.cols; ++c) {
        if (edge[labels.at<int>(r, c)]) {
          mask.at<uint8_t>(r, c) = 0;
          gray.at<uint8_t>(r, c) = 255;
        }
      }
    }
  }
  // Text lines: rows with some text pixels, between the columns of the
  // margin; rows that are mostly "text" are the sign's rim, not text.
  std::vector<double> row_fraction(lab.rows, 0.0);
  for (int r = 0; r < lab.rows; ++r) {
    row_fraction[r] = cv::countNonZero(mask.row(r).colRange(mx, lab.cols - mx)) / double(lab.cols - 2 * mx);
  }
  struct Band { int r0, r1, c0, c1; };
  std::vector<Band> bands;
  for (const auto& [r0, r1] : TextLineRows(row_fraction)) bands.push_back({r0, r1, 0, 0});
  if (!debug_prefix_.empty()) {
    cv::imwrite(debug_prefix_ + "_inside.png", bgr);
    cv::imwrite(debug_prefix_ + "_mask.png", mask * 255);
    cv::imwrite(debug_prefix_ + "_gray.png", gray);
  }
  if (bands.empty()) return;
  for (Band& b : bands) {
    std::vector<int> col_count(lab.cols, 0);
    for (int r = b.r0; r < b.r1; ++r) {
      for (int c = mx; c < lab.cols - mx; ++c) col_count[c] += mask.at<uint8_t>(r, c);
    }
    b.c0 = lab.cols;
    b.c1 = 0;
    for (int c = 0; c < lab.cols; ++c) {
      if (col_count[c] > 0) {
        b.c0 = std::min(b.c0, c);
        b.c1 = std::max(b.c1, c + 1);
      }
    }
  }
  out->num_lines = static_cast<int>(bands.size());
  LineReading p = ReadLine(primary_.get(), gray, bands[0].r0, bands[0].r1, bands[0].c0, bands[0].c1,
                           debug_prefix_.empty() ? "" : debug_prefix_ + "_line0.png", raw_line_below_,
                           fallback_.get());
  int num_cjk = 0;
  for (char32_t ch : CodePoints(p.text)) num_cjk += IsCjk(ch);
  if (num_cjk < 2) p = ReadLine(secondary_.get(), gray, bands[0].r0, bands[0].r1, bands[0].c0, bands[0].c1, "");
  out->primary = p.text;
  out->primary_confidence = p.confidence;
  out->primary_symbols = std::move(p.symbols);
  out->primary_width_in_heights = (bands[0].c1 - bands[0].c0) / static_cast<double>(std::max(1, bands[0].r1 - bands[0].r0));
  if (bands.size() > 1) {
    LineReading sec = ReadLine(secondary_.get(), gray, bands[1].r0, bands[1].r1, bands[1].c0, bands[1].c1,
                               debug_prefix_.empty() ? "" : debug_prefix_ + "_line1.png");
    out->secondary = sec.text;
    out->secondary_confidence = sec.confidence;
  }
}

}  // namespace armap::mapping::internal
