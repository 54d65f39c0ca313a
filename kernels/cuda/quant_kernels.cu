// Quantization kernels of the CUDA backend (see quant_kernels.cuh): PyTorch
// DDP's fp16/bf16 compress hooks, EF-signSGD (Karimireddy et al., "Error
// Feedback Fixes SignSGD", ICML 2019), signSGD with majority vote (Bernstein
// et al., ICML 2018) and QSGD (Alistarh et al., NeurIPS 2017). Bandwidth-bound
// grid-stride loops; each gives the CPU reference's bits: the conversions and
// per-entry arithmetic are the GCSIM_HD functions of kernels/half.h and
// kernels/quant_scalar.h, float and double operations are explicit _rn
// intrinsics (and the file is built with -fmad=false), and sums follow the
// fixed order of Backend::sum_squares: a warp per block of 4096 entries, lane
// l summing entries l, l + 32, ... in order, folded by __shfl_xor_sync with
// offsets 16 .. 1 (lane l adds lane l xor o: the same tree as the CPU's fold,
// and addition is commutative, so every lane holds the same bits); then one
// warp folds the block sums alike. Bit packing: a warp covers 32 consecutive
// entries, so __ballot_sync gives 4 sign bytes and shuffles pack QSGD codes.
#include "kernels/cuda/quant_kernels.cuh"

#include "kernels/half.h"
#include "kernels/quant_format.h"
#include "kernels/quant_scalar.h"

namespace gcsim::kernels::cuda {
namespace {

constexpr unsigned kFull = 0xffffffffu;
constexpr int kWarp = 32;
static_assert(kSumLanes == kWarp && kThreads % kWarp == 0 && kSumBlock % kWarp == 0);

__device__ std::size_t global_thread() { return static_cast<std::size_t>(blockIdx.x) * kThreads + threadIdx.x; }
__device__ std::size_t grid_threads() { return static_cast<std::size_t>(gridDim.x) * kThreads; }

__device__ double fold_warp(double v) {
  for (int o = kWarp / 2; o >= 1; o /= 2) v = __dadd_rn(v, __shfl_xor_sync(kFull, v, o));
  return v;
}

__device__ bool nonfinite(float v) { return (__float_as_uint(v) & 0x7fffffffu) >= 0x7f800000u; }

// Reads 4 B, writes 2 B per entry.
__global__ void __launch_bounds__(kThreads) to_half_kernel(const float* x, std::size_t n, float scale, bool fp16,
                                                            std::uint16_t* out, QuantStatus* status) {
  const HalfFormat format = fp16 ? HalfFormat::Fp16 : HalfFormat::Bf16;
  unsigned long long bad = 0;
  for (std::size_t i = global_thread(); i < n; i += grid_threads()) {
    const std::uint16_t h = to_half(__fmul_rn(x[i], scale), format);
    out[i] = h;
    bad += half_is_nonfinite(h, format) ? 1 : 0;  // a non-finite x always gives one
  }
  if (bad) atomicAdd(&status->bad, bad);
}

// Reads 2 B, writes 4 B per entry.
__global__ void __launch_bounds__(kThreads) from_half_kernel(const std::uint16_t* h, std::size_t n, bool fp16,
                                                              float* out) {
  const HalfFormat format = fp16 ? HalfFormat::Fp16 : HalfFormat::Bf16;
  for (std::size_t i = global_thread(); i < n; i += grid_threads()) out[i] = from_half(h[i], format);
}

enum class SumMode { squares, magnitude, ef_magnitude };

// A warp per block of 4096 entries: reads 4 B per entry (ef: reads g and e,
// writes p = g + e into e, 12 B), writes a double per block; counts non-finite terms.
template <SumMode Mode>
__global__ void __launch_bounds__(kThreads) block_sums_kernel(const float* g, float* e, std::size_t n,
                                                               double* sums, QuantStatus* status) {
  const unsigned lane = threadIdx.x % kWarp;
  const std::size_t warp = global_thread() / kWarp, warps = grid_threads() / kWarp;
  const std::size_t blocks = (n + kSumBlock - 1) / kSumBlock;
  unsigned long long bad = 0;
  for (std::size_t b = warp; b < blocks; b += warps) {
    double acc = 0.0;
    const std::size_t base = b * kSumBlock;
    for (std::size_t r = 0; r < kSumBlock / kWarp; ++r) {
      const std::size_t i = base + r * kWarp + lane;
      if (i >= n) break;
      float v;
      if constexpr (Mode == SumMode::ef_magnitude) {
        v = __fadd_rn(g[i], e[i]);
        e[i] = v;
      } else {
        v = g[i];
      }
      const double d = static_cast<double>(v);
      acc = __dadd_rn(acc, Mode == SumMode::squares ? __dmul_rn(d, d) : fabs(d));
      bad += nonfinite(v) ? 1 : 0;
    }
    acc = fold_warp(acc);
    if (lane == 0) sums[b] = acc;
  }
  if (Mode != SumMode::squares && bad) atomicAdd(&status->bad, bad);
}

// One warp: the block sums folded alike; status->total, and status->scale =
// float(total / n) when with_scale.
__global__ void __launch_bounds__(kWarp) combine_kernel(const double* sums, std::size_t blocks, std::size_t n,
                                                         bool with_scale, QuantStatus* status) {
  const unsigned lane = threadIdx.x;
  double acc = 0.0;
  for (std::size_t j = lane; j < blocks; j += kWarp) acc = __dadd_rn(acc, sums[j]);
  acc = fold_warp(acc);
  if (lane == 0) {
    status->total = acc;
    if (with_scale) status->scale = __double2float_rn(__ddiv_rn(acc, static_cast<double>(n)));
  }
}

// A warp per 32 consecutive entries: reads p (4 B), writes the bits (1/8 B) and
// e (4 B) per entry. Does nothing once a non-finite p was counted.
__global__ void __launch_bounds__(kThreads) sign_bits_kernel(const float* g, float* e, std::size_t n,
                                                              std::uint8_t* bits, const QuantStatus* status) {
  if (status->bad != 0) return;
  const float scale = status->scale;
  const unsigned lane = threadIdx.x % kWarp;
  const std::size_t bytes = sign_bytes(n);
  for (std::size_t base = global_thread() - lane; base < n; base += grid_threads()) {
    const std::size_t i = base + lane;
    const bool valid = i < n;
    const float p = valid ? (e != nullptr ? e[i] : g[i]) : 0.0f;
    const unsigned word = __ballot_sync(kFull, valid && p < 0.0f);
    if (lane < 4 && base / 8 + lane < bytes) bits[base / 8 + lane] = static_cast<std::uint8_t>(word >> (8 * lane));
    if (valid && e != nullptr) e[i] = sign_residual(p, scale);
  }
}

// Reads 4 B + 1/8 B, writes 4 B per entry.
__global__ void __launch_bounds__(kThreads) sign_decode_add_kernel(const std::uint8_t* bits, std::size_t n,
                                                                    float scale, float* out) {
  for (std::size_t i = global_thread(); i < n; i += grid_threads()) {
    const bool negative = (bits[i / 8] >> (i % 8)) & 1u;
    out[i] = __fadd_rn(out[i], negative ? -scale : scale);
  }
}

__global__ void __launch_bounds__(kThreads) apply_sign_kernel(float* x, std::size_t n, float scale) {
  for (std::size_t i = global_thread(); i < n; i += grid_threads()) x[i] = signed_scale(x[i], scale);
}

// A warp per 32 consecutive entries; reads 4 B, writes bits / 8 B per entry.
// Codes are ORed across the lanes of a byte with shuffles.
__global__ void __launch_bounds__(kThreads) qsgd_quantize_kernel(const float* x, std::size_t n, int bits,
                                                                  float factor, bool zero_norm, std::uint64_t seed,
                                                                  std::uint8_t* codes, QuantStatus* status) {
  const unsigned lane = threadIdx.x % kWarp;
  const unsigned per_byte = 8u / static_cast<unsigned>(bits);
  unsigned long long bad = 0;
  for (std::size_t base = global_thread() - lane; base < n; base += grid_threads()) {
    const std::size_t i = base + lane;
    unsigned v = 0;
    if (i < n) {
      const float xi = x[i];
      bad += nonfinite(xi) ? 1 : 0;
      if (!zero_norm) v = qsgd_code(xi, factor, bits, seed, i);
    }
    unsigned width = static_cast<unsigned>(bits);
    for (unsigned step = 1; step < per_byte; step *= 2, width *= 2) v |= __shfl_down_sync(kFull, v, step) << width;
    if (lane % per_byte == 0 && i < n) codes[i / per_byte] = static_cast<std::uint8_t>(v);
  }
  if (bad) atomicAdd(&status->bad, bad);
}

// Reads bits / 8 B + 4 B, writes 4 B per entry.
__global__ void __launch_bounds__(kThreads) qsgd_dequantize_add_kernel(const std::uint8_t* codes, std::size_t n,
                                                                        int bits, float q, float* out) {
  const unsigned per_byte = 8u / static_cast<unsigned>(bits);
  const unsigned mask = (1u << bits) - 1u;
  for (std::size_t i = global_thread(); i < n; i += grid_threads()) {
    const unsigned code = (static_cast<unsigned>(codes[i / per_byte]) >> (static_cast<unsigned>(i % per_byte) * bits)) & mask;
    out[i] = qsgd_decode_add(out[i], code, bits, q);
  }
}

// Warps are launched whole: the bit-packing kernels need every lane of a warp.
template <auto Kernel>
unsigned warp_grid(std::size_t entries, const LaunchContext& ctx) {
  return grid_for<Kernel>((entries + kWarp - 1) / kWarp * kWarp, ctx);
}

}  // namespace

void enqueue_to_half(const float* x, std::size_t n, float scale, HalfFormat format, std::uint16_t* out,
                     QuantStatus* status, const LaunchContext& ctx) {
  if (n == 0) return;
  to_half_kernel<<<grid_for<to_half_kernel>(n, ctx), kThreads, 0, ctx.stream>>>(x, n, scale, format == HalfFormat::Fp16,
                                                                               out, status);
  CUDA_CHECK(cudaGetLastError());
}

void enqueue_from_half(const std::uint16_t* h, std::size_t n, HalfFormat format, float* out, const LaunchContext& ctx) {
  if (n == 0) return;
  from_half_kernel<<<grid_for<from_half_kernel>(n, ctx), kThreads, 0, ctx.stream>>>(h, n, format == HalfFormat::Fp16,
                                                                                   out);
  CUDA_CHECK(cudaGetLastError());
}

void enqueue_fixed_order_sum(const float* x, std::size_t n, bool squares, double* block_sums, QuantStatus* status,
                             const LaunchContext& ctx) {
  const std::size_t blocks = (n + kSumBlock - 1) / kSumBlock;
  if (squares) {
    constexpr auto kernel = block_sums_kernel<SumMode::squares>;
    kernel<<<grid_for<kernel>(blocks * kWarp, ctx), kThreads, 0, ctx.stream>>>(x, nullptr, n, block_sums, status);
  } else {
    constexpr auto kernel = block_sums_kernel<SumMode::magnitude>;
    kernel<<<grid_for<kernel>(blocks * kWarp, ctx), kThreads, 0, ctx.stream>>>(x, nullptr, n, block_sums, status);
  }
  CUDA_CHECK(cudaGetLastError());
  combine_kernel<<<1, kWarp, 0, ctx.stream>>>(block_sums, blocks, n, false, status);
  CUDA_CHECK(cudaGetLastError());
}

void enqueue_ef_sign(const float* g, float* e, std::size_t n, std::uint8_t* bits, double* block_sums,
                     QuantStatus* status, const LaunchContext& ctx) {
  const std::size_t blocks = (n + kSumBlock - 1) / kSumBlock;
  if (e != nullptr) {
    constexpr auto kernel = block_sums_kernel<SumMode::ef_magnitude>;
    kernel<<<grid_for<kernel>(blocks * kWarp, ctx), kThreads, 0, ctx.stream>>>(g, e, n, block_sums, status);
  } else {
    constexpr auto kernel = block_sums_kernel<SumMode::magnitude>;
    kernel<<<grid_for<kernel>(blocks * kWarp, ctx), kThreads, 0, ctx.stream>>>(g, nullptr, n, block_sums, status);
  }
  CUDA_CHECK(cudaGetLastError());
  combine_kernel<<<1, kWarp, 0, ctx.stream>>>(block_sums, blocks, n, true, status);
  CUDA_CHECK(cudaGetLastError());
  sign_bits_kernel<<<warp_grid<sign_bits_kernel>(n, ctx), kThreads, 0, ctx.stream>>>(g, e, n, bits, status);
  CUDA_CHECK(cudaGetLastError());
}

void enqueue_sign_decode_add(const std::uint8_t* bits, std::size_t n, float scale, float* out,
                             const LaunchContext& ctx) {
  if (n == 0) return;
  sign_decode_add_kernel<<<grid_for<sign_decode_add_kernel>(n, ctx), kThreads, 0, ctx.stream>>>(bits, n, scale, out);
  CUDA_CHECK(cudaGetLastError());
}

void enqueue_apply_sign(float* x, std::size_t n, float scale, const LaunchContext& ctx) {
  if (n == 0) return;
  apply_sign_kernel<<<grid_for<apply_sign_kernel>(n, ctx), kThreads, 0, ctx.stream>>>(x, n, scale);
  CUDA_CHECK(cudaGetLastError());
}

void enqueue_qsgd_quantize(const float* x, std::size_t n, int bits, float factor, bool zero_norm, std::uint64_t seed,
                           std::uint8_t* codes, QuantStatus* status, const LaunchContext& ctx) {
  if (n == 0) return;
  qsgd_quantize_kernel<<<warp_grid<qsgd_quantize_kernel>(n, ctx), kThreads, 0, ctx.stream>>>(
      x, n, bits, factor, zero_norm, seed, codes, status);
  CUDA_CHECK(cudaGetLastError());
}

void enqueue_qsgd_dequantize_add(const std::uint8_t* codes, std::size_t n, int bits, float q, float* out,
                                 const LaunchContext& ctx) {
  if (n == 0) return;
  qsgd_dequantize_add_kernel<<<grid_for<qsgd_dequantize_add_kernel>(n, ctx), kThreads, 0, ctx.stream>>>(codes, n, bits,
                                                                                                       q, out);
  CUDA_CHECK(cudaGetLastError());
}

}  // namespace gcsim::kernels::cuda
