#include "sim/collectives/two_level_rings.h"

#include "sim/collectives/ring_pass.h"

namespace gcsim {

CollectiveCost intra_node_ring(const Fabric& f, double bytes) {
  CollectiveCost c;
  if (f.G <= 1 || bytes <= 0) return c;
  const double G = f.G;
  c.time_s = (G - 1.0) * f.intra.time(bytes / G);
  c.bytes_sent = c.bytes_received = (G - 1.0) / G * bytes;
  return c;
}

CollectiveCost inter_node_allgather(const Fabric& f, double m) {
  CollectiveCost c;
  if (f.M <= 1 || m <= 0) return c;
  const double M = f.M;
  const double per_ring = f.inter.bytes_per_s * f.nics / f.G;  // G rings share the NICs
  c.time_s = (M - 1.0) * (f.inter.alpha_s + m / per_ring);
  c.bytes_sent = c.bytes_received = (M - 1.0) * m;
  return c;
}

std::unique_ptr<CollectiveSchedule> intra_node_ring_schedule(const ScheduleContext& ctx, int P, int G, double bytes,
                                                             int chunks, const std::string& phase) {
  RingStage ring;
  ring.next.resize(P);
  for (int r = 0; r < P; ++r) ring.next[r] = (r / G) * G + (r % G + 1) % G;
  ring.steps = G - 1;
  ring.bytes = bytes / G;
  ring.phase = phase;
  return std::make_unique<RingPassSchedule>(ctx.engine, ctx.network, ctx.alpha, phase, std::vector<RingStage>{ring},
                                            chunks);
}

std::unique_ptr<CollectiveSchedule> inter_node_allgather_schedule(const ScheduleContext& ctx, int P, int G,
                                                                  double bytes_per_rank, int chunks) {
  const int M = (P + G - 1) / G;
  RingStage ring;
  ring.next.resize(P);
  for (int r = 0; r < P; ++r) ring.next[r] = ((r / G + 1) % M) * G + r % G;
  ring.steps = M - 1;
  ring.bytes = bytes_per_rank;
  ring.phase = "inter-node allgather";
  return std::make_unique<RingPassSchedule>(ctx.engine, ctx.network, ctx.alpha, "inter-node-allgather",
                                            std::vector<RingStage>{ring}, chunks);
}

}  // namespace gcsim
