// Builders of the four cluster topologies, each validating its parameters
// (TopologyError naming the parameter and the value) and checking, as an
// internal invariant, that every host is reachable from host 0.
//
// Shapes:
//  - switch: P hosts on one non-blocking switch (the alpha-beta model's
//    "fully connected" network; Hockney 1994, Thakur et al. 2005).
//  - two-level: nodes of G GPUs on an NVSwitch, `nics` NICs per node on one
//    top switch (a DGX-style node; NVIDIA DGX H100 architecture whitepaper,
//    2023: one NIC per GPU, GPU g behind NIC g).
//  - fat-tree: the same nodes under leaf switches, every leaf linked to every
//    spine (a two-tier folded Clos / leaf-spine network; Leiserson, "Fat-trees",
//    IEEE Trans. Computers 1985; Al-Fares et al., SIGCOMM 2008), with the leaf
//    uplinks oversubscribed by an exact ratio.
//  - ring: hosts in a physical ring, traffic relayed by the hosts.
//
// Latency convention: a LinkSpec's latency is end to end between two ranks over
// that class, so a host-switch-host path splits it over its two hops.
#pragma once

#include "sim/scenario.h"  // Placement (header only: gcsim_topology does not link gcsim_sim)
#include "topology/topology.h"

namespace gcsim {

// P hosts "gpuR" on one vertex "switch"; host link = host_link.bytes_per_s,
// host_link.latency_s / 2 per hop.
Topology build_switch(int P, LinkSpec host_link);

// Ranks packed node by node (rank r on node r / G); ceil(P / G) nodes, P a
// multiple of G when P > G. G > 1: GPU <-> "nodeN.nvswitch" (intra, intra.latency_s / 2
// per hop); NICs "nodeN.nicJ" (GPU g <-> NIC j with j % G == g when nics >= G,
// else NIC g % nics; PCIe link nic.bytes_per_s, latency 0); NIC <-> "switch"
// (nic.bytes_per_s, nic.latency_s / 2). G == 1: host <-> "switch" with
// nics * nic.bytes_per_s (as build_switch); `intra` is then not used nor checked.
Topology build_two_level(int P, int G, int nics, LinkSpec intra, LinkSpec nic);

// Nodes as in build_two_level, but a node's NICs (or its host when G == 1)
// attach to leaf "leafL", L = ceil(nodes / nodes_per_leaf) leaves; packed:
// node n on leaf n / nodes_per_leaf, spread: on leaf n % L. Spines "spineS":
// `spines` if > 0, else max(1, ceil(nodes_per_leaf * nics / oversubscription)).
// Every leaf <-> every spine with nodes_per_leaf * nics * port /
// (oversubscription * spines) per direction, latency 0, where port is
// fabric_port_bytes_per_s (a NIC port's worth of the links between switches,
// sim/collectives/fabric.h) or, when that is 0, nic.bytes_per_s.
Topology build_fat_tree(int P, int G, int nics, LinkSpec intra, LinkSpec nic, int nodes_per_leaf, int spines,
                        double oversubscription, Placement placement, double fabric_port_bytes_per_s = 0.0);

// The fat-tree's spine count: `spines` if > 0, else one per leaf uplink port,
// max(1, ceil(nodes_per_leaf * nics / oversubscription)).
int fat_tree_spines(int nodes_per_leaf, int nics, int spines, double oversubscription);

// Host i <-> host (i + 1) % P with link.bytes_per_s and the full link.latency_s
// per hop; routes relay through hosts (hosts_forward()).
Topology build_ring(int P, LinkSpec link);

// Whether every host is reachable from host 0 (a breadth-first search over the
// whole graph); true for a topology without hosts.
bool hosts_connected(const Topology& t);

}  // namespace gcsim
