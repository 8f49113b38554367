// out = q * t^T for row-major float blocks (q: nq x dim, t: nt x dim, out:
// nq x nt), with an AVX2+FMA kernel chosen at run time when the CPU has it.
// Descriptor matching feeds integer-valued floats whose dot products stay
// below 2^24, so every summation order gives the same, exact result: the
// kernel choice never changes a match.
#pragma once

namespace armap::features::internal {

void DotTile(const float* q, int nq, const float* t, int nt, int dim, float* out);

// The plain-loop version (what DotTile runs without AVX2), for tests.
void DotTileReference(const float* q, int nq, const float* t, int nt, int dim, float* out);

// True when DotTile uses the AVX2 kernel on this machine.
bool DotTileUsesAvx2();

}  // namespace armap::features::internal
