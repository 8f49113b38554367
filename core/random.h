// Deterministic random numbers that are identical on every platform and
// thread schedule: a SplitMix64 stream seeded from (seed, stream ids).
// std::*_distribution is implementation-defined, so we avoid it.
#pragma once

#include <cmath>
#include <cstdint>

namespace armap {

inline uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

inline uint64_t HashCombine(uint64_t a, uint64_t b) { return SplitMix64(a ^ (SplitMix64(b) + 0x632BE59BD9B4E019ull)); }

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(SplitMix64(seed)) {}
  Rng(uint64_t seed, uint64_t stream) : state_(HashCombine(seed, stream)) {}
  Rng(uint64_t seed, uint64_t stream, uint64_t substream) : state_(HashCombine(HashCombine(seed, stream), substream)) {}

  uint64_t NextU64() { return SplitMix64(state_ += 0x9E3779B97F4A7C15ull); }
  // Uniform in [0, 1).
  double Uniform() { return static_cast<double>(NextU64() >> 11) * (1.0 / 9007199254740992.0); }
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  // Uniform integer in [lo, hi].
  int UniformInt(int lo, int hi) { return lo + static_cast<int>(NextU64() % static_cast<uint64_t>(hi - lo + 1)); }
  bool Bernoulli(double p) { return Uniform() < p; }
  // Standard normal via Box-Muller (one value per call; simple and portable).
  double Normal() {
    double u1 = Uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * Uniform());
  }
  double Normal(double mean, double sigma) { return mean + sigma * Normal(); }

 private:
  uint64_t state_;
};

}  // namespace armap
