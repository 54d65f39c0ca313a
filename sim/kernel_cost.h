// A compression kernel's cost, as a profile holds it (sim/profile.h):
//   fit(n, k) = alpha + per_element n + per_selected k            (seconds)
// fitted by `gcsim calibrate kernels` to the medians it measured
// (calib/cost_fit.h). A line over four decades of n misses the sizes where
// the caches run out: on a CPU the per-element cost of a 6M-entry Top-K is
// half again that of a 1M one. Where the profile also keeps the measured
// medians ([kernels.OP] measured = [{n, k, seconds}, ...]), the cost is the
// fit times the measured / fitted ratio, that ratio interpolated between the
// points (linearly in log fit(n, k), the fitted time standing for the size
// whatever n and k mean for the op) and held at the first and last point's
// beyond them:
//   eval(n, k) = factor fit(n, k) c(fit(n, k)),  c(fit(n_i, k_i)) = t_i / fit(n_i, k_i)
// so eval reproduces every measured point, and the fit's shape is kept
// between and beyond them. Points whose fit is equal share their mean ratio.
#pragma once

#include <utility>
#include <vector>

namespace gcsim {

struct KernelPoint {
  double n = 0.0, k = 0.0;  // the op's cost(n, k) arguments (>= 0)
  double seconds = 0.0;     // the measured median (> 0)
};

struct KernelCost {
  double alpha_s = 0.0;
  double per_element_s = 0.0;
  double per_selected_s = 0.0;
  // (fit seconds, measured / fit), fit ascending and distinct; empty: the fit alone.
  std::vector<std::pair<double, double>> correction;
  double factor = 1.0;  // on the whole cost: scaled()

  // The same kernel taking `f` times as long (kernels sharing cores: sim/training/kernel_sharing.h).
  KernelCost scaled(double f) const {
    KernelCost c = *this;
    c.factor *= f;
    return c;
  }

  double fit(double n, double k) const { return alpha_s + per_element_s * n + per_selected_s * k; }
  double eval(double n, double k) const;
  // Sets `correction` from measured medians; throws std::invalid_argument
  // naming the first point with a negative n or k, or a time not > 0, and when
  // the fit is 0 where a point was measured.
  void set_measured(const std::vector<KernelPoint>& points);
};

}  // namespace gcsim
