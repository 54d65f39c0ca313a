// compress::CollectiveKind -> how the simulator runs it (phase_collective.h).
// A new kind of collective in a plan is a new file here plus one line below.
#include <stdexcept>

#include "sim/training/compression_cost.h"
#include "sim/training/phase_collective.h"

namespace gcsim {

const PhaseCollective& allreduce_phase();
const PhaseCollective& allgather_phase();
const PhaseCollective& gtopk_phase();
const PhaseCollective& sparse_allreduce_phase();
const PhaseCollective& intra_node_reduce_scatter_phase();
const PhaseCollective& inter_node_allgather_phase();
const PhaseCollective& intra_node_allgather_phase();

const PhaseCollective& phase_collective(compress::CollectiveKind kind) {
  switch (kind) {
    case compress::CollectiveKind::Allreduce: return allreduce_phase();
    case compress::CollectiveKind::Allgather: return allgather_phase();
    case compress::CollectiveKind::GlobalTopK: return gtopk_phase();
    case compress::CollectiveKind::SparseAllreduce: return sparse_allreduce_phase();
    case compress::CollectiveKind::IntraNodeReduceScatter: return intra_node_reduce_scatter_phase();
    case compress::CollectiveKind::InterNodeAllgather: return inter_node_allgather_phase();
    case compress::CollectiveKind::IntraNodeAllgather: return intra_node_allgather_phase();
  }
  throw std::logic_error("phase_collective: unknown collective kind");
}

const char* PhaseCollective::family(const PhaseCost& pc) const { return charged_family(pc.algorithm); }

Fabric charged_fabric(const Fabric& f, const PhaseCost& pc) {
  return f.sized(pc.use.bytes).charged(phase_collective(pc.use.kind).family(pc));
}

}  // namespace gcsim
