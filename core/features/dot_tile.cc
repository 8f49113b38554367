#include "core/features/dot_tile.h"

#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
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

// One query k-quad (4 bytes) in every 32-bit lane.
__attribute__((target("avx512f"), always_inline)) inline __m512i BroadcastQuad(const uint8_t* p) {
  int32_t word;
  std::memcpy(&word, p, sizeof(word));
  return _mm512_set1_epi32(word);
}

// VNNI kernel on packed operands (dot_tile.h). 6 query rows x 2 panels =
// 12 accumulators; a query's k-quad is broadcast as one 32-bit word. The two
// panels (4 KB for dim 128) stay in L1 while the slice's rows stream by.
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void DotTileVnniPacked(const PackedQueryU8& qp, int q0,
                                                                               int nq, const PackedTrainU8& tp,
                                                                               float* out) {
  const int quads = tp.quads;
  const int nt = tp.nt;
  const int num_panels = (nt + 15) / 16;
  const int qstride = quads * 4;
  const uint8_t* qrows = qp.rows.data() + static_cast<size_t>(q0) * qstride;
  const int32_t* qsum = qp.bias.data() + q0;
  for (int p = 0; p < num_panels; p += 2) {
    const int j = p * 16;
    const int cols = std::min(32, nt - j);
    const int8_t* panel0 = tp.panels.data() + static_cast<size_t>(p) * quads * 64;
    const int8_t* panel1 = panel0 + static_cast<size_t>(quads) * 64;  // a zero panel past the end is allocated
    for (int i = 0; i < nq; i += 6) {
      const int rows = std::min(6, nq - i);
      const uint8_t* qa[6];
      for (int a = 0; a < 6; ++a) qa[a] = qrows + static_cast<size_t>(i + std::min(a, rows - 1)) * qstride;
      // 6 rows x 2 panels: 12 independent accumulators cover vpdpbusd's
      // latency at two per cycle. Named, not an array: with an array GCC
      // copied each one to another register around every vpdpbusd.
      __m512i c00 = _mm512_setzero_si512(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
      __m512i c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
      for (int k = 0; k < quads; ++k) {
        const __m512i t0 = _mm512_loadu_si512(panel0 + static_cast<size_t>(k) * 64);
        const __m512i t1 = _mm512_loadu_si512(panel1 + static_cast<size_t>(k) * 64);
        __m512i b = BroadcastQuad(qa[0] + 4 * k);
        c00 = _mm512_dpbusd_epi32(c00, b, t0);
        c01 = _mm512_dpbusd_epi32(c01, b, t1);
        b = BroadcastQuad(qa[1] + 4 * k);
        c10 = _mm512_dpbusd_epi32(c10, b, t0);
        c11 = _mm512_dpbusd_epi32(c11, b, t1);
        b = BroadcastQuad(qa[2] + 4 * k);
        c20 = _mm512_dpbusd_epi32(c20, b, t0);
        c21 = _mm512_dpbusd_epi32(c21, b, t1);
        b = BroadcastQuad(qa[3] + 4 * k);
        c30 = _mm512_dpbusd_epi32(c30, b, t0);
        c31 = _mm512_dpbusd_epi32(c31, b, t1);
        b = BroadcastQuad(qa[4] + 4 * k);
        c40 = _mm512_dpbusd_epi32(c40, b, t0);
        c41 = _mm512_dpbusd_epi32(c41, b, t1);
        b = BroadcastQuad(qa[5] + 4 * k);
        c50 = _mm512_dpbusd_epi32(c50, b, t0);
        c51 = _mm512_dpbusd_epi32(c51, b, t1);
      }
      const __m512i acc[6][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
      for (int a = 0; a < rows; ++a) {
        const __m512i bias = _mm512_set1_epi32(qsum[i + a]);
        const __m512 d0 = _mm512_cvtepi32_ps(_mm512_add_epi32(acc[a][0], bias));
        const __m512 d1 = _mm512_cvtepi32_ps(_mm512_add_epi32(acc[a][1], bias));
        float* o = out + static_cast<long>(i + a) * nt + j;
        if (cols == 32) {
          _mm512_storeu_ps(o, d0);
          _mm512_storeu_ps(o + 16, d1);
        } else {
          const __mmask16 m0 = cols >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << cols) - 1);
          const __mmask16 m1 = cols > 16 ? __mmask16((1u << (cols - 16)) - 1) : __mmask16(0);
          _mm512_mask_storeu_ps(o, m0, d0);
          _mm512_mask_storeu_ps(o + 16, m1, d1);
        }
      }
    }
  }
}

// AMX kernel on the same packed operands: a B tile is 16 k-quads of a
// 16-column panel (16 rows of 64 bytes, exactly the panel layout), an A tile
// 16 query rows of 64 bytes. 2 row blocks x 2 panels = 4 int32 C tiles of
// 16 x 16; each tdpbusd does 16 x 16 x 64 multiply-adds, 16 times what a
// zmm vpdpbusd does. Sums are the same exact int32s as the VNNI kernel's.
struct alignas(64) AmxTileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

__attribute__((target("amx-tile,amx-int8,avx512f"))) void DotTileAmxPacked(const PackedQueryU8& qp, int q0, int nq,
                                                                          const PackedTrainU8& tp, float* out) {
  AmxTileConfig config;
  for (int t = 0; t < 8; ++t) {
    config.rows[t] = 16;
    config.colsb[t] = 64;
  }
  _tile_loadconfig(&config);
  const int quads = tp.quads;  // a multiple of 16 when AMX is used (PaddedQuads)
  const int ksteps = quads / 16;
  const int nt = tp.nt;
  const int num_panels = (nt + 15) / 16;
  const int qstride = quads * 4;
  const uint8_t* qrows = qp.rows.data() + static_cast<size_t>(q0) * qstride;  // 32 zero rows follow the last
  const int32_t* qsum = qp.bias.data() + q0;
  alignas(64) int32_t c[4][256];
  for (int p = 0; p < num_panels; p += 2) {
    const int j = p * 16;
    const int cols = std::min(32, nt - j);
    const int8_t* panel0 = tp.panels.data() + static_cast<size_t>(p) * quads * 64;
    const int8_t* panel1 = panel0 + static_cast<size_t>(quads) * 64;  // a zero panel past the end is allocated
    for (int i = 0; i < nq; i += 32) {
      const uint8_t* a0 = qrows + static_cast<size_t>(i) * qstride;
      const uint8_t* a1 = a0 + static_cast<size_t>(16) * qstride;
      _tile_zero(0);
      _tile_zero(1);
      _tile_zero(2);
      _tile_zero(3);
      for (int k = 0; k < ksteps; ++k) {
        _tile_loadd(4, a0 + k * 64, qstride);
        _tile_loadd(5, a1 + k * 64, qstride);
        _tile_loadd(6, panel0 + static_cast<size_t>(k) * 1024, 64);
        _tile_loadd(7, panel1 + static_cast<size_t>(k) * 1024, 64);
        _tile_dpbusd(0, 4, 6);
        _tile_dpbusd(1, 4, 7);
        _tile_dpbusd(2, 5, 6);
        _tile_dpbusd(3, 5, 7);
      }
      _tile_stored(0, c[0], 64);
      _tile_stored(1, c[1], 64);
      _tile_stored(2, c[2], 64);
      _tile_stored(3, c[3], 64);
      const int rows = std::min(32, nq - i);
      const __mmask16 m0 = cols >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << cols) - 1);
      const __mmask16 m1 = cols >= 32 ? __mmask16(0xFFFF) : cols > 16 ? __mmask16((1u << (cols - 16)) - 1) : __mmask16(0);
      for (int a = 0; a < rows; ++a) {
        const int block = a / 16, r = a % 16;
        const __m512i bias = _mm512_set1_epi32(qsum[i + a]);
        const __m512 d0 = _mm512_cvtepi32_ps(_mm512_add_epi32(_mm512_load_si512(c[2 * block] + r * 16), bias));
        const __m512 d1 = _mm512_cvtepi32_ps(_mm512_add_epi32(_mm512_load_si512(c[2 * block + 1] + r * 16), bias));
        float* o = out + static_cast<long>(i + a) * nt + j;
        _mm512_mask_storeu_ps(o, m0, d0);
        _mm512_mask_storeu_ps(o + 16, m1, d1);
      }
    }
  }
  _tile_release();
}

// AMX needs the CPU's AMX-TILE and AMX-INT8 and the kernel's leave to use
// the tile state (Linux: arch_prctl ARCH_REQ_XCOMP_PERM, once per process).
bool AmxUsable() {
  static const bool usable = [] {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
    const bool tile = (edx >> 24) & 1, int8 = (edx >> 25) & 1;
    if (!tile || !int8) return false;
    constexpr long kArchReqXcompPerm = 0x1023;
    constexpr long kXfeatureXtiledata = 18;
    return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
  }();
  return usable;
}

// k-quads per packed row: a whole number of 64-byte AMX tile rows when AMX
// runs (the extra quads are zero on both sides and add nothing).
int PaddedQuads(int dim) {
  const int quads = (dim + 3) / 4;
  return AmxUsable() ? (quads + 15) / 16 * 16 : quads;
}

bool CpuHasVnni() {
  static const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512vnni");
  return has;
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

bool DotTileUsesVnni() { return CpuHasVnni(); }

void PackTrainU8(const uint8_t* t, int nt, int dim, PackedTrainU8* out) {
  out->nt = nt;
  out->dim = dim;
  out->quads = PaddedQuads(dim);
  const int quads = out->quads;
  const int num_panels = (nt + 15) / 16;
  // Pads (k >= dim, columns >= nt) meet q's zero pads or are never stored.
  out->panels.assign(static_cast<size_t>(num_panels + 1) * quads * 64, 0);
  for (int j = 0; j < nt; ++j) {
    const uint8_t* row = t + static_cast<long>(j) * dim;
    int8_t* dst = out->panels.data() + static_cast<size_t>(j / 16) * quads * 64 + (j % 16) * 4;
    int k = 0;
    for (; k + 4 <= dim; k += 4) {
      // x - 128 as int8 is x ^ 0x80: four bytes at once.
      uint32_t word;
      std::memcpy(&word, row + k, sizeof(word));
      word ^= 0x80808080u;
      std::memcpy(dst + (k / 4) * 64, &word, sizeof(word));
    }
    for (; k < dim; ++k) dst[(k / 4) * 64 + (k % 4)] = static_cast<int8_t>(static_cast<int>(row[k]) - 128);
  }
}

void PackQueryU8(const uint8_t* q, int nq, int dim, PackedQueryU8* out) {
  out->nq = nq;
  out->dim = dim;
  out->quads = PaddedQuads(dim);
  const int qstride = out->quads * 4;
  // 32 zero rows past the last: the AMX kernel loads whole 16-row tiles.
  out->rows.assign(static_cast<size_t>(nq + 32) * qstride, 0);
  out->bias.assign(nq, 0);
  for (int i = 0; i < nq; ++i) {
    int32_t sum = 0;
    for (int k = 0; k < dim; ++k) {
      out->rows[static_cast<size_t>(i) * qstride + k] = q[static_cast<long>(i) * dim + k];
      sum += q[static_cast<long>(i) * dim + k];
    }
    out->bias[i] = 128 * sum;
  }
}

void DotTilePackedU8(const PackedQueryU8& q, int q0, int qcount, const PackedTrainU8& t, float* out) {
  if (AmxUsable() && CpuHasVnni()) {
    DotTileAmxPacked(q, q0, qcount, t, out);
  } else {
    DotTileVnniPacked(q, q0, qcount, t, out);
  }
}

bool DotTileUsesAmx() { return CpuHasVnni() && AmxUsable(); }

void DotTilePackedU8Vnni(const PackedQueryU8& q, int q0, int qcount, const PackedTrainU8& t, float* out) {
  DotTileVnniPacked(q, q0, qcount, t, out);
}

void DotTileU8(const uint8_t* q, int nq, const uint8_t* t, int nt, int dim, float* out) {
  if (CpuHasVnni()) {
    thread_local PackedQueryU8 qp;
    thread_local PackedTrainU8 tp;
    PackQueryU8(q, nq, dim, &qp);
    PackTrainU8(t, nt, dim, &tp);
    DotTilePackedU8(qp, 0, nq, tp, out);
    return;
  }
  std::vector<float> qf(q, q + static_cast<size_t>(nq) * dim), tf(t, t + static_cast<size_t>(nt) * dim);
  DotTile(qf.data(), nq, tf.data(), nt, dim, out);
}

void DotTile(const float* q, int nq, const float* t, int nt, int dim, float* out) {
  if (CpuHasAvx2Fma()) {
    DotTileAvx2(q, nq, t, nt, dim, out);
  } else {
    DotTileGeneric(q, nq, t, nt, dim, out);
  }
}

}  // namespace armap::features::internal
