// Sparse allreduce by recursive doubling, switching to dense when the merged
// vector fills in (SparCML: Renggli, Ashkboos, Aghagolzadeh, Alistarh &
// Hoefler, "SparCML: High-Performance Sparse Communication for Machine
// Learning", SC 2019, section 4, SSAR_Recursive_double with the dense switch
// of DSAR). The exact sum of every rank's sparse vector, on every rank. Both
// faces, closed form and DES schedule.
//
// Fill-in model (compress/fill_in.h): every rank holds k of N entries,
// supports independent and uniform, so the sum of c ranks' vectors has, in
// expectation, support(c) = N (1 - (1 - k/N)^c) entries. It travels sparse,
// support(c) (value, index) pairs, while that is cheaper than dense (N
// values), and dense from the first round where it is not.
//
// Schedule: with P' = 2^floor(log2 P), extra rank P'+i first hands its vector
// to rank i (which then holds c = 2) and gets the result back at the end.
// Core rank x exchanges its whole current vector with x XOR 2^s for
// s = 0 .. log2 P' - 1 and merges (merge_s below); c doubles each round (with the extra ranks, partners' c may
// differ). Exchanges are rendezvous, and a round ends for both partners when
// both messages have arrived (a sendrecv waits for its send as well), so no
// rank sends or receives two messages at once.
//
// Closed form (t_x, c_x per core rank; t = 0, c = 1 at start):
//   hand-off:  t_i = T_P'(bytes(1)) + merge(1, 1), c_i = 2 for i < P - P'
//   round s:   start = max(t_x, t_p), p = x XOR 2^s;
//              t_x = t_p = start + max(T_{2^s}(bytes(c_x)), T_{2^s}(bytes(c_p))) + merge(c_x, c_p);
//              c_x = c_p = c_x + c_p
//   return:    t_{P'+i} = t_i + T_P'(bytes(P))
//   T = max over all ranks, T_d(m) = alpha + m / B on Fabric::pairwise_link(d).
#pragma once

#include <memory>

#include "compress/fill_in.h"
#include "sim/collectives/collective_cost.h"
#include "sim/collectives/fabric.h"
#include "sim/collectives/schedule.h"
#include "sim/profile.h"

namespace gcsim {

struct SparseVectorModel : compress::FillIn {
  // Merging a vector of c2 ranks into one of c1 (the profile's scatter_add,
  // cost(n, k)): k = the sparse inputs' entries; n = N (a dense buffer) when an
  // input or the result is dense, else 0.
  double merge_s(const KernelCost& merge, double c1, double c2) const;
};

struct SparseAllreduceCost {
  CollectiveCost cost;
  int sparse_rounds = 0;  // recursive-doubling rounds sent sparse before the switch (all of them: no switch)
  int rounds = 0;         // log2 P'
};

SparseAllreduceCost sparse_allreduce(const Fabric& f, const SparseVectorModel& v, const KernelCost& merge);

std::unique_ptr<CollectiveSchedule> sparse_allreduce_schedule(const ScheduleContext& ctx, int P,
                                                              const SparseVectorModel& v, const KernelCost& merge);

}  // namespace gcsim
