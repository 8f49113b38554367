#include "core/features/matching.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include <immintrin.h>

#include <Eigen/Core>

#include "core/features/dot_tile.h"

#include "absl/strings/str_cat.h"
#include "core/status.h"

namespace armap::features {
namespace {

// Tiles of the query x train distance matrix. A 1024 x 1024 float tile is
// 4 MiB: big enough for an efficient GEMM, small enough per thread.
constexpr int kQueryBlock = 1024;
constexpr int kTrainBlock = 1024;
// The uint8 kernel's operands are packed once (the queries per call, a train
// block per block), so its query slices can be small: a 128 x 1024 tile
// (512 KiB) stays in L2 between the product and the scan that reads it.
constexpr int kQuerySliceU8 = 128;

// A candidate neighbour; ordered by (squared distance, index) so ties break
// towards the lower index whatever the order in which tiles are visited.
struct Neighbor {
  int64_t dist2 = std::numeric_limits<int64_t>::max();
  uint32_t index = std::numeric_limits<uint32_t>::max();
};
inline bool Better(int64_t d, uint32_t i, const Neighbor& n) { return d < n.dist2 || (d == n.dist2 && i < n.index); }

struct Best2 {
  Neighbor first, second;
  void Offer(int64_t d, uint32_t i) {
    if (Better(d, i, first)) {
      second = first;
      first = {d, i};
    } else if (Better(d, i, second)) {
      second = {d, i};
    }
  }
};

// A distance bound as Scalar: +inf for "no neighbour yet".
template <typename Scalar>
inline Scalar ToScalarBound(int64_t dist2) {
  return dist2 == std::numeric_limits<int64_t>::max() ? std::numeric_limits<Scalar>::infinity()
                                                      : static_cast<Scalar>(dist2);
}

// One tile row of the fast path below, 64 train columns per step with
// AVX-512: vector compares against both bounds skip the columns that can
// change nothing (nearly all, once the bounds have tightened); the rest go
// through the scalar update in column order, so results are identical. A
// step's masks are taken before its updates: an update only tightens
// *second (so later columns' masks are a superset, and update re-checks)
// and its own column's bound. *second is read into a register once per
// step that had a hit, not once per 16 columns.
// Columns j .. j + 15 whose distance is within either bound, as bits.
__attribute__((target("avx512f"), always_inline)) inline uint64_t Hits16(const float* row, const float* tns,
                                                                          const float* tbest_bound, int j,
                                                                          __m512 qn2v, __m512 second_v) {
  const __m512 d =
      _mm512_fnmadd_ps(_mm512_set1_ps(2.0f), _mm512_loadu_ps(row + j), _mm512_add_ps(qn2v, _mm512_loadu_ps(tns + j)));
  return static_cast<uint16_t>(_mm512_cmp_ps_mask(d, second_v, _CMP_LE_OQ) |
                               _mm512_cmp_ps_mask(d, _mm512_loadu_ps(tbest_bound + j), _CMP_LE_OQ));
}

template <typename Update>
__attribute__((target("avx512f"))) void ScanRowAvx512(const float* row, const float* tns, float qn2s, int tcount,
                                                      float* second, float* tbest_bound, Update&& update) {
  const __m512 qn2v = _mm512_set1_ps(qn2s);
  __m512 second_v = _mm512_set1_ps(*second);
  int j = 0;
  for (; j + 64 <= tcount; j += 64) {
    const uint64_t hit = Hits16(row, tns, tbest_bound, j, qn2v, second_v) |
                         Hits16(row, tns, tbest_bound, j + 16, qn2v, second_v) << 16 |
                         Hits16(row, tns, tbest_bound, j + 32, qn2v, second_v) << 32 |
                         Hits16(row, tns, tbest_bound, j + 48, qn2v, second_v) << 48;
    if (hit == 0) continue;
    for (uint64_t m = hit; m != 0; m &= m - 1) update(j + __builtin_ctzll(m));
    second_v = _mm512_set1_ps(*second);
  }
  for (; j + 16 <= tcount; j += 16) {
    const uint64_t hit = Hits16(row, tns, tbest_bound, j, qn2v, second_v);
    if (hit == 0) continue;
    for (uint64_t m = hit; m != 0; m &= m - 1) update(j + __builtin_ctzll(m));
    second_v = _mm512_set1_ps(*second);
  }
  for (; j < tcount; ++j) update(j);
}

bool CpuHasAvx512f() {
  static const bool has = __builtin_cpu_supports("avx512f");
  return has;
}

template <typename Scalar>
using RowMatrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

void Norms2(const FeatureSet& set, std::vector<int64_t>* norms2) {
  const int dim = set.dim;
  norms2->resize(set.size());
  for (size_t i = 0; i < set.size(); ++i) {
    const uint8_t* d = set.descriptor(i);
    int32_t n2 = 0;  // dim <= 256: below 2^24
    for (int j = 0; j < dim; ++j) n2 += static_cast<int32_t>(d[j]) * d[j];
    (*norms2)[i] = n2;
  }
}

template <typename Scalar>
RowMatrix<Scalar> ToMatrix(const FeatureSet& set, std::vector<int64_t>* norms2) {
  const int dim = set.dim;
  RowMatrix<Scalar> m(static_cast<Eigen::Index>(set.size()), dim);
  norms2->resize(set.size());
  for (size_t i = 0; i < set.size(); ++i) {
    const uint8_t* d = set.descriptor(i);
    int64_t n2 = 0;
    for (int j = 0; j < dim; ++j) {
      m(static_cast<Eigen::Index>(i), j) = static_cast<Scalar>(d[j]);
      n2 += static_cast<int64_t>(d[j]) * d[j];
    }
    (*norms2)[i] = n2;
  }
  return m;
}

// Exact squared L2 via |q|^2 + |t|^2 - 2 q.t: the descriptors are integers,
// and Scalar is chosen so that every dot product and partial sum is an
// integer the type represents exactly (float: < 2^24), so the result does
// not depend on summation order, SIMD width or thread count.
template <typename Scalar>
void NearestNeighbors(const FeatureSet& query, const FeatureSet& train, std::vector<Best2>* query_best,
                      std::vector<Neighbor>* train_best) {
  // The uint8 kernel reads the descriptors as they are: only their norms
  // are needed then, not a Scalar copy (for 30000 train descriptors that
  // copy cost about as much as their dot products).
  const bool use_u8_kernel = std::is_same_v<Scalar, float> && internal::DotTileUsesVnni();
  std::vector<int64_t> qn, tn;
  RowMatrix<Scalar> q, t;
  if (use_u8_kernel) {
    Norms2(query, &qn);
    Norms2(train, &tn);
  } else {
    q = ToMatrix<Scalar>(query, &qn);
    t = ToMatrix<Scalar>(train, &tn);
  }
  const int nq = static_cast<int>(query.size());
  const int nt = static_cast<int>(train.size());
  const int num_train_blocks = (nt + kTrainBlock - 1) / kTrainBlock;
  query_best->assign(nq, Best2());
  train_best->assign(nt, Neighbor());

  // |q|^2 + |t|^2 - 2 q.t is exact in Scalar when every term and partial
  // sum stays below its integer range (2^24 for float): then the distance
  // compare can run in Scalar (see below).
  const int64_t max_qn = qn.empty() ? 0 : *std::max_element(qn.begin(), qn.end());
  const int64_t max_tn = tn.empty() ? 0 : *std::max_element(tn.begin(), tn.end());
  const bool scalar_distances_exact =
      max_qn + max_tn < (int64_t{1} << std::numeric_limits<Scalar>::digits);
  std::vector<Scalar> tns(tn.begin(), tn.end());
  const bool use_avx512_scan = CpuHasAvx512f();
  internal::PackedQueryU8 packed_query;
  if (use_u8_kernel) internal::PackQueryU8(query.descriptor(0), nq, query.dim, &packed_query);
  const int query_block = use_u8_kernel ? kQuerySliceU8 : kQueryBlock;
  std::vector<std::vector<Best2>> per_thread(std::max(1, omp_get_max_threads()));
#pragma omp parallel
  {
    std::vector<Best2>& local = per_thread[omp_get_thread_num()];
    local.assign(nq, Best2());
    RowMatrix<Scalar> tile;
    internal::PackedTrainU8 packed_train;
    std::vector<Scalar> tbest_bound;  // tbest's distances as Scalar (fast path)
    // Each thread owns whole train blocks, hence their train_best entries.
#pragma omp for schedule(dynamic, 1)
    for (int tb = 0; tb < num_train_blocks; ++tb) {
      const int t0 = tb * kTrainBlock;
      const int tcount = std::min(kTrainBlock, nt - t0);
      Neighbor* tbest = train_best->data() + t0;
      tbest_bound.assign(tcount, std::numeric_limits<Scalar>::infinity());
      if (use_u8_kernel) internal::PackTrainU8(train.descriptor(t0), tcount, train.dim, &packed_train);
      for (int q0 = 0; q0 < nq; q0 += query_block) {
        const int qcount = std::min(query_block, nq - q0);
        if constexpr (std::is_same_v<Scalar, float>) {
          tile.resize(qcount, tcount);
          if (use_u8_kernel) {
            internal::DotTilePackedU8(packed_query, q0, qcount, packed_train, tile.data());
          } else {
            internal::DotTile(q.data() + static_cast<size_t>(q0) * q.cols(), qcount,
                            t.data() + static_cast<size_t>(t0) * t.cols(), tcount, static_cast<int>(q.cols()), tile.data());
          }
        } else {
          tile.noalias() = q.middleRows(q0, qcount) * t.middleRows(t0, tcount).transpose();
        }
        for (int i = 0; i < qcount; ++i) {
          const uint32_t qi = static_cast<uint32_t>(q0 + i);
          const int64_t qn2 = qn[qi];
          const Scalar* row = tile.data() + static_cast<size_t>(i) * tcount;
          Best2& qb = local[qi];
          if (scalar_distances_exact) {
            // Distances in Scalar are exact integers here: a cheap compare
            // filters almost every candidate before the exact int64 check.
            const Scalar qn2s = static_cast<Scalar>(qn2);
            Scalar second = ToScalarBound<Scalar>(qb.second.dist2);
            auto update = [&](int j) {
              const Scalar d = qn2s + tns[t0 + j] - Scalar(2) * row[j];
              if (d <= second) {
                const int64_t d2 = static_cast<int64_t>(d);
                const uint32_t tj = static_cast<uint32_t>(t0 + j);
                if (Better(d2, tj, qb.second)) {
                  qb.Offer(d2, tj);
                  second = ToScalarBound<Scalar>(qb.second.dist2);
                }
              }
              if (d <= tbest_bound[j]) {
                const int64_t d2 = static_cast<int64_t>(d);
                if (Better(d2, qi, tbest[j])) {
                  tbest[j] = {d2, qi};
                  tbest_bound[j] = d;
                }
              }
            };
            if constexpr (std::is_same_v<Scalar, float>) {
              if (use_avx512_scan) {
                ScanRowAvx512(row, tns.data() + t0, qn2s, tcount, &second, tbest_bound.data(), update);
                continue;
              }
            }
            for (int j = 0; j < tcount; ++j) update(j);
            continue;
          }
          for (int j = 0; j < tcount; ++j) {
            const int64_t d2 = qn2 + tn[t0 + j] - 2 * static_cast<int64_t>(row[j]);
            const uint32_t tj = static_cast<uint32_t>(t0 + j);
            if (Better(d2, tj, qb.second)) qb.Offer(d2, tj);
            if (Better(d2, qi, tbest[j])) tbest[j] = {d2, qi};
          }
        }
      }
    }
  }
  for (const std::vector<Best2>& local : per_thread) {
    if (local.empty()) continue;
    for (int i = 0; i < nq; ++i) {
      (*query_best)[i].Offer(local[i].first.dist2, local[i].first.index);
      (*query_best)[i].Offer(local[i].second.dist2, local[i].second.index);
    }
  }
}

}  // namespace

absl::Status MatchOptions::Validate() const {
  if (!(max_ratio > 0 && max_ratio <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat("MatchOptions::max_ratio = ", max_ratio, "; must be in (0, 1]"));
  }
  if (!(max_distance > 0)) {
    return absl::InvalidArgumentError(absl::StrCat("MatchOptions::max_distance = ", max_distance, "; must be > 0"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Match>> MatchDescriptors(const FeatureSet& query, const FeatureSet& train,
                                                    const MatchOptions& options) {
  ARMAP_RETURN_IF_ERROR(options.Validate());
  ARMAP_RETURN_IF_ERROR(query.CheckConsistent("query FeatureSet"));
  ARMAP_RETURN_IF_ERROR(train.CheckConsistent("train FeatureSet"));
  std::vector<Match> matches;
  if (query.empty() || train.empty()) return matches;
  if (query.dim != train.dim) {
    return absl::InvalidArgumentError(absl::StrCat("descriptor dims differ: query ", query.dim, ", train ", train.dim));
  }
  if (query.size() > std::numeric_limits<uint32_t>::max() / 2 ||
      train.size() > std::numeric_limits<uint32_t>::max() / 2) {
    return absl::InvalidArgumentError("too many descriptors to match (ids are uint32)");
  }

  std::vector<Best2> query_best;
  std::vector<Neighbor> train_best;
  // float is exact while dim * 255^2 < 2^24 (dim <= 258); double beyond.
  if (query.dim <= 256) {
    NearestNeighbors<float>(query, train, &query_best, &train_best);
  } else {
    NearestNeighbors<double>(query, train, &query_best, &train_best);
  }

  const double max_ratio = options.max_ratio;
  const double max_distance = options.max_distance;
  for (size_t i = 0; i < query_best.size(); ++i) {
    const Best2& b = query_best[i];
    const double d1 = std::sqrt(static_cast<double>(b.first.dist2));
    if (!(d1 <= max_distance)) continue;
    if (b.second.index != std::numeric_limits<uint32_t>::max()) {
      const double d2 = std::sqrt(static_cast<double>(b.second.dist2));
      if (!(d1 < max_ratio * d2)) continue;
    }
    if (options.mutual && train_best[b.first.index].index != i) continue;
    matches.push_back({static_cast<uint32_t>(i), b.first.index, static_cast<float>(d1)});
  }
  return matches;
}

}  // namespace armap::features
