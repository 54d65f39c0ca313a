// A grow-only device allocation for the backend's workspace: reserve() hands
// back storage of at least the bytes asked for and reallocates only when it
// must grow (after draining the stream, which may still use the old storage).
#pragma once

#include <cuda_runtime.h>

#include <cstddef>

#include "kernels/cuda/cuda_check.h"

namespace gcsim::kernels::cuda {

class GrowOnlyBuffer {
 public:
  GrowOnlyBuffer() = default;
  GrowOnlyBuffer(const GrowOnlyBuffer&) = delete;
  GrowOnlyBuffer& operator=(const GrowOnlyBuffer&) = delete;
  ~GrowOnlyBuffer() {
    if (data_ != nullptr) cudaFree(data_);
  }

  template <class T>
  T* reserve(std::size_t count, cudaStream_t stream) {
    const std::size_t bytes = count * sizeof(T);
    if (bytes > capacity_) {
      CUDA_CHECK(cudaStreamSynchronize(stream));
      if (data_ != nullptr) CUDA_CHECK(cudaFree(data_));
      data_ = nullptr;
      capacity_ = 0;
      CUDA_CHECK(cudaMalloc(&data_, bytes));
      capacity_ = bytes;
    }
    return static_cast<T*>(data_);
  }

 private:
  void* data_ = nullptr;
  std::size_t capacity_ = 0;
};

}  // namespace gcsim::kernels::cuda
