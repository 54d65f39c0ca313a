// Hierarchical two-level allreduce (as in Horovod's hierarchical allreduce and
// NCCL's intra/inter split; Jia et al., "Highly scalable deep learning training
// system with mixed-precision", 2018): reduce-scatter inside each node (ring
// over G GPUs), then G concurrent ring allreduces across the M nodes, one per
// shard of n/G bytes, sharing the node's NICs, then allgather inside the node.
//   T = 2 (G-1) alpha_intra + 2 (G-1)/G n / B_intra
//     + 2 (M-1) alpha_inter + 2 (M-1)/M n / (nics * B_nic)
#pragma once

#include "sim/collectives/collective_cost.h"
#include "sim/collectives/fabric.h"

namespace gcsim {

CollectiveCost hierarchical_allreduce(const Fabric& f, double bytes);

}  // namespace gcsim
