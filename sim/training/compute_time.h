// Per-layer compute times of one worker's step.
// Either the scenario gives the whole step (forward_backward_ms), or it comes
// from a roofline: step FLOPs = 3 x forward FLOPs x batch (backward ~ 2x
// forward; Kaplan et al. 2020, "Scaling laws", section 2.1), divided by the
// GPU's peak FLOP/s x efficiency. Forward takes 1/3 of the step, backward 2/3,
// each split over layers by FLOPs (by parameters when no layer has FLOPs).
//
// Measured layers: when the profile has [layer_times.MODEL] for the
// scenario's model (tools/profile_model.py; sim/layer_times.h), the step is
// split by those times instead: forward = the sum of the measured forward
// times, each layer's backward its measured backward, all scaled by one
// factor so that they sum to the step. The step is then the scenario's
// forward_backward_ms when it gives one (the scenario wins on the total),
// else the measured whole step scaled linearly by batch
// (step_ms x batch_per_worker / batch): the roofline (gpu, efficiency) is not
// used. The optimizer step is the profile's optimizer kernel either way.
#pragma once

#include <vector>

#include "sim/scenario.h"

namespace gcsim {

struct ComputeTimes {
  double forward_s = 0.0;
  double backward_s = 0.0;
  double optimizer_s = 0.0;
  std::vector<double> backward_layer_s;  // per layer, forward order

  double step_s() const { return forward_s + backward_s + optimizer_s; }
};

ComputeTimes compute_times(const Scenario& s);

}  // namespace gcsim
