// ef_add: g += e over n floats, keeping a copy of the sum: the first half of
// PowerSGD's error feedback (compress/powersgd.cpp; kernels/host_passes.h).
// cost(n, 0). A host pass: timed on this machine's CPU, in host memory,
// whatever the backend. g is restored before each repeat (untimed).
#include "kernels/host_passes.h"
#include "calib/kernel_ops/kernel_op.h"

namespace gcsim::calib {

KernelOpSpec ef_add_op() {
  struct State {
    std::vector<float> original, g, e, copy;
  };
  return {"ef_add", "entries of g and e, g += e and a copy kept", "unused (0)",
          [](std::size_t, const std::vector<double>&, int) { return std::vector<OpPoint>{{}}; },
          [](const OpInputs& in, const OpPoint&) {
            auto s = std::make_shared<State>();
            s->original = in.x.download();
            s->g = s->original;
            s->e.assign(s->original.rbegin(), s->original.rend());  // another N(0, 1) vector
            s->copy.resize(in.n);
            return prepared<State>(
                s, [](State& t) { kernels::host::ef_add(t.g.data(), t.e.data(), t.copy.data(), t.g.size()); },
                [](State& t) { t.g = t.original; });
          }};
}

}  // namespace gcsim::calib
