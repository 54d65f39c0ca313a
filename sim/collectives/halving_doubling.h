// Recursive halving-doubling allreduce (Rabenseifner's algorithm; Thakur,
// Rabenseifner & Gropp, IJHPCA 2005, section 4.5): reduce-scatter by recursive
// halving, then allgather by recursive doubling, over P' = 2^floor(log2 P)
// ranks. For P not a power of two the r = P - P' extra ranks first hand their
// vector to a partner and get the result back at the end (two extra steps of
// n bytes). Step s exchanges n / 2^(s+1) bytes with partner r XOR 2^s, so the
// big early steps stay inside a node when ranks are packed node by node.
//   T (P power of two, one link class) = 2 log2(P) * alpha + 2(P-1)/P * n / B
#pragma once

#include "sim/collectives/collective_cost.h"
#include "sim/collectives/fabric.h"

namespace gcsim {

CollectiveCost halving_doubling_allreduce(const Fabric& f, double bytes);
// The schedule face: halving_doubling_schedule.h.

}  // namespace gcsim
