// The hierarchical exchange's sparse shards between nodes: local rank l of
// every node in a ring allgather, G rings sharing the NICs
// (sim/collectives/two_level_rings.h); use.bytes is each rank's message.
#include "sim/collectives/two_level_rings.h"
#include "sim/training/compression_cost.h"
#include "sim/training/phase_collective.h"

namespace gcsim {

namespace {

class InterNodeAllgatherPhase final : public PhaseCollective {
 public:
  void price(const Scenario&, const Fabric& f, PhaseCost& pc) const override {
    pc.algorithm = Algorithm::Ring;
    pc.collective = inter_node_allgather(f.charged(family(pc)), pc.use.bytes);
  }
  std::string name(const PhaseCost&) const override { return "inter-node-allgather"; }
  const char* family(const PhaseCost&) const override { return family::p2p; }  // gcsim's own sendrecv steps
  std::unique_ptr<CollectiveSchedule> schedule(const ScheduleContext& ctx, const Scenario& s, const Fabric& f,
                                               const PhaseCost& pc) const override {
    return inter_node_allgather_schedule(ctx, f.P, f.G, pc.use.bytes, s.collective.chunks);
  }
  MessageCount messages(const Scenario& s, const PhaseCost&) const override {
    const double P = s.cluster.workers, C = s.collective.chunks;
    const double M = s.cluster.nodes();
    return {(M - 1) * P * C, P, P * C};
  }
};

}  // namespace

const PhaseCollective& inter_node_allgather_phase() {
  static const InterNodeAllgatherPhase p;
  return p;
}

}  // namespace gcsim
