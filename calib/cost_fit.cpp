#include "calib/cost_fit.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace gcsim::calib {

namespace {

using Vec3 = std::array<double, 3>;

Vec3 features(const CostPoint& p) { return {1.0, p.n, p.k}; }

// Weighted least squares over the coefficients in `mask` (others fixed at 0).
// Columns are scaled to unit weighted norm before solving the normal
// equations, which keeps them well conditioned across n ~ 1e4 .. 1e8.
// Returns false when the active columns are (numerically) dependent.
bool solve_subset(const std::vector<CostPoint>& pts, unsigned mask, Vec3& coef) {
  std::array<int, 3> cols{};
  int m = 0;
  for (int j = 0; j < 3; ++j)
    if (mask & (1u << j)) cols[static_cast<std::size_t>(m++)] = j;
  coef = {0.0, 0.0, 0.0};
  if (m == 0) return true;

  Vec3 scale{};
  for (int a = 0; a < m; ++a) {
    double s = 0.0;
    for (const auto& p : pts) {
      const double x = features(p)[static_cast<std::size_t>(cols[static_cast<std::size_t>(a)])] / p.t;
      s += x * x;
    }
    if (s <= 0.0) return false;
    scale[static_cast<std::size_t>(a)] = 1.0 / std::sqrt(s);
  }
  // Normal equations A x = b on the scaled weighted columns (rows f_j / t, target 1).
  double A[3][4] = {};
  for (const auto& p : pts) {
    const Vec3 f = features(p);
    for (int a = 0; a < m; ++a) {
      const auto ua = static_cast<std::size_t>(a);
      const double xa = f[static_cast<std::size_t>(cols[ua])] * scale[ua] / p.t;
      for (int b = 0; b < m; ++b) {
        const auto ub = static_cast<std::size_t>(b);
        A[a][b] += xa * f[static_cast<std::size_t>(cols[ub])] * scale[ub] / p.t;
      }
      A[a][3] += xa;  // times target t / t = 1
    }
  }
  // Gaussian elimination with partial pivoting.
  for (int c = 0; c < m; ++c) {
    int piv = c;
    for (int r = c + 1; r < m; ++r)
      if (std::fabs(A[r][c]) > std::fabs(A[piv][c])) piv = r;
    if (std::fabs(A[piv][c]) < 1e-12) return false;
    for (int j = 0; j < 4; ++j) std::swap(A[c][j], A[piv][j]);
    for (int r = 0; r < m; ++r) {
      if (r == c) continue;
      const double f = A[r][c] / A[c][c];
      for (int j = c; j < 4; ++j) A[r][j] -= f * A[c][j];
    }
  }
  for (int a = 0; a < m; ++a) {
    const auto ua = static_cast<std::size_t>(a);
    coef[static_cast<std::size_t>(cols[ua])] = A[a][3] / A[a][a] * scale[ua];
  }
  return true;
}

double weighted_sse(const std::vector<CostPoint>& pts, const Vec3& c) {
  double s = 0.0;
  for (const auto& p : pts) {
    const double r = (c[0] + c[1] * p.n + c[2] * p.k - p.t) / p.t;
    s += r * r;
  }
  return s;
}

}  // namespace

CostFit fit_cost(const std::vector<CostPoint>& points) {
  if (points.empty()) throw std::invalid_argument("fit_cost: no points");
  for (const auto& p : points)
    if (!(p.t > 0.0) || !std::isfinite(p.t) || p.n < 0.0 || p.k < 0.0)
      throw std::invalid_argument("fit_cost: each point needs t > 0 and n, k >= 0");

  Vec3 best{};
  double best_sse = std::numeric_limits<double>::infinity();
  for (unsigned mask = 1; mask < 8; ++mask) {
    Vec3 c;
    if (!solve_subset(points, mask, c)) continue;
    if (c[0] < 0.0 || c[1] < 0.0 || c[2] < 0.0) continue;
    const double sse = weighted_sse(points, c);
    if (sse < best_sse) {
      best_sse = sse;
      best = c;
    }
  }
  // mask = 1 (alpha alone) always solves, with alpha > 0, so best is set.

  CostFit fit;
  fit.alpha_s = best[0];
  fit.per_element_s = best[1];
  fit.per_selected_s = best[2];
  fit.points = static_cast<int>(points.size());
  double wsum = 0.0, wt = 0.0;
  for (const auto& p : points) {
    const double w = 1.0 / (p.t * p.t);
    wsum += w;
    wt += w * p.t;
  }
  const double mean = wt / wsum;
  double ss_tot = 0.0;
  for (const auto& p : points) {
    const double d = (p.t - mean) / p.t;
    ss_tot += d * d;
    fit.max_rel_error = std::max(fit.max_rel_error, std::fabs(fit.eval(p.n, p.k) - p.t) / p.t);
  }
  fit.r2 = ss_tot > 0.0 ? 1.0 - best_sse / ss_tot : (best_sse == 0.0 ? 1.0 : 0.0);
  return fit;
}

}  // namespace gcsim::calib
