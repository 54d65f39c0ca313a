#include "sim/collectives/allreduce.h"

#include <stdexcept>

#include "sim/collectives/halving_doubling.h"
#include "sim/collectives/hierarchical_allreduce.h"
#include "sim/collectives/ring_allreduce.h"
#include "sim/collectives/tree_allreduce.h"

namespace gcsim {

AllreduceChoice dense_allreduce(Algorithm algorithm, const Fabric& f, double bytes) {
  switch (algorithm) {
    case Algorithm::Ring: return {algorithm, ring_allreduce(f, bytes)};
    case Algorithm::Tree: return {algorithm, tree_allreduce(f, bytes)};
    case Algorithm::HalvingDoubling: return {algorithm, halving_doubling_allreduce(f, bytes)};
    case Algorithm::Hierarchical: return {algorithm, hierarchical_allreduce(f, bytes)};
    case Algorithm::Auto: {
      AllreduceChoice best = dense_allreduce(Algorithm::Ring, f, bytes);
      for (Algorithm a : {Algorithm::Tree, Algorithm::HalvingDoubling, Algorithm::Hierarchical}) {
        if (a == Algorithm::Hierarchical && f.G < 2) continue;
        const AllreduceChoice c = dense_allreduce(a, f, bytes);
        if (c.cost.time_s < best.cost.time_s) best = c;
      }
      return best;
    }
  }
  throw std::logic_error("unknown allreduce algorithm");
}

}  // namespace gcsim
