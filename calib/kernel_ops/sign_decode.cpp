// sign_decode: zero a dense buffer of n and decode-add `parts` sign buffers
// into it (sign_decode_add, EF-signSGD's receive side; Karimireddy et al.,
// ICML 2019). Measured at 1 and at --parts parts, so that the fit separates
// the two terms. cost(n, parts n): n entries zeroed, parts x n entries decoded.
#include "calib/kernel_ops/kernel_op.h"
#include "kernels/quant_format.h"

namespace gcsim::calib {

std::vector<OpPoint> decode_points(std::size_t n, int parts) {
  std::vector<OpPoint> out = {{0.0, n, 1}};
  if (parts > 1) out.push_back({0.0, n * static_cast<std::size_t>(parts), parts});
  return out;
}

KernelOpSpec sign_decode_op() {
  struct State {
    kernels::Backend& b;
    std::size_t n;
    kernels::Buffer<float> dense;
    std::vector<kernels::Buffer<std::uint8_t>> bits;
    std::vector<float> scales;
  };
  return {"sign_decode", "dense entries zeroed", "entries decoded, parts x n",
          [](std::size_t n, const std::vector<double>&, int parts) { return decode_points(n, parts); },
          [](const OpInputs& in, const OpPoint& p) {
            kernels::Backend& b = in.backend;
            auto s = std::make_shared<State>(State{b, in.n, {b, in.n}, {}, {}});
            for (int j = 0; j < p.parts; ++j) {
              s->bits.emplace_back(b, kernels::sign_bytes(in.n));
              s->scales.push_back(b.ef_sign(in.x.data(), nullptr, in.n, s->bits.back().data()));
            }
            return prepared<State>(s, [](State& t) {
              t.dense.zero();
              for (std::size_t j = 0; j < t.bits.size(); ++j)
                t.b.sign_decode_add(t.bits[j].data(), t.n, t.scales[j], t.dense.data());
            });
          }};
}

}  // namespace gcsim::calib
