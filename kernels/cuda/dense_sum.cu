// CUDA backend of kernels/dense_sum.h. Reference: kernels/cpu/dense_sum.cpp.
#include <cuda_runtime.h>

#include "kernels/cuda/cuda_check.h"
#include "kernels/dense_sum.h"

namespace gcsim::kernels {

namespace {

__global__ void accumulate(float* __restrict__ out, const float* __restrict__ in, std::size_t n) {
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<std::size_t>(gridDim.x) * blockDim.x)
    out[i] += in[i];
}

}  // namespace

bool cuda_device_available() {
  int count = 0;
  return cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
}

void dense_sum_cuda(const std::vector<const float*>& inputs, float* out, std::size_t n) {
  if (n == 0) return;
  float* d_out = nullptr;
  float* d_in = nullptr;
  CUDA_CHECK(cudaMalloc(&d_out, n * sizeof(float)));
  CUDA_CHECK(cudaMalloc(&d_in, n * sizeof(float)));
  try {
    CUDA_CHECK(cudaMemset(d_out, 0, n * sizeof(float)));
    const int threads = 256;
    const int blocks = static_cast<int>(std::min<std::size_t>((n + threads - 1) / threads, 65535));
    for (const float* in : inputs) {
      CUDA_CHECK(cudaMemcpy(d_in, in, n * sizeof(float), cudaMemcpyHostToDevice));
      accumulate<<<blocks, threads>>>(d_out, d_in, n);
      CUDA_CHECK(cudaGetLastError());
    }
    CUDA_CHECK(cudaMemcpy(out, d_out, n * sizeof(float), cudaMemcpyDeviceToHost));
  } catch (...) {
    cudaFree(d_in);
    cudaFree(d_out);
    throw;
  }
  CUDA_CHECK(cudaFree(d_in));
  CUDA_CHECK(cudaFree(d_out));
}

}  // namespace gcsim::kernels
