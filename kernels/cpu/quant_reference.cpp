// The "cpu-reference" quantization ops (kernels/backend.h, quantization block):
// each op is the definition written out as plain loops, one pass per step.
//   casts:     PyTorch DDP's fp16_compress_hook / bf16_compress_hook, rounding by kernels/half.h
//   sign:      EF-signSGD (Karimireddy et al., "Error Feedback Fixes SignSGD", ICML 2019) and
//              signSGD with majority vote (Bernstein et al., ICML 2018)
//   QSGD:      stochastic rounding to s levels of |x| / norm (Alistarh et al., NeurIPS 2017)
// Compiled with -ffp-contract=off: every float operation rounds on its own.
#include <cmath>
#include <vector>

#include "kernels/cpu/quant_ops.h"
#include "kernels/half.h"
#include "kernels/hash.h"
#include "kernels/quant_format.h"

namespace gcsim::kernels::cpu {

void check_qsgd_norm(float norm) {
  if (!(std::isfinite(norm) && norm >= 0.0f)) throw NonFiniteError("qsgd_quantize (norm)", 1);
}

namespace quant_reference {
namespace {

// The fixed order of Backend::sum_squares: 32 strided lane sums per block of
// 4096, folded by s_l = s_l + s_(l xor o), o = 16 .. 1; then the block sums alike.
double fold(std::vector<double> s) {
  for (std::size_t o = kSumLanes / 2; o >= 1; o /= 2) {
    std::vector<double> t(kSumLanes);
    for (std::size_t l = 0; l < kSumLanes; ++l) t[l] = s[l] + s[l ^ o];
    s = t;
  }
  return s[0];
}

// The lane-and-fold sum of v[0, len).
double lane_sum(const std::vector<double>& v, std::size_t begin, std::size_t len) {
  std::vector<double> lanes(kSumLanes, 0.0);
  for (std::size_t j = 0; j < len; ++j) lanes[j % kSumLanes] += v[begin + j];
  return fold(lanes);
}

double fixed_order_sum(const std::vector<double>& terms) {
  std::vector<double> block_sums;
  for (std::size_t b = 0; b < terms.size(); b += kSumBlock)
    block_sums.push_back(lane_sum(terms, b, std::min(kSumBlock, terms.size() - b)));
  if (block_sums.empty()) return 0.0;
  // The block sums, in the same lane-and-fold order over the whole list.
  std::vector<double> lanes(kSumLanes, 0.0);
  for (std::size_t j = 0; j < block_sums.size(); ++j) lanes[j % kSumLanes] += block_sums[j];
  return fold(lanes);
}

std::size_t count_non_finite(const float* x, std::size_t n) {
  std::size_t bad = 0;
  for (std::size_t i = 0; i < n; ++i) bad += std::isfinite(x[i]) ? 0 : 1;
  return bad;
}

}  // namespace

void to_half(const float* x, std::size_t n, float scale, HalfFormat format, std::uint16_t* out) {
  std::size_t bad = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const float scaled = x[i] * scale;
    out[i] = format == HalfFormat::Fp16 ? float_to_fp16_rne(scaled) : float_to_bf16_rne(scaled);
    const float back = format == HalfFormat::Fp16 ? fp16_to_float(out[i]) : bf16_to_float(out[i]);
    if (!std::isfinite(x[i]) || !std::isfinite(back)) ++bad;
  }
  if (bad) throw NonFiniteError("to_half", bad);
}

void from_half(const std::uint16_t* h, std::size_t n, HalfFormat format, float* out) {
  for (std::size_t i = 0; i < n; ++i) out[i] = format == HalfFormat::Fp16 ? fp16_to_float(h[i]) : bf16_to_float(h[i]);
}

double sum_squares(const float* x, std::size_t n) {
  std::vector<double> terms(n);
  for (std::size_t i = 0; i < n; ++i) terms[i] = static_cast<double>(x[i]) * static_cast<double>(x[i]);
  return fixed_order_sum(terms);
}

double sum_abs(const float* x, std::size_t n) {
  std::vector<double> terms(n);
  for (std::size_t i = 0; i < n; ++i) terms[i] = std::fabs(static_cast<double>(x[i]));
  return fixed_order_sum(terms);
}

float ef_sign(const float* g, float* e, std::size_t n, std::uint8_t* bits) {
  if (n == 0) return 0.0f;
  std::vector<float> p(g, g + n);
  if (e != nullptr) {
    for (std::size_t i = 0; i < n; ++i) p[i] = g[i] + e[i];
    for (std::size_t i = 0; i < n; ++i) e[i] = p[i];
  }
  if (const std::size_t bad = count_non_finite(p.data(), n)) throw NonFiniteError("ef_sign", bad);
  const auto scale = static_cast<float>(sum_abs(p.data(), n) / static_cast<double>(n));
  for (std::size_t byte = 0; byte < sign_bytes(n); ++byte) bits[byte] = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (p[i] < 0.0f) bits[i / 8] = static_cast<std::uint8_t>(bits[i / 8] | (1u << (i % 8)));
  if (e != nullptr)
    for (std::size_t i = 0; i < n; ++i) e[i] = p[i] < 0.0f ? p[i] + scale : p[i] - scale;
  return scale;
}

void sign_decode_add(const std::uint8_t* bits, std::size_t n, float scale, float* out) {
  for (std::size_t i = 0; i < n; ++i) {
    const bool negative = (bits[i / 8] >> (i % 8)) & 1u;
    out[i] = out[i] + (negative ? -scale : scale);
  }
}

void apply_sign(float* x, std::size_t n, float scale) {
  for (std::size_t i = 0; i < n; ++i) {
    if (x[i] > 0.0f)
      x[i] = scale;
    else if (x[i] < 0.0f)
      x[i] = -scale;
    else if (x[i] == 0.0f)
      x[i] = 0.0f;
    // else NaN: left as it is
  }
}

void qsgd_quantize(const float* x, std::size_t n, int bits, float norm, std::uint64_t seed, std::uint8_t* codes) {
  check_qsgd_bits("qsgd_quantize", bits);
  check_qsgd_norm(norm);
  if (const std::size_t bad = count_non_finite(x, n)) throw NonFiniteError("qsgd_quantize", bad);
  const std::size_t bytes = qsgd_bytes(n, bits);
  for (std::size_t b = 0; b < bytes; ++b) codes[b] = 0;
  if (norm == 0.0f) return;
  const int s = qsgd_levels(bits);
  const float factor = static_cast<float>(s) / norm;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t level = 0;
    if (x[i] != 0.0f) {
      const float r = std::fabs(x[i]) * factor;
      if (r >= static_cast<float>(s)) {  // includes +Inf (factor = +Inf for a tiny norm)
        level = static_cast<std::uint32_t>(s);
      } else {
        const float f = std::floor(r);
        const float u = static_cast<float>(hash64(seed, i) >> 40) * 0x1p-24f;
        level = static_cast<std::uint32_t>(f) + (u < r - f ? 1u : 0u);
      }
    }
    const std::uint32_t code = (x[i] < 0.0f ? 1u : 0u) << (bits - 1) | level;
    const std::size_t bit = i * static_cast<std::size_t>(bits);
    codes[bit / 8] = static_cast<std::uint8_t>(codes[bit / 8] | (code << (bit % 8)));
  }
}

void qsgd_dequantize_add(const std::uint8_t* codes, std::size_t n, int bits, float norm, float* out) {
  check_qsgd_bits("qsgd_dequantize_add", bits);
  const int s = qsgd_levels(bits);
  const float q = norm / static_cast<float>(s);
  const std::uint32_t mask = (1u << bits) - 1u;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t bit = i * static_cast<std::size_t>(bits);
    const std::uint32_t code = (codes[bit / 8] >> (bit % 8)) & mask;
    const auto level = static_cast<float>(code & (mask >> 1));
    const float v = level * q;
    out[i] = (code >> (bits - 1)) ? out[i] - v : out[i] + v;
  }
}

}  // namespace quant_reference
}  // namespace gcsim::kernels::cpu
