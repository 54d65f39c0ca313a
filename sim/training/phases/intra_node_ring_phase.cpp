// The hierarchical exchange's dense rings inside every node
// (sim/collectives/two_level_rings.h): the reduce-scatter before the shard is
// compressed and the allgather after; use.bytes is the whole buffer.
#include <string>

#include "sim/collectives/two_level_rings.h"
#include "sim/training/compression_cost.h"
#include "sim/training/phase_collective.h"

namespace gcsim {

namespace {

class IntraNodeRingPhase final : public PhaseCollective {
 public:
  explicit IntraNodeRingPhase(std::string what) : what_(std::move(what)) {}
  void price(const Scenario&, const Fabric& f, PhaseCost& pc) const override {
    pc.algorithm = Algorithm::Ring;
    pc.collective = intra_node_ring(f.charged(family(pc)), pc.use.bytes);
  }
  std::string name(const PhaseCost&) const override { return "intra-node-" + what_; }
  const char* family(const PhaseCost&) const override { return family::p2p; }  // gcsim's own sendrecv steps
  std::unique_ptr<CollectiveSchedule> schedule(const ScheduleContext& ctx, const Scenario& s, const Fabric& f,
                                               const PhaseCost& pc) const override {
    return intra_node_ring_schedule(ctx, f.P, f.G, pc.use.bytes, s.collective.chunks, "intra-node " + what_);
  }
  MessageCount messages(const Scenario& s, const PhaseCost&) const override {
    const double P = s.cluster.workers, C = s.collective.chunks;
    const double G = std::min(s.cluster.gpus_per_node, s.cluster.workers);
    return {(G - 1) * P * C, P, P * C};
  }

 private:
  std::string what_;
};

}  // namespace

const PhaseCollective& intra_node_reduce_scatter_phase() {
  static const IntraNodeRingPhase p("reduce-scatter");
  return p;
}

const PhaseCollective& intra_node_allgather_phase() {
  static const IntraNodeRingPhase p("allgather");
  return p;
}

}  // namespace gcsim
