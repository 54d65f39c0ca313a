// The quantization ops of the CUDA backend (kernels/backend.h, quantization
// block): fp16/bf16 casts, EF-signSGD (Karimireddy et al., ICML 2019),
// signSGD's vote (Bernstein et al., ICML 2018) and QSGD (Alistarh et al.,
// NeurIPS 2017). All are enqueued on the stream without synchronizing; counts
// and sums are left in a device-side QuantStatus for the caller to read.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/backend.h"
#include "kernels/cuda/launch.cuh"

namespace gcsim::kernels::cuda {

struct QuantStatus {
  double total;             // sum_squares / sum_abs / ef_sign's ||p||_1
  float scale;              // ef_sign's scale
  unsigned int pad;
  unsigned long long bad;   // non-finite entries seen
};

// out = to_half(x * scale); every non-finite result adds 1 to status->bad.
void enqueue_to_half(const float* x, std::size_t n, float scale, HalfFormat format, std::uint16_t* out,
                     QuantStatus* status, const LaunchContext& ctx);
void enqueue_from_half(const std::uint16_t* h, std::size_t n, HalfFormat format, float* out, const LaunchContext& ctx);

// status->total = the fixed-order sum (kernels/backend.h) of x^2 (squares) or |x|;
// block_sums holds ceil(n / 4096) doubles. n > 0.
void enqueue_fixed_order_sum(const float* x, std::size_t n, bool squares, double* block_sums, QuantStatus* status,
                             const LaunchContext& ctx);

// EF-signSGD: p = g + e (into e; p = g when e is null), status->scale, the bits
// and e = p -+ scale; status->bad counts non-finite p, and then bits and e
// are left alone (e = g + e). n > 0.
void enqueue_ef_sign(const float* g, float* e, std::size_t n, std::uint8_t* bits, double* block_sums,
                     QuantStatus* status, const LaunchContext& ctx);

void enqueue_sign_decode_add(const std::uint8_t* bits, std::size_t n, float scale, float* out,
                             const LaunchContext& ctx);
void enqueue_apply_sign(float* x, std::size_t n, float scale, const LaunchContext& ctx);

// factor = float(s) / norm computed by the caller; zero_norm writes zero codes.
// status->bad counts non-finite x.
void enqueue_qsgd_quantize(const float* x, std::size_t n, int bits, float factor, bool zero_norm, std::uint64_t seed,
                           std::uint8_t* codes, QuantStatus* status, const LaunchContext& ctx);
// q = norm / float(s) computed by the caller.
void enqueue_qsgd_dequantize_add(const std::uint8_t* codes, std::size_t n, int bits, float q, float* out,
                                 const LaunchContext& ctx);

}  // namespace gcsim::kernels::cuda
