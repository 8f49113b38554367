#include "core/features/dot_tile.h"

#include <immintrin.h>

namespace armap::features::internal {
namespace {

void DotTileGeneric(const float* q, int nq, const float* t, int nt, int dim, float* out) {
  for (int i = 0; i < nq; ++i) {
    const float* a = q + static_cast<long>(i) * dim;
    for (int j = 0; j < nt; ++j) {
      const float* b = t + static_cast<long>(j) * dim;
      float s = 0;
      for (int k = 0; k < dim; ++k) s += a[k] * b[k];
      out[static_cast<long>(i) * nt + j] = s;
    }
  }
}

// Only this function and its helpers are compiled for AVX2 (target
// attribute), so the rest of the binary runs on any x86-64.
__attribute__((target("avx2,fma"))) inline float HorizontalSum(__m256 v) {
  const __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
  __m128 s = _mm_add_ps(lo, hi);
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 0x55));
  return _mm_cvtss_f32(s);
}

__attribute__((target("avx2,fma"))) float DotAvx2(const float* a, const float* b, int dim) {
  __m256 acc = _mm256_setzero_ps();
  int k = 0;
  for (; k + 8 <= dim; k += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + k), _mm256_loadu_ps(b + k), acc);
  float s = HorizontalSum(acc);
  for (; k < dim; ++k) s += a[k] * b[k];
  return s;
}

// 4 x 4 register blocks: 16 accumulators, 8 loads per 16 FMAs.
__attribute__((target("avx2,fma"))) void DotTileAvx2(const float* q, int nq, const float* t, int nt, int dim,
                                                     float* out) {
  const int dim8 = dim & ~7;
  int i = 0;
  for (; i + 4 <= nq; i += 4) {
    const float* qa[4] = {q + static_cast<long>(i) * dim, q + static_cast<long>(i + 1) * dim,
                          q + static_cast<long>(i + 2) * dim, q + static_cast<long>(i + 3) * dim};
    int j = 0;
    for (; j + 4 <= nt; j += 4) {
      const float* tb[4] = {t + static_cast<long>(j) * dim, t + static_cast<long>(j + 1) * dim,
                            t + static_cast<long>(j + 2) * dim, t + static_cast<long>(j + 3) * dim};
      __m256 acc[4][4];
      for (auto& row : acc)
        for (auto& a : row) a = _mm256_setzero_ps();
      for (int k = 0; k < dim8; k += 8) {
        const __m256 t0 = _mm256_loadu_ps(tb[0] + k), t1 = _mm256_loadu_ps(tb[1] + k);
        const __m256 t2 = _mm256_loadu_ps(tb[2] + k), t3 = _mm256_loadu_ps(tb[3] + k);
        for (int a = 0; a < 4; ++a) {
          const __m256 qv = _mm256_loadu_ps(qa[a] + k);
          acc[a][0] = _mm256_fmadd_ps(qv, t0, acc[a][0]);
          acc[a][1] = _mm256_fmadd_ps(qv, t1, acc[a][1]);
          acc[a][2] = _mm256_fmadd_ps(qv, t2, acc[a][2]);
          acc[a][3] = _mm256_fmadd_ps(qv, t3, acc[a][3]);
        }
      }
      for (int a = 0; a < 4; ++a) {
        for (int b = 0; b < 4; ++b) {
          float s = HorizontalSum(acc[a][b]);
          for (int k = dim8; k < dim; ++k) s += qa[a][k] * tb[b][k];
          out[static_cast<long>(i + a) * nt + j + b] = s;
        }
      }
    }
    for (; j < nt; ++j) {
      for (int a = 0; a < 4; ++a) out[static_cast<long>(i + a) * nt + j] = DotAvx2(qa[a], t + static_cast<long>(j) * dim, dim);
    }
  }
  for (; i < nq; ++i) {
    for (int j = 0; j < nt; ++j) {
      out[static_cast<long>(i) * nt + j] = DotAvx2(q + static_cast<long>(i) * dim, t + static_cast<long>(j) * dim, dim);
    }
  }
}

bool CpuHasAvx2Fma() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}

}  // namespace

void DotTileReference(const float* q, int nq, const float* t, int nt, int dim, float* out) {
  DotTileGeneric(q, nq, t, nt, dim, out);
}

bool DotTileUsesAvx2() { return CpuHasAvx2Fma(); }

void DotTile(const float* q, int nq, const float* t, int nt, int dim, float* out) {
  if (CpuHasAvx2Fma()) {
    DotTileAvx2(q, nq, t, nt, dim, out);
  } else {
    DotTileGeneric(q, nq, t, nt, dim, out);
  }
}

}  // namespace armap::features::internal
