// SparCML's sparse recursive doubling with the dense switch
// (sim/collectives/sparse_allreduce.h): the fill-in model of
// compress/fill_in.h for k of the bucket's n entries per rank, merges priced
// as the profile's scatter_add.
#include "comm/rank_patterns.h"
#include "sim/collectives/sparse_allreduce.h"
#include "sim/training/compression_cost.h"
#include "sim/training/phase_collective.h"

#include "sim/training/kernel_sharing.h"

namespace gcsim {

namespace {

SparseVectorModel model_of(const PhaseCost& pc) {
  SparseVectorModel v;
  v.entries = pc.use.entries;
  v.selected = pc.use.selected;
  v.pair_bytes = pc.use.selected > 0 ? pc.use.bytes / pc.use.selected : 8.0;
  v.dense_bytes = 4.0;
  return v;
}

class SparseAllreducePhase final : public PhaseCollective {
 public:
  void price(const Scenario& s, const Fabric& f, PhaseCost& pc) const override {
    pc.merge = s.profile.kernel(op::scatter_add).scaled(kernel_sharing_factor(s));  // kernel_sharing.h
    const SparseAllreduceCost c = sparse_allreduce(f.charged(family(pc)), model_of(pc), pc.merge);
    pc.collective = c.cost;
    pc.sparse_rounds = c.sparse_rounds;
  }
  std::string name(const PhaseCost&) const override { return "sparse-allreduce"; }
  const char* family(const PhaseCost&) const override { return family::p2p; }  // gcsim's own sendrecv steps
  std::unique_ptr<CollectiveSchedule> schedule(const ScheduleContext& ctx, const Scenario&, const Fabric& f,
                                               const PhaseCost& pc) const override {
    return sparse_allreduce_schedule(ctx, f.P, model_of(pc), pc.merge);
  }
  MessageCount messages(const Scenario& s, const PhaseCost&) const override {
    const int P = s.cluster.workers;
    const int pof2 = comm::floor_pow2(P), levels = comm::ceil_log2(pof2);
    return {static_cast<double>(pof2) * levels + 2.0 * (P - pof2), static_cast<double>(pof2) * levels + 2.0 * (P - pof2),
            static_cast<double>(P)};
  }
};

}  // namespace

const PhaseCollective& sparse_allreduce_phase() {
  static const SparseAllreducePhase p;
  return p;
}

}  // namespace gcsim
