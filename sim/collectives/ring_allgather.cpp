#include "sim/collectives/ring_allgather.h"

namespace gcsim {

CollectiveCost ring_allgather(const Fabric& f, double m) {
  CollectiveCost c;
  if (f.P <= 1 || m <= 0) return c;
  const double steps = f.P - 1.0;
  c.time_s = steps * f.flat_link().time(m);
  c.bytes_sent = c.bytes_received = steps * m;
  return c;
}

}  // namespace gcsim
