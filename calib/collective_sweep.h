// Measuring the collectives a real data-parallel run makes, on any backend
// (calib/collective_bench.h: Gloo through comm/communicator.h, NCCL on the
// local GPUs), and fitting the simulator's collective figures to them: the
// profile's launch_us (once per collective), alpha_us (once per ring step)
// and the bandwidth a large message achieves (sim/profile.h), for the ring
// family and, from a tree allreduce's times, for the tree family.
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

#include "sim/efficiency_curve.h"

#include "calib/collective_bench.h"
#include "calib/communicator_bench.h"
#include "calib/cost_fit.h"
#include "calib/stats.h"
#include "comm/communicator.h"

namespace gcsim::calib {

struct CollectiveSweepOptions {
  std::vector<std::size_t> sizes;  // CollectiveMeasurement::bytes (multiples of 4)
  std::vector<std::string> collectives;  // what to time; empty: every one the bench can
  bool check = true;               // after the timed repeats, one run with known inputs (nccl-tests' -c 1)
  int warmup = 3;
  int repeats = 15;
  // Seconds of CPU work each rank does before every timed collective, as a
  // training step computes before it exchanges. On a host whose cores are
  // shared (P processes on fewer cores), a collective between compute phases
  // waits for descheduled peers and costs more than one between idle waits.
  double compute_s = 0.0;
  RingGroups groups;  // p2p_ring's rings over a communicator (calib/communicator_bench.h)
};

struct CollectiveMeasurement {
  std::string op;          // coll:: names (collective_bench.h)
  std::size_t bytes = 0;   // allreduce, broadcast: the buffer; allgather, reduce_scatter: each rank's part
  double wire_bytes = 0;   // bytes one rank sends (ring schedule)
  Summary seconds;         // as the bench reports them (Gloo: rank 0's, each after a barrier)
  std::uint64_t wrong = 0; // elements the data check found wrong
  std::string variant;     // what was forced, e.g. "Ring/Simple" (NCCL_ALGO/NCCL_PROTO); "" the default
};

// Collective: every rank of the bench calls it with the same options. `tick`
// (optional) runs after each measured point. A data check that finds a wrong
// element throws std::runtime_error naming the collective and size.
std::vector<CollectiveMeasurement> run_collective_sweep(CollectiveBench& bench, const CollectiveSweepOptions& opts,
                                                        const std::function<void()>& tick = {});
// The same over a communicator (calib/communicator_bench.h), with opts.compute_s and opts.groups.
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

// The ring family, from the allreduce and allgather points of `ms` (others
// are ignored). Throws std::invalid_argument without points of both ops or
// with workers < 2.
CollectiveFit fit_collectives(const std::vector<CollectiveMeasurement>& ms, int workers);

// The tree family, from a tree allreduce's points (NCCL_ALGO=Tree): what the
// simulator charges for it (sim/collectives/tree_allreduce.cpp) is
//   launch + 2 ceil(log2 P) alpha + 2 n / B
// so t is fitted as c + n / (B / 2), robustly as above, and alpha =
// (c - launch) / (2 ceil(log2 P)) with the ring's launch (one library, one
// launch cost), clamped at 0.
struct TreeFit {
  int workers = 0;
  CostFit allreduce;           // t over the buffer's bytes
  double launch_s = 0.0;       // the ring's, as given
  double step_alpha_s = 0.0;   // per tree level and direction
  double bytes_per_s = 0.0;    // B
};
// Throws std::invalid_argument without two allreduce points or with workers < 2.
TreeFit fit_tree_allreduce(const std::vector<CollectiveMeasurement>& ms, int workers, double launch_s);

// The allgather family, from the allgather points alone: t = c + wire / B
// with its own slope (the upper half of its points, as the ring's), alpha =
// (c - launch) / (P - 1) with the ring's launch (one library, one launch
// cost), clamped at 0. Gloo's allgatherv and NCCL's allgather reach other
// rates than their allreduce, which the ring family is fitted by.
struct AllgatherFit {
  int workers = 0;
  CostFit allgather;          // t over wire bytes
  double launch_s = 0.0;      // the ring's, as given
  double step_alpha_s = 0.0;  // per ring step
  double bytes_per_s = 0.0;   // B
};
// The p2p family, gcsim's own point-to-point rings (op = coll::p2p_ring;
// workers: the ring's ranks, launch_s 0: no library launches them), is
// fitted the same way. Throws std::invalid_argument without two points of op
// or with workers < 2.
AllgatherFit fit_allgather(const std::vector<CollectiveMeasurement>& ms, int workers, double launch_s,
                           const std::string& op = coll::allgather);
// The half family, fp16's allreduce (op = coll::allreduce_half), fitted the
// same way over its wire bytes, with an allreduce's 2 (P - 1) ring steps:
// alpha = (c - launch) / (2 (P - 1)). Throws as fit_allgather.
AllgatherFit fit_half_allreduce(const std::vector<CollectiveMeasurement>& ms, int workers, double launch_s);

// The efficiency curve (sim/efficiency_curve.h) of op's points against a
// line rate: at each measured size (an allreduce's buffer, an allgather's
// per-rank bytes) the efficiency e for which fixed_s + wire / (line e) is
// its median time, clamped to [1e-3, 1] (1 where the time is within the
// fixed part). Ascending by size. Only sizes in the bandwidth regime count:
// those whose wire bytes at the line rate take at least fixed_s and at least
// the cheapest of op's measured times; below, a time is the fixed part and
// noise. Empty when no size reaches it (the curve then leaves the flat
// efficiency alone).
std::vector<EfficiencyPoint> efficiency_curve(const std::vector<CollectiveMeasurement>& ms, const std::string& op,
                                              double fixed_s, double line_bytes_per_s);

// Sizes 4 * 4^i bytes from min_bytes to max_bytes (inclusive where they land).
std::vector<std::size_t> collective_size_grid(std::size_t min_bytes, std::size_t max_bytes);

}  // namespace gcsim::calib
