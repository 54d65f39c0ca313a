#include "sim/collectives/allreduce.h"

#include <stdexcept>

#include "sim/collectives/halving_doubling.h"
#include "sim/collectives/halving_doubling_schedule.h"
#include "sim/collectives/hierarchical_allreduce.h"
#include "sim/collectives/parameter_server.h"
#include "sim/collectives/ring_allreduce.h"
#include "sim/collectives/tree_allreduce.h"
#include "sim/collectives/tree_schedule.h"

namespace gcsim {

AllreduceChoice dense_allreduce(Algorithm algorithm, const Fabric& f, double bytes, const CollectiveSpec& options) {
  switch (algorithm) {
    case Algorithm::Ring: return {algorithm, ring_allreduce(f, bytes)};
    case Algorithm::Tree: return {algorithm, tree_allreduce(f, bytes)};
    case Algorithm::HalvingDoubling: return {algorithm, halving_doubling_allreduce(f, bytes)};
    case Algorithm::Hierarchical: return {algorithm, hierarchical_allreduce(f, bytes)};
    case Algorithm::ParameterServer: return {algorithm, parameter_server(f, bytes, options.servers)};
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

std::unique_ptr<CollectiveSchedule> dense_allreduce_schedule(Algorithm algorithm, const ScheduleContext& ctx,
                                                             const Fabric& f, double bytes,
                                                             const CollectiveSpec& options) {
  switch (algorithm) {
    case Algorithm::Ring: return ring_allreduce_schedule(ctx, f.P, bytes, options.chunks);
    case Algorithm::Tree: return tree_allreduce_schedule(ctx, f.P, bytes, options.chunks);
    case Algorithm::HalvingDoubling: return halving_doubling_schedule(ctx, f.P, bytes);
    case Algorithm::Hierarchical: return hierarchical_allreduce_schedule(ctx, f.P, f.G, bytes, options.chunks);
    case Algorithm::ParameterServer: return parameter_server_schedule(ctx, f.P, bytes, options.servers);
    case Algorithm::Auto: break;
  }
  throw std::logic_error("dense_allreduce_schedule: resolve 'auto' first");
}

}  // namespace gcsim
