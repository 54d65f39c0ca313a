// The DES training model: P workers, each running forward, then backward layer
// by layer in reverse; a bucket is ready when its last layer's gradient is;
// the worker's compression stream compresses ready buckets in order; bucket b
// then waits on the worker's communication stream for its collective. With
// training.compression_stream = "shared" the compression runs on the
// communication stream instead: bucket b+1 is compressed only after bucket b
// was decompressed. A
// collective starts (after the library's launch cost) when every worker has
// reached it, runs as a message schedule on the shared network, and each
// rank then decompresses (scatter-add) on its communication stream. The
// optimizer step follows backward and the last bucket; the next iteration's
// forward follows the optimizer. Stragglers stretch a worker's forward and
// backward by a seeded per-iteration multiplier.
//
// Metrics over the iterations: mean, p50 and p99 iteration time (from the
// moment the last worker finished the previous iteration); the breakdown
// (compute of the slowest worker; exposed communication = collective time
// after the slowest worker's backward ended; exposed compression = the rest);
// the busiest links.
#pragma once

#include <vector>

#include "sim/des/chrome_trace.h"
#include "sim/result.h"
#include "sim/scenario.h"

namespace gcsim {

struct DesOptions {
  ChromeTrace* trace = nullptr;  // when set, record a timeline
  int trace_ranks = 16;          // workers with their own tracks (the first ones)
  int busiest_links = 5;
  // Ring passes whose connections have their links to themselves are
  // computed without flows (sim/collectives/fast_ring.h): the same times,
  // bytes and links as message by message, which false forces.
  bool fast_rings = true;
};

// One bucket of worker 0's last iteration, in seconds since that iteration
// began (its forward pass): when backward had filled it, when its compression
// ended, when its first collective started (the last worker had arrived and
// the launch cost was paid) and when it was decompressed. Buckets in the
// order they are exchanged (0: the last layers'), as the trainer's
// buckets-rank<R>.csv `order`.
struct BucketSpan {
  double ready_s = 0.0, compressed_s = 0.0, collective_start_s = 0.0, end_s = 0.0;
};

struct DesRun {
  IterationResult result;
  std::vector<double> iteration_s;  // per iteration
  std::vector<BucketSpan> buckets;  // worker 0's last iteration (empty without communication)
};

DesRun simulate_des(const Scenario& s, const DesOptions& options = {});

}  // namespace gcsim
