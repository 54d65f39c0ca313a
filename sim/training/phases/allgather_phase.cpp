// A ring allgather(v) of each rank's message (sim/collectives/ring_allgather.h),
// charged the allgather family's figures (Gloo's allgatherv and NCCL's
// allgather reach other rates than their allreduce).
#include "sim/collectives/ring_allgather.h"
#include "sim/training/compression_cost.h"
#include "sim/training/phase_collective.h"

namespace gcsim {

namespace {

class AllgatherPhase final : public PhaseCollective {
 public:
  void price(const Scenario&, const Fabric& f, PhaseCost& pc) const override {
    pc.algorithm = Algorithm::Ring;
    pc.collective = ring_allgather(f.charged(family(pc)), pc.use.bytes);
  }
  const char* family(const PhaseCost&) const override { return family::allgather; }
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
