// The GPU executor of train/model/simplecnn_graph.h: device arrays (cudaMalloc),
// element operations as one grid-stride kernel per call, GEMM through cuBLAS
// (loaded at run time, kernels/cuda/cublas_api.h) in FP32 (default math: no TF32), all
// on one stream. copy_out synchronises the stream.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>

#include "kernels/cuda/cuda_check.h"
#include "train/model/col_major_gemm.h"
#include "kernels/cuda/cublas_api.h"

namespace gcsim::train::cuda {
using kernels::cuda::CublasApi;
using kernels::cuda::cublas_api;

template <class T>
class DeviceArray {
 public:
  DeviceArray() = default;
  explicit DeviceArray(std::size_t n) : n_(n) {
    if (n > 0) CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&p_), n * sizeof(T)));
  }
  DeviceArray(DeviceArray&& o) noexcept : p_(std::exchange(o.p_, nullptr)), n_(std::exchange(o.n_, 0)) {}
  DeviceArray& operator=(DeviceArray&& o) noexcept {
    if (this != &o) {
      release();
      p_ = std::exchange(o.p_, nullptr);
      n_ = std::exchange(o.n_, 0);
    }
    return *this;
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;
  ~DeviceArray() { release(); }

  T* data() { return p_; }
  const T* data() const { return p_; }
  std::size_t size() const { return n_; }

 private:
  void release() {
    if (p_ != nullptr) cudaFree(p_);
    p_ = nullptr;
  }
  T* p_ = nullptr;
  std::size_t n_ = 0;
};

template <class F>
__global__ void for_each_kernel(std::size_t n, F f) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) f(i);
}

class CudaExecutor {
 public:
  template <class T>
  using Array = DeviceArray<T>;

  explicit CudaExecutor(int device) : device_(device) {
    const CublasApi& api = cublas_api();
    CUDA_CHECK(cudaSetDevice(device));
    CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
    check(api.create(&handle_), "cublasCreate");
    check(api.set_stream(handle_, stream_), "cublasSetStream");
    check(api.set_math_mode(handle_, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");  // FP32, no TF32
  }
  ~CudaExecutor() {
    if (handle_ != nullptr) cublas_api().destroy(handle_);
    if (stream_ != nullptr) cudaStreamDestroy(stream_);
  }
  CudaExecutor(const CudaExecutor&) = delete;
  CudaExecutor& operator=(const CudaExecutor&) = delete;

  int device() const { return device_; }

  template <class T>
  Array<T> make_array(std::size_t n) {
    return Array<T>(n);
  }

  template <class F>
  void for_each(std::size_t n, const F& f) {
    if (n == 0) return;
    constexpr unsigned kThreads = 256;
    const std::size_t blocks = std::min<std::size_t>((n + kThreads - 1) / kThreads, 65536);
    for_each_kernel<<<static_cast<unsigned>(blocks), kThreads, 0, stream_>>>(n, f);
    CUDA_CHECK(cudaGetLastError());
  }

  void gemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float* a, int lda, const float* b,
            int ldb, float beta, float* c, int ldc) {
    if (m <= 0 || n <= 0) return;
    const ColMajorGemm g = to_col_major(trans_a, trans_b, m, n, k, a, lda, b, ldb, c, ldc);
    check(cublas_api().sgemm(handle_, g.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, g.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                             g.m, g.n, g.k, &alpha, g.a, g.lda, g.b, g.ldb, &beta, g.c, g.ldc),
          "cublasSgemm");
  }

  // Host -> device. From pageable memory the call returns once the source has
  // been staged, so the caller may reuse it.
  template <class T>
  void copy_in(T* dst, const T* host, std::size_t n) {
    CUDA_CHECK(cudaMemcpyAsync(dst, host, n * sizeof(T), cudaMemcpyHostToDevice, stream_));
  }
  // Device -> host; complete on return.
  template <class T>
  void copy_out(T* host, const T* src, std::size_t n) {
    CUDA_CHECK(cudaMemcpyAsync(host, src, n * sizeof(T), cudaMemcpyDeviceToHost, stream_));
    CUDA_CHECK(cudaStreamSynchronize(stream_));
  }

 private:
  static void check(cublasStatus_t s, const char* what) {
    if (s != CUBLAS_STATUS_SUCCESS)
      throw std::runtime_error(std::string(what) + " failed (cuBLAS status " +
                               std::to_string(static_cast<int>(s)) + ")");
  }

  int device_;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t handle_ = nullptr;
};

}  // namespace gcsim::train::cuda
