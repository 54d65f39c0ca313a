// Dense allreduce by the scenario's algorithm; "auto" takes the fastest closed form.
#pragma once

#include "sim/collectives/collective_cost.h"
#include "sim/collectives/fabric.h"
#include "sim/scenario.h"

namespace gcsim {

struct AllreduceChoice {
  Algorithm algorithm;  // the one used (never Auto)
  CollectiveCost cost;
};

AllreduceChoice dense_allreduce(Algorithm algorithm, const Fabric& f, double bytes);

}  // namespace gcsim
