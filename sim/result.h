// The result of simulating one configuration.
//
// Breakdown: iteration_time = compute + exposed_compression + exposed_comm,
// where "exposed" is the part not hidden behind backward compute. In the DES,
// compute is the slowest worker's (stragglers make everyone wait for it).
//
// Efficiencies (both are reported; every output names which is which):
//  - weak scaling (fixed per-worker batch):   E_weak = T_iter(1) / T_iter(P)
//  - strong scaling, the seed's form:          E_strong = (T_c/P) / (T_c/P + T_comm)
//    with T_c = one worker's compute step and T_comm = all communication and
//    compression time, none of it overlapped (problem statement, section 2.2).
//  - speedup = P * E_weak.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gcsim {

// A link's load over a DES run (the busiest links are reported).
struct LinkLoad {
  std::string name;          // "node0.nic0->switch"
  double bytes = 0.0;        // carried over the run
  double utilization = 0.0;  // bytes / (capacity x simulated time)
};

struct IterationResult {
  std::string backend;               // "analytic" or "des"
  int workers = 1;
  std::int64_t params = 0;
  std::int64_t selected = 0;         // entries each worker sends per iteration (k summed over units)
  int buckets = 0;
  std::string algorithm;             // collective(s) used, e.g. "ring" or "ring-allgather"
  std::string choice;                // what an "auto" option chose and why (describe_choice); else empty

  double iteration_time_s = 0.0;     // mean over the simulated iterations
  int iterations = 1;
  double iteration_p50_s = 0.0;
  double iteration_p99_s = 0.0;
  double straggler_s = 0.0;          // slowest worker's compute minus the mean worker's (DES)
  double forward_s = 0.0;
  double backward_s = 0.0;
  double optimizer_s = 0.0;
  double compute_s = 0.0;            // forward + backward + optimizer
  double compression_s = 0.0;        // all compression kernel time (busy, overlapped or not)
  double exposed_compression_s = 0.0;
  double comm_s = 0.0;               // all collective time (busy)
  double exposed_comm_s = 0.0;

  double bytes_sent_per_worker = 0.0;
  double bytes_received_per_worker = 0.0;

  double iteration_time_p1_s = 0.0;  // T_iter(1): same per-worker batch, one worker
  double efficiency_weak = 1.0;
  double efficiency_strong = 1.0;
  double speedup = 1.0;

  // DES only.
  std::vector<LinkLoad> busiest_links;
  std::uint64_t events = 0;
  std::uint64_t messages = 0;
  // des: collectives run, and how many of them were computed without flows
  // (ring passes, sim/collectives/fast_ring.h) rather than message by message.
  std::uint64_t collectives = 0, fast_collectives = 0;
};

}  // namespace gcsim
