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
// the ring family; charged(family) is the same fabric charged another
// family's (the profile's [collective.tree], [collective.allgather], where it
// has them: NCCL's tree, or Gloo's allgather, reaches another bandwidth and
// pays another overhead than the ring). A family without its own section is
// charged the ring's, which are the profile's defaults unless it has
// [collective.ring]. sized(bytes) evaluates every family at one collective's
// size, where the profile measured efficiency size by size
// (sim/efficiency_curve.h); unsized, a family charges a large message's.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

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
  // A NIC port's worth of the links between switches (a fat-tree's uplinks
  // are its leaf's ports' worth / oversubscription): the line rate at the
  // family's fabric efficiency; a family without one keeps the ring's, and a
  // ring without one the NIC's. Only the DES's switch-to-switch links use it;
  // the closed forms see no switches.
  double fabric_bytes_per_s = 0.0;
  double launch_s = 0.0;     // the library's fixed cost per collective
  MessageOverhead overhead;  // its per-message software alpha per link class (what the DES adds)

  // Every family's figures on this cluster, as make_fabric reads them from
  // the profile, with what they are evaluated on. A fabric built by hand has
  // none: charged() and sized() then leave its links as they are.
  struct Figures {
    LinkClassFigures intra, inter;  // software alpha, efficiency and its size curve
    double launch_s = 0.0;
    std::optional<LinkClassFigures> fabric;  // the links between switches' (CollectiveFigures::fabric)
  };
  std::map<std::string, Figures, std::less<>> families;
  LinkParams intra_line, inter_line;  // the line rates and one-way latencies
  bool node_links = false;            // intra is its own class (gpus_per_node > 1); else every peer is over the network
  double size_bytes = -1.0;           // the size the figures are evaluated at (sized()); < 0: a large message's

  // The same fabric charged `family`'s figures at size_bytes.
  Fabric charged(std::string_view family) const;
  // The fabric a collective of algorithm `a` is charged on (charged_family's rule).
  Fabric charged(Algorithm a) const { return charged(charged_family(a)); }
  Fabric tree() const { return charged(family::tree); }
  // The ring family's figures at a collective of `bytes` (its size: an
  // allreduce's buffer, an allgather's per-rank message); charged() on the
  // result evaluates any family there.
  Fabric sized(double bytes) const;
  // This fabric's link rates over `links`'s, per class (1 where either is
  // 0): what the DES scales its links by (Network::scale_links) for a
  // collective charged on this fabric, on links built with `links`'s rates
  // (topology/cluster_topology.h).
  struct LinkScale {
    double intra = 1.0, inter = 1.0, fabric = 1.0;
  };
  LinkScale rates_over(const Fabric& links) const;

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
