#include "sim/collectives/hierarchical_allreduce.h"

#include "sim/collectives/ring_pass.h"

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

std::unique_ptr<CollectiveSchedule> hierarchical_allreduce_schedule(const ScheduleContext& ctx, int P, int G,
                                                                    double bytes, int chunks) {
  const int M = (P + G - 1) / G;
  RingStage intra;
  intra.next.resize(P);
  RingStage inter;
  inter.next.resize(P);
  for (int r = 0; r < P; ++r) {
    const int node = r / G;
    const int g = r % G;
    intra.next[r] = node * G + (g + 1) % G;
    inter.next[r] = ((node + 1) % M) * G + g;
  }
  intra.steps = G - 1;
  intra.bytes = bytes / G;
  inter.steps = 2 * (M - 1);
  inter.bytes = bytes / G / M;
  inter.phase = "inter-node reduce-scatter";
  inter.phase_after = "inter-node allgather";
  inter.split = M - 1;
  RingStage gather = intra;
  intra.phase = "intra-node reduce-scatter";
  gather.phase = "intra-node allgather";
  return std::make_unique<RingPassSchedule>(ctx.engine, ctx.network, ctx.alpha, "hierarchical",
                                            std::vector<RingStage>{intra, inter, gather}, chunks);
}

}  // namespace gcsim
