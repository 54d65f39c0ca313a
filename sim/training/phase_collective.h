// How the simulator runs one collective of a method's plan
// (compress/plan.h CollectiveUse): both faces of it, the closed-form cost on
// the fabric and the DES schedule, its name in outputs, and its size for the
// DES's memory estimate. One per compress::CollectiveKind, each in its own
// file under phases/; phases/registry.cpp maps the kinds to them.
#pragma once

#include <memory>
#include <string>

#include "compress/plan.h"
#include "sim/collectives/fabric.h"
#include "sim/collectives/schedule.h"
#include "sim/scenario.h"

namespace gcsim {

struct PhaseCost;

// Messages of one collective, the (src, dst) pairs it routes, and how many
// are in flight at once at most.
struct MessageCount {
  double messages = 0, pairs = 0, in_flight = 0;
};

class PhaseCollective {
 public:
  virtual ~PhaseCollective() = default;
  // Prices pc.use on f, the fabric sized at pc.use.bytes (the ring family's
  // figures there; a phase of another family charges its own, f.charged):
  // sets pc.collective (without the profile's launch cost) and what the
  // schedule needs (pc.algorithm, pc.merge).
  virtual void price(const Scenario& s, const Fabric& f, PhaseCost& pc) const = 0;
  // The family whose figures it is charged (sim/collective_figures.h), at
  // the size pc.use.bytes on that family's efficiency curve (Fabric::sized):
  // the tree allreduce the tree's, every other the ring's unless it says.
  virtual const char* family(const PhaseCost& pc) const;
  // "ring", "ring-allgather", "gtopk", ...: its name in outputs and traces.
  virtual std::string name(const PhaseCost& pc) const = 0;
  virtual std::unique_ptr<CollectiveSchedule> schedule(const ScheduleContext& ctx, const Scenario& s,
                                                       const Fabric& f, const PhaseCost& pc) const = 0;
  virtual MessageCount messages(const Scenario& s, const PhaseCost& pc) const = 0;
};

const PhaseCollective& phase_collective(compress::CollectiveKind kind);

// The fabric pc's collective is charged on: its family's figures at its size.
Fabric charged_fabric(const Fabric& f, const PhaseCost& pc);

}  // namespace gcsim
