#include "sim/training/kernel_sharing.h"

#include <algorithm>

namespace gcsim {

double kernel_sharing_factor(const Scenario& s) {
  if (s.compute.cores_per_host <= 0) return 1.0;
  const int hosts = s.compute.hosts > 0 ? s.compute.hosts : s.cluster.nodes();
  const int per_host = (s.cluster.workers + hosts - 1) / hosts;
  return std::max(1.0, static_cast<double>(per_host) / s.compute.cores_per_host);
}

}  // namespace gcsim
