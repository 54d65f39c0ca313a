// What the collective library costs beyond the wire, for one algorithm family:
// the fixed cost of launching a collective, and per link class (inside a
// node, between nodes) the per-message software overhead alpha and the
// fraction of the line rate a large message reaches, and optionally that
// fraction measured size by size (sim/efficiency_curve.h). A profile holds one
// set as its defaults ([collective]) and may hold fitted sets per family
// ([collective.ring], [collective.tree], [collective.allgather]: `gcsim
// calibrate collectives` writes them, per link class, from Gloo or NCCL
// measurements). Which family a collective is charged by:
// sim/collectives/fabric.h and each phase's PhaseCollective::family.
#pragma once

#include <optional>

#include "sim/efficiency_curve.h"

namespace gcsim {

namespace family {
inline constexpr const char* ring = "ring";  // ring allreduce, the hierarchical exchange's reduction rings, and every
                                             // algorithm without a family of its own
inline constexpr const char* tree = "tree";  // the double binary tree allreduce (NCCL_ALGO=Tree)
inline constexpr const char* allgather = "allgather";  // ring allgather(v): the sparse exchanges' allgathers; a
                                                       // profile without [collective.allgather] charges it the ring's
inline constexpr const char* p2p = "p2p";  // gcsim's own point-to-point schedules (Communicator::sendrecv): the
                                           // hierarchical exchange's rings, recursive doubling, gTop-k's tree; a
                                           // profile without [collective.p2p] charges them the ring's
inline constexpr const char* half = "half";  // the ring allreduce of 2-byte elements (fp16 / bf16 compression):
                                             // over Gloo gcsim's half sum on the CPU; a profile without
                                             // [collective.half] charges it the ring's
// Every family, in the order a profile lists them.
inline constexpr const char* all[] = {ring, tree, allgather, p2p, half};
}  // namespace family

struct LinkClassFigures {
  double alpha_s = 0.0;     // per-message software overhead, added to the link's latency
  double efficiency = 1.0;  // achieved / line rate (a large message's)
  EfficiencyCurve curve;    // measured size by size; empty: `efficiency` at every size
  // The efficiency a collective of `bytes` reaches: the curve's where there is
  // one and bytes >= 0, else `efficiency`.
  double efficiency_at(double bytes) const { return bytes >= 0.0 && !curve.empty() ? curve.at(bytes) : efficiency; }
};

struct CollectiveFigures {
  double launch_s = 0.0;  // once per collective
  LinkClassFigures intra, inter;
  // The links between switches (a fat-tree's leaf uplinks): the efficiency a
  // flow reaches where such a link is its bottleneck (TCP's goodput through a
  // drop-tail switch queue is not what it reaches at its own NIC). alpha_s is
  // unused: a message pays its endpoints' overhead. Unset: they follow the
  // NICs (inter's efficiency).
  std::optional<LinkClassFigures> fabric;
  double fabric_efficiency_at(double bytes) const {
    return fabric ? fabric->efficiency_at(bytes) : inter.efficiency_at(bytes);
  }
};

// The per-message overhead a message pays: intra-node between two ranks of
// one node (rank r lives on node r / ranks_per_node), inter-node otherwise.
struct MessageOverhead {
  double intra_s = 0.0, inter_s = 0.0;
  int ranks_per_node = 1;
  MessageOverhead() = default;
  MessageOverhead(double both_s) : intra_s(both_s), inter_s(both_s) {}  // NOLINT: one figure for every message
  MessageOverhead(double intra, double inter, int per_node) : intra_s(intra), inter_s(inter), ranks_per_node(per_node) {}
  double of(int src, int dst) const { return src / ranks_per_node == dst / ranks_per_node ? intra_s : inter_s; }
};

}  // namespace gcsim
