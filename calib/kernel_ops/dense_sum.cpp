// dense_sum: out = a + b over n floats, the sum each step of a dense ring
// reduce-scatter does with the chunk it received (the hierarchical exchange's
// intra-node reduce-scatter, compress/exchange/hierarchical.cpp).
// cost(n, 0): n entries summed; k is unused.
#include "calib/kernel_ops/kernel_op.h"

namespace gcsim::calib {

KernelOpSpec dense_sum_op() {
  struct State {
    kernels::Backend& b;
    std::size_t n;
    kernels::Buffer<float> received;
    kernels::Buffer<float> out;
    const float* inputs[2];
  };
  return {"dense_sum", "entries summed, out = a + b", "unused (0)",
          [](std::size_t, const std::vector<double>&, int) { return std::vector<OpPoint>{{}}; },
          [](const OpInputs& in, const OpPoint&) {
            auto s = std::make_shared<State>(State{in.backend, in.n, {in.backend, in.n}, {in.backend, in.n}, {}});
            in.backend.dense_sum(nullptr, 0, s->received.data(), in.n);  // zeros: a chunk as received
            s->inputs[0] = in.x.data();
            s->inputs[1] = s->received.data();
            return prepared<State>(s, [](State& t) { t.b.dense_sum(t.inputs, 2, t.out.data(), t.n); });
          }};
}

}  // namespace gcsim::calib
