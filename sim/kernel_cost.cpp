#include "sim/kernel_cost.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace gcsim {

double KernelCost::eval(double n, double k) const {
  const double f = fit(n, k);
  if (correction.empty() || !(f > 0.0)) return factor * f;
  if (f <= correction.front().first) return factor * f * correction.front().second;
  if (f >= correction.back().first) return factor * f * correction.back().second;
  const auto hi = std::upper_bound(correction.begin(), correction.end(), f,
                                   [](double x, const std::pair<double, double>& p) { return x < p.first; });
  const auto& [f0, c0] = *(hi - 1);
  const auto& [f1, c1] = *hi;
  const double w = std::log(f / f0) / std::log(f1 / f0);
  return factor * f * ((1.0 - w) * c0 + w * c1);
}

void KernelCost::set_measured(const std::vector<KernelPoint>& points) {
  std::vector<std::pair<double, double>> ratios;
  for (std::size_t i = 0; i < points.size(); ++i) {
    const KernelPoint& p = points[i];
    const std::string at = "measured point " + std::to_string(i + 1);
    if (!(p.n >= 0.0) || !(p.k >= 0.0) || !std::isfinite(p.n) || !std::isfinite(p.k))
      throw std::invalid_argument(at + ": n and k must be >= 0");
    if (!(p.seconds > 0.0) || !std::isfinite(p.seconds)) throw std::invalid_argument(at + ": seconds must be > 0");
    const double f = fit(p.n, p.k);
    if (!(f > 0.0)) throw std::invalid_argument(at + ": the fit is 0 there, so no ratio to it can be kept");
    ratios.emplace_back(f, p.seconds / f);
  }
  std::sort(ratios.begin(), ratios.end());
  correction.clear();
  for (std::size_t i = 0; i < ratios.size();) {  // equal fits: their mean ratio
    std::size_t j = i;
    double sum = 0.0;
    for (; j < ratios.size() && ratios[j].first <= ratios[i].first * (1.0 + 1e-12); ++j) sum += ratios[j].second;
    correction.emplace_back(ratios[i].first, sum / static_cast<double>(j - i));
    i = j;
  }
}

}  // namespace gcsim
