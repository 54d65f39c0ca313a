// The CUDA backend's PowerSGD matrix kernels (Vogels, Karimireddy and Jaggi,
// "PowerSGD: Practical Low-Rank Gradient Compression for Distributed
// Optimization", NeurIPS 2019; semantics in kernels/backend.h).
//
// The three products are one cuBLAS sgemm each (cuBLAS loaded at run time,
// kernels/cuda/cublas_api.h), FP32 in the default math mode (no TF32), on the
// backend's stream. cuBLAS is column-major; a row-major X (a x b) is the
// column-major X^T with leading dimension b, so each row-major product is
// computed as its transpose:
//   matmul     C = A B     as  C^T (r x n) = B^T (r x m)  A^T (m x n)    sgemm(N, N)
//   matmul_tn  C = A^T B   as  C^T (r x m) = B^T (r x n)  A   (n x m)    sgemm(N, T)
//   matmul_nt  C = A B^T   as  C^T (m x n) = B   (m x r)  A^T (r x n)    sgemm(T, N)
// The cuBLAS handle is made on first use, so a backend that never multiplies
// does not need libcublas.
//
// orthogonalize is one kernel launch, one thread block per matrix: per column
// i the block sums ||col_i||^2 (fp32, warp shuffles then shared memory),
// divides the column by ||col_i|| + epsilon, and then each warp takes columns
// j > i (round robin), forms col_i . col_j by a warp sum and subtracts the
// projection. orthogonalize_batched runs the same code with one block per
// matrix of the batch, so a matrix gives the same bits either way. One block
// per matrix suits PowerSGD's P (n up to some thousands of rows); for very
// tall matrices it is correct but uses one SM.
#pragma once

#include <cublas_v2.h>

#include <cstddef>

#include "kernels/backend.h"
#include "kernels/cuda/device_buffer.cuh"
#include "kernels/cuda/launch.cuh"

namespace gcsim::kernels::cuda {

class LowRank {
 public:
  // ctx must outlive this object; its stream is read at each call.
  explicit LowRank(const LaunchContext& ctx) : ctx_(&ctx) {}
  LowRank(const LowRank&) = delete;
  LowRank& operator=(const LowRank&) = delete;
  ~LowRank();

  void matmul(const float* A, const float* B, float* C, std::size_t n, std::size_t m, std::size_t r);
  void matmul_tn(const float* A, const float* B, float* C, std::size_t n, std::size_t m, std::size_t r);
  void matmul_nt(const float* A, const float* B, float* C, std::size_t n, std::size_t m, std::size_t r);
  void orthogonalize(float* P, std::size_t n, std::size_t r, float epsilon);
  // The host array of descriptors is copied to the device (stream-ordered), then one launch.
  void orthogonalize_batched(const MatrixRef* matrices, std::size_t count, float epsilon);

 private:
  cublasHandle_t handle();
  // Column-major C (rows x cols) = op(X) op(Y), inner dimension k; throws
  // std::invalid_argument when a size does not fit cuBLAS's int.
  void gemm(const char* op, cublasOperation_t tx, cublasOperation_t ty, std::size_t rows, std::size_t cols,
            std::size_t k, const float* X, std::size_t ldx, const float* Y, std::size_t ldy, float* C, std::size_t ldc);

  const LaunchContext* ctx_;
  cublasHandle_t handle_ = nullptr;
  GrowOnlyBuffer descriptors_;  // orthogonalize_batched's MatrixRef array on the device
};

}  // namespace gcsim::kernels::cuda
