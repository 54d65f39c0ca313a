// A scenario's cluster as a graph: maps ClusterSpec (sim/scenario.h) and the
// profile's achieved-bandwidth efficiencies to one of the builders, with the
// same link classes as sim/collectives/fabric.cpp's make_fabric, so that the
// closed forms and the simulated network describe the same machine:
//   NIC   = inter_node line rate x inter_node_efficiency, inter_node latency;
//   intra = intra_node line rate x intra_node_efficiency, intra_node latency
//           (used only when gpus_per_node > 1).
// The profile's software overheads (collective_alpha_s, collective_launch_s)
// are not links; the messaging layer adds them.
#pragma once

#include "sim/profile.h"
#include "sim/scenario.h"
#include "topology/topology.h"

namespace gcsim {

// Switch -> build_switch(P, NIC x nics_per_node); TwoLevel -> build_two_level;
// FatTree -> build_fat_tree; Ring -> build_ring(P, NIC). Throws TopologyError.
// The efficiencies are those of `family` (sim/collective_figures.h: the
// profile's [collective.<family>] where it has one, else its defaults): the
// DES builds its links with the family of the scenario's dense algorithm.
Topology build_topology(const ClusterSpec& cluster, const Profile& profile, const char* family = family::ring);

}  // namespace gcsim
