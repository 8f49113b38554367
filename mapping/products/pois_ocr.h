// Reading one rectified sign image with Tesseract: the sign's two colours
// (background, text) are separated, the text lines found from the row
// profile of the text mask, and each line read on its own (the tallest with
// the full language set, e.g. chi_sim+eng; the others with eng).
// Internal to the POI stage; not thread-safe (one SignOcr per thread).
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <opencv2/core.hpp>

#include "absl/status/statusor.h"

namespace tesseract {
class TessBaseAPI;
}

namespace armap::mapping::internal {

struct SignReading {
  std::string primary;          // the tallest text line, raw UTF-8
  double primary_confidence = 0.0;  // 0..1 (Tesseract's mean word confidence)
  // The primary line's code points with their own confidences (0..1).
  std::vector<std::pair<char32_t, double>> primary_symbols;
  // The primary line's text extent, width over height (a CJK character is
  // about square: the number of characters the line holds).
  double primary_width_in_heights = 0.0;
  std::string secondary;        // the next line (the English name on our signs)
  double secondary_confidence = 0.0;
  double contrast = 0.0;        // Lab distance between text and background colours
  int num_lines = 0;
  cv::Rect board_px;            // the board found in the image (its background colour's region)
  bool board_refined = false;   // false: board_px is the expected rectangle
};

// The Chinese characters of a reading: how many, and the confidence of the
// least sure one (1 when there is none).
struct CjkSureness {
  int count = 0;
  double least = 1.0;
};
CjkSureness CjkSurenessOf(const std::vector<std::pair<char32_t, double>>& symbols);

// Whether a re-reading should replace the current reading: it keeps at
// least as many Chinese characters (one that drops the unsure character, or
// reads no Chinese at all, would otherwise look surer) and its least sure
// one is surer.
bool IsSurerRereading(const std::vector<std::pair<char32_t, double>>& rereading,
                      const std::vector<std::pair<char32_t, double>>& current);

// Text lines from the share of text pixels in each row of a board: rows
// of the board's rim (>= 0.6) are dropped; runs of rows above 5% of the
// peak are lines, split where a run has an interior valley below a quarter
// of the text on both sides (two lines blurred together; a Chinese line's
// own stroke rows never fall that low). The two heaviest (the most text)
// first: [row0, row1) each, at least 4 rows.
std::vector<std::pair<int, int>> TextLineRows(std::vector<double> row_fraction);

class SignOcr {
 public:
  // languages: e.g. "chi_sim+eng" (the primary line); the secondary lines
  // use "eng" when the set contains it, else the same set. FailedPrecondition
  // naming the languages and folder when Tesseract cannot load them.
  // fallback_languages (e.g. "HanS"; empty: none) read a primary line whose
  // least sure Chinese character stays under raw_line_below (see below).
  static absl::StatusOr<std::unique_ptr<SignOcr>> Create(const std::string& languages,
                                                         const std::filesystem::path& tessdata_dir,
                                                         const std::string& fallback_languages = "");
  ~SignOcr();
  SignOcr(const SignOcr&) = delete;
  SignOcr& operator=(const SignOcr&) = delete;

  // bgr: CV_8UC3, the sign face rectified (fronto-parallel, upright), with a
  // margin of wall around it; expected_px: where the lidar puts the board.
  // The board is first located by its background colour (the most common
  // colour inside expected_px, grown over the image), then read.
  // source_px: one panorama pixel's size in crop pixels at the board (its
  // blur; the text is sharpened at that scale).
  SignReading Read(const cv::Mat& bgr, const cv::Rect& expected_px, double source_px = 4.0);
  // When set, each Read writes its text lines as PREFIX_lineK.png.
  void set_debug_prefix(const std::string& prefix) { debug_prefix_ = prefix; }
  // A primary line whose least sure Chinese character is under this is
  // read again as a raw line (Tesseract PSM 13), then by the fallback
  // languages, then the whole board from a thinner grey, and the reading
  // when IsSurerRereading; 0 turns it off. The stage passes the stricter of
  // PoiOptions::min_char_confidence and min_char_confidence_single_view: the
  // re-read is for readings a gate would drop.
  void set_raw_line_below(double confidence) { raw_line_below_ = confidence; }

 private:
  SignOcr() = default;
  // The grey's black is this quantile of the text axis (1: its maximum).
  static constexpr double kGreyTopQuantile = 0.995;
  // Reads the text of out->board_px (full_lab: full_bgr in float Lab);
  // grey_top_quantile sets the grey's black (see kGreyTopQuantile).
  void ReadText(const cv::Mat& full_bgr, const cv::Mat& full_lab, SignReading* out,
                double grey_top_quantile = kGreyTopQuantile);
  std::unique_ptr<tesseract::TessBaseAPI> primary_;
  std::unique_ptr<tesseract::TessBaseAPI> secondary_;
  std::unique_ptr<tesseract::TessBaseAPI> fallback_;  // null: none
  std::string debug_prefix_;
  double sharpen_sigma_px_ = 4.0;
  double raw_line_below_ = 0.93;
};

}  // namespace armap::mapping::internal
