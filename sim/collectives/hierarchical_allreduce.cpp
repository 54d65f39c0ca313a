#include "sim/collectives/hierarchical_allreduce.h"

namespace gcsim {

CollectiveCost hierarchical_allreduce(const Fabric& f, double bytes) {
  CollectiveCost c;
  if (f.P <= 1 || bytes <= 0) return c;
  const double G = f.G;
  const double M = f.M;
  double t = 0.0;
  if (f.G > 1) t += 2.0 * (G - 1.0) * f.intra.time(bytes / G);  // reduce-scatter + allgather
  if (f.M > 1) {
    const double shard = bytes / G;
    const double per_ring = f.inter.bytes_per_s * f.nics / G;  // G rings share the NICs
    t += 2.0 * (M - 1.0) * (f.inter.alpha_s + (shard / M) / per_ring);
  }
  c.time_s = t;
  c.bytes_sent = c.bytes_received = 2.0 * (G - 1.0) / G * bytes + 2.0 * (M - 1.0) / M * bytes / G;
  return c;
}

}  // namespace gcsim
