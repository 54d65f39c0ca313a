// Summary statistics of repeated timings: median (the figure we fit) and the
// spread around it.
#pragma once

#include <vector>

namespace gcsim::calib {

struct Summary {
  double median = 0.0;
  double min = 0.0;
  double max = 0.0;
  // (max - min) / median: how far apart the repeats were (0 when all equal).
  double spread = 0.0;
  int count = 0;
};

// Throws std::invalid_argument on an empty sample.
Summary summarize(std::vector<double> samples);

}  // namespace gcsim::calib
