// A dense allreduce of a plan: the scenario's algorithm ("auto": the fastest
// closed form), sim/collectives/allreduce.h. One of 2-byte elements (fp16 /
// bf16 compression) is charged the half family's figures
// ([collective.half], sim/collective_figures.h) but by the tree, which keeps
// the tree's.
#include "comm/rank_patterns.h"
#include "sim/collectives/allreduce.h"
#include "sim/training/compression_cost.h"
#include "sim/training/phase_collective.h"

#include <algorithm>
#include <stdexcept>

namespace gcsim {

namespace {

class AllreducePhase final : public PhaseCollective {
 public:
  void price(const Scenario& s, const Fabric& f, PhaseCost& pc) const override {
    const AllreduceChoice ar =
        dense_allreduce(s.algorithm, half(pc) ? f.charged(family::half) : f, pc.use.bytes, s.collective);
    pc.algorithm = ar.algorithm;
    pc.collective = ar.cost;
  }
  const char* family(const PhaseCost& pc) const override {
    return half(pc) && pc.algorithm != Algorithm::Tree ? family::half : charged_family(pc.algorithm);
  }
  std::string name(const PhaseCost& pc) const override { return to_string(pc.algorithm); }
  std::unique_ptr<CollectiveSchedule> schedule(const ScheduleContext& ctx, const Scenario& s, const Fabric& f,
                                               const PhaseCost& pc) const override {
    return dense_allreduce_schedule(pc.algorithm, ctx, f, pc.use.bytes, s.collective);
  }
  MessageCount messages(const Scenario& s, const PhaseCost& pc) const override {
    const double P = s.cluster.workers, C = s.collective.chunks;
    const double G = std::min(s.cluster.gpus_per_node, s.cluster.workers), M = s.cluster.nodes();
    switch (pc.algorithm) {
      case Algorithm::Ring: return {2 * (P - 1) * P * C, P, P * C};
      case Algorithm::Tree: return {4 * (P - 1) * C, 4 * P, 2 * P * C};
      case Algorithm::HalvingDoubling: {
        const double levels = comm::ceil_log2(comm::floor_pow2(s.cluster.workers));
        return {2 * P * (levels + 1), P * (levels + 2), 2 * P};
      }
      case Algorithm::Hierarchical: return {P * C * (2 * (G - 1) + 2 * (M - 1)) + P, 3 * P, P * C};
      case Algorithm::ParameterServer: {
        const double S = s.collective.servers;
        return {2 * S * P, 2 * S * P, 2 * S * P};
      }
      case Algorithm::Auto: break;
    }
    throw std::logic_error("allreduce phase: unresolved algorithm");
  }

 private:
  static bool half(const PhaseCost& pc) { return pc.use.element_bytes == 2; }
};

}  // namespace

const PhaseCollective& allreduce_phase() {
  static const AllreducePhase p;
  return p;
}

}  // namespace gcsim
