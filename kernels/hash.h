// Counter-based hashing (SplitMix64's finalizer, Steele, Lea & Flood,
// "Fast splittable pseudorandom number generators", OOPSLA 2014): a pure
// function of (seed, i), so every backend and every worker draws the same
// Random-K subset and the same threshold samples without sharing state.
#pragma once

#include <cstdint>

#include "kernels/host_device.h"

namespace gcsim::kernels {

GCSIM_HD std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

GCSIM_HD std::uint64_t hash64(std::uint64_t seed, std::uint64_t i) {
  return mix64(mix64(seed) + 0x9e3779b97f4a7c15ull * (i + 1));
}

// Random-K's key for entry i: the k smallest keys are the chosen subset.
GCSIM_HD std::uint32_t randomk_key(std::uint64_t seed, std::uint64_t i) {
  return static_cast<std::uint32_t>(hash64(seed, i) >> 32);
}

// DGC threshold sampling: the position of sample j in a tensor of n entries.
GCSIM_HD std::uint64_t sample_position(std::uint64_t seed, std::uint64_t j, std::uint64_t n) {
  return hash64(seed ^ 0x5a4d504c45ull /* "SAMPLE" stream */, j) % n;
}

}  // namespace gcsim::kernels
