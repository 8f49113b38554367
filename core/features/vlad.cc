#include "core/features/vlad.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <limits>
#include <string>
#include <utility>

#include <faiss/Clustering.h>
#include <faiss/IndexFlat.h>

#include "absl/strings/str_cat.h"
#include "core/features/dot_tile.h"
#include "core/files.h"
#include "core/logging.h"
#include "core/random.h"
#include "core/status.h"

namespace armap::features {
namespace {

constexpr char kMagic[8] = {'A', 'R', 'M', 'A', 'P', 'V', 'L', 'D'};
constexpr uint32_t kVersion = 1;
// magic, version, num_clusters, dim
constexpr size_t kHeaderBytes = sizeof(kMagic) + 3 * sizeof(uint32_t);
constexpr size_t kChecksumBytes = sizeof(uint64_t);
// Sanity limits for reading untrusted files (a codebook is a few MB).
constexpr int64_t kMaxClusters = 1 << 20;
constexpr int64_t kMaxDim = 1 << 12;

uint64_t Fnv1a64(const char* data, size_t size) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < size; ++i) {
    h ^= static_cast<uint8_t>(data[i]);
    h *= 0x100000001b3ull;
  }
  return h;
}

// The format is little-endian; so are all our targets (x86-64, arm64, wasm).
template <typename T>
void Put(std::string* out, const T& value) {
  out->append(reinterpret_cast<const char*>(&value), sizeof(T));
}
template <typename T>
T Get(const char* p) {
  T value;
  std::memcpy(&value, p, sizeof(T));
  return value;
}

// Deterministic sample of `count` of [0, n) without replacement (partial
// Fisher-Yates on armap::Rng), sorted so the training order is canonical.
std::vector<size_t> SampleIndices(size_t n, size_t count, uint64_t seed) {
  std::vector<size_t> all(n);
  for (size_t i = 0; i < n; ++i) all[i] = i;
  if (count >= n) return all;
  Rng rng(seed, /*stream=*/0x564c4144 /* "VLAD" */);
  for (size_t i = 0; i < count; ++i) {
    const size_t j = i + static_cast<size_t>(rng.NextU64() % (n - i));
    std::swap(all[i], all[j]);
  }
  all.resize(count);
  std::sort(all.begin(), all.end());
  return all;
}

}  // namespace

absl::Status VladOptions::Validate() const {
  if (num_clusters <= 0 || num_clusters > kMaxClusters) {
    return absl::InvalidArgumentError(
        absl::StrCat("VladOptions::num_clusters = ", num_clusters, "; must be in [1, ", kMaxClusters, "]"));
  }
  if (kmeans_iterations <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("VladOptions::kmeans_iterations = ", kmeans_iterations, "; must be > 0"));
  }
  if (max_training_descriptors < num_clusters) {
    return absl::InvalidArgumentError(absl::StrCat("VladOptions::max_training_descriptors = ", max_training_descriptors,
                                                   "; must be >= num_clusters = ", num_clusters));
  }
  return absl::OkStatus();
}

absl::StatusOr<VladCodebook> VladCodebook::Train(const std::vector<const FeatureSet*>& sets,
                                                 const VladOptions& options) {
  ARMAP_RETURN_IF_ERROR(options.Validate());
  int dim = 0;
  std::vector<std::pair<const FeatureSet*, size_t>> refs;  // (set, feature index)
  for (size_t s = 0; s < sets.size(); ++s) {
    const FeatureSet* set = sets[s];
    if (set == nullptr) return absl::InvalidArgumentError(absl::StrCat("VLAD training set ", s, " is null"));
    ARMAP_RETURN_IF_ERROR(set->CheckConsistent("VLAD training FeatureSet"));
    if (set->empty()) continue;
    if (dim == 0) dim = set->dim;
    if (set->dim != dim) {
      return absl::InvalidArgumentError(
          absl::StrCat("VLAD training set ", s, " has dim ", set->dim, "; earlier sets have ", dim));
    }
    if (dim > kMaxDim) return absl::InvalidArgumentError(absl::StrCat("descriptor dim ", dim, " > ", kMaxDim));
    for (size_t i = 0; i < set->size(); ++i) refs.emplace_back(set, i);
  }
  if (refs.size() < static_cast<size_t>(options.num_clusters)) {
    return absl::InvalidArgumentError(absl::StrCat("VLAD training needs at least num_clusters = ", options.num_clusters,
                                                   " descriptors; got ", refs.size()));
  }
  const std::vector<size_t> picked =
      SampleIndices(refs.size(), static_cast<size_t>(options.max_training_descriptors), options.seed);
  if (picked.size() < static_cast<size_t>(options.num_clusters) * 39) {
    // FAISS's own rule of thumb (it would print this to stdout).
    ARMAP_LOG_WARN("VLAD: {} training descriptors for {} clusters; k-means wants >= {}", picked.size(),
                   options.num_clusters, options.num_clusters * 39);
  }
  std::vector<float> x(picked.size() * static_cast<size_t>(dim));
  for (size_t r = 0; r < picked.size(); ++r) {
    const auto& [set, i] = refs[picked[r]];
    const uint8_t* d = set->descriptor(i);
    std::copy(d, d + dim, x.begin() + static_cast<ptrdiff_t>(r * dim));
  }

  try {
    faiss::ClusteringParameters cp;
    cp.niter = options.kmeans_iterations;
    cp.seed = static_cast<int>(SplitMix64(options.seed) & 0x7fffffff);
    cp.verbose = false;
    cp.min_points_per_centroid = 1;  // warned above instead of FAISS's stdout print
    // We subsample already (deterministically, up to max_training_descriptors).
    cp.max_points_per_centroid = std::numeric_limits<int>::max() / std::max(1, options.num_clusters);
    faiss::Clustering clustering(dim, options.num_clusters, cp);
    faiss::IndexFlatL2 assigner(dim);
    clustering.train(static_cast<faiss::Index::idx_t>(picked.size()), x.data(), assigner);
    if (clustering.centroids.size() != static_cast<size_t>(options.num_clusters) * dim) {
      return absl::InternalError(absl::StrCat("FAISS k-means returned ", clustering.centroids.size(),
                                              " centroid values; expected ", options.num_clusters * dim));
    }
    return FromCentroids(options.num_clusters, dim, std::move(clustering.centroids));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("FAISS k-means failed: ", e.what()));
  }
}

absl::StatusOr<VladCodebook> VladCodebook::FromCentroids(int num_clusters, int dim, std::vector<float> centroids) {
  if (num_clusters <= 0 || num_clusters > kMaxClusters || dim <= 0 || dim > kMaxDim) {
    return absl::InvalidArgumentError(absl::StrCat("VLAD codebook of ", num_clusters, " clusters of dim ", dim,
                                                   "; need 1..", kMaxClusters, " clusters, dim 1..", kMaxDim));
  }
  if (centroids.size() != static_cast<size_t>(num_clusters) * dim) {
    return absl::InvalidArgumentError(
        absl::StrCat("VLAD codebook: ", centroids.size(), " centroid values for ", num_clusters, " x ", dim));
  }
  for (float v : centroids) {
    if (!std::isfinite(v)) return absl::InvalidArgumentError("VLAD codebook: non-finite centroid value");
  }
  VladCodebook codebook;
  codebook.num_clusters_ = num_clusters;
  codebook.dim_ = dim;
  codebook.centroids_ = std::move(centroids);
  codebook.centroid_norms2_.assign(static_cast<size_t>(num_clusters), 0.0);
  for (int c = 0; c < num_clusters; ++c) {
    for (int j = 0; j < dim; ++j) {
      const double v = codebook.centroids_[static_cast<size_t>(c) * dim + j];
      codebook.centroid_norms2_[c] += v * v;
    }
    codebook.max_centroid_norm_ = std::max(codebook.max_centroid_norm_, std::sqrt(codebook.centroid_norms2_[c]));
  }
  return codebook;
}

size_t VladCodebook::NearestCentroidExact(const float* x) const {
  const size_t k = static_cast<size_t>(num_clusters_);
  const size_t d = static_cast<size_t>(dim_);
  size_t best = 0;
  float best_d2 = std::numeric_limits<float>::infinity();
  for (size_t c = 0; c < k; ++c) {
    const float* centroid = centroids_.data() + c * d;
    float d2 = 0;
    for (size_t j = 0; j < d; ++j) {
      const float diff = x[j] - centroid[j];
      d2 += diff * diff;
    }
    if (d2 < best_d2) {  // strict: ties go to the lower index
      best_d2 = d2;
      best = c;
    }
  }
  return best;
}

std::vector<float> VladCodebook::Encode(const FeatureSet& features) const {
  const size_t k = static_cast<size_t>(num_clusters_);
  const size_t d = static_cast<size_t>(dim_);
  std::vector<float> out(k * d, 0.0f);
  if (features.empty() || k == 0) return out;
  ARMAP_CHECK(features.dim == dim_);
  ARMAP_CHECK(features.descriptors.size() == features.size() * d);

  // The assignment is defined by the plain float loop of
  // NearestCentroidExact (the same bits on every machine and for every
  // caller, which is the point of a shared encoder), but run over every
  // centroid it is most of the retrieval stage. So the distances are first
  // taken as |x|^2 + |c|^2 - 2 x.c with the SIMD product (any summation
  // order), and only the centroids within the two computations' rounding
  // bounds of the nearest are rechecked with the plain loop: the result is
  // the plain loop's argmin, ties included.
  //   product: |fl(x.c) - x.c| <= g(d) |x| |c|, g(n) = n u / (1 - n u);
  //   plain loop: |fl(|x - c|^2) - |x - c|^2| <= g(d + 2) |x - c|^2.
  // A centroid whose plain value is the smallest is within 2 (E_product +
  // E_loop) of the smallest approximate value, E the largest bounds.
  constexpr double kUnit = std::numeric_limits<float>::epsilon() / 2;
  const double g_product = (d * kUnit) / (1 - d * kUnit);
  const double g_loop = ((d + 2) * kUnit) / (1 - (d + 2) * kUnit);

  std::vector<double> sums(k * d, 0.0);
  constexpr size_t kChunk = 256;  // descriptors per product (x and dots stay in L2)
  thread_local std::vector<float> x, dots;
  x.resize(kChunk * d);
  dots.resize(kChunk * k);
  for (size_t i0 = 0; i0 < features.size(); i0 += kChunk) {
    const size_t n = std::min(kChunk, features.size() - i0);
    for (size_t i = 0; i < n; ++i) {
      const uint8_t* desc = features.descriptor(i0 + i);
      for (size_t j = 0; j < d; ++j) x[i * d + j] = desc[j];
    }
    internal::DotTile(x.data(), static_cast<int>(n), centroids_.data(), static_cast<int>(k), static_cast<int>(d),
                      dots.data());
    for (size_t i = 0; i < n; ++i) {
      const float* xi = x.data() + i * d;
      const float* dot = dots.data() + i * k;
      double x2 = 0;  // exact: integers below 2^53
      for (size_t j = 0; j < d; ++j) x2 += static_cast<double>(xi[j]) * xi[j];
      size_t approx_best = 0;
      double approx_min = std::numeric_limits<double>::infinity();
      for (size_t c = 0; c < k; ++c) {
        const double d2 = x2 + centroid_norms2_[c] - 2.0 * dot[c];
        if (d2 < approx_min) {
          approx_min = d2;
          approx_best = c;
        }
      }
      const double e_product = 2.0 * g_product * std::sqrt(x2) * max_centroid_norm_;
      const double e_loop = g_loop * (std::max(0.0, approx_min) + 2.0 * e_product);
      // Doubles' own rounding in x2 + |c|^2 - 2 x.c, far below these, covered by the 1e-9 relative slack.
      const double margin = 2.0 * (e_product + e_loop) + 1e-9 * (x2 + max_centroid_norm_ * max_centroid_norm_);
      int close = 0;
      for (size_t c = 0; c < k && close < 2; ++c) {
        if (x2 + centroid_norms2_[c] - 2.0 * dot[c] <= approx_min + margin) ++close;
      }
      const size_t best = close == 1 ? approx_best : NearestCentroidExact(xi);
      double* sum = sums.data() + best * d;
      const float* centroid = centroids_.data() + best * d;
      for (size_t j = 0; j < d; ++j) sum[j] += static_cast<double>(xi[j]) - centroid[j];
    }
  }
  // Intra-normalisation, per cluster.
  for (size_t c = 0; c < k; ++c) {
    double* block = sums.data() + c * d;
    double n2 = 0;
    for (size_t j = 0; j < d; ++j) n2 += block[j] * block[j];
    if (n2 > 0) {
      const double inv = 1.0 / std::sqrt(n2);
      for (size_t j = 0; j < d; ++j) block[j] *= inv;
    }
  }
  // Signed square root, then global L2.
  double total2 = 0;
  for (double& v : sums) {
    v = std::copysign(std::sqrt(std::fabs(v)), v);
    total2 += v * v;
  }
  if (total2 > 0) {
    const double inv = 1.0 / std::sqrt(total2);
    for (size_t j = 0; j < sums.size(); ++j) out[j] = static_cast<float>(sums[j] * inv);
  }
  return out;
}

absl::Status VladCodebook::Save(const std::filesystem::path& path) const {
  if (num_clusters_ <= 0 || dim_ <= 0) {
    return absl::FailedPreconditionError(absl::StrCat(path.string(), ": cannot save an empty VLAD codebook"));
  }
  std::string data;
  data.reserve(kHeaderBytes + centroids_.size() * sizeof(float) + kChecksumBytes);
  data.append(kMagic, sizeof(kMagic));
  Put(&data, kVersion);
  Put(&data, static_cast<uint32_t>(num_clusters_));
  Put(&data, static_cast<uint32_t>(dim_));
  data.append(reinterpret_cast<const char*>(centroids_.data()), centroids_.size() * sizeof(float));
  Put(&data, Fnv1a64(data.data(), data.size()));
  return WriteFileAtomic(path, data);
}

absl::StatusOr<VladCodebook> VladCodebook::Load(const std::filesystem::path& path) {
  ARMAP_ASSIGN_OR_RETURN(const std::string data, ReadFileToString(path));
  const std::string name = path.string();
  if (data.size() < kHeaderBytes || std::memcmp(data.data(), kMagic, sizeof(kMagic)) != 0) {
    return absl::DataLossError(absl::StrCat(name, ": not an armap VLAD codebook (bad magic or too short)"));
  }
  const uint32_t version = Get<uint32_t>(data.data() + sizeof(kMagic));
  if (version != kVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat(name, ": VLAD codebook version ", version, "; this build reads version ", kVersion));
  }
  const int64_t k = Get<uint32_t>(data.data() + sizeof(kMagic) + 4);
  const int64_t d = Get<uint32_t>(data.data() + sizeof(kMagic) + 8);
  if (k <= 0 || k > kMaxClusters || d <= 0 || d > kMaxDim) {
    return absl::DataLossError(absl::StrCat(name, ": corrupted VLAD codebook header (", k, " clusters, dim ", d, ")"));
  }
  const size_t payload = static_cast<size_t>(k * d) * sizeof(float);
  const size_t expected = kHeaderBytes + payload + kChecksumBytes;
  if (data.size() != expected) {
    return absl::DataLossError(absl::StrCat(name, ": VLAD codebook is ", data.size(), " bytes; expected ", expected,
                                            data.size() < expected ? " (truncated)" : " (trailing data)"));
  }
  const uint64_t stored = Get<uint64_t>(data.data() + kHeaderBytes + payload);
  if (stored != Fnv1a64(data.data(), kHeaderBytes + payload)) {
    return absl::DataLossError(absl::StrCat(name, ": VLAD codebook checksum mismatch (corrupted)"));
  }
  std::vector<float> centroids(static_cast<size_t>(k * d));
  std::memcpy(centroids.data(), data.data() + kHeaderBytes, payload);
  absl::StatusOr<VladCodebook> codebook = FromCentroids(static_cast<int>(k), static_cast<int>(d), std::move(centroids));
  if (!codebook.ok()) return Annotate(codebook.status(), name);
  return codebook;
}

}  // namespace armap::features
