// The PowerSGD matrix kernels of the two CPU backends (Vogels, Karimireddy and
// Jaggi, "PowerSGD: Practical Low-Rank Gradient Compression for Distributed
// Optimization", NeurIPS 2019; semantics in kernels/backend.h):
//   reference_*  triple loops accumulating in double, Gram-Schmidt in double
//                (kernels/cpu/lowrank_reference.cpp)
//   fast_*       cache-blocked fp32, split over `threads` threads
//                (kernels/cpu/lowrank_fast.cpp)
// Row-major fp32; outputs must not overlap inputs; argument checks (r > n in
// orthogonalize) are the caller's (kernels/lowrank_checks.h).
#pragma once

#include <cstddef>

#include "kernels/backend.h"

namespace gcsim::kernels::cpu {

// C (n x r) = A (n x m) B (m x r)
void reference_matmul(const float* A, const float* B, float* C, std::size_t n, std::size_t m, std::size_t r);
// C (m x r) = A^T B, A (n x m), B (n x r)
void reference_matmul_tn(const float* A, const float* B, float* C, std::size_t n, std::size_t m, std::size_t r);
// C (n x m) = A (n x r) B^T, B (m x r)
void reference_matmul_nt(const float* A, const float* B, float* C, std::size_t n, std::size_t m, std::size_t r);
// Modified Gram-Schmidt on the r columns of P (n x r), in double, rounded once.
void reference_orthogonalize(float* P, std::size_t n, std::size_t r, float epsilon);

void fast_matmul(const float* A, const float* B, float* C, std::size_t n, std::size_t m, std::size_t r,
                 unsigned threads);
void fast_matmul_tn(const float* A, const float* B, float* C, std::size_t n, std::size_t m, std::size_t r,
                    unsigned threads);
void fast_matmul_nt(const float* A, const float* B, float* C, std::size_t n, std::size_t m, std::size_t r,
                    unsigned threads);
void fast_orthogonalize(float* P, std::size_t n, std::size_t r, float epsilon, unsigned threads);
// Whole matrices per thread, split by their element counts.
void fast_orthogonalize_batched(const MatrixRef* matrices, std::size_t count, float epsilon, unsigned threads);

}  // namespace gcsim::kernels::cpu
