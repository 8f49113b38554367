#include "core/features/feature_set.h"

#include "absl/strings/str_cat.h"
#include "core/logging.h"

namespace armap::features {

void FeatureSet::Append(const FeatureSet& other) {
  if (other.empty()) return;
  if (empty()) {
    descriptors.clear();
    dim = other.dim;
  }
  ARMAP_CHECK(dim == other.dim);
  keypoints.insert(keypoints.end(), other.keypoints.begin(), other.keypoints.end());
  descriptors.insert(descriptors.end(), other.descriptors.begin(), other.descriptors.end());
}

FeatureSet FeatureSet::Subset(const std::vector<size_t>& indices) const {
  FeatureSet out;
  out.dim = dim;
  out.keypoints.reserve(indices.size());
  out.descriptors.reserve(indices.size() * static_cast<size_t>(dim));
  for (size_t i : indices) {
    ARMAP_CHECK(i < size());
    out.keypoints.push_back(keypoints[i]);
    out.descriptors.insert(out.descriptors.end(), descriptor(i), descriptor(i) + dim);
  }
  return out;
}

absl::Status FeatureSet::CheckConsistent(const char* what) const {
  if (dim <= 0) return absl::InvalidArgumentError(absl::StrCat(what, "::dim = ", dim, "; must be > 0"));
  if (descriptors.size() != keypoints.size() * static_cast<size_t>(dim)) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": ", descriptors.size(), " descriptor bytes for ",
                                                   keypoints.size(), " keypoints of dim ", dim, "; expected ",
                                                   keypoints.size() * static_cast<size_t>(dim)));
  }
  return absl::OkStatus();
}

}  // namespace armap::features
