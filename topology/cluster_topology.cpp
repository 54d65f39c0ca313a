// build_topology: a scenario's cluster to a topology builder (see
// cluster_topology.h; the link classes mirror sim/collectives/fabric.cpp).
//
// sim/scenario.h declares the scenario's `enum class gcsim::Topology`, whose
// name collides with the class gcsim::Topology; this file sees that enum under
// another name and refers to it only as decltype(ClusterSpec::topology).
#define Topology ScenarioTopologyKind
#include "sim/scenario.h"
#undef Topology

#include "topology/cluster_topology.h"

#include "sim/profile.h"
#include "topology/builders.h"

#include <stdexcept>
#include <string>

namespace gcsim {

Topology build_topology(const ClusterSpec& c, const Profile& p) {
  using Kind = decltype(ClusterSpec::topology);
  const LinkSpec nic{c.inter_node.bytes_per_s() * p.inter_node_efficiency, c.inter_node.latency_us * 1e-6};
  const LinkSpec intra{c.intra_node.bytes_per_s() * p.intra_node_efficiency, c.intra_node.latency_us * 1e-6};
  if (c.gpus_per_node > 1 && (c.topology == Kind::Switch || c.topology == Kind::Ring))
    throw TopologyError(std::string(c.topology == Kind::Switch ? "switch" : "ring") +
                        ": gpus_per_node must be 1 (got " + std::to_string(c.gpus_per_node) +
                        "); use the two-level or fat-tree topology for multi-GPU nodes");
  switch (c.topology) {
    case Kind::Switch:
      return build_switch(c.workers, LinkSpec{nic.bytes_per_s * c.nics_per_node, nic.latency_s});
    case Kind::TwoLevel:
      return build_two_level(c.workers, c.gpus_per_node, c.nics_per_node, intra, nic);
    case Kind::FatTree:
      return build_fat_tree(c.workers, c.gpus_per_node, c.nics_per_node, intra, nic, c.nodes_per_leaf, c.spines,
                            c.oversubscription, c.placement);
    case Kind::Ring:
      return build_ring(c.workers, nic);
  }
  throw std::logic_error("build_topology: unknown topology kind");
}

}  // namespace gcsim
