// Argument checks shared by every backend's PowerSGD matrix kernels (Vogels,
// Karimireddy and Jaggi, "PowerSGD: Practical Low-Rank Gradient Compression
// for Distributed Optimization", NeurIPS 2019); see kernels/backend.h.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

#include "kernels/backend.h"

namespace gcsim::kernels {

// Throws std::invalid_argument when r > n: n x r cannot hold r orthonormal columns.
inline void check_orthogonalize(std::size_t n, std::size_t r) {
  if (r > n)
    throw std::invalid_argument("orthogonalize: r = " + std::to_string(r) + " columns exceed the n = " +
                                std::to_string(n) + " rows (PowerSGD's rank must be at most min(n, m))");
}

// The same for every matrix of a batch, before any is touched.
inline void check_orthogonalize_batched(const MatrixRef* matrices, std::size_t count) {
  for (std::size_t b = 0; b < count; ++b)
    if (matrices[b].cols > matrices[b].rows)
      throw std::invalid_argument("orthogonalize_batched: matrix " + std::to_string(b) + " has r = " +
                                  std::to_string(matrices[b].cols) + " columns, more than its n = " +
                                  std::to_string(matrices[b].rows) + " rows");
}

}  // namespace gcsim::kernels
