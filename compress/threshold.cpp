// method = "threshold": DGC's sampled threshold (Lin et al., "Deep Gradient
// Compression", ICLR 2018, section 3 and its threshold-sampling appendix):
// every entry above a threshold estimated from a sample, at most 2k, so the
// count varies between ranks and the allgather sends counts first. Wire
// format and bytes: compress/sparsifier.h.
#include <algorithm>

#include "compress/methods.h"
#include "compress/sparsifier.h"
#include "kernels/hash.h"
#include "sim/profile.h"

namespace gcsim::compress {

namespace {

class Threshold final : public Sparsifier {
 public:
  std::string_view name() const override { return "threshold"; }
  std::string_view summary() const override { return "DGC sampled threshold: about k entries per unit, at most 2k"; }
  const char* select_op(const CompressionSpec&) const override { return op::threshold; }
  bool fixed_k() const override { return false; }
  std::size_t select(kernels::Backend& kb, const float* x, std::size_t n, std::size_t k, std::uint64_t step,
                     std::size_t segment, float* values, kernels::Index* indices) const override {
    kernels::ThresholdOptions opts;
    opts.seed = kernels::hash64(step ^ 0x7468726573686f6cull, segment);
    return kb.threshold_topk(x, n, k, std::min(n, 2 * k), opts, values, indices).selected;
  }
};

}  // namespace

const Method& threshold_method() {
  static const Threshold m;
  return m;
}

}  // namespace gcsim::compress
