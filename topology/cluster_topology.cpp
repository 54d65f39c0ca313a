// build_topology: a scenario's cluster to a topology builder (see
// cluster_topology.h; the link classes mirror sim/collectives/fabric.cpp).
#include "topology/cluster_topology.h"

#include "topology/builders.h"

#include <stdexcept>
#include <string>

namespace gcsim {

Topology build_topology(const ClusterSpec& c, const Profile& p, const char* family) {
  const CollectiveFigures fig = p.collective(family);
  const LinkSpec nic{c.inter_node.bytes_per_s() * fig.inter.efficiency, c.inter_node.latency_us * 1e-6};
  const LinkSpec intra{c.intra_node.bytes_per_s() * fig.intra.efficiency, c.intra_node.latency_us * 1e-6};
  // A NIC port's worth of the links between switches: the family's fabric efficiency, else the NIC's.
  const double fabric_port = fig.fabric ? c.inter_node.bytes_per_s() * fig.fabric->efficiency : nic.bytes_per_s;
  if (c.gpus_per_node > 1 && (c.topology == TopologyKind::Switch || c.topology == TopologyKind::Ring))
    throw TopologyError(std::string(c.topology == TopologyKind::Switch ? "switch" : "ring") +
                        ": gpus_per_node must be 1 (got " + std::to_string(c.gpus_per_node) +
                        "); use the two-level or fat-tree topology for multi-GPU nodes");
  switch (c.topology) {
    case TopologyKind::Switch:
      return build_switch(c.workers, LinkSpec{nic.bytes_per_s * c.nics_per_node, nic.latency_s});
    case TopologyKind::TwoLevel:
      return build_two_level(c.workers, c.gpus_per_node, c.nics_per_node, intra, nic);
    case TopologyKind::FatTree:
      return build_fat_tree(c.workers, c.gpus_per_node, c.nics_per_node, intra, nic, c.nodes_per_leaf, c.spines,
                            c.oversubscription, c.placement, fabric_port);
    case TopologyKind::Ring:
      return build_ring(c.workers, nic);
  }
  throw std::logic_error("build_topology: unknown topology kind");
}

}  // namespace gcsim
