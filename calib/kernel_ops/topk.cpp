// topk: exact Top-K of |x|. cost(n, k): n entries, k = ceil(rho n) selected.
#include "calib/kernel_ops/kernel_op.h"

namespace gcsim::calib {

KernelOpSpec topk_op() {
  struct State {
    kernels::Backend& b;
    const float* x;
    std::size_t n, k;
    kernels::Buffer<float> values;
    kernels::Buffer<kernels::Index> indices;
  };
  return {"topk", "entries of x", "entries selected, ceil(rho n)",
          [](std::size_t n, const std::vector<double>& ratios, int) { return ratio_points(n, ratios); },
          [](const OpInputs& in, const OpPoint& p) {
            auto s = std::make_shared<State>(State{in.backend, in.x.data(), in.n, p.k, {in.backend, p.k}, {in.backend, p.k}});
            return prepared<State>(s, [](State& t) { t.b.topk(t.x, t.n, t.k, t.values.data(), t.indices.data()); });
          }};
}

}  // namespace gcsim::calib
