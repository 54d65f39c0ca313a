// PowerSGD's matrix kernels on the GPU (Vogels, Karimireddy and Jaggi,
// "PowerSGD: Practical Low-Rank Gradient Compression for Distributed
// Optimization", NeurIPS 2019): cuBLAS sgemm for the products, and modified
// Gram-Schmidt as PyTorch's powerSGD_hook _orthogonalize_gram_schmidt in one
// kernel (see lowrank.cuh). Built without fast math: the divisions and the
// square root are IEEE-rounded, as on the CPU.
#include "kernels/cuda/lowrank.cuh"

#include <climits>
#include <stdexcept>
#include <string>

#include "kernels/cuda/cublas_api.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/lowrank_checks.h"

namespace gcsim::kernels::cuda {
namespace {

constexpr int kOrthoThreads = 1024;  // one block per matrix
constexpr int kWarps = kOrthoThreads / 32;

__device__ float warp_sum(float v) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
  return v;
}

// The sum of v over the block, returned to every thread. `scratch` holds kWarps + 1 floats.
__device__ float block_sum(float v, float* scratch) {
  const int lane = static_cast<int>(threadIdx.x) & 31;
  const int warp = static_cast<int>(threadIdx.x) >> 5;
  v = warp_sum(v);
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  if (warp == 0) {
    float t = lane < kWarps ? scratch[lane] : 0.0f;
    t = warp_sum(t);
    if (lane == 0) scratch[kWarps] = t;
  }
  __syncthreads();
  const float total = scratch[kWarps];
  __syncthreads();  // scratch is reused by the next call
  return total;
}

// Modified Gram-Schmidt on Q (row-major n x r) by the whole block.
__device__ void orthogonalize_block(float* Q, std::size_t n, std::size_t r, float epsilon, float* scratch) {
  const unsigned lane = threadIdx.x & 31u;
  const unsigned warp = threadIdx.x >> 5;
  for (std::size_t i = 0; i < r; ++i) {
    float squares = 0.0f;
    for (std::size_t k = threadIdx.x; k < n; k += kOrthoThreads) {
      const float v = Q[k * r + i];
      squares += v * v;
    }
    const float scale = sqrtf(block_sum(squares, scratch)) + epsilon;
    for (std::size_t k = threadIdx.x; k < n; k += kOrthoThreads) Q[k * r + i] = Q[k * r + i] / scale;  // 0/0 = NaN
    __syncthreads();  // the normalized column is visible to every warp
    for (std::size_t j = i + 1 + warp; j < r; j += kWarps) {
      float dot = 0.0f;
      for (std::size_t k = lane; k < n; k += 32) dot += Q[k * r + i] * Q[k * r + j];
      dot = warp_sum(dot);
      for (std::size_t k = lane; k < n; k += 32) Q[k * r + j] -= dot * Q[k * r + i];
    }
    __syncthreads();  // column i+1 is final before it is normalized
  }
}

__global__ void __launch_bounds__(kOrthoThreads) orthogonalize_kernel(float* P, std::size_t n, std::size_t r,
                                                                      float epsilon) {
  __shared__ float scratch[kWarps + 1];
  orthogonalize_block(P, n, r, epsilon, scratch);
}

// blockIdx.x = matrix of the batch (descriptors in device memory).
__global__ void __launch_bounds__(kOrthoThreads) orthogonalize_batched_kernel(const MatrixRef* matrices,
                                                                              float epsilon) {
  __shared__ float scratch[kWarps + 1];
  const MatrixRef m = matrices[blockIdx.x];
  orthogonalize_block(m.data, m.rows, m.cols, epsilon, scratch);
}

int as_int(std::size_t v, const char* op) {
  if (v > static_cast<std::size_t>(INT_MAX))
    throw std::invalid_argument(std::string(op) + ": size " + std::to_string(v) +
                                " exceeds cuBLAS's int range on the cuda backend");
  return static_cast<int>(v);
}

void check(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS)
    throw std::runtime_error(std::string(what) + " failed: cuBLAS status " + std::to_string(static_cast<int>(s)));
}

}  // namespace

LowRank::~LowRank() {
  if (handle_ != nullptr) cublas_api().destroy(handle_);
}

cublasHandle_t LowRank::handle() {
  if (handle_ == nullptr) {
    const CublasApi& api = cublas_api();
    cublasHandle_t h = nullptr;
    check(api.create(&h), "cublasCreate");
    try {
      check(api.set_stream(h, ctx_->stream), "cublasSetStream");
      check(api.set_math_mode(h, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");  // FP32, no TF32
    } catch (...) {
      api.destroy(h);
      throw;
    }
    handle_ = h;
  }
  return handle_;
}

void LowRank::gemm(const char* op, cublasOperation_t tx, cublasOperation_t ty, std::size_t rows, std::size_t cols,
                   std::size_t k, const float* X, std::size_t ldx, const float* Y, std::size_t ldy, float* C,
                   std::size_t ldc) {
  const int rows_i = as_int(rows, op), cols_i = as_int(cols, op), k_i = as_int(k, op);
  const int ldx_i = as_int(ldx, op), ldy_i = as_int(ldy, op), ldc_i = as_int(ldc, op);
  const float one = 1.0f, zero = 0.0f;
  check(cublas_api().sgemm(handle(), tx, ty, rows_i, cols_i, k_i, &one, X, ldx_i, Y, ldy_i, &zero, C, ldc_i), op);
}

void LowRank::matmul(const float* A, const float* B, float* C, std::size_t n, std::size_t m, std::size_t r) {
  if (n == 0 || r == 0) return;
  if (m == 0) {
    CUDA_CHECK(cudaMemsetAsync(C, 0, n * r * sizeof(float), ctx_->stream));
    return;
  }
  gemm("matmul", CUBLAS_OP_N, CUBLAS_OP_N, r, n, m, B, r, A, m, C, r);
}

void LowRank::matmul_tn(const float* A, const float* B, float* C, std::size_t n, std::size_t m, std::size_t r) {
  if (m == 0 || r == 0) return;
  if (n == 0) {
    CUDA_CHECK(cudaMemsetAsync(C, 0, m * r * sizeof(float), ctx_->stream));
    return;
  }
  gemm("matmul_tn", CUBLAS_OP_N, CUBLAS_OP_T, r, m, n, B, r, A, m, C, r);
}

void LowRank::matmul_nt(const float* A, const float* B, float* C, std::size_t n, std::size_t m, std::size_t r) {
  if (n == 0 || m == 0) return;
  if (r == 0) {
    CUDA_CHECK(cudaMemsetAsync(C, 0, n * m * sizeof(float), ctx_->stream));
    return;
  }
  gemm("matmul_nt", CUBLAS_OP_T, CUBLAS_OP_N, m, n, r, B, r, A, r, C, m);
}

void LowRank::orthogonalize(float* P, std::size_t n, std::size_t r, float epsilon) {
  check_orthogonalize(n, r);
  if (r == 0) return;
  orthogonalize_kernel<<<1, kOrthoThreads, 0, ctx_->stream>>>(P, n, r, epsilon);
  CUDA_CHECK(cudaGetLastError());
}

void LowRank::orthogonalize_batched(const MatrixRef* matrices, std::size_t count, float epsilon) {
  check_orthogonalize_batched(matrices, count);
  if (count == 0) return;
  if (count > static_cast<std::size_t>(INT_MAX))
    throw std::invalid_argument("orthogonalize_batched: " + std::to_string(count) + " matrices exceed one grid");
  auto* device = descriptors_.reserve<MatrixRef>(count, ctx_->stream);
  CUDA_CHECK(cudaMemcpyAsync(device, matrices, count * sizeof(MatrixRef), cudaMemcpyHostToDevice, ctx_->stream));
  orthogonalize_batched_kernel<<<static_cast<unsigned>(count), kOrthoThreads, 0, ctx_->stream>>>(device, epsilon);
  CUDA_CHECK(cudaGetLastError());
}

}  // namespace gcsim::kernels::cuda
