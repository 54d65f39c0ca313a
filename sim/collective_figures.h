// What the collective library costs beyond the wire, for one algorithm family:
// the fixed cost of launching a collective, and per link class (inside a
// node, between nodes) the per-message software overhead alpha and the
// fraction of the line rate a large message reaches. A profile holds one set
// as its defaults ([collective]) and may hold fitted sets per family
// ([collective.ring], [collective.tree]: `gcsim calibrate collectives` writes
// them, per link class, from Gloo or NCCL measurements). Which family a
// collective is charged by: sim/collectives/fabric.h.
#pragma once

namespace gcsim {

namespace family {
inline constexpr const char* ring = "ring";  // ring allreduce and allgather, the hierarchical exchange's rings
inline constexpr const char* tree = "tree";  // the double binary tree allreduce (NCCL_ALGO=Tree)
}  // namespace family

struct LinkClassFigures {
  double alpha_s = 0.0;     // per-message software overhead, added to the link's latency
  double efficiency = 1.0;  // achieved / line rate
};

struct CollectiveFigures {
  double launch_s = 0.0;  // once per collective
  LinkClassFigures intra, inter;
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
