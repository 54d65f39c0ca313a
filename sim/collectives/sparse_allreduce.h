// Sparse allreduce by recursive doubling, switching to dense when the merged
// vector fills in (SparCML: Renggli, Ashkboos, Aghagolzadeh, Alistarh &
// Hoefler, "SparCML: High-Performance Sparse Communication for Machine
// Learning", SC 2019, section 4, SSAR_Recursive_double with the dense switch
// of DSAR). The exact sum of every rank's sparse vector, on every rank. Both
// faces, closed form and DES schedule.
//
// Fill-in model: every rank holds k of N entries, supports independent and
// uniform, so the sum of c ranks' vectors has, in expectation,
//   support(c) = N (1 - (1 - k/N)^c)
// entries. A vector of c ranks travels sparse, support(c) (value, index)
// pairs of `pair_bytes`, while that is cheaper than dense, and dense (N
// values of `dense_bytes`) from the first round where it is not: the switch
// happens where the merged vector would cost more sparse than dense.
//
// Schedule: with P' = 2^floor(log2 P), extra rank P'+i first hands its vector
// to rank i (which then holds c = 2) and gets the result back at the end.
// Core rank x exchanges its whole current vector with x XOR 2^s for
// s = 0 .. log2 P' - 1 and merges (merge_s below); c doubles each round (with the extra ranks, partners' c may
// differ). Exchanges are rendezvous, so no rank receives two messages at once.
//
// Closed form (t_x, c_x per core rank; t = 0, c = 1 at start):
//   hand-off:  t_i = T_P'(bytes(1)) + merge(1, 1), c_i = 2 for i < P - P'
//   round s:   start = max(t_x, t_p), p = x XOR 2^s;
//              t_x = start + T_{2^s}(bytes(c_p)) + merge(c_x, c_p); c_x = c_x + c_p
//   return:    t_{P'+i} = t_i + T_P'(bytes(P))
//   T = max over all ranks, T_d(m) = alpha + m / B on Fabric::pairwise_link(d).
#pragma once

#include <memory>

#include "sim/collectives/collective_cost.h"
#include "sim/collectives/fabric.h"
#include "sim/collectives/schedule.h"
#include "sim/profile.h"

namespace gcsim {

struct SparseVectorModel {
  double entries = 0.0;     // N, the dense length
  double selected = 0.0;    // k, each rank's nonzeros (k <= N)
  double pair_bytes = 8.0;  // one sparse entry on the wire: 4 + index bytes
  double dense_bytes = 4.0; // one dense entry on the wire

  // Expected nonzeros of the sum of c ranks' vectors.
  double support(double c) const;
  // Whether that sum travels dense.
  bool dense(double c) const;
  // Its bytes on the wire.
  double bytes(double c) const;
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
