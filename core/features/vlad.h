// VLAD global image descriptors (Jegou et al. 2010; intra-normalisation from
// Arandjelovic & Zisserman 2013) over a k-means codebook trained with FAISS.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/features/feature_set.h"

namespace armap::features {

struct VladOptions {
  // Codebook size k; the VLAD vector has k * dim entries.
  int num_clusters = 64;
  // Lloyd iterations of k-means.
  int kmeans_iterations = 20;
  // Training descriptors are subsampled (deterministically, from `seed`) to
  // at most this many.
  int max_training_descriptors = 200000;
  // Seeds the subsampling and the k-means initialisation.
  uint64_t seed = 1;

  [[nodiscard]] absl::Status Validate() const;
};

class VladCodebook {
 public:
  VladCodebook() = default;

  // k-means over the descriptors of `sets` (all must share one dim).
  // Deterministic for a seed on a given machine and thread count.
  // InvalidArgument when there are fewer descriptors than clusters.
  [[nodiscard]] static absl::StatusOr<VladCodebook> Train(const std::vector<const FeatureSet*>& sets,
                                                          const VladOptions& options);
  // A codebook from given centroids (num_clusters x dim, row-major).
  [[nodiscard]] static absl::StatusOr<VladCodebook> FromCentroids(int num_clusters, int dim,
                                                                  std::vector<float> centroids);

  // Hard-assigns each descriptor to its nearest centroid (ties: lower
  // index), sums the residuals per cluster, L2-normalises each cluster's
  // block (intra-normalisation), applies the signed square root (power
  // normalisation) and L2-normalises the whole: a unit vector of
  // descriptor_size() floats. An empty set gives the zero vector. The
  // features' dim must equal dim() (a programmer error otherwise: aborts).
  [[nodiscard]] std::vector<float> Encode(const FeatureSet& features) const;

  int num_clusters() const { return num_clusters_; }
  int dim() const { return dim_; }
  int descriptor_size() const { return num_clusters_ * dim_; }
  // num_clusters x dim, row-major.
  const std::vector<float>& centroids() const { return centroids_; }

  // Small binary format: magic "ARMAPVLD", version, sizes, float32
  // centroids, FNV-1a checksum; little-endian. Written atomically.
  [[nodiscard]] absl::Status Save(const std::filesystem::path& path) const;
  // Errors name the file: NotFound, DataLoss (truncated, corrupted,
  // not a codebook) or FailedPrecondition (unsupported version).
  [[nodiscard]] static absl::StatusOr<VladCodebook> Load(const std::filesystem::path& path);

 private:
  // The nearest centroid by the plain float loop (ties: lower index), the
  // definition Encode's faster assignment reproduces exactly.
  size_t NearestCentroidExact(const float* x) const;

  int num_clusters_ = 0;
  int dim_ = 0;
  std::vector<float> centroids_;
  std::vector<double> centroid_norms2_;  // |c|^2 per centroid
  double max_centroid_norm_ = 0;         // max |c|, for Encode's rounding bound
};

}  // namespace armap::features
