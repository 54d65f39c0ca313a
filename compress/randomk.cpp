// method = "randomk": a uniformly random k-subset per unit, the same on every
// rank (seeded by step and segment) — Stich et al., "Sparsified SGD with
// Memory", NeurIPS 2018 (rand-k). Wire format and bytes: compress/sparsifier.h.
#include "compress/methods.h"
#include "compress/sparsifier.h"
#include "kernels/hash.h"
#include "sim/profile.h"

namespace gcsim::compress {

namespace {

class RandomK final : public Sparsifier {
 public:
  std::string_view name() const override { return "randomk"; }
  std::string_view summary() const override { return "Random-K: k random entries per unit, shared by all ranks"; }
  const char* select_op(const CompressionSpec&) const override { return op::randomk; }
  std::size_t select(kernels::Backend& kb, const float* x, std::size_t n, std::size_t k, std::uint64_t step,
                     std::size_t segment, float* values, kernels::Index* indices) const override {
    kb.randomk(x, n, k, kernels::hash64(step, segment), values, indices);
    return k;
  }
};

}  // namespace

const Method& randomk_method() {
  static const RandomK m;
  return m;
}

}  // namespace gcsim::compress
