// A ring allgather(v) of each rank's message (sim/collectives/ring_allgather.h).
#include "sim/collectives/ring_allgather.h"
#include "sim/training/compression_cost.h"
#include "sim/training/phase_collective.h"

namespace gcsim {

namespace {

class AllgatherPhase final : public PhaseCollective {
 public:
  void price(const Scenario&, const Fabric& f, PhaseCost& pc) const override {
    pc.algorithm = Algorithm::Ring;
    pc.collective = ring_allgather(f, pc.use.bytes);
  }
  std::string name(const PhaseCost&) const override { return "ring-allgather"; }
  std::unique_ptr<CollectiveSchedule> schedule(const ScheduleContext& ctx, const Scenario& s, const Fabric& f,
                                               const PhaseCost& pc) const override {
    return ring_allgather_schedule(ctx, f.P, pc.use.bytes, s.collective.chunks);
  }
  MessageCount messages(const Scenario& s, const PhaseCost&) const override {
    const double P = s.cluster.workers, C = s.collective.chunks;
    return {(P - 1) * P * C, P, P * C};
  }
};

}  // namespace

const PhaseCollective& allgather_phase() {
  static const AllgatherPhase p;
  return p;
}

}  // namespace gcsim
