// Wire format, scatter-add and dense sum on the GPU: bandwidth-bound loops,
// one thread per entry (grid-stride). Byte counts per entry are given at each
// kernel. The wire is little-endian like the GPU; its index section starts at
// byte 4k, so it is only 4-byte aligned, and it is accessed as 32-bit words
// (bytes when the buffer itself is not 4-byte aligned).
#include "kernels/cuda/sparse_kernels.cuh"

#include <algorithm>
#include <cstdint>

namespace gcsim::kernels::cuda {
namespace {

constexpr int kPartsPerLaunch = 32;   // scatter_add parts per launch (kernel parameters)
constexpr int kInputsPerLaunch = 32;  // dense_sum inputs per launch

__device__ void store_word(unsigned char* p, std::uint32_t v, bool aligned) {
  if (aligned) {
    *reinterpret_cast<std::uint32_t*>(p) = v;
  } else {
    for (int b = 0; b < 4; ++b) p[b] = static_cast<unsigned char>(v >> (8 * b));
  }
}

__device__ std::uint32_t load_word(const unsigned char* p, bool aligned) {
  if (aligned) return *reinterpret_cast<const std::uint32_t*>(p);
  std::uint32_t v = 0;
  for (int b = 0; b < 4; ++b) v |= static_cast<std::uint32_t>(p[b]) << (8 * b);
  return v;
}

// Reads a value (4 B) and an index (8 B), writes 4 + 4 or 4 + 8 B per entry.
__global__ void __launch_bounds__(kThreads) pack_kernel(const float* values, const Index* indices, std::size_t k,
                                                        bool wide, bool aligned, unsigned char* wire) {
  unsigned char* index_section = wire + 4 * k;
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * kThreads;
  for (std::size_t j = static_cast<std::size_t>(blockIdx.x) * kThreads + threadIdx.x; j < k; j += stride) {
    store_word(wire + 4 * j, __float_as_uint(values[j]), aligned);
    const auto i = static_cast<std::uint64_t>(indices[j]);
    if (wide) {
      store_word(index_section + 8 * j, static_cast<std::uint32_t>(i), aligned);
      store_word(index_section + 8 * j + 4, static_cast<std::uint32_t>(i >> 32), aligned);
    } else {
      store_word(index_section + 4 * j, static_cast<std::uint32_t>(i), aligned);
    }
  }
}

// Reads 4 + 4 or 4 + 8 B, writes a value (4 B) and a widened index (8 B) per
// entry; an index outside [0, n) sets *bad.
__global__ void __launch_bounds__(kThreads) unpack_kernel(const unsigned char* wire, std::size_t k, bool wide,
                                                          bool aligned, std::size_t n, float* values, Index* indices,
                                                          unsigned long long* bad) {
  const unsigned char* index_section = wire + 4 * k;
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * kThreads;
  for (std::size_t j = static_cast<std::size_t>(blockIdx.x) * kThreads + threadIdx.x; j < k; j += stride) {
    values[j] = __uint_as_float(load_word(wire + 4 * j, aligned));
    Index i = 0;
    if (wide) {
      const std::uint64_t lo = load_word(index_section + 8 * j, aligned);
      const std::uint64_t hi = load_word(index_section + 8 * j + 4, aligned);
      i = static_cast<Index>((hi << 32) | lo);
    } else {
      i = static_cast<std::int32_t>(load_word(index_section + 4 * j, aligned));
    }
    if (i < 0 || static_cast<std::uint64_t>(i) >= n) atomicOr(bad, 1ull);
    indices[j] = i;
  }
}

struct PartBatch {
  const float* values[kPartsPerLaunch];
  const Index* indices[kPartsPerLaunch];
  std::size_t k[kPartsPerLaunch];
};

// blockIdx.y = part. Reads a value and an index (12 B) per entry, one float
// atomicAdd into dense (L2).
__global__ void __launch_bounds__(kThreads) scatter_add_kernel(PartBatch batch, float* dense, std::size_t n) {
  const unsigned p = blockIdx.y;
  const float* values = batch.values[p];
  const Index* indices = batch.indices[p];
  const std::size_t k = batch.k[p];
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * kThreads;
  for (std::size_t j = static_cast<std::size_t>(blockIdx.x) * kThreads + threadIdx.x; j < k; j += stride) {
    const Index i = indices[j];
    if (i >= 0 && static_cast<std::uint64_t>(i) < n) atomicAdd(&dense[i], values[j]);
  }
}

struct InputBatch {
  const float* inputs[kInputsPerLaunch];
  int count;
};

// out = (accumulate ? out : inputs[0]) + the other inputs, in order, so each
// element is summed as the CPU backends sum it. Reads 4 B per input (+4 when
// accumulating), writes 4 B per entry.
__global__ void __launch_bounds__(kThreads)
    dense_sum_kernel(InputBatch batch, bool accumulate, bool vectorized, float* out, std::size_t n) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * kThreads;
  const std::size_t first = static_cast<std::size_t>(blockIdx.x) * kThreads + threadIdx.x;
  const int from = accumulate ? 0 : 1;
  const std::size_t quads = vectorized ? n / 4 : 0;
  for (std::size_t q = first; q < quads; q += stride) {
    float4 acc = reinterpret_cast<const float4*>(accumulate ? out : batch.inputs[0])[q];
    for (int j = from; j < batch.count; ++j) {
      const float4 v = reinterpret_cast<const float4*>(batch.inputs[j])[q];
      acc.x += v.x;
      acc.y += v.y;
      acc.z += v.z;
      acc.w += v.w;
    }
    reinterpret_cast<float4*>(out)[q] = acc;
  }
  for (std::size_t i = quads * 4 + first; i < n; i += stride) {
    float acc = accumulate ? out[i] : batch.inputs[0][i];
    for (int j = from; j < batch.count; ++j) acc += batch.inputs[j][i];
    out[i] = acc;
  }
}

bool aligned4(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % 4 == 0; }

}  // namespace

void enqueue_pack(const float* values, const Index* indices, std::size_t k, std::size_t index_bytes,
                  std::byte* wire, const LaunchContext& ctx) {
  if (k == 0) return;
  pack_kernel<<<grid_for<pack_kernel>(k, ctx), kThreads, 0, ctx.stream>>>(
      values, indices, k, index_bytes == 8, aligned4(wire), reinterpret_cast<unsigned char*>(wire));
  CUDA_CHECK(cudaGetLastError());
}

void enqueue_unpack(const std::byte* wire, std::size_t k, std::size_t index_bytes, std::size_t n, float* values,
                    Index* indices, unsigned long long* bad, const LaunchContext& ctx) {
  CUDA_CHECK(cudaMemsetAsync(bad, 0, sizeof *bad, ctx.stream));
  if (k == 0) return;
  unpack_kernel<<<grid_for<unpack_kernel>(k, ctx), kThreads, 0, ctx.stream>>>(
      reinterpret_cast<const unsigned char*>(wire), k, index_bytes == 8, aligned4(wire), n, values, indices, bad);
  CUDA_CHECK(cudaGetLastError());
}

void enqueue_scatter_add(const SparseRef* parts, std::size_t num_parts, float* dense, std::size_t n,
                         const LaunchContext& ctx) {
  for (std::size_t first = 0; first < num_parts; first += kPartsPerLaunch) {
    const std::size_t count = std::min<std::size_t>(kPartsPerLaunch, num_parts - first);
    PartBatch batch{};
    std::size_t max_k = 0;
    for (std::size_t p = 0; p < count; ++p) {
      batch.values[p] = parts[first + p].values;
      batch.indices[p] = parts[first + p].indices;
      batch.k[p] = parts[first + p].k;
      max_k = std::max(max_k, parts[first + p].k);
    }
    if (max_k == 0) continue;
    const std::size_t per_part = std::max<std::size_t>(1, resident_blocks<scatter_add_kernel>(ctx) / count);
    const dim3 grid(static_cast<unsigned>(std::clamp<std::size_t>((max_k + kThreads - 1) / kThreads, 1, per_part)),
                    static_cast<unsigned>(count));
    scatter_add_kernel<<<grid, kThreads, 0, ctx.stream>>>(batch, dense, n);
    CUDA_CHECK(cudaGetLastError());
  }
}

void enqueue_dense_sum(const float* const* inputs, std::size_t num_inputs, float* out, std::size_t n,
                       const LaunchContext& ctx) {
  if (n == 0) return;
  if (num_inputs == 0) {
    CUDA_CHECK(cudaMemsetAsync(out, 0, n * sizeof(float), ctx.stream));
    return;
  }
  for (std::size_t first = 0; first < num_inputs; first += kInputsPerLaunch) {
    InputBatch batch{};
    batch.count = static_cast<int>(std::min<std::size_t>(kInputsPerLaunch, num_inputs - first));
    bool vectorized = aligned16(out);
    for (int j = 0; j < batch.count; ++j) {
      batch.inputs[j] = inputs[first + static_cast<std::size_t>(j)];
      vectorized = vectorized && aligned16(batch.inputs[j]);
    }
    const std::size_t work = vectorized ? n / 4 + n % 4 : n;
    dense_sum_kernel<<<grid_for<dense_sum_kernel>(work, ctx), kThreads, 0, ctx.stream>>>(batch, first != 0,
                                                                                         vectorized, out, n);
    CUDA_CHECK(cudaGetLastError());
  }
}

}  // namespace gcsim::kernels::cuda
