// Measured per-layer compute of one zoo model at one batch: a profile's
// [layer_times.MODEL] section, written by tools/profile_model.py (PyTorch,
// CUDA events or the CPU clock) and read by config/layer_times_loader.h.
// When a scenario's model has one, sim/training/compute_time.cpp splits the
// step by these times instead of by FLOPs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gcsim {

struct MeasuredLayers {
  std::string model;    // zoo name (models/zoo.h), the section's key
  std::string where;    // "FILE: layer_times.MODEL", for messages
  int batch = 1;        // samples per step it was measured at
  std::string device;   // what it ran on, free text (e.g. "cpu (torch 1.13.1, 2 threads)")
  // The whole step, forward + backward of the full model (no optimizer),
  // timed on its own, without the per-layer instrumentation.
  double step_s = 0.0;
  // One entry per zoo layer, in the zoo's forward order (checked on load).
  std::vector<std::string> names;
  std::vector<std::int64_t> params;
  std::vector<double> forward_s;
  std::vector<double> backward_s;

  double forward_sum_s() const {
    double s = 0.0;
    for (const double t : forward_s) s += t;
    return s;
  }
  double backward_sum_s() const {
    double s = 0.0;
    for (const double t : backward_s) s += t;
    return s;
  }
};

}  // namespace gcsim
