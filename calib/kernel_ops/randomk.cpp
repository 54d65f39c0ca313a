// randomk: the k entries with the smallest hashes. cost(n, k): n entries
// hashed, k = ceil(rho n) selected.
#include "calib/kernel_ops/kernel_op.h"

namespace gcsim::calib {

KernelOpSpec randomk_op() {
  struct State {
    kernels::Backend& b;
    const float* x;
    std::size_t n, k;
    std::uint64_t seed;
    kernels::Buffer<float> values;
    kernels::Buffer<kernels::Index> indices;
  };
  return {"randomk", "entries hashed", "entries selected, ceil(rho n)",
          [](std::size_t n, const std::vector<double>& ratios, int) { return ratio_points(n, ratios); },
          [](const OpInputs& in, const OpPoint& p) {
            auto s = std::make_shared<State>(
                State{in.backend, in.x.data(), in.n, p.k, in.seed, {in.backend, p.k}, {in.backend, p.k}});
            return prepared<State>(
                s, [](State& t) { t.b.randomk(t.x, t.n, t.k, t.seed, t.values.data(), t.indices.data()); });
          }};
}

}  // namespace gcsim::calib
