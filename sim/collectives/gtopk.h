// gTop-k: global Top-K by a tree of pairwise merges, then a broadcast of the
// result (Shi, Wang, Chu, Li, Li, "A Distributed Synchronous SGD Algorithm
// with Global Top-k Sparsification for Low Bandwidth Networks", ICDCS 2019,
// algorithm 2 "gTopKAllReduce"). Both faces, closed form and DES schedule.
//
// Every rank holds k (value, index) pairs, m bytes. With L = ceil(log2 P):
//   reduce,    rounds j = 0 .. L-1: rank r with r mod 2^(j+1) = 2^j sends its
//              k pairs to r - 2^j, which merges them with its own (the sum of
//              at most 2k entries) and keeps the top k: merge_s per merge;
//   broadcast, rounds j = L-1 .. 0: rank r with r mod 2^(j+1) = 0 sends the
//              final k pairs to r + 2^j (binomial tree).
// Messages are rendezvous (a send starts when both ends have reached it, as
// Gloo's and MPI's large sends do), and a rank sends its broadcast messages
// one after another, so no rank ever receives two at once: the closed form
// below is exact on a network without contention.
//
// Closed form (ready_r = when rank r has merged its subtree, 0 at start):
//   reduce:    for j = 0 .. L-1, for each receiver r (r mod 2^(j+1) = 0,
//              r + 2^j < P): ready_r = max(ready_r, ready_{r+2^j}) + T_j(m) + merge_s
//   broadcast: have_0 = ready_0; a sender's t-th message (largest distance
//              first) arrives at have_sender + sum of its first t message times
//   T = max_r have_r, and for P = 2^L: T = 2 sum_j T_j(m) + L merge_s
// with T_j(m) = alpha + m / B on the link between r and r XOR 2^j
// (Fabric::pairwise_link, which assumes every rank is exchanging: in the
// tree fewer are, so this is an upper bound on a multi-node fabric).
// Bytes: 2 (P-1) messages of m, i.e. 2 (P-1) m / P per rank, against ring
// allgather's (P-1) m: the cost no longer grows linearly with P.
#pragma once

#include <memory>

#include "sim/collectives/collective_cost.h"
#include "sim/collectives/fabric.h"
#include "sim/collectives/schedule.h"

namespace gcsim {

CollectiveCost gtopk_allreduce(const Fabric& f, double message_bytes, double merge_s);

std::unique_ptr<CollectiveSchedule> gtopk_schedule(const ScheduleContext& ctx, int P, double message_bytes,
                                                   double merge_s);

}  // namespace gcsim
