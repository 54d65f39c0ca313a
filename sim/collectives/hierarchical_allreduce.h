// Hierarchical two-level allreduce (as in Horovod's hierarchical allreduce and
// NCCL's intra/inter split; Jia et al., "Highly scalable deep learning training
// system with mixed-precision", 2018): reduce-scatter inside each node (ring
// over G GPUs), then G concurrent ring allreduces across the M nodes, one per
// shard of n/G bytes, sharing the node's NICs, then allgather inside the node.
//   T = 2 (G-1) alpha_intra + 2 (G-1)/G n / B_intra
//     + 2 (M-1) alpha_inter + 2 (M-1)/M n / (nics * B_nic)
#pragma once

#include <memory>

#include "sim/collectives/collective_cost.h"
#include "sim/collectives/fabric.h"
#include "sim/collectives/schedule.h"

namespace gcsim {

CollectiveCost hierarchical_allreduce(const Fabric& f, double bytes);

// The schedule, ranks packed node by node (G per node): a ring reduce-scatter
// inside every node (G-1 steps of n/G), then G rings across the nodes, ring g
// joining local GPU g of every node (2(M-1) steps of n/(G M)), then a ring
// allgather inside every node (G-1 steps of n/G).
std::unique_ptr<CollectiveSchedule> hierarchical_allreduce_schedule(const ScheduleContext& ctx, int P, int G,
                                                                    double bytes, int chunks);

}  // namespace gcsim
