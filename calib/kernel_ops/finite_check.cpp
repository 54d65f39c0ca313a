// finite_check: count the NaN and Inf of n floats, the check every codec
// makes of a gradient before it sends anything (compress/codec.h
// reject_non_finite; kernels/host_passes.h). cost(n, 0). A host pass: timed on
// this machine's CPU, in host memory, whatever the backend.
#include "kernels/host_passes.h"
#include "calib/kernel_ops/kernel_op.h"

namespace gcsim::calib {

KernelOpSpec finite_check_op() {
  struct State {
    std::vector<float> x;
    std::size_t bad = 0;
  };
  return {"finite_check", "entries checked for NaN / Inf", "unused (0)",
          [](std::size_t, const std::vector<double>&, int) { return std::vector<OpPoint>{{}}; },
          [](const OpInputs& in, const OpPoint&) {
            auto s = std::make_shared<State>(State{in.x.download(), 0});
            return prepared<State>(s, [](State& t) { t.bad += kernels::host::count_non_finite(t.x.data(), t.x.size()); });
          }};
}

}  // namespace gcsim::calib
