// The sort key of |x|: the IEEE-754 bits of x with the sign cleared. For
// finite floats (and +-0, which tie at 0) the unsigned order of the key is the
// order of |x|, so a radix select on the key is a select on magnitude.
// Keys >= kInfKey are Inf (== kInfKey) or NaN (> kInfKey).
#pragma once

#include <cstdint>
#include <cstring>

#include "kernels/host_device.h"

namespace gcsim::kernels {

inline constexpr std::uint32_t kInfKey = 0x7f800000u;

GCSIM_HD std::uint32_t magnitude_key(float x) {
  std::uint32_t bits;
#ifdef __CUDA_ARCH__
  bits = __float_as_uint(x);
#else
  std::memcpy(&bits, &x, sizeof bits);
#endif
  return bits & 0x7fffffffu;
}

GCSIM_HD bool is_finite_key(std::uint32_t key) { return key < kInfKey; }

}  // namespace gcsim::kernels
