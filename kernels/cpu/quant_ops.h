// The quantization ops of the two CPU backends (kernels/backend.h, the
// quantization block): fp16/bf16 casts (PyTorch DDP's compress hooks),
// EF-signSGD (Karimireddy et al., ICML 2019), signSGD's majority vote
// (Bernstein et al., ICML 2018) and QSGD (Alistarh et al., NeurIPS 2017).
//   quant_reference: plain single-threaded loops, the oracle (quant_reference.cpp)
//   quant_fast:      the same results, bit for bit, split over `threads` (quant_fast.cpp)
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/backend.h"

namespace gcsim::kernels::cpu {

namespace quant_reference {
void to_half(const float* x, std::size_t n, float scale, HalfFormat format, std::uint16_t* out);
void from_half(const std::uint16_t* h, std::size_t n, HalfFormat format, float* out);
float ef_sign(const float* g, float* e, std::size_t n, std::uint8_t* bits);
void sign_decode_add(const std::uint8_t* bits, std::size_t n, float scale, float* out);
void apply_sign(float* x, std::size_t n, float scale);
double sum_squares(const float* x, std::size_t n);
double sum_abs(const float* x, std::size_t n);
void qsgd_quantize(const float* x, std::size_t n, int bits, float norm, std::uint64_t seed, std::uint8_t* codes);
void qsgd_dequantize_add(const std::uint8_t* codes, std::size_t n, int bits, float norm, float* out);
}  // namespace quant_reference

namespace quant_fast {
void to_half(const float* x, std::size_t n, float scale, HalfFormat format, std::uint16_t* out, unsigned threads);
void from_half(const std::uint16_t* h, std::size_t n, HalfFormat format, float* out, unsigned threads);
float ef_sign(const float* g, float* e, std::size_t n, std::uint8_t* bits, unsigned threads);
void sign_decode_add(const std::uint8_t* bits, std::size_t n, float scale, float* out, unsigned threads);
void apply_sign(float* x, std::size_t n, float scale, unsigned threads);
double sum_squares(const float* x, std::size_t n, unsigned threads);
double sum_abs(const float* x, std::size_t n, unsigned threads);
void qsgd_quantize(const float* x, std::size_t n, int bits, float norm, std::uint64_t seed, std::uint8_t* codes,
                   unsigned threads);
void qsgd_dequantize_add(const std::uint8_t* codes, std::size_t n, int bits, float norm, float* out,
                         unsigned threads);
}  // namespace quant_fast

// Throws NonFiniteError("qsgd_quantize", 1) unless norm is finite and >= 0 (both CPU backends).
void check_qsgd_norm(float norm);

}  // namespace gcsim::kernels::cpu
