// The compression hook, like a DDP communication hook: takes this rank's
// gradient and leaves the average over all ranks of what they chose to send.
//
// The gradient is exchanged in buckets: consecutive layers from the last
// backwards, closed once they reach bucket_mb, as DDP fills its buckets; with
// granularity "model", one bucket of everything. Inside a bucket a
// sparsifying method chooses entries per segment: per layer with granularity
// "layer", else the bucket is the one segment, k = ceil(ratio n_segment).
// What each bucket's exchange does is the method's (compress/<method>.cpp:
// its codec, the same file whose plan the simulator prices), on the kernels
// of kernels/backend.h ("cpu" backend by default) and this communicator.
// Non-finite gradients are rejected before anything is sent (NonFiniteError,
// naming the step and the segment).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "compress/method.h"
#include "kernels/backend.h"
#include "sim/scenario.h"
#include "comm/communicator.h"

namespace gcsim::train {

using compress::ExchangeStats;
using compress::Segment;

// Named spans of the flat parameter array (train/model/simplecnn.h ParamBlock)
// and their tensors (empty: one vector of `size`).
struct NamedRange {
  std::string name;
  std::size_t offset = 0;
  std::size_t size = 0;
  std::vector<TensorShape> tensors;
};

// One bucket's exchange within a step, in seconds since the step's forward
// pass began (the simulator's iteration start):
// when backward had filled it (ready), when its exchange began and ended, and
// what it cost. `order` is its place in DDP's order (0: the bucket of the last
// layers, exchanged first), the simulator's bucket numbering.
struct BucketTiming {
  std::size_t bucket = 0;  // GradientExchange's numbering (forward order of its layers)
  std::size_t order = 0;   // = buckets() - 1 - bucket
  double ready_s = 0.0, start_s = 0.0, end_s = 0.0;
  double compress_s = 0.0, communicate_s = 0.0, decompress_s = 0.0;
  std::uint64_t bytes_sent = 0;
};

std::vector<Segment> make_segments(const std::vector<NamedRange>& layers, const CompressionSpec& spec,
                                   double bucket_mb);

class GradientExchange {
 public:
  GradientExchange(comm::Communicator& comm, const CompressionSpec& spec, std::vector<Segment> segments,
                   std::size_t total, const std::string& kernel_backend = "cpu");

  using Clock = std::chrono::steady_clock;

  // grads (length total): in, this rank's gradient; out, the averaged exchange.
  // Bucket by bucket in DDP's order (the last layers' bucket first). With
  // `timings`, one entry per bucket in that order, timed from `step_start`
  // (the forward pass's start; every bucket ready when this is called).
  ExchangeStats exchange(std::span<float> grads, std::uint64_t step, std::vector<BucketTiming>* timings = nullptr,
                         Clock::time_point step_start = Clock::now());

  // One bucket of it (what the overlapped pipeline runs as backward fills the
  // buckets): adds to `stats` and fills `timing`'s start, end, phases, bytes.
  void exchange_bucket(std::size_t b, std::span<float> grads, std::uint64_t step, ExchangeStats& stats,
                       BucketTiming& timing, Clock::time_point step_start);
  // Where bucket b starts in the flat gradient (it ends where b + 1 starts).
  std::size_t bucket_offset(std::size_t b) const { return buckets_.at(b).offset; }

  const std::vector<Segment>& segments() const { return segments_; }
  // Buckets per exchange (each one or more collectives, as the method needs).
  std::size_t buckets() const { return buckets_.size(); }
  // Error-feedback residual, length total (zeros when the method keeps none).
  std::span<float> residual();
  std::span<const float> residual() const { return const_cast<GradientExchange*>(this)->residual(); }
  // Momentum correction's per-worker momentum u (empty when off).
  std::span<float> local_momentum() { return codec_->local_momentum(); }
  std::span<const float> local_momentum() const { return codec_->local_momentum(); }
  // The momentum factor m of momentum correction (the optimizer's; set by the trainer).
  void set_momentum(double m) { codec_->set_momentum(m); }
  // DGC's sparsity warm-up: the density for epoch `epoch` (0-based), max(ratio,
  // 0.25^(epoch+1)) while epoch < warmup_epochs, else ratio.
  static double warmup_density(const CompressionSpec& spec, int epoch);
  void set_density(double rho) { codec_->set_density(rho); }

 private:
  comm::Communicator& comm_;
  CompressionSpec spec_;
  std::vector<Segment> segments_;
  std::vector<compress::BucketLayout> buckets_;
  std::size_t total_ = 0;
  std::unique_ptr<kernels::Backend> kernels_;
  std::unique_ptr<compress::Codec> codec_;
  std::vector<float> no_residual_;  // zeros, for methods without one
};

}  // namespace gcsim::train
