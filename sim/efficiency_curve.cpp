#include "sim/efficiency_curve.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <stdexcept>

namespace gcsim {

EfficiencyCurve::EfficiencyCurve(std::vector<EfficiencyPoint> points) : points_(std::move(points)) {
  for (std::size_t i = 0; i < points_.size(); ++i) {
    const EfficiencyPoint& p = points_[i];
    const std::string at = "efficiency curve point " + std::to_string(i + 1);
    if (!(p.bytes > 0.0) || !std::isfinite(p.bytes)) throw std::invalid_argument(at + ": bytes must be > 0");
    if (!(p.efficiency > 0.0 && p.efficiency <= 1.0)) throw std::invalid_argument(at + ": efficiency must be in (0, 1]");
    if (i > 0 && !(p.bytes > points_[i - 1].bytes))
      throw std::invalid_argument(at + ": bytes must ascend (got " + std::to_string(p.bytes) + " after " +
                                  std::to_string(points_[i - 1].bytes) + ")");
  }
}

double EfficiencyCurve::at(double bytes) const {
  assert(!points_.empty());
  if (bytes <= points_.front().bytes) return points_.front().efficiency;
  if (bytes >= points_.back().bytes) return points_.back().efficiency;
  const auto hi = std::upper_bound(points_.begin(), points_.end(), bytes,
                                   [](double b, const EfficiencyPoint& p) { return b < p.bytes; });
  const EfficiencyPoint& a = *(hi - 1);
  const EfficiencyPoint& b = *hi;
  const double w = (bytes - a.bytes) / (b.bytes - a.bytes);
  const double per_byte = (1.0 - w) * (a.bytes / a.efficiency) + w * (b.bytes / b.efficiency);  // s / e, interpolated
  return std::min(1.0, bytes / per_byte);
}

}  // namespace gcsim
