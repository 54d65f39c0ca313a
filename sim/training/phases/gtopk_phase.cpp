// gTop-k's tree of merges and broadcast (sim/collectives/gtopk.h). A merge
// adds the k received pairs into the rank's own (the profile's scatter_add,
// cost(0, k)) and selects k of the at most 2k (topk, cost(2k, k)).
#include "sim/collectives/gtopk.h"
#include "sim/training/compression_cost.h"
#include "sim/training/phase_collective.h"

#include "sim/training/kernel_sharing.h"

namespace gcsim {

namespace {

class GtopkPhase final : public PhaseCollective {
 public:
  void price(const Scenario& s, const Fabric& f, PhaseCost& pc) const override {
    const double k = pc.use.selected;
    pc.merge_s = (s.profile.kernel(op::scatter_add).eval(0.0, k) + s.profile.kernel(op::topk).eval(2.0 * k, k)) *
                  kernel_sharing_factor(s);
    pc.collective = gtopk_allreduce(f.charged(family(pc)), pc.use.bytes, pc.merge_s);
  }
  std::string name(const PhaseCost&) const override { return "gtopk"; }
  const char* family(const PhaseCost&) const override { return family::p2p; }  // gcsim's own sendrecv steps
  std::unique_ptr<CollectiveSchedule> schedule(const ScheduleContext& ctx, const Scenario&, const Fabric& f,
                                               const PhaseCost& pc) const override {
    return gtopk_schedule(ctx, f.P, pc.use.bytes, pc.merge_s);
  }
  MessageCount messages(const Scenario& s, const PhaseCost&) const override {
    const double P = s.cluster.workers;
    return {2 * (P - 1), 2 * (P - 1), P};
  }
};

}  // namespace

const PhaseCollective& gtopk_phase() {
  static const GtopkPhase p;
  return p;
}

}  // namespace gcsim
