// Which of two pose candidates the image regions that tell them apart
// support (repeated facades). Each candidate has the landmarks its map
// predicts to be visible in the photo (seen by map views from a similar
// direction and distance) and the query features it explains. At a repeated
// facade both explain the repeated part; only the rest of the photo can
// separate them: a region where one candidate's map predicts landmarks but
// it explains nothing, while the other explains features there, is evidence
// against the first. Regions count, not features, because features in one
// region succeed or fail together (occlusion, blur, a map gap).
#pragma once

#include <vector>

#include <Eigen/Core>

#include "absl/status/status.h"

namespace armap::loc {

struct RegionEvidenceOptions {
  // The image (the bounding box of the query's features on the normalised
  // plane) is cut into cols x rows cells; 8 x 6 is about 80 px on a 640 px
  // photo, the size of a window or a shop sign.
  int cols = 8;
  int rows = 6;
  // A cell is predicted by a candidate when at least this many of its
  // landmarks project there: fewer is too little for a miss to mean much.
  int min_predicted = 5;
  // Beta prior (pseudo-cells per side) on the share of telling cells that
  // favour the rival: a few cells must agree before the evidence weighs.
  double prior_cells = 2.0;

  [[nodiscard]] absl::Status Validate() const;
};

struct CandidateEvidence {
  std::vector<Eigen::Vector2d> predicted;  // projections of the predicted landmarks, normalised plane
  std::vector<Eigen::Vector2d> explained;  // the query features it explains, normalised plane
};

struct RegionEvidence {
  // Cells the rival predicts but explains nothing in while the winner
  // explains features there, and the converse.
  int against_rival = 0;
  int against_winner = 0;
  // 2 x the posterior mean share of telling cells that favour the rival:
  // 1 without evidence either way, towards 0 when the image contradicts
  // the rival, towards 2 when it contradicts the winner. Scales the
  // rival's support in the confidence.
  double rival_factor = 1.0;
};

// lo/hi: the image's extent on the normalised plane.
RegionEvidence RegionEvidenceFor(const CandidateEvidence& winner, const CandidateEvidence& rival,
                                 const Eigen::Vector2d& lo, const Eigen::Vector2d& hi,
                                 const RegionEvidenceOptions& options);

}  // namespace armap::loc
