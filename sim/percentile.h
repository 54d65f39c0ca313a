// The q-quantile of a sample (0 <= q <= 1), linear between order statistics:
// the DES's p50/p99 iteration times and gcsim validate's medians and p90s.
#pragma once

#include <vector>

namespace gcsim {

// 0 for an empty sample.
double percentile(std::vector<double> v, double q);

}  // namespace gcsim
