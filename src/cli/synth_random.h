// Small explicit pseudo-random generators for `jarvis synth`, so that a file
// made from a seed is the same on every machine and compiler (the standard
// library's distributions are not specified bit-for-bit).
//
// Thread safety: a generator is a value; use one per thread.
#pragma once

#include <cstdint>
#include <string_view>

namespace jarvis::synth {

// SplitMix64: turns any 64-bit value (seed, seed ^ row) into well-mixed state.
inline uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// FNV-1a: a stable hash of a tensor name, to give each tensor its own stream.
inline uint64_t HashName(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

// xoshiro256**: the workhorse generator.
class Xoshiro256 {
 public:
  explicit Xoshiro256(uint64_t seed) {
    for (auto& word : s_) word = SplitMix64(seed);
  }

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

  // Uniform in [0, n). The modulo bias is below 2^-40 for the n used here.
  uint64_t Below(uint64_t n) { return Next() % n; }

  // Approximately N(0, 1): the Irwin-Hall sum of four 16-bit uniforms,
  // rescaled to unit variance (bounded at +-3.46). One generator call per
  // value, no transcendental functions: fast enough for 8B parameters.
  float NextGaussian() {
    const uint64_t r = Next();
    float sum = 0.0f;
    for (int i = 0; i < 4; ++i) sum += static_cast<float>((r >> (16 * i)) & 0xffff);
    // Each term is uniform on {0..65535}: mean 32767.5, variance (65536^2 - 1) / 12.
    constexpr float kMean = 4 * 32767.5f;
    constexpr float kInvStd = 1.7320508f / 65536.0f;  // sqrt(12 / 4) / 65536
    return (sum - kMean) * kInvStd;
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace jarvis::synth
