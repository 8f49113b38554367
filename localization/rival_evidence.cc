#include "localization/rival_evidence.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace armap::loc {

absl::Status RegionEvidenceOptions::Validate() const {
  auto bad = [](const char* field, double value, const char* rule) {
    return absl::InvalidArgumentError(absl::StrCat("RegionEvidenceOptions::", field, " = ", value, "; must be ", rule));
  };
  if (cols < 1 || cols > 256) return bad("cols", cols, "in [1, 256]");
  if (rows < 1 || rows > 256) return bad("rows", rows, "in [1, 256]");
  if (min_predicted < 1) return bad("min_predicted", min_predicted, ">= 1");
  if (!(prior_cells > 0)) return bad("prior_cells", prior_cells, "> 0");
  return absl::OkStatus();
}

RegionEvidence RegionEvidenceFor(const CandidateEvidence& winner, const CandidateEvidence& rival,
                                 const Eigen::Vector2d& lo, const Eigen::Vector2d& hi,
                                 const RegionEvidenceOptions& options) {
  RegionEvidence out;
  const Eigen::Vector2d extent = hi - lo;
  if (!(extent.x() > 0 && extent.y() > 0)) return out;
  const int cols = options.cols, rows = options.rows;
  // Cell index, or -1 outside the image.
  auto cell_of = [&](const Eigen::Vector2d& n) {
    const double u = (n.x() - lo.x()) / extent.x(), v = (n.y() - lo.y()) / extent.y();
    if (!(u >= 0 && u <= 1 && v >= 0 && v <= 1)) return -1;
    return std::min(rows - 1, static_cast<int>(v * rows)) * cols + std::min(cols - 1, static_cast<int>(u * cols));
  };
  auto histogram = [&](const std::vector<Eigen::Vector2d>& points) {
    std::vector<int> counts(static_cast<size_t>(cols) * rows, 0);
    for (const Eigen::Vector2d& p : points) {
      const int c = cell_of(p);
      if (c >= 0) ++counts[c];
    }
    return counts;
  };
  const std::vector<int> winner_predicted = histogram(winner.predicted), winner_explained = histogram(winner.explained);
  const std::vector<int> rival_predicted = histogram(rival.predicted), rival_explained = histogram(rival.explained);
  for (size_t c = 0; c < winner_predicted.size(); ++c) {
    if (rival_predicted[c] >= options.min_predicted && rival_explained[c] == 0 && winner_explained[c] > 0) {
      ++out.against_rival;
    }
    if (winner_predicted[c] >= options.min_predicted && winner_explained[c] == 0 && rival_explained[c] > 0) {
      ++out.against_winner;
    }
  }
  const double k = options.prior_cells;
  out.rival_factor = 2.0 * (out.against_winner + k) / (out.against_rival + out.against_winner + 2.0 * k);
  return out;
}

}  // namespace armap::loc
