// A ring allgather made of point-to-point steps (Communicator::sendrecv)
// over a group of ranks, the rest of the communicator not taking part: the
// hierarchical exchange's rings inside a node and between nodes
// (compress/exchange/hierarchical.cpp) and the calibration bench that times
// them (calib/communicator_bench.h), so that what is calibrated is what runs.
//
// group lists the ranks in ring order, this rank at group[me]. Part i of buf
// is [offsets[i], offsets[i+1]) (offsets has group.size() + 1 entries); part
// me holds this rank's contribution on entry, every part everyone's on exit.
// In step s (s = 0 .. |group| - 2) the rank sends part me - s to the next
// rank and receives part me - s - 1 from the previous one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "comm/communicator.h"

namespace gcsim::comm {

void ring_allgather(Communicator& comm, std::span<const int> group, int me, std::uint8_t* buf,
                    std::span<const std::size_t> offsets);

// The groups a node-structured cluster's rings run over, nodes of G ranks
// packed node by node (rank r on node r / G, local rank r mod G):
// inside rank r's node, its G ranks in order; between nodes, the ranks of
// r's local rank on every node (r mod G, r mod G + G, ...), in node order.
std::vector<int> node_group(int rank, int ranks, int G);
std::vector<int> cross_node_group(int rank, int ranks, int G);

}  // namespace gcsim::comm
