#include "sim/collectives/halving_doubling.h"

#include "comm/rank_patterns.h"

namespace gcsim {

CollectiveCost halving_doubling_allreduce(const Fabric& f, double bytes) {
  CollectiveCost c;
  if (f.P <= 1 || bytes <= 0) return c;
  const int pof2 = comm::floor_pow2(f.P);
  const int extra = f.P - pof2;

  double t = 0.0;
  double chunk = bytes;
  for (int d = 1; d < pof2; d *= 2) {
    chunk /= 2.0;
    t += 2.0 * f.pairwise_link(d).time(chunk);  // once halving, once doubling
  }
  if (extra > 0) t += 2.0 * f.pairwise_link(1).time(bytes);
  c.time_s = t;

  const double core_total = 2.0 * (pof2 - 1.0) * bytes;  // summed over the P' ranks
  const double extra_total = 2.0 * extra * bytes;         // hand-off and return
  c.bytes_sent = c.bytes_received = (core_total + extra_total) / f.P;
  return c;
}

}  // namespace gcsim
