#include "sim/training/compute_time.h"

namespace gcsim {

ComputeTimes compute_times(const Scenario& s) {
  ComputeTimes t;
  double step = 0.0;
  if (s.compute.forward_backward_s) {
    step = *s.compute.forward_backward_s;
  } else {
    const GpuEntry& gpu = s.profile.gpus.at(s.compute.gpu);
    step = 3.0 * s.model.forward_flops() * s.batch_per_worker / (gpu.peak_flops * s.compute.efficiency);
  }
  t.forward_s = step / 3.0;
  t.backward_s = step - t.forward_s;

  const double total_flops = s.model.forward_flops();
  const double total_params = static_cast<double>(s.model.total_params());
  t.backward_layer_s.reserve(s.model.layers.size());
  for (const auto& l : s.model.layers) {
    const double share = total_flops > 0 ? l.forward_flops / total_flops : static_cast<double>(l.params) / total_params;
    t.backward_layer_s.push_back(t.backward_s * share);
  }
  t.optimizer_s = s.profile.kernel(op::optimizer).eval(total_params, 0.0);
  return t;
}

}  // namespace gcsim
