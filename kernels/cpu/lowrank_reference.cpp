// The "cpu-reference" PowerSGD matrix kernels (Vogels, Karimireddy and Jaggi,
// "PowerSGD: Practical Low-Rank Gradient Compression for Distributed
// Optimization", NeurIPS 2019): plain triple loops that accumulate every dot
// product in double and round it once (as train/gemm.cpp's gemm_reference),
// and modified Gram-Schmidt as PyTorch's powerSGD_hook
// _orthogonalize_gram_schmidt, carried out in double on a copy of P and
// rounded once at the end. The oracle the other backends are tested against.
#include <cmath>
#include <cstddef>
#include <vector>

#include "kernels/cpu/lowrank.h"

namespace gcsim::kernels::cpu {

void reference_matmul(const float* A, const float* B, float* C, std::size_t n, std::size_t m, std::size_t r) {
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < r; ++j) {
      double sum = 0.0;
      for (std::size_t p = 0; p < m; ++p) sum += static_cast<double>(A[i * m + p]) * static_cast<double>(B[p * r + j]);
      C[i * r + j] = static_cast<float>(sum);
    }
}

void reference_matmul_tn(const float* A, const float* B, float* C, std::size_t n, std::size_t m, std::size_t r) {
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = 0; j < r; ++j) {
      double sum = 0.0;
      for (std::size_t p = 0; p < n; ++p) sum += static_cast<double>(A[p * m + i]) * static_cast<double>(B[p * r + j]);
      C[i * r + j] = static_cast<float>(sum);
    }
}

void reference_matmul_nt(const float* A, const float* B, float* C, std::size_t n, std::size_t m, std::size_t r) {
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < m; ++j) {
      double sum = 0.0;
      for (std::size_t p = 0; p < r; ++p) sum += static_cast<double>(A[i * r + p]) * static_cast<double>(B[j * r + p]);
      C[i * m + j] = static_cast<float>(sum);
    }
}

void reference_orthogonalize(float* P, std::size_t n, std::size_t r, float epsilon) {
  std::vector<double> q(P, P + n * r);
  const auto at = [&](std::size_t row, std::size_t col) -> double& { return q[row * r + col]; };
  for (std::size_t i = 0; i < r; ++i) {
    double squares = 0.0;
    for (std::size_t k = 0; k < n; ++k) squares += at(k, i) * at(k, i);
    const double scale = std::sqrt(squares) + static_cast<double>(epsilon);
    for (std::size_t k = 0; k < n; ++k) at(k, i) /= scale;  // 0 / 0 = NaN for a zero column and epsilon = 0
    for (std::size_t j = i + 1; j < r; ++j) {
      double dot = 0.0;
      for (std::size_t k = 0; k < n; ++k) dot += at(k, i) * at(k, j);
      for (std::size_t k = 0; k < n; ++k) at(k, j) -= dot * at(k, i);
    }
  }
  for (std::size_t e = 0; e < n * r; ++e) P[e] = static_cast<float>(q[e]);
}

}  // namespace gcsim::kernels::cpu
