// out = q * t^T for row-major float blocks (q: nq x dim, t: nt x dim, out:
// nq x nt), with an AVX2+FMA kernel chosen at run time when the CPU has it.
// Descriptor matching feeds integer-valued floats whose dot products stay
// below 2^24, so every summation order gives the same, exact result: the
// kernel choice never changes a match.
#pragma once

#include <cstdint>
#include <vector>

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

// The VNNI kernel's operands packed once, for products taken many times
// (descriptor matching meets every train block with every query row): a
// train block is packed once for all query rows, the queries once for all
// train blocks, and the product is taken in slices of query rows small
// enough for its output to stay in L2. Only when DotTileUsesVnni().
struct PackedTrainU8 {
  int nt = 0, dim = 0, quads = 0;
  // ceil(nt / 16) + 1 panels of 16 columns (the last one padding), each
  // quads x 64 bytes: k-quad q of column c at q * 64 + c * 4, as int8 (x - 128).
  std::vector<int8_t> panels;
};
struct PackedQueryU8 {
  int nq = 0, dim = 0, quads = 0;
  std::vector<uint8_t> rows;  // nq x (quads * 4), zero padded
  std::vector<int32_t> bias;  // 128 * sum(q): restores q.t from q.(t - 128)
};
void PackTrainU8(const uint8_t* t, int nt, int dim, PackedTrainU8* out);
void PackQueryU8(const uint8_t* q, int nq, int dim, PackedQueryU8* out);
// out (qcount x t.nt, row-major) = rows [q0, q0 + qcount) of q times t^T,
// as DotTileU8 gives them. q.dim must equal t.dim.
// With AMX (tile registers, int8 tile products) usable, it runs an AMX
// kernel on the same packing (k-quads padded to a multiple of 16), about
// 16 zmm vpdpbusd per tile product; the sums are the same exact int32s.
void DotTilePackedU8(const PackedQueryU8& q, int q0, int qcount, const PackedTrainU8& t, float* out);
// True when DotTileU8 / DotTilePackedU8 use the AMX kernel on this machine.
bool DotTileUsesAmx();
// The VNNI kernel on packed operands whatever the machine has beyond
// AVX-512 VNNI, for tests (needs DotTileUsesVnni()).
void DotTilePackedU8Vnni(const PackedQueryU8& q, int q0, int qcount, const PackedTrainU8& t, float* out);

}  // namespace armap::features::internal
