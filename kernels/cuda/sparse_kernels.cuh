// The sparse ops of the CUDA backend: the wire format (kernels/wire_format.h),
// scatter-add of sparse parts into a dense tensor, and the dense sum. All are
// enqueued on the stream without synchronizing; unpack's range check leaves a
// flag in device memory for the caller to read.
#pragma once

#include <cstddef>

#include "kernels/backend.h"
#include "kernels/cuda/launch.cuh"

namespace gcsim::kernels::cuda {

// k values, then k indices of index_bytes (4 or 8) each, at `wire`.
void enqueue_pack(const float* values, const Index* indices, std::size_t k, std::size_t index_bytes,
                  std::byte* wire, const LaunchContext& ctx);

// The inverse; any index outside [0, n) sets *bad (device memory) nonzero.
void enqueue_unpack(const std::byte* wire, std::size_t k, std::size_t index_bytes, std::size_t n, float* values,
                    Index* indices, unsigned long long* bad, const LaunchContext& ctx);

// dense[i] += v for every (v, i) of every part; parts is a host array of
// device pointers. Entries with an index outside [0, n) are skipped.
void enqueue_scatter_add(const SparseRef* parts, std::size_t num_parts, float* dense, std::size_t n,
                         const LaunchContext& ctx);

// out = sum of the inputs in order (inputs: a host array of device pointers).
void enqueue_dense_sum(const float* const* inputs, std::size_t num_inputs, float* out, std::size_t n,
                       const LaunchContext& ctx);

}  // namespace gcsim::kernels::cuda
