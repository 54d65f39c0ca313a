#include "calib/stats.h"

#include <algorithm>
#include <stdexcept>

namespace gcsim::calib {

Summary summarize(std::vector<double> samples) {
  if (samples.empty()) throw std::invalid_argument("summarize: no samples");
  std::sort(samples.begin(), samples.end());
  const std::size_t m = samples.size();
  Summary s;
  s.count = static_cast<int>(m);
  s.min = samples.front();
  s.max = samples.back();
  s.median = m % 2 ? samples[m / 2] : 0.5 * (samples[m / 2 - 1] + samples[m / 2]);
  s.spread = s.median > 0.0 ? (s.max - s.min) / s.median : 0.0;
  return s;
}

}  // namespace gcsim::calib
