// Dense allreduce by the scenario's algorithm; "auto" takes the fastest closed
// form (ring, tree, halving-doubling, hierarchical; the parameter server only
// when asked for). Both faces: the closed-form cost and the DES schedule.
#pragma once

#include <memory>

#include "sim/collectives/collective_cost.h"
#include "sim/collectives/fabric.h"
#include "sim/collectives/schedule.h"
#include "sim/scenario.h"

namespace gcsim {

struct AllreduceChoice {
  Algorithm algorithm;  // the one used (never Auto)
  CollectiveCost cost;
};

AllreduceChoice dense_allreduce(Algorithm algorithm, const Fabric& f, double bytes, const CollectiveSpec& options = {});

// The schedule of `algorithm` (not Auto: resolve it with dense_allreduce first).
std::unique_ptr<CollectiveSchedule> dense_allreduce_schedule(Algorithm algorithm, const ScheduleContext& ctx,
                                                             const Fabric& f, double bytes,
                                                             const CollectiveSpec& options = {});

}  // namespace gcsim
