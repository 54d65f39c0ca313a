// The "cpu" backend's quantization ops (kernels/backend.h, quantization block):
// the reference's results bit for bit (kernels/cpu/quant_reference.cpp), in
// loops the compiler can vectorize, split over the backend's threads in
// chunks whose edges fall on whole output bytes and whole summation blocks,
// so the thread count never changes a bit.
//   casts: PyTorch DDP's fp16/bf16 compress hooks; fp16 decodes by a 65536-entry table
//   sign:  EF-signSGD (Karimireddy et al., ICML 2019), two passes: p = g + e with
//          the block sums of |p|, then bits and e = p -+ scale
//   QSGD:  Alistarh et al., NeurIPS 2017; one pass, a byte of codes at a time
// Compiled with -ffp-contract=off (kernels/CMakeLists.txt).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/cpu/parallel_chunks.h"
#include "kernels/cpu/quant_ops.h"
#include "kernels/half.h"
#include "kernels/quant_format.h"
#include "kernels/quant_scalar.h"

namespace gcsim::kernels::cpu::quant_fast {
namespace {

// Calls fn(begin, end) for chunks of [0, n) whose edges are multiples of
// `align` (except the end at n), one chunk per thread worth starting.
template <class Fn>
void for_aligned_chunks(std::size_t n, std::size_t align, unsigned threads, Fn&& fn) {
  if (n == 0) return;
  const std::size_t units = n / align + (n % align != 0 ? 1 : 0);
  const unsigned chunks = static_cast<unsigned>(std::min<std::size_t>(chunks_for(n, threads), units));
  parallel_chunks(chunks, [&](unsigned c) {
    const auto [ub, ue] = chunk_range(units, chunks, c);
    fn(ub * align, std::min(ue * align, n));
  });
}

// s_l = s_l + s_(l xor o) for o = 16, 8, 4, 2, 1; the result is s_0.
double fold(std::array<double, kSumLanes> s) {
  for (std::size_t o = kSumLanes / 2; o >= 1; o /= 2) {
    std::array<double, kSumLanes> t;
    for (std::size_t l = 0; l < kSumLanes; ++l) t[l] = s[l] + s[l ^ o];
    s = t;
  }
  return s[0];
}

// One block's lane-and-fold sum of term(x[j]), j in [0, len), len <= kSumBlock.
template <class Term>
double block_sum(const float* x, std::size_t len, Term term) {
  std::array<double, kSumLanes> lanes{};
  const std::size_t rows = len / kSumLanes;
  for (std::size_t r = 0; r < rows; ++r) {
    const float* row = x + r * kSumLanes;
    for (std::size_t l = 0; l < kSumLanes; ++l) lanes[l] += term(row[l]);  // 32 independent chains: vectorizes
  }
  for (std::size_t j = rows * kSumLanes; j < len; ++j) lanes[j - rows * kSumLanes] += term(x[j]);
  return fold(lanes);
}

// The second stage: the lane-and-fold sum of the block sums (n / 4096 of them: one thread).
double combine(const std::vector<double>& block_sums) {
  if (block_sums.empty()) return 0.0;
  std::array<double, kSumLanes> lanes{};
  for (std::size_t j = 0; j < block_sums.size(); ++j) lanes[j % kSumLanes] += block_sums[j];
  return fold(lanes);
}

// Lambdas (not function pointers), so block_sum inlines and vectorizes them.
constexpr auto square = [](float v) { return static_cast<double>(v) * static_cast<double>(v); };
constexpr auto magnitude = [](float v) { return std::fabs(static_cast<double>(v)); };

template <class Term>
double fixed_order_sum(const float* x, std::size_t n, unsigned threads, Term term) {
  std::vector<double> sums(n / kSumBlock + (n % kSumBlock != 0 ? 1 : 0));
  for_aligned_chunks(n, kSumBlock, threads, [&](std::size_t begin, std::size_t end) {
    for (std::size_t b = begin; b < end; b += kSumBlock)
      sums[b / kSumBlock] = block_sum(x + b, std::min(kSumBlock, end - b), term);
  });
  return combine(sums);
}

bool nonfinite_bits(std::uint32_t bits) { return (bits & 0x7fffffffu) >= 0x7f800000u; }

// float -> fp16 without branches, so the loop vectorizes (F. Giesen's
// float_to_half_fast3_rtne, with kernels/half.h's NaN payload): normal
// results round by integer addition; subnormal ones by the FPU adding 0.5f,
// whose ulp is 2^-24, the fp16 subnormal step (round-to-nearest-even is the
// FPU's default mode and the host never flushes subnormals without
// -ffast-math). The contract tests check it against half.h on every midpoint.
inline std::uint16_t fp16_branch_free(float f) {
  std::uint32_t b;
  std::memcpy(&b, &f, sizeof b);
  const std::uint32_t sign = (b >> 16) & 0x8000u;
  const std::uint32_t a = b & 0x7fffffffu;
  float mag;
  std::memcpy(&mag, &a, sizeof mag);
  const float shifted = mag + 0.5f;
  std::uint32_t sub;
  std::memcpy(&sub, &shifted, sizeof sub);
  sub -= 0x3f000000u;
  const std::uint32_t normal = (a + 0xc8000fffu + ((a >> 13) & 1u)) >> 13;  // a - (112 << 23) + 0xfff + odd
  // Selects by masks (0 or all ones), so no branch is left for the vectorizer.
  const std::uint32_t is_nan = 0u - static_cast<std::uint32_t>(a > 0x7f800000u);
  const std::uint32_t special = 0x7c00u | (is_nan & (0x0200u | ((a >> 13) & 0x3ffu)));
  const std::uint32_t big = 0u - static_cast<std::uint32_t>(a >= 0x477ff000u);
  const std::uint32_t small = 0u - static_cast<std::uint32_t>(a < 0x38800000u);
  const std::uint32_t h = (big & special) | (~big & ((small & sub) | (~small & normal)));
  return static_cast<std::uint16_t>(sign | h);
}

// fp16 -> float for all 65536 patterns (the scalar decode has a loop for subnormals).
const std::vector<float>& fp16_table() {
  static const std::vector<float> table = [] {
    std::vector<float> t(65536);
    for (std::uint32_t h = 0; h < 65536; ++h) t[h] = fp16_to_float(static_cast<std::uint16_t>(h));
    return t;
  }();
  return table;
}

}  // namespace

void to_half(const float* x, std::size_t n, float scale, HalfFormat format, std::uint16_t* out, unsigned threads) {
  const unsigned chunks = chunks_for(n, threads);
  std::vector<std::size_t> bad(std::max(1u, chunks), 0);
  parallel_chunks(chunks, [&](unsigned c) {
    const auto [begin, end] = chunk_range(n, chunks, c);
    std::size_t local = 0;
    if (format == HalfFormat::Bf16) {
      for (std::size_t i = begin; i < end; ++i) {
        const std::uint16_t h = float_to_bf16_rne(x[i] * scale);
        out[i] = h;
        local += (h & 0x7f80u) == 0x7f80u ? 1 : 0;  // Inf or NaN (a non-finite x always gives one)
      }
    } else {
      for (std::size_t i = begin; i < end; ++i) {
        const std::uint16_t h = fp16_branch_free(x[i] * scale);
        out[i] = h;
        local += (h & 0x7c00u) == 0x7c00u ? 1 : 0;
      }
    }
    bad[c] = local;
  });
  std::size_t total = 0;
  for (std::size_t b : bad) total += b;
  if (total) throw NonFiniteError("to_half", total);
}

void from_half(const std::uint16_t* h, std::size_t n, HalfFormat format, float* out, unsigned threads) {
  const float* table = format == HalfFormat::Fp16 ? fp16_table().data() : nullptr;
  const unsigned chunks = chunks_for(n, threads);
  parallel_chunks(chunks, [&](unsigned c) {
    const auto [begin, end] = chunk_range(n, chunks, c);
    if (table != nullptr) {
      for (std::size_t i = begin; i < end; ++i) out[i] = table[h[i]];
    } else {
      for (std::size_t i = begin; i < end; ++i) out[i] = bf16_to_float(h[i]);
    }
  });
}

double sum_squares(const float* x, std::size_t n, unsigned threads) { return fixed_order_sum(x, n, threads, square); }

double sum_abs(const float* x, std::size_t n, unsigned threads) { return fixed_order_sum(x, n, threads, magnitude); }

float ef_sign(const float* g, float* e, std::size_t n, std::uint8_t* bits, unsigned threads) {
  if (n == 0) return 0.0f;
  const std::size_t blocks = n / kSumBlock + (n % kSumBlock != 0 ? 1 : 0);
  std::vector<double> sums(blocks);
  std::vector<std::size_t> bad(blocks, 0);
  const float* p = e != nullptr ? e : g;
  // Pass 1: p = g + e (into e), each block's sum of |p|; a block whose sum is
  // not finite holds a NaN or Inf, and only then are its entries counted.
  for_aligned_chunks(n, kSumBlock, threads, [&](std::size_t begin, std::size_t end) {
    for (std::size_t b = begin; b < end; b += kSumBlock) {
      const std::size_t len = std::min(kSumBlock, end - b);
      if (e != nullptr)
        for (std::size_t j = b; j < b + len; ++j) e[j] = g[j] + e[j];
      const double s = block_sum(p + b, len, magnitude);
      sums[b / kSumBlock] = s;
      if (!std::isfinite(s)) {
        std::size_t count = 0;
        for (std::size_t j = b; j < b + len; ++j) {
          std::uint32_t u;
          std::memcpy(&u, p + j, sizeof u);
          count += nonfinite_bits(u) ? 1 : 0;
        }
        bad[b / kSumBlock] = count;
      }
    }
  });
  std::size_t total_bad = 0;
  for (std::size_t c : bad) total_bad += c;
  if (total_bad) throw NonFiniteError("ef_sign", total_bad);
  const auto scale = static_cast<float>(combine(sums) / static_cast<double>(n));
  // Pass 2: the bits, a byte at a time, and e = p -+ scale.
  for_aligned_chunks(n, kSumBlock, threads, [&](std::size_t begin, std::size_t end) {
    const std::size_t full_end = begin + (end - begin) / 8 * 8;
    for (std::size_t i = begin; i < full_end; i += 8) {
      unsigned byte = 0;
      for (unsigned j = 0; j < 8; ++j) byte |= (p[i + j] < 0.0f ? 1u : 0u) << j;
      bits[i / 8] = static_cast<std::uint8_t>(byte);
    }
    if (full_end < end) {
      unsigned byte = 0;
      for (std::size_t i = full_end; i < end; ++i) byte |= (p[i] < 0.0f ? 1u : 0u) << (i - full_end);
      bits[full_end / 8] = static_cast<std::uint8_t>(byte);
    }
    if (e != nullptr)
      for (std::size_t i = begin; i < end; ++i) e[i] = sign_residual(e[i], scale);
  });
  return scale;
}

// A byte of bits decodes to 8 addends; the 256 patterns are tabulated once per call.
void sign_decode_add(const std::uint8_t* bits, std::size_t n, float scale, float* out, unsigned threads) {
  std::vector<float> table(256 * 8);
  for (unsigned byte = 0; byte < 256; ++byte)
    for (unsigned j = 0; j < 8; ++j) table[byte * 8 + j] = (byte >> j) & 1u ? -scale : scale;
  for_aligned_chunks(n, 8, threads, [&](std::size_t begin, std::size_t end) {
    const std::size_t full_end = begin + (end - begin) / 8 * 8;
    for (std::size_t i = begin; i < full_end; i += 8) {
      const float* add = table.data() + static_cast<std::size_t>(bits[i / 8]) * 8;
      for (std::size_t j = 0; j < 8; ++j) out[i + j] = out[i + j] + add[j];
    }
    for (std::size_t i = full_end; i < end; ++i) out[i] = out[i] + table[static_cast<std::size_t>(bits[i / 8]) * 8 + i % 8];
  });
}

void apply_sign(float* x, std::size_t n, float scale, unsigned threads) {
  const unsigned chunks = chunks_for(n, threads);
  parallel_chunks(chunks, [&](unsigned c) {
    const auto [begin, end] = chunk_range(n, chunks, c);
    for (std::size_t i = begin; i < end; ++i) x[i] = signed_scale(x[i], scale);
  });
}

namespace {

// QSGD with the code width a constant, so the packing is shifts.
template <int Bits>
std::size_t quantize_bytes(const float* x, std::size_t n, float norm, float factor, std::uint64_t seed,
                           std::uint8_t* codes, std::size_t b0, std::size_t b1) {
  constexpr std::size_t kPerByte = 8 / Bits;
  std::size_t bad = 0;
  for (std::size_t byte = b0; byte < b1; ++byte) {
    unsigned packed = 0;
    const std::size_t first = byte * kPerByte, last = std::min(first + kPerByte, n);
    for (std::size_t i = first; i < last; ++i) {
      std::uint32_t u;
      std::memcpy(&u, x + i, sizeof u);
      bad += nonfinite_bits(u) ? 1 : 0;
      if (norm != 0.0f) packed |= qsgd_code(x[i], factor, Bits, seed, i) << ((i - first) * Bits);
    }
    codes[byte] = static_cast<std::uint8_t>(packed);
  }
  return bad;
}

template <int Bits>
void dequantize_range(const std::uint8_t* codes, float q, float* out, std::size_t begin, std::size_t end) {
  constexpr std::size_t kPerByte = 8 / Bits;
  constexpr std::uint32_t kMask = (1u << Bits) - 1u;
  for (std::size_t i = begin; i < end; ++i) {
    const std::uint32_t code = (static_cast<std::uint32_t>(codes[i / kPerByte]) >> ((i % kPerByte) * Bits)) & kMask;
    out[i] = qsgd_decode_add(out[i], code, Bits, q);
  }
}

}  // namespace

void qsgd_quantize(const float* x, std::size_t n, int bits, float norm, std::uint64_t seed, std::uint8_t* codes,
                   unsigned threads) {
  check_qsgd_bits("qsgd_quantize", bits);
  check_qsgd_norm(norm);
  const std::size_t bytes = qsgd_bytes(n, bits);
  const float factor = norm == 0.0f ? 0.0f : static_cast<float>(qsgd_levels(bits)) / norm;
  const unsigned chunks =
      static_cast<unsigned>(std::min<std::size_t>(chunks_for(n, threads), std::max<std::size_t>(bytes, 1)));
  std::vector<std::size_t> bad(std::max(1u, chunks), 0);
  parallel_chunks(n == 0 ? 0u : chunks, [&](unsigned c) {
    const auto [b0, b1] = chunk_range(bytes, chunks, c);
    switch (bits) {
      case 2: bad[c] = quantize_bytes<2>(x, n, norm, factor, seed, codes, b0, b1); break;
      case 4: bad[c] = quantize_bytes<4>(x, n, norm, factor, seed, codes, b0, b1); break;
      default: bad[c] = quantize_bytes<8>(x, n, norm, factor, seed, codes, b0, b1); break;
    }
  });
  std::size_t total = 0;
  for (std::size_t b : bad) total += b;
  if (total) throw NonFiniteError("qsgd_quantize", total);
}

void qsgd_dequantize_add(const std::uint8_t* codes, std::size_t n, int bits, float norm, float* out,
                         unsigned threads) {
  check_qsgd_bits("qsgd_dequantize_add", bits);
  const float q = norm / static_cast<float>(qsgd_levels(bits));
  for_aligned_chunks(n, 8, threads, [&](std::size_t begin, std::size_t end) {
    switch (bits) {
      case 2: dequantize_range<2>(codes, q, out, begin, end); break;
      case 4: dequantize_range<4>(codes, q, out, begin, end); break;
      default: dequantize_range<8>(codes, q, out, begin, end); break;
    }
  });
}

}  // namespace gcsim::kernels::cpu::quant_fast
