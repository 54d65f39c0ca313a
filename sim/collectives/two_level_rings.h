// The rings of the hierarchical sparse exchange (compress/exchange/hierarchical.cpp),
// on ranks packed node by node (G per node, M nodes), both faces each:
//
//   intra-node ring (reduce-scatter or allgather of a buffer of n bytes, in
//   every node at once): G - 1 steps of n / G over the intra-node link,
//     T = (G - 1) (alpha_intra + (n / G) / B_intra)
//   inter-node ring allgather (local rank l of every node: G rings at once,
//   sharing the node's NICs), each rank contributing m bytes:
//     T = (M - 1) (alpha_inter + m / (nics B_nic / G))
//
// The same terms as the hierarchical allreduce's intra-node and inter-node
// stages (sim/collectives/hierarchical_allreduce.h).
#pragma once

#include <memory>
#include <string>

#include "sim/collectives/collective_cost.h"
#include "sim/collectives/fabric.h"
#include "sim/collectives/schedule.h"

namespace gcsim {

CollectiveCost intra_node_ring(const Fabric& f, double bytes);
CollectiveCost inter_node_allgather(const Fabric& f, double bytes_per_rank);

// phase: "intra-node reduce-scatter" or "intra-node allgather".
std::unique_ptr<CollectiveSchedule> intra_node_ring_schedule(const ScheduleContext& ctx, int P, int G, double bytes,
                                                             int chunks, const std::string& phase);
std::unique_ptr<CollectiveSchedule> inter_node_allgather_schedule(const ScheduleContext& ctx, int P, int G,
                                                                  double bytes_per_rank, int chunks);

}  // namespace gcsim
