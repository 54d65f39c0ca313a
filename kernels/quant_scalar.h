// Per-entry arithmetic of the quantization ops (kernels/backend.h, the
// quantization block) that the fast CPU and the CUDA backends share, so host
// and device compute identical bits; the reference backend spells the same
// definitions out in plain code (kernels/cpu/quant_reference.cpp) and the
// contract tests compare the two. QSGD: Alistarh et al., NeurIPS 2017.
//
// Float operations are written as explicit single roundings (__fmul_rn and
// friends on the device); host files that include this are compiled with
// -ffp-contract=off (kernels/CMakeLists.txt) so no multiply-add is fused.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/half.h"  // float_to_bits, bits_to_float
#include "kernels/hash.h"
#include "kernels/host_device.h"

namespace gcsim::kernels {

GCSIM_HD float mul_rn(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}

GCSIM_HD float add_rn(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}

GCSIM_HD float sub_rn(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fsub_rn(a, b);
#else
  return a - b;
#endif
}

// u_i = float(hash64(seed, i) >> 40) * 2^-24: 24 random bits, uniform on {0, 2^-24, ..., 1 - 2^-24}.
GCSIM_HD float qsgd_uniform(std::uint64_t seed, std::uint64_t i) {
  return static_cast<float>(static_cast<std::uint32_t>(hash64(seed, i) >> 40)) * 0x1p-24f;
}

// The level l_i of a finite x given factor = float(s) / norm in (0, +Inf].
GCSIM_HD std::uint32_t qsgd_level(float x, float factor, std::uint32_t s, float u) {
  if (x == 0.0f) return 0;
#ifdef __CUDA_ARCH__
  const float r = mul_rn(fabsf(x), factor);
#else
  const float r = mul_rn(std::fabs(x), factor);
#endif
  if (!(r < static_cast<float>(s))) return s;  // r >= s, or +Inf
  // floor(r) by truncation: 0 <= r < s <= 127 here, so the two agree exactly
  // (and truncation needs no SSE4.1 roundss or libm call on the host).
  const auto whole = static_cast<std::uint32_t>(r);
  return whole + (u < sub_rn(r, static_cast<float>(whole)) ? 1u : 0u);
}

// code_i = sign << (bits - 1) | l_i.
GCSIM_HD std::uint32_t qsgd_code(float x, float factor, int bits, std::uint64_t seed, std::uint64_t i) {
  const auto s = static_cast<std::uint32_t>((1 << (bits - 1)) - 1);
  const std::uint32_t sign = x < 0.0f ? 1u : 0u;
  return (sign << (bits - 1)) | qsgd_level(x, factor, s, qsgd_uniform(seed, i));
}

// out + (sign ? -1 : +1) (float(l) q), as two single roundings.
GCSIM_HD float qsgd_decode_add(float out, std::uint32_t code, int bits, float q) {
  const std::uint32_t level = code & ((1u << (bits - 1)) - 1u);
  const float v = mul_rn(static_cast<float>(level), q);
  // out + (-v) is out - v bit for bit (IEEE 754 defines subtraction so), and
  // -v is v with the sign bit flipped: no branch on the (random) sign.
  const std::uint32_t flip = ((code >> (bits - 1)) & 1u) << 31;
  return add_rn(out, bits_to_float(float_to_bits(v) ^ flip));
}

// EF-signSGD's residual update: p - scale sign(p), sign from the bit (p < 0).
GCSIM_HD float sign_residual(float p, float scale) { return add_rn(p, p < 0.0f ? scale : -scale); }

// apply_sign's value: scale, -scale, +0, or the NaN itself.
GCSIM_HD float signed_scale(float x, float scale) {
  return x > 0.0f ? scale : x < 0.0f ? -scale : x == 0.0f ? 0.0f : x;
}

}  // namespace gcsim::kernels
