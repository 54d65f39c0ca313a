// scale: x *= 1 / P over n floats, the division of a summed bucket by the
// ranks that ends every exchange (compress/codec.h divide_by_ranks;
// kernels/host_passes.h). cost(n, 0). A host pass: timed on this machine's
// CPU, in host memory, whatever the backend. x is restored before each
// repeat (untimed), so repeated scaling never reaches subnormals.
#include "kernels/host_passes.h"
#include "calib/kernel_ops/kernel_op.h"

namespace gcsim::calib {

KernelOpSpec scale_op() {
  struct State {
    std::vector<float> original, x;
  };
  return {"scale", "entries scaled, x *= 1 / P", "unused (0)",
          [](std::size_t, const std::vector<double>&, int) { return std::vector<OpPoint>{{}}; },
          [](const OpInputs& in, const OpPoint&) {
            auto s = std::make_shared<State>(State{in.x.download(), {}});
            s->x = s->original;
            return prepared<State>(
                s, [](State& t) { kernels::host::scale(t.x.data(), t.x.size(), 0.25f); },
                [](State& t) { t.x = t.original; });
          }};
}

}  // namespace gcsim::calib
