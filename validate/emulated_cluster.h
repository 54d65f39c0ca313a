// The emulated cluster a scenario's [cluster] asks for: the arguments of
// tools/netem.sh that build it on this machine (network namespaces, bridges
// and tbf shaping; no added latency: this kernel has no netem qdisc).
//
//   switch      one namespace per worker on one bridge, every port shaped at
//               cluster.inter_node.bandwidth_gbps
//   two-level   one namespace per node: its gpus_per_node workers share the
//               node's shaped NIC and talk over the namespace's loopback (the
//               intra-node link, unshaped)
//   fat-tree    nodes on leaf bridges (nodes_per_leaf each, placement packed
//               or spread), leaves joined through spine bridges by uplinks
//               shaped so that the leaf's oversubscription is real
//
// Throws std::invalid_argument, naming the key, for what cannot be emulated
// here (a ring topology, several NICs per node, more than netem.sh's 64 hosts).
#pragma once

#include <string>
#include <vector>

#include "sim/scenario.h"

namespace gcsim {

// netem.sh's options for the scenario (without the command after "--").
std::vector<std::string> netem_arguments(const Scenario& s, const std::string& name);

// The per-port rate in Mbit/s netem.sh shapes to: inter_node.bandwidth_gbps x 1000.
double emulated_rate_mbit(const Scenario& s);

}  // namespace gcsim
