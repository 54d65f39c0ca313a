// Argument checks shared by every backend's PowerSGD matrix kernels (Vogels,
// Karimireddy and Jaggi, "PowerSGD: Practical Low-Rank Gradient Compression
// for Distributed Optimization", NeurIPS 2019); see kernels/backend.h.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace gcsim::kernels {

// Throws std::invalid_argument when r > n: n x r cannot hold r orthonormal columns.
inline void check_orthogonalize(std::size_t n, std::size_t r) {
  if (r > n)
    throw std::invalid_argument("orthogonalize: r = " + std::to_string(r) + " columns exceed the n = " +
                                std::to_string(n) + " rows (PowerSGD's rank must be at most min(n, m))");
}

}  // namespace gcsim::kernels
