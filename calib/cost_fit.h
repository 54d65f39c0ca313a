// Fitting a kernel's cost curve, cost(n, k) = alpha + beta n + gamma k, to
// measured medians (the profile's KernelCost, sim/profile.h).
//
// The measurements span four decades of n, so ordinary least squares would
// fit only the largest sizes. We minimise the squared RELATIVE error instead
// (weighted least squares, weights 1 / t^2), subject to alpha, beta, gamma >= 0
// (a profile holds no negative costs): the 3-parameter non-negative problem is
// solved exactly by trying every subset of free coefficients and keeping the
// best feasible one (Lawson & Hanson, "Solving Least Squares Problems", ch. 23,
// is the general method; with three unknowns enumeration is simpler and exact).
//
// Quality: r2 is the weighted coefficient of determination
// 1 - sum w (t - fit)^2 / sum w (t - mean_w t)^2, and max_rel_error the worst
// |fit - t| / t over the points.
#pragma once

#include <vector>

namespace gcsim::calib {

struct CostPoint {
  double n = 0.0;   // elements processed
  double k = 0.0;   // entries selected / moved
  double t = 0.0;   // seconds (median), > 0
};

struct CostFit {
  double alpha_s = 0.0;
  double per_element_s = 0.0;
  double per_selected_s = 0.0;
  double r2 = 0.0;
  double max_rel_error = 0.0;
  int points = 0;

  double eval(double n, double k) const { return alpha_s + per_element_s * n + per_selected_s * k; }
};

// Throws std::invalid_argument for no points or a non-positive time.
CostFit fit_cost(const std::vector<CostPoint>& points);

}  // namespace gcsim::calib
