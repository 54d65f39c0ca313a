// The double binary tree allreduce as messages (the schedule face of
// tree_allreduce.h). Tree A is the heap-ordered binary tree on ranks 0..P-1
// (children of i: 2i+1, 2i+2); tree B is its mirror image (rank r takes A's
// position P-1-r), so for even P a rank that is inner in one tree is a leaf
// in the other, as in NCCL's double binary tree. Each tree carries half of the
// vector, in `chunks` pieces: a rank sends piece c to its parent once it has
// piece c from all its children (reduce); the root then sends it down and
// every rank forwards it to its children (broadcast). Reduce and broadcast of
// different pieces overlap, and the two trees share every rank's links.
#pragma once

#include <memory>

#include "sim/collectives/schedule.h"

namespace gcsim {

std::unique_ptr<CollectiveSchedule> tree_allreduce_schedule(const ScheduleContext& ctx, int P, double bytes,
                                                            int chunks);

// Parent of rank r in tree 0 (A) or 1 (B); -1 for the root.
int tree_parent(int tree, int r, int P);
// Children of rank r in the tree (0, 1 or 2 of them).
std::vector<int> tree_children(int tree, int r, int P);

}  // namespace gcsim
