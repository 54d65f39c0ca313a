// Measuring the collectives a real data-parallel run makes (Gloo's ring
// allreduce and ring allgather, through comm/communicator.h) and fitting the
// simulator's collective figures to them: the profile's launch_us (once per
// collective), alpha_us (once per ring step) and the bandwidth a large message
// achieves (sim/profile.h).
//
// Model (what the des and analytic backends charge for a ring, without the
// scenario's link latency):
//   allreduce of n bytes:   launch + 2 (P-1) alpha + [2 (P-1) / P] n / B
//   allgather of parts m:   launch +   (P-1) alpha +    (P-1)  m    / B
// Each collective's medians are fitted as t = c + x / B over x = the bytes one
// rank sends. On a loaded host a small collective's time is noisy and skewed
// (it waits for peers to be scheduled), so the fit is robust rather than least
// squares on everything: 1/B is the least-squares slope over the larger half
// of the allreduce sizes (where bandwidth dominates), and each op's fixed cost
// c is the median of t - x/B over all its sizes. That gives c_ar and c_ag;
// then alpha = (c_ar - c_ag) / (P-1) and launch = c_ag - (P-1) alpha, both
// clamped at 0. Exact on measurements that follow the model (tests).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "calib/cost_fit.h"
#include "calib/stats.h"
#include "comm/communicator.h"

namespace gcsim::calib {

struct CollectiveSweepOptions {
  std::vector<std::size_t> sizes;  // bytes: allreduce vector / allgather part (multiples of 4)
  int warmup = 3;
  int repeats = 15;
  // Seconds of CPU work each rank does before every timed collective, as a
  // training step computes before it exchanges. On a host whose cores are
  // shared (P processes on fewer cores), a collective between compute phases
  // waits for descheduled peers and costs more than one between idle waits.
  double compute_s = 0.0;
};

struct CollectiveMeasurement {
  std::string op;          // "allreduce" or "allgather"
  std::size_t bytes = 0;   // allreduce: the vector; allgather: each rank's part
  double wire_bytes = 0;   // bytes one rank sends (ring schedule)
  Summary seconds;         // rank 0's times, each after a barrier
};

// Collective: every rank calls it with the same options. `tick` (optional)
// runs after each measured point.
std::vector<CollectiveMeasurement> run_collective_sweep(comm::Communicator& comm, const CollectiveSweepOptions& opts,
                                                        const std::function<void()>& tick = {});

struct CollectiveFit {
  int workers = 0;
  // t = alpha_s + per_element_s * wire bytes; r2 unweighted, max_rel_error the worst |fit - t| / t
  CostFit allreduce, allgather;
  double launch_s = 0.0;         // the profile's launch_us / 1e6
  double step_alpha_s = 0.0;     // the profile's alpha_us / 1e6
  double bytes_per_s = 0.0;      // achieved by large allreduces (1 / allreduce.per_element_s)
};

// Throws std::invalid_argument without points of both ops or with workers < 2.
CollectiveFit fit_collectives(const std::vector<CollectiveMeasurement>& ms, int workers);

// Sizes 4 * 4^i bytes from min_bytes to max_bytes (inclusive where they land).
std::vector<std::size_t> collective_size_grid(std::size_t min_bytes, std::size_t max_bytes);

}  // namespace gcsim::calib
