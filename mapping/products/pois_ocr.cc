#include "mapping/products/pois_ocr.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <tesseract/baseapi.h>

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
std::pair<std::string, double> ReadLine(tesseract::TessBaseAPI* api, const cv::Mat& gray, int row0, int row1,
                                        int col0, int col1, const std::string& debug_path) {
  const int pad = std::max(2, (row1 - row0) / 4);
  const cv::Rect roi(std::max(0, col0 - pad), std::max(0, row0 - pad),
                     std::min(gray.cols, col1 + pad) - std::max(0, col0 - pad),
                     std::min(gray.rows, row1 + pad) - std::max(0, row0 - pad));
  if (roi.width < 8 || roi.height < 4) return {"", 0.0};
  // Blurred text reads differently at different sizes (no one size wins on
  // our boards): the line is read at ~40 and ~28 px, the more confident
  // reading kept; a confident first reading ends the search. (A third size,
  // 64 px, found 2 more of 55 signs on the default city for 2.5x the time.)
  std::pair<std::string, double> best{"", 0.0};
  for (const double target_px : {40.0, 28.0}) {
    cv::Mat line;
    const double scale = target_px / std::max(1, row1 - row0);
    cv::resize(gray(roi), line, cv::Size(), scale, scale, scale > 1 ? cv::INTER_CUBIC : cv::INTER_AREA);
    cv::copyMakeBorder(line, line, 12, 12, 12, 12, cv::BORDER_CONSTANT, cv::Scalar(255));
    if (!debug_path.empty() && target_px == 40.0) cv::imwrite(debug_path, line);
    api->SetImage(line.data, line.cols, line.rows, 1, static_cast<int>(line.step));
    api->SetSourceResolution(300);
    char* text = api->GetUTF8Text();
    std::string s = text ? text : "";
    delete[] text;
    const double conf = std::max(0, api->MeanTextConf()) / 100.0;
    api->Clear();
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    if (!s.empty() && conf > best.second) best = {s, conf};
    if (best.second >= 0.85) break;
  }
  return best;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SignOcr>> SignOcr::Create(const std::string& languages,
                                                         const std::filesystem::path& tessdata_dir) {
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
  return ocr;
}

SignOcr::~SignOcr() {
  if (primary_) primary_->End();
  if (secondary_) secondary_->End();
}

namespace {

// The board's rectangle: pixels within a colour distance of the mode colour
// inside the expected rectangle, closed over the text, then the connected
// region overlapping the expected rectangle most.
bool LocateBoard(const cv::Mat& lab, const cv::Rect& expected, cv::Rect* board) {
  const cv::Rect inner(expected.x + expected.width / 6, expected.y + expected.height / 6,
                       std::max(1, expected.width * 2 / 3), std::max(1, expected.height * 2 / 3));
  const cv::Rect r = inner & cv::Rect(0, 0, lab.cols, lab.rows);
  if (r.area() < 20) return false;
  std::map<int, std::pair<int, cv::Vec3d>> bins;
  for (int y = r.y; y < r.y + r.height; ++y) {
    for (int x = r.x; x < r.x + r.width; ++x) {
      const cv::Vec3f v = lab.at<cv::Vec3f>(y, x);
      const int key = (static_cast<int>(v[0] / 8) * 64 + static_cast<int>((v[1] + 128) / 8)) * 64 +
                      static_cast<int>((v[2] + 128) / 8);
      auto& b = bins[key];
      ++b.first;
      b.second += cv::Vec3d(v[0], v[1], v[2]);
    }
  }
  const auto mode = std::max_element(bins.begin(), bins.end(),
                                     [](const auto& a, const auto& b) { return a.second.first < b.second.first; });
  const cv::Vec3d c = mode->second.second / mode->second.first;
  cv::Mat mask(lab.size(), CV_8U);
  for (int y = 0; y < lab.rows; ++y) {
    for (int x = 0; x < lab.cols; ++x) {
      const cv::Vec3f v = lab.at<cv::Vec3f>(y, x);
      const double d2 = (v[0] - c[0]) * (v[0] - c[0]) + (v[1] - c[1]) * (v[1] - c[1]) + (v[2] - c[2]) * (v[2] - c[2]);
      mask.at<uint8_t>(y, x) = d2 < 14.0 * 14.0 ? 255 : 0;
    }
  }
  const int k = std::max(3, expected.height / 6) | 1;
  cv::morphologyEx(mask, mask, cv::MORPH_CLOSE, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(k, k)));
  cv::morphologyEx(mask, mask, cv::MORPH_OPEN, cv::getStructuringElement(cv::MORPH_RECT, cv::Size(5, 5)));
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(mask, labels, stats, centroids, 8);
  int best = -1, best_overlap = 0;
  for (int l = 1; l < n; ++l) {
    int overlap = 0;
    for (int y = r.y; y < r.y + r.height; ++y) {
      for (int x = r.x; x < r.x + r.width; ++x) overlap += labels.at<int>(y, x) == l;
    }
    if (overlap > best_overlap) best_overlap = overlap, best = l;
  }
  if (best < 0) return false;
  const cv::Rect b(stats.at<int>(best, cv::CC_STAT_LEFT), stats.at<int>(best, cv::CC_STAT_TOP),
                   stats.at<int>(best, cv::CC_STAT_WIDTH), stats.at<int>(best, cv::CC_STAT_HEIGHT));
  // A board leaking into a wall of its own colour, or a speck: keep the lidar's.
  if (b.area() > 2.5 * expected.area() || b.area() < 0.25 * expected.area()) return false;
  if (b.height > 2 * expected.height || b.width < expected.width / 3) return false;
  *board = b;
  return true;
}

}  // namespace

SignReading SignOcr::Read(const cv::Mat& full_bgr, const cv::Rect& expected_px) {
  SignReading out;
  out.board_px = expected_px & cv::Rect(0, 0, full_bgr.cols, full_bgr.rows);
  if (full_bgr.empty() || out.board_px.height < 8 || out.board_px.width < 16) return out;
  cv::Mat full_lab;
  full_bgr.convertTo(full_lab, CV_32FC3, 1.0 / 255.0);
  cv::cvtColor(full_lab, full_lab, cv::COLOR_BGR2Lab);
  cv::Rect board;
  if (LocateBoard(full_lab, out.board_px, &board)) {
    out.board_px = board;
    out.board_refined = true;
  }
  // Inside the rim (the sign's frame is drawn in a text-like colour).
  const int rim = std::max(1, out.board_px.height / 20);
  const cv::Rect inside(out.board_px.x + rim, out.board_px.y + rim, out.board_px.width - 2 * rim,
                        out.board_px.height - 2 * rim);
  if (inside.height < 8 || inside.width < 16) return out;
  const cv::Mat bgr = full_bgr(inside);
  const cv::Mat lab = full_lab(inside);
  // Two colours: the background is the most common colour of the board;
  // the text the mean of the pixels most unlike it in the board's middle
  // (where text is; the edges may hold rim, wall or a pole).
  const int mx = bgr.cols / 40;
  const cv::Rect mid(bgr.cols / 10, bgr.rows / 10, bgr.cols * 8 / 10, bgr.rows * 8 / 10);
  if (mid.area() < 50) return out;
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
  out.contrast = std::sqrt(axis2);
  if (out.contrast < 12.0) return out;  // one colour: no legible text
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
  const double t_lo = quantile(0.5), t_hi = std::max(t_lo + 0.3, quantile(0.995));
  cv::Mat gray(lab.size(), CV_8U), mask(lab.size(), CV_8U);
  for (int r = 0; r < lab.rows; ++r) {
    for (int c = 0; c < lab.cols; ++c) {
      const double u = (t_img.at<float>(r, c) - t_lo) / (t_hi - t_lo);
      gray.at<uint8_t>(r, c) = cv::saturate_cast<uint8_t>(255.0 * (1.0 - std::clamp(u, 0.0, 1.0)));
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
  // The primary line: the rows around the densest one; the secondary: the
  // strongest other run of text rows (lines of different sizes blur into
  // each other, so runs are cut at a fraction of the peak, not at zero).
  for (double& f : row_fraction) {
    if (f >= 0.6) f = 0;  // the rim
  }
  const int peak_row = static_cast<int>(std::max_element(row_fraction.begin(), row_fraction.end()) - row_fraction.begin());
  const double peak = row_fraction[peak_row];
  if (peak >= 0.03) {
    // Grow from the peak over the rows with text, stopping in a valley
    // (below half the peak, rising again): the gap to the next line.
    int p0 = peak_row, p1 = peak_row + 1;
    while (p0 > 0 && row_fraction[p0 - 1] > 0.08 * peak &&
           !(row_fraction[p0] < 0.5 * peak && row_fraction[p0 - 1] > row_fraction[p0] + 0.01)) {
      --p0;
    }
    while (p1 < lab.rows && row_fraction[p1] > 0.08 * peak &&
           !(row_fraction[p1 - 1] < 0.5 * peak && row_fraction[p1] > row_fraction[p1 - 1] + 0.01)) {
      ++p1;
    }
    if (p1 - p0 >= 4) bands.push_back({p0, p1, 0, 0});
    Band second{0, 0, 0, 0};
    double second_mass = 0;
    for (int r = 0; r < lab.rows;) {
      if (r >= p0 - 1 && r <= p1) {
        r = p1 + 1;
        continue;
      }
      if (row_fraction[r] <= 0.1 * peak) {
        ++r;
        continue;
      }
      int e = r;
      double mass = 0;
      while (e < lab.rows && row_fraction[e] > 0.1 * peak && !(e >= p0 - 1 && e <= p1)) mass += row_fraction[e++];
      if (e - r >= 4 && mass > second_mass) second = {r, e, 0, 0}, second_mass = mass;
      r = e;
    }
    if (!bands.empty() && second_mass > 0) bands.push_back(second);
  }
  if (!debug_prefix_.empty()) {
    cv::imwrite(debug_prefix_ + "_inside.png", bgr);
    cv::imwrite(debug_prefix_ + "_mask.png", mask * 255);
    cv::imwrite(debug_prefix_ + "_gray.png", gray);
  }
  if (bands.empty()) return out;
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
  out.num_lines = static_cast<int>(bands.size());
  auto [p, pc] = ReadLine(primary_.get(), gray, bands[0].r0, bands[0].r1, bands[0].c0, bands[0].c1,
                           debug_prefix_.empty() ? "" : debug_prefix_ + "_line0.png");
  out.primary = p;
  out.primary_confidence = pc;
  int num_cjk = 0;
  for (char32_t ch : CodePoints(p)) num_cjk += IsCjk(ch);
  if (num_cjk < 2) {
    auto [pe, pec] = ReadLine(secondary_.get(), gray, bands[0].r0, bands[0].r1, bands[0].c0, bands[0].c1, "");
    out.primary = pe;
    out.primary_confidence = pec;
  }
  if (bands.size() > 1) {
    auto [s, sc] = ReadLine(secondary_.get(), gray, bands[1].r0, bands[1].r1, bands[1].c0, bands[1].c1,
                             debug_prefix_.empty() ? "" : debug_prefix_ + "_line1.png");
    out.secondary = s;
    out.secondary_confidence = sc;
  }
  return out;
}

}  // namespace armap::mapping::internal
