// pack: k (value, index) pairs (x's Top-K) to the wire format (kernels/wire_format.h).
// cost(n, k): n only sets the index width; k = ceil(rho n) pairs.
#include "calib/kernel_ops/kernel_op.h"
#include "kernels/wire_format.h"

namespace gcsim::calib {

KernelOpSpec pack_op() {
  struct State {
    kernels::Backend& b;
    std::size_t n, k;
    kernels::Buffer<float> values;
    kernels::Buffer<kernels::Index> indices;
    kernels::Buffer<std::byte> wire;
  };
  return {"pack", "tensor size (index width only)", "pairs packed, ceil(rho n)",
          [](std::size_t n, const std::vector<double>& ratios, int) { return ratio_points(n, ratios); },
          [](const OpInputs& in, const OpPoint& p) {
            auto s = std::make_shared<State>(State{in.backend, in.n, p.k, {in.backend, p.k}, {in.backend, p.k},
                                                   {in.backend, kernels::wire_bytes(in.n, p.k)}});
            in.backend.topk(in.x.data(), in.n, p.k, s->values.data(), s->indices.data());
            return prepared<State>(
                s, [](State& t) { t.b.pack(t.values.data(), t.indices.data(), t.k, t.n, t.wire.data()); });
          }};
}

}  // namespace gcsim::calib
