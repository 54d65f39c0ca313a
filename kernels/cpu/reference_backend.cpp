// The "cpu-reference" backend: the plain, obviously correct implementation
// every other backend is tested against. Top-K finds the k-th largest |x| with
// std::nth_element and collects one pass; error feedback (Stich et al.,
// "Sparsified SGD with Memory", NeurIPS 2018) accumulates, selects and zeroes
// in separate loops; the sampled threshold follows DGC (Lin et al., "Deep
// Gradient Compression", ICLR 2018); Random-K takes the k smallest hashes.
#include <algorithm>
#include <bit>
#include <cmath>
#include <utility>
#include <vector>

#include "kernels/cpu/host_backend.h"
#include "kernels/cpu/quant_ops.h"  // k-quant
#include "kernels/cpu/lowrank.h"
#include "kernels/factories.h"
#include "kernels/hash.h"
#include "kernels/lowrank_checks.h"
#include "kernels/magnitude_key.h"

namespace gcsim::kernels {
namespace {

std::size_t count_non_finite(const float* x, std::size_t n) {
  std::size_t bad = 0;
  for (std::size_t i = 0; i < n; ++i) bad += std::isfinite(x[i]) ? 0 : 1;
  return bad;
}

void reject_non_finite(const char* op, const float* x, std::size_t n) {
  if (const std::size_t bad = count_non_finite(x, n)) throw NonFiniteError(op, bad);
}

// Exact Top-K of |x| over finite x: the k-th largest magnitude t by
// nth_element, then one pass taking every |x| > t and the first ties at t.
void top_by_nth_element(const float* x, std::size_t n, std::size_t k, float* values, Index* indices) {
  if (k == 0) return;
  std::vector<float> mag(n);
  for (std::size_t i = 0; i < n; ++i) mag[i] = std::fabs(x[i]);
  const auto kth = mag.begin() + static_cast<std::ptrdiff_t>(n - k);
  std::nth_element(mag.begin(), kth, mag.end());
  const float t = *kth;
  const auto greater = static_cast<std::size_t>(std::count_if(kth + 1, mag.end(), [t](float a) { return a > t; }));
  std::size_t ties = k - greater, out = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const float a = std::fabs(x[i]);
    if (a > t || (a == t && ties > 0)) {
      if (a == t) --ties;
      values[out] = x[i];
      indices[out] = static_cast<Index>(i);
      ++out;
    }
  }
}

class ReferenceBackend final : public cpu::HostBackend {
 public:
  ReferenceBackend() : HostBackend("cpu-reference", 1) {}

  void topk(const float* x, std::size_t n, std::size_t k, float* values, Index* indices) override {
    check_k("topk", n, k);
    reject_non_finite("topk", x, n);
    top_by_nth_element(x, n, k, values, indices);
  }

  void ef_topk(const float* g, float* e, std::size_t n, std::size_t k, float* values, Index* indices) override {
    check_k("ef_topk", n, k);
    for (std::size_t i = 0; i < n; ++i) e[i] = g[i] + e[i];
    reject_non_finite("ef_topk", e, n);
    top_by_nth_element(e, n, k, values, indices);
    for (std::size_t j = 0; j < k; ++j) e[indices[j]] = 0.0f;
  }

  ThresholdResult threshold_topk(const float* x, std::size_t n, std::size_t k, std::size_t capacity,
                                 const ThresholdOptions& opts, float* values, Index* indices) override {
    check_k("threshold_topk", n, k);
    reject_non_finite("threshold_topk", x, n);
    if (n == 0) return {};
    ThresholdResult r;
    r.threshold = std::bit_cast<float>(sampled_threshold_key(x, n, k, opts));
    for (std::size_t i = 0; i < n; ++i) r.above += std::fabs(x[i]) >= r.threshold ? 1 : 0;
    if (r.above > capacity) {
      top_by_nth_element(x, n, capacity, values, indices);
      r.selected = capacity;
      return r;
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (std::fabs(x[i]) >= r.threshold) {
        values[r.selected] = x[i];
        indices[r.selected] = static_cast<Index>(i);
        ++r.selected;
      }
    }
    return r;
  }

  void randomk(const float* x, std::size_t n, std::size_t k, std::uint64_t seed, float* values,
               Index* indices) override {
    check_k("randomk", n, k);
    std::vector<std::pair<std::uint32_t, std::size_t>> keyed(n);
    for (std::size_t i = 0; i < n; ++i) keyed[i] = {randomk_key(seed, i), i};
    const auto kth = keyed.begin() + static_cast<std::ptrdiff_t>(k);
    std::nth_element(keyed.begin(), kth, keyed.end());
    std::size_t bad = 0;
    for (auto it = keyed.begin(); it != kth; ++it) bad += std::isfinite(x[it->second]) ? 0 : 1;
    if (bad) throw NonFiniteError("randomk", bad);
    for (std::size_t j = 0; j < k; ++j) {
      values[j] = x[keyed[j].second];
      indices[j] = static_cast<Index>(keyed[j].second);
    }
  }

  // ==== quantization ops (k-quant): kernels/cpu/quant_reference.cpp ====
  void to_half(const float* x, std::size_t n, float scale, HalfFormat format, std::uint16_t* out) override {
    cpu::quant_reference::to_half(x, n, scale, format, out);
  }
  void from_half(const std::uint16_t* h, std::size_t n, HalfFormat format, float* out) override {
    cpu::quant_reference::from_half(h, n, format, out);
  }
  float ef_sign(const float* g, float* e, std::size_t n, std::uint8_t* bits) override {
    return cpu::quant_reference::ef_sign(g, e, n, bits);
  }
  void sign_decode_add(const std::uint8_t* bits, std::size_t n, float scale, float* out) override {
    cpu::quant_reference::sign_decode_add(bits, n, scale, out);
  }
  void apply_sign(float* x, std::size_t n, float scale) override { cpu::quant_reference::apply_sign(x, n, scale); }
  double sum_squares(const float* x, std::size_t n) override { return cpu::quant_reference::sum_squares(x, n); }
  double sum_abs(const float* x, std::size_t n) override { return cpu::quant_reference::sum_abs(x, n); }
  void qsgd_quantize(const float* x, std::size_t n, int bits, float norm, std::uint64_t seed,
                     std::uint8_t* codes) override {
    cpu::quant_reference::qsgd_quantize(x, n, bits, norm, seed, codes);
  }
  void qsgd_dequantize_add(const std::uint8_t* codes, std::size_t n, int bits, float norm, float* out) override {
    cpu::quant_reference::qsgd_dequantize_add(codes, n, bits, norm, out);
  }
  // ==== end of quantization ops (k-quant) ====
  // ---- low rank: PowerSGD (kernels/cpu/lowrank_reference.cpp) ----
  void matmul(const float* A, const float* B, float* C, std::size_t n, std::size_t m, std::size_t r) override {
    cpu::reference_matmul(A, B, C, n, m, r);
  }
  void matmul_tn(const float* A, const float* B, float* C, std::size_t n, std::size_t m, std::size_t r) override {
    cpu::reference_matmul_tn(A, B, C, n, m, r);
  }
  void matmul_nt(const float* A, const float* B, float* C, std::size_t n, std::size_t m, std::size_t r) override {
    cpu::reference_matmul_nt(A, B, C, n, m, r);
  }
  void orthogonalize(float* P, std::size_t n, std::size_t r, float epsilon) override {
    check_orthogonalize(n, r);
    cpu::reference_orthogonalize(P, n, r, epsilon);
  }
  void orthogonalize_batched(const MatrixRef* matrices, std::size_t count, float epsilon) override {
    check_orthogonalize_batched(matrices, count);
    for (std::size_t b = 0; b < count; ++b)
      cpu::reference_orthogonalize(matrices[b].data, matrices[b].rows, matrices[b].cols, epsilon);
  }
};

}  // namespace

std::unique_ptr<Backend> make_reference_backend() { return std::make_unique<ReferenceBackend>(); }

}  // namespace gcsim::kernels
