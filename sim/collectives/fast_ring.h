// A ring pass (ring_pass.h) computed without the network's flows, for the
// case where that is exact, on a network that carries nothing else
// (Network::computed_schedules_allowed):
//  - within a stage, connections that share a link are in lockstep: their
//    messages start and end at the same times (checked here, step by step),
//    so every link always carries either all of them or none, and each gets
//    the rate of one max-min solve of the stage's whole pattern
//    (pattern_rates.h); a connection alone on its links gets its route's
//    smallest capacity;
//  - connections of different stages that share a link are never busy at
//    the same time (the caller checks the busy spans returned here).
// A message then always gets the same rate, so with a per-rank overhead
// alpha, duration d and latency L:
//
//   ready(r, s, c) = enter(r)                                  s = 0
//                  = max(arrival(pred(r), s-1, c), enter(r))   s > 0
//   start          = max(ready, done of the connection's previous message) + alpha
//   done           = start + d,   arrival = done + L
//
// in the order the DES's connection FIFO serves them, (step, chunk)
// lexicographic: a predecessor's arrivals increase along its own FIFO, so
// ready times do too (equal ones are interchangeable pieces). A rank enters
// the next stage when the last piece of its predecessor's last step has
// arrived (or when it entered this one, if later); a connection's FIFO
// carries over from one stage to the next. These are the DES's rules
// (collectives/schedule.h, ring_pass.cpp) with the same floating-point
// operations, so the times agree with it to the last bits or nearly.
//
// Cost: O(ranks x steps x chunks) additions and maxima per stage, no events:
// a 16384-rank ring allreduce is 5.4e8 of them instead of as many messages
// through the event queue and the max-min solver.
#pragma once

#include <vector>

#include "sim/engine/engine.h"

namespace gcsim {

struct FastRingStage {
  std::vector<int> next;  // successor per rank
  int steps = 0;
  int split = 0;          // phase of step s: first + (split > 0 && s >= split)
  int first_phase = 0;
  // per rank, for its connection to next[r]: per-message overhead, duration, route latency
  std::vector<double> alpha_s, duration_s, latency_s;
  // per rank: the rank whose connection's times its own must equal (one per
  // group of connections that share links); r itself for none
  std::vector<int> lockstep_with;
};

struct BusySpan {
  Time first_begin = 0.0, last_done = 0.0;  // a connection's first flow start and last flow end in a stage
};

struct FastRingTimes {
  bool lockstep = true;         // false: a lockstep group diverged; nothing else is filled in
  std::vector<Time> done;       // per rank: when its last needed piece arrived (finish_rank's t)
  std::vector<Time> phase_end;  // per phase: the latest arrival of its messages
  std::vector<std::vector<BusySpan>> busy;  // per stage, per rank
};

// `phases`: how many phase names the schedule has.
FastRingTimes fast_ring_times(const std::vector<FastRingStage>& stages, int ranks, int chunks, Time start, int phases);

}  // namespace gcsim
