// What compressing and exchanging one bucket does, step by step, as the
// simulator prices it: kernels (profile ops with their element and selected
// counts) and collectives (what kind, how many bytes). A method's plan() is
// its cost model; sim/training/compression_cost.cpp turns it into seconds on
// a fabric, and the DES runs its collectives as message schedules.
//
//   phases[0].before        on the compression stream, as soon as the bucket is full
//   phases[i].collective    one collective of all P ranks, in order
//   phases[i>0].before      after the previous collective, on each rank
//   after                   after the last collective (decompression)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gcsim::compress {

struct KernelUse {
  std::string op;   // a profile kernel op (sim/profile.h op::)
  double n = 0.0;   // its element count
  double k = 0.0;   // its "selected" count (what that is, each op says)
};

// Allreduce: dense, by the scenario's algorithm; Allgather: ring allgather(v);
// GlobalTopK: gTop-k's tree of merges and broadcast; SparseAllreduce:
// recursive doubling with fill-in (compress/exchange/). The hierarchical
// exchange's three: IntraNodeReduceScatter and IntraNodeAllgather, a dense
// ring inside every node at once (bytes: the whole buffer); InterNodeAllgather,
// G rings at once, local rank l of every node, sharing the NICs (bytes: each
// rank's message).
enum class CollectiveKind {
  Allreduce, Allgather, GlobalTopK, SparseAllreduce, IntraNodeReduceScatter, InterNodeAllgather, IntraNodeAllgather
};

struct CollectiveUse {
  CollectiveKind kind = CollectiveKind::Allreduce;
  double bytes = 0.0;      // allreduce: the buffer; the others: each rank's message
  int element_bytes = 4;   // of the reduced type (allreduce: 4 fp32, 2 fp16/bf16)
  std::string label;       // what it carries, e.g. "P", "Q", "dense", "bits"
  double entries = 0.0;    // GlobalTopK, SparseAllreduce: the bucket's n the pairs index
  double selected = 0.0;   // ... and each rank's k pairs
};

struct Phase {
  std::vector<KernelUse> before;
  CollectiveUse collective;
};

struct BucketPlan {
  std::vector<Phase> phases;       // at least one
  std::vector<KernelUse> after;
  std::int64_t selected = 0;       // entries sent per rank (params when dense)
};

}  // namespace gcsim::compress
