// scatter_add: zero a dense buffer of n, unpack `parts` wire buffers of k
// entries (different Random-K subsets of x) and scatter-add them.
// cost(n, parts k): n zeroed, parts x ceil(rho n) entries received.
#include "calib/kernel_ops/kernel_op.h"
#include "kernels/wire_format.h"

namespace gcsim::calib {

KernelOpSpec scatter_add_op() {
  struct State {
    kernels::Backend& b;
    std::size_t n, k;
    kernels::Buffer<float> dense;
    std::vector<kernels::Buffer<std::byte>> wires;
    std::vector<kernels::Buffer<float>> values;
    std::vector<kernels::Buffer<kernels::Index>> indices;
    std::vector<kernels::SparseRef> refs;
  };
  return {"scatter_add", "dense entries zeroed", "entries received, parts x ceil(rho n)",
          [](std::size_t n, const std::vector<double>& ratios, int parts) { return ratio_points(n, ratios, parts); },
          [](const OpInputs& in, const OpPoint& p) {
            kernels::Backend& b = in.backend;
            const std::size_t k = p.k / static_cast<std::size_t>(p.parts);
            auto s = std::make_shared<State>(State{b, in.n, k, {b, in.n}, {}, {}, {}, {}});
            for (int j = 0; j < p.parts; ++j) {
              s->wires.emplace_back(b, kernels::wire_bytes(in.n, k));
              s->values.emplace_back(b, k);
              s->indices.emplace_back(b, k);
              b.randomk(in.x.data(), in.n, k, in.seed + static_cast<std::uint64_t>(j), s->values.back().data(),
                        s->indices.back().data());
              b.pack(s->values.back().data(), s->indices.back().data(), k, in.n, s->wires.back().data());
            }
            for (std::size_t j = 0; j < s->values.size(); ++j)
              s->refs.push_back({s->values[j].data(), s->indices[j].data(), k});
            return prepared<State>(s, [](State& t) {
              t.dense.zero();
              const std::size_t bytes = kernels::wire_bytes(t.n, t.k);
              for (std::size_t j = 0; j < t.wires.size(); ++j)
                t.b.unpack(t.wires[j].data(), bytes, t.n, t.values[j].data(), t.indices[j].data());
              t.b.scatter_add(t.refs.data(), t.refs.size(), t.dense.data(), t.n);
            });
          }};
}

}  // namespace gcsim::calib
