// Scalar conversions between binary32 and the two 16-bit formats that PyTorch
// DDP's fp16_compress_hook / bf16_compress_hook put on the wire, and the
// correctly rounded sum of two 16-bit values (what a half-precision allreduce
// computes per hop). Every backend (kernels/cpu, kernels/cuda) and the
// communicators use these, so host and device produce identical bits.
//
//   fp16: IEEE 754-2008 binary16 (1 sign, 5 exponent, 10 fraction bits; bias 15)
//   bf16: bfloat16, the top 16 bits of a binary32 (1, 8, 7; bias 127)
//     (Kalamkar et al., "A Study of BFLOAT16 for Deep Learning Training", 2019)
//
// Rounding is to nearest, ties to even (IEEE 754 roundTiesToEven), with
// gradual underflow (subnormals are produced and read, never flushed) and
// overflow to +-Inf. A NaN stays a NaN of the same sign, made quiet: the
// top fraction bits of its payload are kept and the quiet bit is set.
// Only integer operations are used (no FPU rounding mode, no flush-to-zero,
// no FMA), so the result does not depend on compiler flags or the device.
#pragma once

#include <cstdint>
#include <cstring>

#include "kernels/backend.h"  // HalfFormat
#include "kernels/host_device.h"

namespace gcsim::kernels {

GCSIM_HD std::uint32_t float_to_bits(float f) {
#ifdef __CUDA_ARCH__
  return __float_as_uint(f);
#else
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
#endif
}

GCSIM_HD float bits_to_float(std::uint32_t u) {
#ifdef __CUDA_ARCH__
  return __uint_as_float(u);
#else
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
#endif
}

GCSIM_HD std::uint64_t double_to_bits(double d) {
#ifdef __CUDA_ARCH__
  return static_cast<std::uint64_t>(__double_as_longlong(d));
#else
  std::uint64_t u;
  std::memcpy(&u, &d, sizeof u);
  return u;
#endif
}

GCSIM_HD double bits_to_double(std::uint64_t u) {
#ifdef __CUDA_ARCH__
  return __longlong_as_double(static_cast<long long>(u));
#else
  double d;
  std::memcpy(&d, &u, sizeof d);
  return d;
#endif
}

inline constexpr std::uint16_t kFp16QuietNaN = 0x7e00;  // what inf - inf gives in half_sum
inline constexpr std::uint16_t kBf16QuietNaN = 0x7fc0;

// Rounds the integer `q` (already shifted right by `shift` from `m`) to
// nearest-even using the bits shifted out. shift in [1, 63].
GCSIM_HD std::uint64_t round_shifted_rne(std::uint64_t m, unsigned shift) {
  const std::uint64_t q = m >> shift;
  const std::uint64_t rem = m & ((std::uint64_t{1} << shift) - 1);
  const std::uint64_t half = std::uint64_t{1} << (shift - 1);
  return q + ((rem > half || (rem == half && (q & 1))) ? 1 : 0);
}

// binary64 to binary16, rounded once (no double rounding through binary32).
GCSIM_HD std::uint16_t double_to_fp16_rne(double d) {
  const std::uint64_t b = double_to_bits(d);
  const auto sign = static_cast<std::uint16_t>((b >> 48) & 0x8000u);
  const std::uint64_t a = b & 0x7fffffffffffffffull;
  if (a >= 0x7ff0000000000000ull) {  // Inf or NaN
    if (a == 0x7ff0000000000000ull) return static_cast<std::uint16_t>(sign | 0x7c00u);
    return static_cast<std::uint16_t>(sign | 0x7e00u | ((a >> 42) & 0x3ffu));
  }
  const auto e = static_cast<int>(a >> 52);  // biased exponent, 0..2046
  // |d| >= 65520 = 65504 + half an ulp rounds to Inf (the tie goes to the even 65536).
  if (a >= 0x40effe0000000000ull) return static_cast<std::uint16_t>(sign | 0x7c00u);
  // |d| <= 2^-25 (the tie between 0 and the smallest subnormal 2^-24) rounds to zero.
  if (a <= 0x3e60000000000000ull) return sign;
  const std::uint64_t m = (a & 0x000fffffffffffffull) | 0x0010000000000000ull;  // 53-bit significand
  if (e >= 1023 - 14) {
    // Normal in fp16: keep 11 significant bits; a carry out of the fraction
    // correctly bumps the exponent (and 65504 + a half ulp was handled above).
    const std::uint64_t q = round_shifted_rne(m, 42);  // in [2^10, 2^11]
    const auto exp16 = static_cast<std::uint64_t>(e - 1023 + 15);
    return static_cast<std::uint16_t>(sign | ((exp16 << 10) + q - 0x400u));
  }
  // Subnormal in fp16: value / 2^-24 = m * 2^(e - 1075 + 24); shift right by 1051 - e (43..53 here).
  const std::uint64_t q = round_shifted_rne(m, static_cast<unsigned>(1051 - e));  // may reach 0x400: the smallest normal
  return static_cast<std::uint16_t>(sign | q);
}

// binary32 to binary16: every float is exact in double, so this rounds once.
GCSIM_HD std::uint16_t float_to_fp16_rne(float f) {
  const std::uint32_t b = float_to_bits(f);
  const auto sign = static_cast<std::uint16_t>((b >> 16) & 0x8000u);
  const std::uint32_t a = b & 0x7fffffffu;
  if (a > 0x7f800000u) return static_cast<std::uint16_t>(sign | 0x7e00u | ((a >> 13) & 0x3ffu));  // NaN
  if (a >= 0x477ff000u) return static_cast<std::uint16_t>(sign | 0x7c00u);  // >= 65520 (or Inf): Inf
  if (a >= 0x38800000u) {                                                   // >= 2^-14: normal in fp16
    const std::uint32_t rounded = a + 0xfffu + ((a >> 13) & 1u);            // RNE on the 13 dropped bits
    return static_cast<std::uint16_t>(sign | ((rounded - 0x38000000u) >> 13));
  }
  if (a <= 0x33000000u) return sign;  // <= 2^-25: zero (2^-25 itself ties to the even 0)
  const std::uint32_t e = a >> 23;    // 102..112
  const std::uint64_t m = (a & 0x7fffffu) | 0x800000u;
  return static_cast<std::uint16_t>(sign | round_shifted_rne(m, 126u - e));
}

GCSIM_HD float fp16_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
  const std::uint32_t e = (h >> 10) & 0x1fu;
  std::uint32_t m = h & 0x3ffu;
  if (e == 0x1f) return bits_to_float(sign | 0x7f800000u | (m << 13));  // Inf, NaN (payload kept)
  if (e != 0) return bits_to_float(sign | ((e + 112u) << 23) | (m << 13));
  if (m == 0) return bits_to_float(sign);
  std::uint32_t exp32 = 113;  // subnormal: m 2^-24, normalised to 1.f 2^(exp32 - 127)
  while ((m & 0x400u) == 0) {
    m <<= 1;
    --exp32;
  }
  return bits_to_float(sign | (exp32 << 23) | ((m & 0x3ffu) << 13));
}

GCSIM_HD std::uint16_t float_to_bf16_rne(float f) {
  const std::uint32_t b = float_to_bits(f);
  if ((b & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((b >> 16) | 0x40u);  // NaN, quiet
  // RNE on the low 16 bits; a carry propagates into the exponent, up to Inf.
  return static_cast<std::uint16_t>((b + 0x7fffu + ((b >> 16) & 1u)) >> 16);
}

GCSIM_HD float bf16_to_float(std::uint16_t h) { return bits_to_float(static_cast<std::uint32_t>(h) << 16); }

// binary64 to bfloat16, rounded once.
GCSIM_HD std::uint16_t double_to_bf16_rne(double d) {
  const std::uint64_t b = double_to_bits(d);
  const auto sign = static_cast<std::uint16_t>((b >> 48) & 0x8000u);
  const std::uint64_t a = b & 0x7fffffffffffffffull;
  if (a > 0x7ff0000000000000ull) return static_cast<std::uint16_t>(sign | 0x7fc0u | ((a >> 45) & 0x7fu));
  // >= bf16 max (0x7f7f = (2 - 2^-7) 2^127) + half an ulp (2^-8 2^127): Inf.
  if (a >= 0x47eff00000000000ull) return static_cast<std::uint16_t>(sign | 0x7f80u);
  // <= 2^-134, half the smallest subnormal 2^-133: zero.
  if (a <= 0x3790000000000000ull) return sign;
  const auto e = static_cast<int>(a >> 52);
  const std::uint64_t m = (a & 0x000fffffffffffffull) | 0x0010000000000000ull;
  if (e >= 1023 - 126) {  // normal: 8 significant bits
    const std::uint64_t q = round_shifted_rne(m, 45);
    const auto exp16 = static_cast<std::uint64_t>(e - 1023 + 127);
    return static_cast<std::uint16_t>(sign | ((exp16 << 7) + q - 0x80u));
  }
  // subnormal: value / 2^-133 = m 2^(e - 1075 + 133); shift right by 942 - e (46..53 here).
  return static_cast<std::uint16_t>(sign | round_shifted_rne(m, static_cast<unsigned>(942 - e)));
}

GCSIM_HD std::uint16_t to_half(float f, HalfFormat format) {
  return format == HalfFormat::Fp16 ? float_to_fp16_rne(f) : float_to_bf16_rne(f);
}

GCSIM_HD float from_half(std::uint16_t h, HalfFormat format) {
  return format == HalfFormat::Fp16 ? fp16_to_float(h) : bf16_to_float(h);
}

// Whether h is +-Inf or NaN in `format`.
GCSIM_HD bool half_is_nonfinite(std::uint16_t h, HalfFormat format) {
  return format == HalfFormat::Fp16 ? (h & 0x7c00u) == 0x7c00u : (h & 0x7f80u) == 0x7f80u;
}

// The correctly rounded (RNE) sum of two values in `format`. The two values
// are added in binary64 and that sum is rounded once to the format:
//  * fp16: the double sum is exact (two 11-bit significands over exponents
//    2^-24 .. 2^15 span at most 41 bits), so rounding it once is exact RNE.
//  * bf16: the double sum may be inexact (exponents 2^-133 .. 2^127), but
//    double's 53 bits exceed 2 x 8 + 2, so rounding the correctly rounded
//    double sum to bf16 gives the correctly rounded sum (double rounding is
//    innocuous: S. Figueroa, "When is double rounding innocuous?", SIGNUM
//    Newsletter 30(3), 1995); and the binary64 range holds every such sum.
// Special values, fixed so host and device agree (hardware NaN results differ):
// a NaN operand gives that NaN made quiet (a's when both are NaN); Inf + -Inf
// gives the positive quiet NaN (kFp16QuietNaN / kBf16QuietNaN); overflow gives
// +-Inf; an exact zero sum of opposite signs is +0 (RNE), -0 + -0 is -0.
GCSIM_HD std::uint16_t half_sum(std::uint16_t a, std::uint16_t b, HalfFormat format) {
  const bool fp16 = format == HalfFormat::Fp16;
  const std::uint16_t abs_mask = 0x7fffu;
  const std::uint16_t inf = fp16 ? 0x7c00u : 0x7f80u;
  const std::uint16_t quiet = fp16 ? 0x0200u : 0x0040u;
  if ((a & abs_mask) > inf) return static_cast<std::uint16_t>(a | quiet);
  if ((b & abs_mask) > inf) return static_cast<std::uint16_t>(b | quiet);
  if ((a & abs_mask) == inf && (b & abs_mask) == inf && a != b) return fp16 ? kFp16QuietNaN : kBf16QuietNaN;
  const double s = static_cast<double>(from_half(a, format)) + static_cast<double>(from_half(b, format));
  return fp16 ? double_to_fp16_rne(s) : double_to_bf16_rne(s);
}

}  // namespace gcsim::kernels
