// What a run of a validated scenario would need, checked before it starts.
//
// build_scenario (scenario_loader.h) bounds every quantity to its physical
// range (docs/limits.md). That leaves combinations: a million workers are a
// fine input for the analytic backend (its work is O(layers + buckets log P))
// but about 2 P^2 messages per bucket for the discrete-event simulator, and a
// billion iterations are one number to the analytic backend but per-iteration
// state to the DES. validate_run estimates, from the sizes alone, the memory
// and the events a run on the chosen backend needs, and refuses one over the
// limits below with a located error naming the key that drives the estimate,
// the limit, and "--backend analytic" where that backend could do the run.
#pragma once

#include <string>
#include <string_view>

#include "config/scenario_loader.h"
#include "sim/scenario.h"

namespace gcsim {

// The DES's limits (documented in docs/limits.md).
inline constexpr double kDesMemoryLimitBytes = 16.0 * 1024 * 1024 * 1024;  // estimated peak state
inline constexpr double kDesEventLimit = 1e10;  // about half an hour at the ~5 M events/s of reports/des-benchmark.md
inline constexpr double kFastRingEventsPerMessage = 0.02;  // a fast-path ring message's cost, in events

// Sizes of a DES run, estimated from the scenario without building anything.
struct DesEstimate {
  double vertices = 0, links = 0;        // topology (links: directed)
  double spines = 0;                     // fat-tree: spine switches (given or derived)
  double buckets = 0;
  double routes = 0;                     // distinct (source, destination) pairs routed
  double messages = 0;                   // point-to-point messages over the whole run
  double events = 0;                     // engine events over the whole run, message by message
  // Messages of ring passes (ring allreduce and allgather, the hierarchical
  // allreduce's rings) on a switch or two-level cluster, whose connections
  // have their links to themselves or share them in lockstep: the DES
  // computes them without events (sim/collectives/fast_ring.h), at about
  // 1/50 of an event's cost each (reports/des-benchmark.md); and the run's
  // work in events with that discount, which the event limit applies to.
  double fast_ring_messages = 0;
  double work_events = 0;
  double topology_bytes = 0, route_bytes = 0, flow_bytes = 0, worker_bytes = 0, iteration_bytes = 0;
  double bytes() const { return topology_bytes + route_bytes + flow_bytes + worker_bytes + iteration_bytes; }
};

DesEstimate estimate_des(const Scenario& s);

// Checks a fully resolved scenario (its profile included) for a run on
// `backend` ("des" or "analytic"): derived values (per-bucket times and bytes,
// the iteration time) finite, and for the DES the estimated memory and events
// under the limits above. `src` is the document `s` was built from (for the
// location of each key: file:line:col, the --set flag or the sweep axis value).
// Throws InputError; std::invalid_argument for an unknown backend name.
void validate_run(const Scenario& s, const ScenarioSource& src, std::string_view backend);

}  // namespace gcsim
