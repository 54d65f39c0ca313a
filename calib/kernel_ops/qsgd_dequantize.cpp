// qsgd_dequantize: zero a dense buffer of n and dequantize-add `parts` 4-bit
// QSGD code buffers into it (Alistarh et al., NeurIPS 2017). Measured at 1 and
// at --parts parts. cost(n, parts n): n entries zeroed, parts x n decoded.
#include <cmath>

#include "calib/kernel_ops/kernel_op.h"
#include "kernels/quant_format.h"

namespace gcsim::calib {

std::vector<OpPoint> decode_points(std::size_t n, int parts);  // sign_decode.cpp

KernelOpSpec qsgd_dequantize_op() {
  struct State {
    kernels::Backend& b;
    std::size_t n;
    float norm;
    kernels::Buffer<float> dense;
    std::vector<kernels::Buffer<std::uint8_t>> codes;
  };
  return {"qsgd_dequantize", "dense entries zeroed", "entries decoded, parts x n",
          [](std::size_t n, const std::vector<double>&, int parts) { return decode_points(n, parts); },
          [](const OpInputs& in, const OpPoint& p) {
            kernels::Backend& b = in.backend;
            const auto norm = static_cast<float>(std::sqrt(b.sum_squares(in.x.data(), in.n)));
            auto s = std::make_shared<State>(State{b, in.n, norm, {b, in.n}, {}});
            for (int j = 0; j < p.parts; ++j) {
              s->codes.emplace_back(b, kernels::qsgd_bytes(in.n, 4));
              b.qsgd_quantize(in.x.data(), in.n, 4, norm, in.seed + static_cast<std::uint64_t>(j),
                              s->codes.back().data());
            }
            return prepared<State>(s, [](State& t) {
              t.dense.zero();
              for (const auto& c : t.codes) t.b.qsgd_dequantize_add(c.data(), t.n, 4, t.norm, t.dense.data());
            });
          }};
}

}  // namespace gcsim::calib
