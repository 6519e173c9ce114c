#pragma once
// Deterministic random numbers for the generators: a splitmix64 key derivation and a
// xoshiro256** stream, plus our own uniform, normal and categorical sampling, so output does
// not depend on the standard library's distributions. An Rng is a plain value; one per thread.

#include <cmath>
#include <cstddef>
#include <cstdint>

namespace riskpipe::synth {

// The splitmix64 finaliser: a bijective 64-bit mix with good avalanche.
inline uint64_t Mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// The key of one independent stream: (seed, stream tag, entity index, sub index). Each
// customer (and customer-month) draws from its own stream, which is what makes the output
// independent of how work is split across threads.
inline uint64_t StreamKey(uint64_t seed, uint64_t tag, uint64_t index, uint64_t sub = 0) {
  return Mix64(Mix64(Mix64(seed ^ Mix64(tag)) + index) + sub);
}

class Rng {
 public:
  explicit Rng(uint64_t key) {
    for (uint64_t& word : s_) {
      key += 0x9e3779b97f4a7c15ULL;
      word = Mix64(key);
    }
  }
  Rng(uint64_t seed, uint64_t tag, uint64_t index, uint64_t sub = 0)
      : Rng(StreamKey(seed, tag, index, sub)) {}

  // xoshiro256**.
  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1) with 53 random bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  // Uniform integer in [lo, hi] by a 128-bit multiply (bias below 2^-40 for our ranges).
  int64_t UniformInt(int64_t lo, int64_t hi) {
    __extension__ typedef unsigned __int128 U128;  // GCC/Clang extension; silences -Wpedantic
    const auto range = static_cast<U128>(static_cast<uint64_t>(hi - lo) + 1);
    return lo + static_cast<int64_t>((range * Next()) >> 64);
  }
  bool Bernoulli(double p) { return Uniform() < p; }

  // Standard normal by Marsaglia's polar method; the second value of each pair is kept.
  double Normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u, v, s;
    do {
      u = 2.0 * Uniform() - 1.0;
      v = 2.0 * Uniform() - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    const double f = std::sqrt(-2.0 * std::log(s) / s);
    spare_ = v * f;
    has_spare_ = true;
    return u * f;
  }

  // Index i with probability weights[i] / sum(weights).
  size_t Categorical(const double* weights, size_t n) {
    double total = 0;
    for (size_t i = 0; i < n; ++i) total += weights[i];
    double x = Uniform() * total;
    for (size_t i = 0; i + 1 < n; ++i) {
      if (x < weights[i]) return i;
      x -= weights[i];
    }
    return n - 1;
  }
  template <size_t N>
  size_t Categorical(const double (&weights)[N]) {
    return Categorical(weights, N);
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

  uint64_t s_[4];
  double spare_ = 0;
  bool has_spare_ = false;
};

// The standard normal CDF.
inline double NormalCdf(double z) { return 0.5 * std::erfc(-z * 0.70710678118654752440); }

}  // namespace riskpipe::synth
