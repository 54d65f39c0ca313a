// The emulated cluster of a scenario (see emulated_cluster.h).
#include "validate/emulated_cluster.h"

#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "topology/builders.h"

namespace gcsim {

namespace {

std::string number(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.6g", v);
  return b;
}

}  // namespace

double emulated_rate_mbit(const Scenario& s) { return s.cluster.inter_node.bandwidth_gbps * 1000.0; }

std::vector<std::string> netem_arguments(const Scenario& s, const std::string& name) {
  const ClusterSpec& c = s.cluster;
  if (c.topology == TopologyKind::Ring)
    throw std::invalid_argument("cluster.topology = \"ring\" cannot be emulated (switch, two-level, fat-tree can)");
  if (c.nics_per_node != 1)
    throw std::invalid_argument("cluster.nics_per_node = " + std::to_string(c.nics_per_node) +
                                ": the emulated nodes have one NIC each");
  if (c.nodes() < 2 || c.nodes() > 64)
    throw std::invalid_argument("cluster: " + std::to_string(c.nodes()) +
                                " nodes; the emulated cluster holds 2 to 64 (tools/netem.sh)");
  const double rate = emulated_rate_mbit(s);
  if (!(rate > 0.0 && std::isfinite(rate)))
    throw std::invalid_argument("cluster.inter_node.bandwidth_gbps must be positive to be emulated");
  std::vector<std::string> a = {"--workers", std::to_string(c.workers), "--rate-mbit", number(rate), "--name", name,
                                "--no-measure"};
  if (c.gpus_per_node > 1) {
    a.push_back("--gpus-per-node");
    a.push_back(std::to_string(c.gpus_per_node));
  }
  if (c.topology == TopologyKind::FatTree) {
    // One spine only (bridges in a loop would not forward): the simulator's
    // spine count must be 1.
    const int spines = fat_tree_spines(c.nodes_per_leaf, c.nics_per_node, c.spines, c.oversubscription);
    if (spines != 1)
      throw std::invalid_argument("cluster.spines: the emulated fat-tree has one spine; this cluster has " +
                                  std::to_string(spines) + " (set cluster.spines = 1)");
    a.insert(a.end(), {"--topology", "fat-tree", "--nodes-per-leaf", std::to_string(c.nodes_per_leaf),
                       "--oversubscription", number(c.oversubscription), "--placement", to_string(c.placement)});
  }
  return a;
}

}  // namespace gcsim
