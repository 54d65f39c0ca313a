// ef_topk: e = g + e, Top-K, zero the selected entries (Stich et al. 2018).
// cost(n, k): n entries, k = ceil(rho n) selected. e is zeroed before each repeat.
#include "calib/kernel_ops/kernel_op.h"

namespace gcsim::calib {

KernelOpSpec ef_topk_op() {
  struct State {
    kernels::Backend& b;
    const float* g;
    std::size_t n, k;
    kernels::Buffer<float> e, values;
    kernels::Buffer<kernels::Index> indices;
  };
  return {"ef_topk", "entries of g and e", "entries selected, ceil(rho n)",
          [](std::size_t n, const std::vector<double>& ratios, int) { return ratio_points(n, ratios); },
          [](const OpInputs& in, const OpPoint& p) {
            auto s = std::make_shared<State>(
                State{in.backend, in.x.data(), in.n, p.k, {in.backend, in.n}, {in.backend, p.k}, {in.backend, p.k}});
            return prepared<State>(
                s, [](State& t) { t.b.ef_topk(t.g, t.e.data(), t.n, t.k, t.values.data(), t.indices.data()); },
                [](State& t) { t.e.zero(); });
          }};
}

}  // namespace gcsim::calib
