// What compressing and exchanging one bucket costs: the method's plan
// (compress/plan.h: its kernels and collectives, compress/<method>.cpp)
// priced with the profile's kernel costs (sim/kernel_cost.h: the fit,
// corrected by the measured points) and the fabric's closed-form collectives.
//
//   kernels       profile.kernel(op).eval(n, k) for each KernelUse
//   collectives   each by its kind (sim/training/phase_collective.h):
//                 allreduce by the scenario's dense algorithm ("auto" picks
//                 the fastest closed form), ring allgather(v), gTop-k,
//                 sparse recursive doubling
//   every collective also pays the profile's launch cost
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "compress/plan.h"
#include "sim/collectives/allreduce.h"
#include "sim/collectives/fabric.h"
#include "sim/scenario.h"
#include "sim/training/buckets.h"

namespace gcsim {

struct PhaseCost {
  double before_s = 0.0;          // kernels before the collective (phase 0: the compression stream)
  compress::CollectiveUse use;    // the plan's collective: kind, bytes (allreduce: the buffer; else each rank's message)
  double wire_bytes = 0.0;        // = use.bytes
  Algorithm algorithm = Algorithm::Ring;  // the allreduce algorithm used (Ring for the others)
  double merge_s = 0.0;           // gtopk: one merge
  KernelCost merge;               // sparse-allreduce: the merge kernel
  int sparse_rounds = 0;          // sparse-allreduce: rounds sent sparse before the dense switch
  CollectiveCost collective;      // includes the launch cost
  std::string label;              // what it carries (compress::CollectiveUse::label)
};

struct BucketCost {
  std::int64_t params = 0;
  std::int64_t selected = 0;      // entries sent per rank (params when dense)
  std::vector<PhaseCost> phases;  // one collective each, in order
  double compress_s = 0.0;        // = phases[0].before_s, on the compression stream
  double decompress_s = 0.0;      // after the last collective
  // With an "auto" option (compression.exchange = "auto"): every variant the
  // method offered (compress::Method::variants, by label) and its
  // compress_s + exchange_s() + decompress_s; this bucket is the cheapest.
  std::vector<std::pair<std::string, double>> alternatives;
  std::string chosen;             // the cheapest's label (empty without "auto")

  // Kernels between collectives (phases[1..].before_s), on each rank's critical path.
  double between_s() const;
  // The collectives back to back, with the kernels between them.
  double exchange_s() const;
  double bytes_sent() const;
  double bytes_received() const;
};

BucketCost bucket_cost(const Scenario& s, const Fabric& f, const Bucket& b);

// What "auto" chose over the buckets, and why: "topk 1% gtopk-exchange [topk
// 1% gtopk-exchange 4.51 ms, topk 1% 12.3 ms, ...; per iteration ...]", each
// variant's time summed over the buckets, cheapest first; empty when no bucket
// had alternatives.
std::string describe_choice(const std::vector<BucketCost>& buckets);

// For a run that uses one configuration throughout (gcsim train): the
// variant of s.compression (compress::Method::variants) whose cost summed over
// the model's buckets is the least, with describe_choice's reason in *why.
// s.compression itself when it has no "auto" option.
CompressionSpec resolve_auto(const Scenario& s, std::string* why);

// "ring", "ring-allgather", "gtopk", ... : the name of a phase's collective in outputs.
std::string collective_name(const PhaseCost& p);

}  // namespace gcsim
