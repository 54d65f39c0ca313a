// qsgd_quantize: QSGD's compression (Alistarh et al., NeurIPS 2017) at 4 bits:
// norm = sqrt(sum_squares(x)), then qsgd_quantize with a fresh seed each call.
// cost(n, 0): n entries (read twice); k is unused. The op is bandwidth-bound,
// so 2 and 8 bits (1/4 and 1 B of codes per entry instead of 1/2) differ little.
#include <cmath>

#include "calib/kernel_ops/kernel_op.h"
#include "kernels/quant_format.h"

namespace gcsim::calib {

KernelOpSpec qsgd_quantize_op() {
  struct State {
    kernels::Backend& b;
    const float* x;
    std::size_t n;
    std::uint64_t seed;
    kernels::Buffer<std::uint8_t> codes;
  };
  return {"qsgd_quantize", "entries of x", "unused (0)",
          [](std::size_t, const std::vector<double>&, int) { return std::vector<OpPoint>{{}}; },
          [](const OpInputs& in, const OpPoint&) {
            auto s = std::make_shared<State>(
                State{in.backend, in.x.data(), in.n, in.seed, {in.backend, kernels::qsgd_bytes(in.n, 4)}});
            return prepared<State>(s, [](State& t) {
              const auto norm = static_cast<float>(std::sqrt(t.b.sum_squares(t.x, t.n)));
              t.b.qsgd_quantize(t.x, t.n, 4, norm, ++t.seed, t.codes.data());
            });
          }};
}

}  // namespace gcsim::calib
