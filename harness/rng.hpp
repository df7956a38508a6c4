// refhammer::Rng — the one seeded PRNG, passed explicitly (xoshiro256**). Shared by every driver.
#pragma once

#include <cstdint>

namespace refhammer {

class Rng {
 public:
  explicit Rng(uint64_t seed) noexcept {
    // splitmix64 expands the seed into the state, as the xoshiro authors advise.
    for (auto& w : s_) {
      seed += 0x9e3779b97f4a7c15ull;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
      w = z ^ (z >> 31);
    }
  }
  uint64_t next() noexcept {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, n), n > 0 (Lemire's multiply-shift; bias is negligible here).
  uint32_t below(uint32_t n) noexcept {
    return static_cast<uint32_t>(((next() >> 32) * uint64_t{n}) >> 32);  // (2^32-1) * n fits in 64 bits
  }
  bool chance(uint32_t num, uint32_t den) noexcept { return below(den) < num; }

 private:
  static uint64_t rotl(uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace refhammer
