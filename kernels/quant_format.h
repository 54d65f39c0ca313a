// Sizes and constants of the quantized wire formats (kernels/backend.h, the
// quantization block): EF-signSGD's sign bits (Karimireddy et al., ICML 2019)
// and QSGD's packed codes (Alistarh et al., NeurIPS 2017), and the fixed
// summation order of sum_squares / sum_abs. A 16-bit cast is 2 bytes per entry.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace gcsim::kernels {

// sum_squares / sum_abs: blocks of kSumBlock entries, kSumLanes strided lanes each.
inline constexpr std::size_t kSumBlock = 4096;
inline constexpr std::size_t kSumLanes = 32;

// One bit per entry, LSB first: ceil(n / 8) bytes.
inline constexpr std::size_t sign_bytes(std::size_t n) { return n / 8 + (n % 8 != 0 ? 1 : 0); }

// Bytes of a to_half output: 2 per entry.
inline constexpr std::size_t half_bytes(std::size_t n) { return 2 * n; }

inline constexpr bool valid_qsgd_bits(int bits) { return bits == 2 || bits == 4 || bits == 8; }

// std::invalid_argument unless bits is 2, 4 or 8.
inline void check_qsgd_bits(const char* op, int bits) {
  if (!valid_qsgd_bits(bits))
    throw std::invalid_argument(std::string(op) + ": bits = " + std::to_string(bits) + " (QSGD codes are 2, 4 or 8 bits)");
}

// s = 2^(bits-1) - 1 quantization levels above zero: 1, 7 or 127.
inline constexpr int qsgd_levels(int bits) { return (1 << (bits - 1)) - 1; }

// ceil(n bits / 8) bytes; std::invalid_argument for bits not in {2, 4, 8}.
inline std::size_t qsgd_bytes(std::size_t n, int bits) {
  check_qsgd_bits("qsgd_bytes", bits);
  const auto per_byte = static_cast<std::size_t>(8 / bits);
  return n / per_byte + (n % per_byte != 0 ? 1 : 0);
}

}  // namespace gcsim::kernels
