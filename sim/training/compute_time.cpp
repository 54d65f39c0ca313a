#include "sim/training/compute_time.h"

#include <string>

#include "config/input_error.h"

namespace gcsim {

namespace {

// The profile's measured layers for the scenario's model, or nullptr. The
// loader checked them against the zoo's model of that name; a custom model
// that borrows a zoo name but not its layers is refused here.
const MeasuredLayers* measured_layers(const Scenario& s) {
  const auto it = s.profile.layer_times.find(s.model.name);
  if (it == s.profile.layer_times.end()) return nullptr;
  const MeasuredLayers& m = it->second;
  bool same = m.params.size() == s.model.layers.size();
  for (std::size_t i = 0; same && i < m.params.size(); ++i)
    same = m.params[i] == s.model.layers[i].params && m.names[i] == s.model.layers[i].name;
  if (!same)
    throw InputError(m.where, "", "measured for the zoo's " + m.model + " (" + std::to_string(m.params.size()) +
                                      " layers), but the scenario's model '" + s.model.name +
                                      "' has other layers (" + std::to_string(s.model.layers.size()) + ")");
  return &m;
}

}  // namespace

ComputeTimes compute_times(const Scenario& s) {
  ComputeTimes t;
  const double total_params = static_cast<double>(s.model.total_params());
  t.optimizer_s = s.profile.kernel(op::optimizer).eval(total_params, 0.0);

  if (const MeasuredLayers* m = measured_layers(s)) {
    // The step: the scenario's forward_backward_ms when given, else the
    // measured whole step scaled linearly by batch. Split by the measured
    // per-layer times, normalized to that step.
    const double step = s.compute.forward_backward_s ? *s.compute.forward_backward_s
                                                     : m->step_s * s.batch_per_worker / m->batch;
    const double per_measured_s = step / (m->forward_sum_s() + m->backward_sum_s());
    t.forward_s = m->forward_sum_s() * per_measured_s;
    t.backward_layer_s.reserve(m->backward_s.size());
    for (const double b : m->backward_s) {
      t.backward_layer_s.push_back(b * per_measured_s);
      t.backward_s += t.backward_layer_s.back();
    }
    return t;
  }

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
  t.backward_layer_s.reserve(s.model.layers.size());
  for (const auto& l : s.model.layers) {
    const double share = total_flops > 0 ? l.forward_flops / total_flops : static_cast<double>(l.params) / total_params;
    t.backward_layer_s.push_back(t.backward_s * share);
  }
  return t;
}

}  // namespace gcsim
