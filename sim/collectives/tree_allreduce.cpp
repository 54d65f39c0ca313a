#include "sim/collectives/tree_allreduce.h"

namespace gcsim {

CollectiveCost tree_allreduce(const Fabric& f, double bytes) {
  CollectiveCost c;
  if (f.P <= 1 || bytes <= 0) return c;
  const LinkParams link = f.tree().flat_link();  // the tree family's figures
  c.time_s = 2.0 * ceil_log2(f.P) * link.alpha_s + 2.0 * bytes / link.bytes_per_s;
  // Each of the P-1 tree edges carries n/2 per tree in each phase: 2(P-1)n in all.
  c.bytes_sent = c.bytes_received = 2.0 * (f.P - 1.0) / f.P * bytes;
  return c;
}

}  // namespace gcsim
