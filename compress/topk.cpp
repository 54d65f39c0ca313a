// method = "topk": exact Top-K of |x| per compression unit (Aji & Heafield,
// "Sparse Communication for Distributed Gradient Descent", EMNLP 2017), with
// the fused error-feedback kernel (Stich et al., NeurIPS 2018). Wire format
// and bytes: compress/sparsifier.h.
#include "compress/methods.h"
#include "compress/sparsifier.h"
#include "sim/profile.h"

namespace gcsim::compress {

namespace {

class TopK final : public Sparsifier {
 public:
  std::string_view name() const override { return "topk"; }
  std::string_view summary() const override { return "Top-K: the k = ceil(ratio n) largest |g| per unit"; }
  const char* select_op(const CompressionSpec& spec) const override {
    return spec.error_feedback ? op::ef_topk : op::topk;
  }
  std::size_t select(kernels::Backend& kb, const float* x, std::size_t n, std::size_t k, std::uint64_t,
                     std::size_t, float* values, kernels::Index* indices) const override {
    kb.topk(x, n, k, values, indices);
    return k;
  }
  std::size_t select_with_feedback(kernels::Backend& kb, const float* g, float* e, std::size_t n, std::size_t k,
                                   std::uint64_t, std::size_t, float* values,
                                   kernels::Index* indices) const override {
    kb.ef_topk(g, e, n, k, values, indices);
    return k;
  }
};

}  // namespace

const Method& topk_method() {
  static const TopK m;
  return m;
}

}  // namespace gcsim::compress
