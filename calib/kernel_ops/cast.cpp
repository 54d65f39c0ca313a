// cast: PyTorch DDP's fp16_compress_hook round trip: to_half (fp16, scale 1)
// of x, then from_half of the result, as a hook does once per bucket.
// cost(n, 0): n entries; k is unused.
#include "calib/kernel_ops/kernel_op.h"

namespace gcsim::calib {

KernelOpSpec cast_op() {
  struct State {
    kernels::Backend& b;
    const float* x;
    std::size_t n;
    kernels::Buffer<std::uint16_t> half;
    kernels::Buffer<float> back;
  };
  return {"cast", "entries cast to fp16 and back", "unused (0)",
          [](std::size_t, const std::vector<double>&, int) { return std::vector<OpPoint>{{}}; },
          [](const OpInputs& in, const OpPoint&) {
            auto s = std::make_shared<State>(State{in.backend, in.x.data(), in.n, {in.backend, in.n}, {in.backend, in.n}});
            return prepared<State>(s, [](State& t) {
              t.b.to_half(t.x, t.n, 1.0f, kernels::HalfFormat::Fp16, t.half.data());
              t.b.from_half(t.half.data(), t.n, kernels::HalfFormat::Fp16, t.back.data());
            });
          }};
}

}  // namespace gcsim::calib
