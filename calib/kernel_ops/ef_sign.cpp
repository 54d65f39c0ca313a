// ef_sign: EF-signSGD's compression (Karimireddy et al., ICML 2019): p = g + e,
// scale = ||p||_1 / n, the sign bits, e = p - scale sign(p). e is zeroed
// before each repeat. cost(n, 0): n entries; k is unused.
#include "calib/kernel_ops/kernel_op.h"
#include "kernels/quant_format.h"

namespace gcsim::calib {

KernelOpSpec ef_sign_op() {
  struct State {
    kernels::Backend& b;
    const float* g;
    std::size_t n;
    kernels::Buffer<float> e;
    kernels::Buffer<std::uint8_t> bits;
  };
  return {"ef_sign", "entries of g and e", "unused (0)",
          [](std::size_t, const std::vector<double>&, int) { return std::vector<OpPoint>{{}}; },
          [](const OpInputs& in, const OpPoint&) {
            auto s = std::make_shared<State>(
                State{in.backend, in.x.data(), in.n, {in.backend, in.n}, {in.backend, kernels::sign_bytes(in.n)}});
            return prepared<State>(
                s, [](State& t) { t.b.ef_sign(t.g, t.e.data(), t.n, t.bits.data()); }, [](State& t) { t.e.zero(); });
          }};
}

}  // namespace gcsim::calib
