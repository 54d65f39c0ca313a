#include "sim/collectives/ring_allreduce.h"

#include "sim/collectives/ring_pass.h"

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

std::unique_ptr<CollectiveSchedule> ring_allreduce_schedule(const ScheduleContext& ctx, int P, double bytes,
                                                            int chunks) {
  RingStage ring;
  ring.next.resize(P);
  for (int r = 0; r < P; ++r) ring.next[r] = (r + 1) % P;
  ring.steps = 2 * (P - 1);
  ring.bytes = bytes / P;
  ring.phase = "reduce-scatter";
  ring.phase_after = "allgather";
  ring.split = P - 1;
  return std::make_unique<RingPassSchedule>(ctx.engine, ctx.network, ctx.alpha, "ring",
                                            std::vector<RingStage>{ring}, chunks);
}

}  // namespace gcsim
