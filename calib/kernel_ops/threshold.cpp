// threshold: DGC's sampled threshold (Lin et al., ICLR 2018), capacity 2k.
// cost(n, k): n entries, k = ceil(rho n) the target count.
#include <algorithm>

#include "calib/kernel_ops/kernel_op.h"

namespace gcsim::calib {

KernelOpSpec threshold_op() {
  struct State {
    kernels::Backend& b;
    const float* x;
    std::size_t n, k, capacity;
    kernels::ThresholdOptions opts;
    kernels::Buffer<float> values;
    kernels::Buffer<kernels::Index> indices;
  };
  return {"threshold", "entries of x", "target count, ceil(rho n) (capacity 2k)",
          [](std::size_t n, const std::vector<double>& ratios, int) { return ratio_points(n, ratios); },
          [](const OpInputs& in, const OpPoint& p) {
            const std::size_t capacity = std::min(in.n, 2 * p.k);
            kernels::ThresholdOptions o;
            o.seed = in.seed;
            auto s = std::make_shared<State>(
                State{in.backend, in.x.data(), in.n, p.k, capacity, o, {in.backend, capacity}, {in.backend, capacity}});
            return prepared<State>(s, [](State& t) {
              t.b.threshold_topk(t.x, t.n, t.k, t.capacity, t.opts, t.values.data(), t.indices.data());
            });
          }};
}

}  // namespace gcsim::calib
