// The network as the closed-form (alpha-beta) collectives see it: two link
// classes (inside a node, between nodes) with alpha = the collective
// library's per-message software overhead + the link's one-way latency, and
// beta = 1 / (line rate x achieved efficiency).
//
// Model: Hockney's alpha-beta point-to-point cost T(m) = alpha + m / B, as
// used by Thakur, Rabenseifner & Gropp, "Optimization of Collective
// Communication Operations in MPICH" (IJHPCA 2005). Links are full duplex, so
// a rank can send and receive m bytes at the same time in T(m).
//
// The library's figures (launch, overhead, efficiency) are the profile's for
// the ring family; tree() is the same fabric charged the tree family's (the
// profile's [collective.tree], where it has one: NCCL's tree reaches another
// bandwidth and pays another overhead than its ring). Every other algorithm
// is charged the ring family's figures, which are the profile's defaults
// unless it has [collective.ring].
#pragma once

#include <optional>

#include "sim/profile.h"
#include "sim/scenario.h"

namespace gcsim {

struct LinkParams {
  double alpha_s = 0.0;
  double bytes_per_s = 0.0;
  double time(double bytes) const { return alpha_s + bytes / bytes_per_s; }
};

// The family whose figures a collective of algorithm `a` pays: the tree
// allreduce the tree's, every other algorithm the ring's.
inline const char* charged_family(Algorithm a) { return a == Algorithm::Tree ? family::tree : family::ring; }

struct Fabric {
  int P = 1;       // ranks
  int G = 1;       // ranks per node (packed node by node: rank r lives on node r / G)
  int M = 1;       // nodes
  int nics = 1;    // NICs per node
  LinkParams intra;  // GPU <-> GPU inside a node
  LinkParams inter;  // one NIC
  double launch_s = 0.0;     // the library's fixed cost per collective
  MessageOverhead overhead;  // its per-message software alpha per link class (what the DES adds)

  // What tree() swaps in: make_fabric sets it where the profile has
  // [collective.tree]; without it the tree is charged as every other algorithm.
  struct Figures {
    LinkParams intra, inter;
    double launch_s = 0.0;
    MessageOverhead overhead;
  };
  std::optional<Figures> tree_figures;
  // The same fabric with the tree family's figures.
  Fabric tree() const;
  // The fabric a collective of algorithm `a` is charged on: tree() for the
  // tree allreduce, this one for every other (charged_family's rule).
  Fabric charged(Algorithm a) const { return charged_family(a) == family::tree ? tree() : *this; }

  bool multi_node() const { return M > 1; }
  // The link a flat algorithm (ring, tree, allgather) is charged per message:
  // the intra-node link on one node; otherwise the slowest class it crosses.
  // A flat ring crosses each node boundary once per direction, so it can
  // stripe over all NICs (NCCL opens one ring per NIC).
  LinkParams flat_link() const;
  // Whether ranks r and r XOR d sit on different nodes for some r.
  bool crosses_nodes(int distance) const;
  // How many ranks of one node send over the NICs at once when every rank
  // exchanges with r XOR d (at least 1 when crosses_nodes(d)).
  int crossing_ranks_per_node(int distance) const;
  // The link for an exchange between r and r XOR d, all ranks at once.
  LinkParams pairwise_link(int distance) const;
};

Fabric make_fabric(const ClusterSpec& cluster, const Profile& profile);



}  // namespace gcsim
