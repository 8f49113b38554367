// Text helpers of the POI stage: Unicode code points, the character error
// rate of the evaluation, and the name -> category rules.
#pragma once

#include <string>
#include <vector>

namespace armap::mapping::internal {

// UTF-8 -> code points (invalid bytes are skipped).
std::vector<char32_t> CodePoints(const std::string& utf8);
std::string Utf8FromCodePoints(const std::vector<char32_t>& code_points);
bool IsCjk(char32_t c);

// Code points without whitespace, lower-cased for ASCII (the evaluation's
// comparison form: spaces ignored, case of Latin letters ignored).
std::vector<char32_t> NormalizedForCer(const std::string& utf8);
// Character error rate: Levenshtein distance on NormalizedForCer code points
// over the reference's length; 1 when the reference is empty and the
// hypothesis is not, 0 when both are empty.
double CharacterErrorRate(const std::string& hypothesis, const std::string& reference);

// One optimal Levenshtein alignment of a to b: for each a[i], the index of
// the equal b[j] it is aligned with, or -1 (substituted or deleted).
std::vector<int> MatchedIndices(const std::vector<char32_t>& a, const std::vector<char32_t>& b);

// One optimal Levenshtein alignment of a to b with substitutions kept: for
// each a[i], the index of the b[j] it is aligned with (equal or
// substituted), or -1 (deleted from b).
std::vector<int> AlignedIndices(const std::vector<char32_t>& a, const std::vector<char32_t>& b);

// One view's reading of a name with Tesseract's confidence per code point.
struct CharReading {
  std::vector<char32_t> text;
  std::vector<double> char_conf;  // per code point of text
};

// A name fused character by character across views: the readings of the
// most common length (by confidence mass) are aligned position by position,
// those one character longer or shorter by an edit-distance alignment, and
// each position takes the character with the largest summed symbol
// confidence. A position is supported when its character holds more than
// half of the summed confidence there and either >= 2 views read it with
// the best of them at least
// min_char_confidence, or one view reads it at least
// min_char_confidence_single_view.
struct FusedName {
  std::vector<char32_t> text;
  std::vector<int> num_agreeing;     // per position: views that read text[k]
  std::vector<double> best_conf;     // per position: their best confidence
  std::vector<char> supported;       // per position
  int num_views = 0;                 // readings aligned to the name
  // Mean over positions of the winner's summed confidence per aligned view.
  double confidence = 0.0;
  bool AllSupported() const;
};
FusedName FuseCharacters(const std::vector<CharReading>& readings, double min_char_confidence,
                         double min_char_confidence_single_view);

// Keeps the CJK code points of an OCR reading (a Chinese shop name), or the
// Latin letters, digits, '&', apostrophes and single spaces (an English one).
std::string CleanCjkReading(const std::string& utf8);
std::string CleanLatinReading(const std::string& utf8);

// Category of a shop name by keyword rules on the text (zh and en), e.g.
// "...药房" / "... Pharmacy" -> "pharmacy"; "" when no rule applies.
std::string CategoryFromName(const std::string& name_zh, const std::string& name_en);

}  // namespace armap::mapping::internal
