// Parameter server (Li et al., "Scaling distributed machine learning with the
// parameter server", OSDI 2014), with S server ranks colocated on workers
// 0..S-1, each owning a 1/S shard: every rank pushes shard j (n/S bytes) to
// server j, each server sums the P contributions and every rank pulls the
// shards back. A server's link carries P-1 shards in each phase, the bottleneck
// whenever S < P:
//   T = 2 * (alpha + (P-1)/S * n / B)
// Bytes per rank, averaged: 2 (P-1)/P * n, as ring allreduce, but all through
// S links instead of spread over P.
#pragma once

#include <memory>

#include "sim/collectives/collective_cost.h"
#include "sim/collectives/fabric.h"
#include "sim/collectives/schedule.h"

namespace gcsim {

CollectiveCost parameter_server(const Fabric& f, double bytes, int servers);

// The schedule: pushes start at once; server j pulls back when all P-1 pushes
// reached it; a rank is done when it has every shard.
std::unique_ptr<CollectiveSchedule> parameter_server_schedule(const ScheduleContext& ctx, int P, double bytes,
                                                              int servers);

}  // namespace gcsim
