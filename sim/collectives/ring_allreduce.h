// Ring allreduce: reduce-scatter then allgather around a ring of P ranks, each
// in P-1 steps of n/P bytes (Patarasuk & Yuan, "Bandwidth optimal all-reduce
// algorithms for clusters of workstations", JPDC 2009; NCCL's ring).
//   T = 2(P-1) * alpha + 2(P-1)/P * n / B
#pragma once

#include <memory>

#include "sim/collectives/collective_cost.h"
#include "sim/collectives/fabric.h"
#include "sim/collectives/schedule.h"

namespace gcsim {

CollectiveCost ring_allreduce(const Fabric& f, double bytes);

// The schedule: one ring over ranks 0..P-1, 2(P-1) steps of n/P bytes
// (reduce-scatter, then allgather), each step's message in `chunks` pieces.
std::unique_ptr<CollectiveSchedule> ring_allreduce_schedule(const ScheduleContext& ctx, int P, double bytes,
                                                            int chunks);

}  // namespace gcsim
