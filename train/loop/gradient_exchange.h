// The compression hook, like a DDP communication hook: takes this rank's
// gradient and leaves the average over all ranks of what they chose to send.
//
// The gradient is exchanged in buckets: consecutive layers from the last
// backwards, closed once they reach bucket_mb, as DDP fills its buckets; with
// granularity "model", one bucket of everything. One collective per bucket,
// as the simulator prices it (sim/training/compression_cost.cpp). Inside a
// bucket the entries are chosen per segment: per layer with granularity
// "layer", else the bucket is the one segment. Each segment, with
// k = ceil(ratio * n_segment):
//
//   method none   Gloo ring allreduce of the dense bucket, / P
//   method topk   error feedback on:  acc = g + e; top-k of |acc|; e = acc - sent
//                 error feedback off: top-k of |g|; the rest is dropped
//   method randomk, threshold: the same with the kernels' Random-K (seeded by
//                 step and segment: all ranks draw the same subset) or DGC's
//                 sampled-threshold selection (at most 2k entries sent)
//   momentum_correction (DGC, Lin et al. 2018, section 3.2): the worker keeps
//                 the momentum, u = m u + g, and error feedback accumulates u
//                 instead of g; u is cleared where sent (momentum factor
//                 masking). The trainer then folds weight decay into g and
//                 steps with plain SGD on the average.
//   then, per bucket, exchange "allgather": pack the bucket's (value, index)
//   pairs (indices within the bucket) into the wire format, allgather(v) the
//   packed bytes (Top-K and Random-K: every part's size is known, so one
//   collective; threshold: the byte counts go first), unpack each rank's part
//   and scatter-add,
//   / P; exchange "dense": scatter the k values into a zero vector and
//   allreduce that (the baseline that sends zeros).
//
// The kernels are those of kernels/backend.h ("cpu" backend by default).
// Non-finite gradients are rejected before anything is sent (NonFiniteError).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "kernels/backend.h"
#include "sim/scenario.h"
#include "comm/communicator.h"

namespace gcsim::train {

struct Segment {
  std::string name;
  std::size_t offset = 0;
  std::size_t size = 0;
  std::size_t k = 0;      // entries sent (= size for method none)
  std::size_t group = 0;  // the bucket (one collective) it is exchanged in; segments of a bucket are adjacent
};

// Named spans of the flat parameter array (train/model/simplecnn.h ParamBlock).
struct NamedRange {
  std::string name;
  std::size_t offset = 0;
  std::size_t size = 0;
};

std::vector<Segment> make_segments(const std::vector<NamedRange>& layers, const CompressionSpec& spec,
                                   double bucket_mb);

// Seconds spent in each phase of one exchange, and the bytes this rank sent.
struct ExchangeStats {
  double compress_s = 0.0;    // error feedback + selection + pack
  double communicate_s = 0.0; // the collectives
  double decompress_s = 0.0;  // unpack + scatter-add + scale
  std::uint64_t bytes_sent = 0;
  std::size_t entries_sent = 0;  // (value, index) pairs or dense entries
};

class GradientExchange {
 public:
  GradientExchange(comm::Communicator& comm, const CompressionSpec& spec, std::vector<Segment> segments,
                   std::size_t total, const std::string& kernel_backend = "cpu");

  // grads (length total): in, this rank's gradient; out, the averaged exchange.
  ExchangeStats exchange(std::span<float> grads, std::uint64_t step);

  const std::vector<Segment>& segments() const { return segments_; }
  // Collectives per exchange: one per bucket.
  std::size_t buckets() const { return groups_.size(); }
  // Error-feedback residual (zeros when error feedback is off or method none).
  std::span<float> residual() { return residual_; }
  std::span<const float> residual() const { return residual_; }
  // Momentum correction's per-worker momentum u (empty when off).
  std::span<float> local_momentum() { return local_momentum_; }
  std::span<const float> local_momentum() const { return local_momentum_; }
  // The momentum factor m of momentum correction (the optimizer's; set by the trainer).
  void set_momentum(double m) { momentum_ = m; }

 private:
  // Selects segment si's entries into values/indices (indices within the
  // segment); returns how many.
  std::size_t compress(std::size_t si, float* g, std::uint64_t step, float* values, kernels::Index* indices);

  struct Group {
    std::size_t offset = 0, size = 0;  // the bucket's span of the gradient
    std::size_t first = 0, last = 0;   // its segments [first, last)
    std::size_t k = 0;                 // entries of every rank (Top-K, Random-K); threshold varies
  };

  comm::Communicator& comm_;
  CompressionSpec spec_;
  std::vector<Segment> segments_;
  std::vector<Group> groups_;
  std::unique_ptr<kernels::Backend> kernels_;
  std::vector<float> residual_;
  std::vector<float> local_momentum_;
  double momentum_ = 0.9;
  // scratch
  std::vector<float> values_, dense_;
  std::vector<kernels::Index> indices_;
  std::vector<std::byte> wire_;
  std::vector<std::uint8_t> gathered_;
  std::vector<std::size_t> counts_;
  std::vector<float> part_values_;
  std::vector<kernels::Index> part_indices_;
};

}  // namespace gcsim::train
