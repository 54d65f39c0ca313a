// How the CUDA backend launches its kernels: one stream, 256-thread blocks, and
// grids no larger than what is resident at once (the streaming kernels are
// grid-stride loops, so a second wave of blocks would only add a tail).
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "kernels/cuda/cuda_check.h"

namespace gcsim::kernels::cuda {

inline constexpr int kThreads = 256;  // threads per block for every kernel

struct LaunchContext {
  cudaStream_t stream = nullptr;
  int sm_count = 1;
};

// Blocks of `Kernel` that fit on the device at once (occupancy x SMs),
// queried once per kernel.
template <auto Kernel>
int resident_blocks(const LaunchContext& ctx) {
  static const int per_sm = [] {
    int blocks = 0;
    CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, Kernel, kThreads, 0));
    return std::max(blocks, 1);
  }();
  return per_sm * ctx.sm_count;
}

// A grid for `work` items of one thread each: enough blocks to cover them,
// at most the resident ones.
template <auto Kernel>
unsigned grid_for(std::size_t work, const LaunchContext& ctx) {
  const std::size_t wanted = (work + kThreads - 1) / kThreads;
  const auto resident = static_cast<std::size_t>(resident_blocks<Kernel>(ctx));
  return static_cast<unsigned>(std::clamp<std::size_t>(wanted, 1, resident));
}

inline bool aligned16(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 16 == 0; }

}  // namespace gcsim::kernels::cuda
