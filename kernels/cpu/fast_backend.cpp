// The "cpu" backend: the fast CPU path. Top-K, fused error feedback (Stich et
// al., "Sparsified SGD with Memory", NeurIPS 2018) and Random-K run on the
// multi-threaded radix select (radix_select.h): two passes over the data, no
// sort. DGC's sampled threshold (Lin et al., "Deep Gradient Compression",
// ICLR 2018) is one compare-and-compact pass after sampling. Memory ops, the
// wire format and the reductions are HostBackend's.
#include <algorithm>
#include <bit>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "kernels/cpu/host_backend.h"
#include "kernels/cpu/quant_ops.h"  // k-quant
#include "kernels/cpu/lowrank.h"
#include "kernels/cpu/parallel_chunks.h"
#include "kernels/cpu/radix_select.h"
#include "kernels/factories.h"
#include "kernels/hash.h"
#include "kernels/lowrank_checks.h"
#include "kernels/magnitude_key.h"

namespace gcsim::kernels {
namespace {

using cpu::chunk_range;
using cpu::chunks_for;
using cpu::parallel_chunks;
using cpu::RadixSelect;

// The selection key of a magnitude: magnitude_key shifted left by one. Its
// bit 31 is always 0, so the shift gives the select's 11-bit first digit the
// 8 exponent bits and 3 mantissa bits (bins of 1/8 octave), which halves the
// boundary bin's candidates. The order is that of magnitude_key.
std::uint32_t select_key(float v) { return magnitude_key(v) << 1; }
constexpr std::uint32_t kInfSelectKey = kInfKey << 1;

// Pass 1's histogram counts the non-finite keys exactly: the first one lies on a top-digit bin edge.
static_assert(kInfSelectKey % (1u << cpu::kTopShift) == 0);

void reject_non_finite(const char* op, const RadixSelect& select) {
  if (const std::size_t bad = select.count_at_least(kInfSelectKey)) throw NonFiniteError(op, bad);
}

class FastCpuBackend final : public cpu::HostBackend {
 public:
  explicit FastCpuBackend(unsigned threads) : HostBackend("cpu", threads) {}

  void topk(const float* x, std::size_t n, std::size_t k, float* values, Index* indices) override {
    check_k("topk", n, k);
    RadixSelect select(chunks_for(n, threads()));
    const auto key = [x](std::size_t i) { return select_key(x[i]); };
    select.histogram(n, key);
    reject_non_finite("topk", select);
    select.select(k, key, [x, values, indices](std::size_t i, std::size_t slot) {
      values[slot] = x[i];
      indices[slot] = static_cast<Index>(i);
    });
  }

  // Pass 1 reads g and e and writes acc = g + e into e while it histograms
  // |acc|; pass 2 reads e, emits the selected entries and zeroes them.
  void ef_topk(const float* g, float* e, std::size_t n, std::size_t k, float* values, Index* indices) override {
    check_k("ef_topk", n, k);
    RadixSelect select(chunks_for(n, threads()));
    select.histogram(n, [g, e](std::size_t i) {
      const float acc = g[i] + e[i];
      e[i] = acc;
      return select_key(acc);
    });
    reject_non_finite("ef_topk", select);
    select.select(
        k, [e](std::size_t i) { return select_key(e[i]); },
        [e, values, indices](std::size_t i, std::size_t slot) {
          values[slot] = e[i];
          indices[slot] = static_cast<Index>(i);
          e[i] = 0.0f;
        });
  }

  // Each chunk compacts its entries with |x| >= t into its own buffers (at most
  // `capacity` of them; past that it only counts), then the buffers are
  // concatenated. More than `capacity` in all: the exact top `capacity`.
  ThresholdResult threshold_topk(const float* x, std::size_t n, std::size_t k, std::size_t capacity,
                                 const ThresholdOptions& opts, float* values, Index* indices) override {
    check_k("threshold_topk", n, k);
    if (n == 0) return {};
    const std::uint32_t t = sampled_threshold_key(x, n, k, opts);
    struct Part {
      std::unique_ptr<float[]> values;
      std::unique_ptr<Index[]> indices;
      std::size_t above = 0, kept = 0, bad = 0;
    };
    const unsigned chunks = chunks_for(n, threads());
    std::vector<Part> parts(chunks);
    parallel_chunks(chunks, [&](unsigned c) {
      const auto [begin, end] = chunk_range(n, chunks, c);
      Part& p = parts[c];
      const std::size_t room = std::min(capacity, end - begin);
      p.values = std::make_unique_for_overwrite<float[]>(room);
      p.indices = std::make_unique_for_overwrite<Index[]>(room);
      std::size_t above = 0, bad = 0;
      auto key = [x](std::size_t i) { return magnitude_key(x[i]); };
      // Blocks without a key >= min(t, kInfKey) hold nothing to take or reject.
      cpu::scan_blocks(key, begin, end, std::min(t, kInfKey),
                       [&](std::size_t b, const std::uint32_t* block, std::size_t len) {
                         for (std::size_t j = 0; j < len; ++j) {
                           bad += block[j] >= kInfKey ? 1 : 0;
                           if (block[j] < t) continue;
                           if (above < room) {
                             p.values[above] = x[b + j];
                             p.indices[above] = static_cast<Index>(b + j);
                           }
                           ++above;
                         }
                       });
      p.above = above;
      p.kept = std::min(above, room);
      p.bad = bad;
    });
    ThresholdResult r;
    r.threshold = std::bit_cast<float>(t);
    std::size_t bad = 0;
    for (const Part& p : parts) {
      r.above += p.above;
      bad += p.bad;
    }
    if (bad) throw NonFiniteError("threshold_topk", bad);
    if (r.above > capacity) {
      topk(x, n, capacity, values, indices);
      r.selected = capacity;
      return r;
    }
    for (const Part& p : parts) {
      std::memcpy(values + r.selected, p.values.get(), p.kept * sizeof(float));
      std::memcpy(indices + r.selected, p.indices.get(), p.kept * sizeof(Index));
      r.selected += p.kept;
    }
    return r;
  }

  // The radix select on ~randomk_key picks the k smallest hashes; only then is
  // x read, at the chosen indices, and non-finite picks rejected.
  void randomk(const float* x, std::size_t n, std::size_t k, std::uint64_t seed, float* values,
               Index* indices) override {
    check_k("randomk", n, k);
    if (k == 0) return;
    RadixSelect select(chunks_for(n, threads()));
    const auto key = [seed](std::size_t i) { return ~randomk_key(seed, i); };
    select.histogram(n, key);
    auto chosen = std::make_unique_for_overwrite<Index[]>(k);
    auto picked = std::make_unique_for_overwrite<float[]>(k);
    select.select(k, key, [&chosen](std::size_t i, std::size_t slot) { chosen[slot] = static_cast<Index>(i); });
    std::size_t bad = 0;
    for (std::size_t j = 0; j < k; ++j) {
      picked[j] = x[chosen[j]];
      bad += magnitude_key(picked[j]) >= kInfKey ? 1 : 0;
    }
    if (bad) throw NonFiniteError("randomk", bad);
    std::memcpy(values, picked.get(), k * sizeof(float));
    std::memcpy(indices, chosen.get(), k * sizeof(Index));
  }

  // ==== quantization ops (k-quant): kernels/cpu/quant_fast.cpp ====
  void to_half(const float* x, std::size_t n, float scale, HalfFormat format, std::uint16_t* out) override {
    cpu::quant_fast::to_half(x, n, scale, format, out, threads());
  }
  void from_half(const std::uint16_t* h, std::size_t n, HalfFormat format, float* out) override {
    cpu::quant_fast::from_half(h, n, format, out, threads());
  }
  float ef_sign(const float* g, float* e, std::size_t n, std::uint8_t* bits) override {
    return cpu::quant_fast::ef_sign(g, e, n, bits, threads());
  }
  void sign_decode_add(const std::uint8_t* bits, std::size_t n, float scale, float* out) override {
    cpu::quant_fast::sign_decode_add(bits, n, scale, out, threads());
  }
  void apply_sign(float* x, std::size_t n, float scale) override { cpu::quant_fast::apply_sign(x, n, scale, threads()); }
  double sum_squares(const float* x, std::size_t n) override { return cpu::quant_fast::sum_squares(x, n, threads()); }
  double sum_abs(const float* x, std::size_t n) override { return cpu::quant_fast::sum_abs(x, n, threads()); }
  void qsgd_quantize(const float* x, std::size_t n, int bits, float norm, std::uint64_t seed,
                     std::uint8_t* codes) override {
    cpu::quant_fast::qsgd_quantize(x, n, bits, norm, seed, codes, threads());
  }
  void qsgd_dequantize_add(const std::uint8_t* codes, std::size_t n, int bits, float norm, float* out) override {
    cpu::quant_fast::qsgd_dequantize_add(codes, n, bits, norm, out, threads());
  }
  // ==== end of quantization ops (k-quant) ====
  // ---- low rank: PowerSGD (kernels/cpu/lowrank_fast.cpp) ----
  void matmul(const float* A, const float* B, float* C, std::size_t n, std::size_t m, std::size_t r) override {
    cpu::fast_matmul(A, B, C, n, m, r, threads());
  }
  void matmul_tn(const float* A, const float* B, float* C, std::size_t n, std::size_t m, std::size_t r) override {
    cpu::fast_matmul_tn(A, B, C, n, m, r, threads());
  }
  void matmul_nt(const float* A, const float* B, float* C, std::size_t n, std::size_t m, std::size_t r) override {
    cpu::fast_matmul_nt(A, B, C, n, m, r, threads());
  }
  void orthogonalize(float* P, std::size_t n, std::size_t r, float epsilon) override {
    check_orthogonalize(n, r);
    cpu::fast_orthogonalize(P, n, r, epsilon, threads());
  }
  void orthogonalize_batched(const MatrixRef* matrices, std::size_t count, float epsilon) override {
    check_orthogonalize_batched(matrices, count);
    cpu::fast_orthogonalize_batched(matrices, count, epsilon, threads());
  }
};

}  // namespace

std::unique_ptr<Backend> make_fast_cpu_backend(unsigned threads) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  return std::make_unique<FastCpuBackend>(threads);
}

}  // namespace gcsim::kernels
