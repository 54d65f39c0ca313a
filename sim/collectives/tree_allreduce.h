// Double binary tree allreduce (Sanders, Speck & Traeff, "Two-tree algorithms
// for full bandwidth broadcast, reduction and scan", Parallel Computing 2009;
// NCCL >= 2.4). Two complementary binary trees each carry half the data; a rank
// is an inner node in at most one, so in the reduce and in the broadcast phase
// every rank sends and receives about n bytes. Pipelined over chunks, the
// bandwidth term is 2n/B and the latency term is one alpha per tree level per
// phase. Closed form (pipeline fill neglected):
//   T = 2 * ceil(log2 P) * alpha + 2 * n / B
#pragma once

#include "comm/rank_patterns.h"
#include "sim/collectives/collective_cost.h"
#include "sim/collectives/fabric.h"

namespace gcsim {

CollectiveCost tree_allreduce(const Fabric& f, double bytes);
// The schedule face: tree_schedule.h.

// ceil(log2(P)) for P >= 1 (comm/rank_patterns.h).
using comm::ceil_log2;

}  // namespace gcsim
