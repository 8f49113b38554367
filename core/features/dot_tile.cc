#include "core/features/dot_tile.h"

#include <immintrin.h>

#include <algorithm>
#include <vector>

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

// Only the AVX2 kernel is compiled for AVX2 (target attribute), so the
// rest of the binary runs on any x86-64.
// Broadcast kernel: the train block is repacked once per call into panels
// of 16 columns (dim x 16 floats each, k-major), so that 16 outputs of a row
// accumulate in two registers with no horizontal sums. Panels outside (one
// panel, 8 KB for dim 128, stays in L1), 4 query rows inside: 8
// accumulators, 2 loads + 4 broadcasts per 8 FMAs, all in registers.
__attribute__((target("avx2,fma"))) void DotTileAvx2(const float* q, int nq, const float* t, int nt, int dim,
                                                     float* out) {
  const int num_panels = (nt + 15) / 16;
  thread_local std::vector<float> panels;
  panels.assign(static_cast<size_t>(num_panels) * dim * 16, 0.0f);
  for (int j = 0; j < nt; ++j) {
    const float* row = t + static_cast<long>(j) * dim;
    float* dst = panels.data() + static_cast<size_t>(j / 16) * dim * 16 + (j % 16);
    for (int k = 0; k < dim; ++k) dst[k * 16] = row[k];
  }
  float spill[4][16];
  for (int p = 0; p < num_panels; ++p) {
    const int j = p * 16;
    const int cols = std::min(16, nt - j);
    const float* panel = panels.data() + static_cast<size_t>(p) * dim * 16;
    for (int i = 0; i < nq; i += 4) {
      const int rows = std::min(4, nq - i);
      const float* qa[4];
      for (int a = 0; a < 4; ++a) qa[a] = q + static_cast<long>(i + std::min(a, rows - 1)) * dim;
      __m256 acc[4][2];
      for (auto& r : acc) r[0] = r[1] = _mm256_setzero_ps();
      const float* col = panel;
      for (int k = 0; k < dim; ++k, col += 16) {
        const __m256 t0 = _mm256_loadu_ps(col), t1 = _mm256_loadu_ps(col + 8);
        for (int a = 0; a < 4; ++a) {
          const __m256 b = _mm256_broadcast_ss(qa[a] + k);
          acc[a][0] = _mm256_fmadd_ps(b, t0, acc[a][0]);
          acc[a][1] = _mm256_fmadd_ps(b, t1, acc[a][1]);
        }
      }
      if (rows == 4 && cols == 16) {
        for (int a = 0; a < 4; ++a) {
          float* o = out + static_cast<long>(i + a) * nt + j;
          _mm256_storeu_ps(o, acc[a][0]);
          _mm256_storeu_ps(o + 8, acc[a][1]);
        }
        continue;
      }
      for (int a = 0; a < 4; ++a) {
        _mm256_storeu_ps(spill[a], acc[a][0]);
        _mm256_storeu_ps(spill[a] + 8, acc[a][1]);
      }
      for (int a = 0; a < rows; ++a) {
        for (int b = 0; b < cols; ++b) out[static_cast<long>(i + a) * nt + j + b] = spill[a][b];
      }
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
