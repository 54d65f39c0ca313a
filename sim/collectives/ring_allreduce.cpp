#include "sim/collectives/ring_allreduce.h"

namespace gcsim {

CollectiveCost ring_allreduce(const Fabric& f, double bytes) {
  CollectiveCost c;
  if (f.P <= 1 || bytes <= 0) return c;
  const double P = f.P;
  const LinkParams link = f.flat_link();
  c.time_s = 2.0 * (P - 1.0) * link.time(bytes / P);
  c.bytes_sent = c.bytes_received = 2.0 * (P - 1.0) / P * bytes;
  return c;
}

}  // namespace gcsim
