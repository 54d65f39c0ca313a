// The fill-in of a sum of sparse vectors: every rank holds k of N entries,
// supports independent and uniform, so the sum of c ranks' vectors has, in
// expectation,
//   support(c) = N (1 - (1 - k/N)^c)
// entries. It travels sparse, support(c) (value, index) pairs of pair_bytes,
// while that is cheaper than dense (N values of dense_bytes), and dense from
// there on: SparCML's switch (Renggli et al., SC 2019). The sparse allreduce's
// plan (compress/exchange/sparse_allreduce.cpp) and its closed form and
// schedule (sim/collectives/sparse_allreduce.h) share it.
#pragma once

#include <algorithm>
#include <cmath>

namespace gcsim::compress {

struct FillIn {
  double entries = 0.0;     // N, the dense length
  double selected = 0.0;    // k, each rank's nonzeros
  double pair_bytes = 8.0;  // one sparse entry on the wire: 4 + index bytes
  double dense_bytes = 4.0; // one dense entry on the wire

  double support(double c) const {
    if (entries <= 0.0) return 0.0;
    const double miss = 1.0 - std::min(selected, entries) / entries;
    return entries * (1.0 - std::pow(miss, c));
  }
  bool dense(double c) const { return pair_bytes * support(c) >= dense_bytes * entries; }
  double bytes(double c) const { return dense(c) ? dense_bytes * entries : pair_bytes * support(c); }
};

}  // namespace gcsim::compress
