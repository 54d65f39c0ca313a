// Seeded N(0, scale^2) "gradients" for the kernel tests, benchmarks and
// `gcsim calibrate`: the same seed gives the same data in every program.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace gcsim::kernels {

inline std::vector<float> normal_vector(std::size_t n, std::uint64_t seed, float scale = 1.0f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

}  // namespace gcsim::kernels
