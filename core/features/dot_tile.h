// out = q * t^T for row-major float blocks (q: nq x dim, t: nt x dim, out:
// nq x nt), with an AVX2+FMA kernel chosen at run time when the CPU has it.
// Descriptor matching feeds integer-valued floats whose dot products stay
// below 2^24, so every summation order gives the same, exact result: the
// kernel choice never changes a match.
#pragma once

#include <cstdint>

namespace armap::features::internal {

void DotTile(const float* q, int nq, const float* t, int nt, int dim, float* out);

// The plain-loop version (what DotTile runs without AVX2), for tests.
void DotTileReference(const float* q, int nq, const float* t, int nt, int dim, float* out);

// True when DotTile uses the AVX2 kernel on this machine.
bool DotTileUsesAvx2();

// The same product straight from uint8 rows (q: nq x dim, t: nt x dim, row
// strides = dim), as exact integer-valued floats. With AVX-512 VNNI it runs
// 64 byte multiply-adds per instruction (vpdpbusd, u8 x s8: t is shifted by
// -128 and q.t = q.(t - 128) + 128 sum(q), exact in int32); without, it
// converts to float and calls DotTile. Same results either way.
void DotTileU8(const uint8_t* q, int nq, const uint8_t* t, int nt, int dim, float* out);

// True when DotTileU8 uses the AVX-512 VNNI kernel on this machine.
bool DotTileUsesVnni();

}  // namespace armap::features::internal
