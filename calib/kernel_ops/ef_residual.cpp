// ef_residual: e = copy - g over n floats, what the exchange did not deliver:
// the second half of PowerSGD's error feedback (compress/powersgd.cpp;
// kernels/host_passes.h). cost(n, 0). A host pass: timed on this machine's
// CPU, in host memory, whatever the backend.
#include "kernels/host_passes.h"
#include "calib/kernel_ops/kernel_op.h"

namespace gcsim::calib {

KernelOpSpec ef_residual_op() {
  struct State {
    std::vector<float> copy, g, e;
  };
  return {"ef_residual", "entries, e = copy - g", "unused (0)",
          [](std::size_t, const std::vector<double>&, int) { return std::vector<OpPoint>{{}}; },
          [](const OpInputs& in, const OpPoint&) {
            auto s = std::make_shared<State>();
            s->copy = in.x.download();
            s->g.assign(s->copy.rbegin(), s->copy.rend());
            s->e.resize(in.n);
            return prepared<State>(
                s, [](State& t) { kernels::host::ef_residual(t.copy.data(), t.g.data(), t.e.data(), t.e.size()); });
          }};
}

}  // namespace gcsim::calib
