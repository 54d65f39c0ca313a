// Ring allgather(v): each of P ranks contributes m bytes (here a Top-K
// payload of k (value, index) pairs) and every rank ends with all P
// contributions, in P-1 steps that each forward one block to the next rank.
//   T = (P-1) * alpha + (P-1) * m / B
// Each rank receives (P-1) m bytes: unlike allreduce, this grows with P, so
// sparse exchange loses to dense allreduce once P*rho*(4+idx)/4 > 2.
#pragma once

#include <memory>

#include "sim/collectives/collective_cost.h"
#include "sim/collectives/fabric.h"
#include "sim/collectives/schedule.h"

namespace gcsim {

CollectiveCost ring_allgather(const Fabric& f, double bytes_per_rank);

// The schedule: P-1 steps; in step s rank r forwards the block it received in
// step s-1 (its own in step 0) to r+1.
std::unique_ptr<CollectiveSchedule> ring_allgather_schedule(const ScheduleContext& ctx, int P, double bytes_per_rank,
                                                            int chunks);

}  // namespace gcsim
