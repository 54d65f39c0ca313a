#include "sim/collectives/ring_allgather.h"

#include "sim/collectives/ring_pass.h"

namespace gcsim {

CollectiveCost ring_allgather(const Fabric& f, double m) {
  CollectiveCost c;
  if (f.P <= 1 || m <= 0) return c;
  const double steps = f.P - 1.0;
  c.time_s = steps * f.flat_link().time(m);
  c.bytes_sent = c.bytes_received = steps * m;
  return c;
}

std::unique_ptr<CollectiveSchedule> ring_allgather_schedule(const ScheduleContext& ctx, int P, double bytes_per_rank,
                                                            int chunks) {
  RingStage ring;
  ring.next.resize(P);
  for (int r = 0; r < P; ++r) ring.next[r] = (r + 1) % P;
  ring.steps = P - 1;
  ring.bytes = bytes_per_rank;
  ring.phase = "allgather";
  return std::make_unique<RingPassSchedule>(ctx.engine, ctx.network, ctx.alpha, "ring-allgather",
                                            std::vector<RingStage>{ring}, chunks);
}

}  // namespace gcsim
