// A compression method's training face: given this rank's gradient of one
// bucket, it runs the method's kernels (kernels/backend.h) and collectives
// (comm/communicator.h) and leaves the average over all ranks of what they
// chose to send, as a DDP communication hook does. It owns the method's
// per-run state (error-feedback residual, PowerSGD's Q, ...).
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "comm/communicator.h"
#include "kernels/backend.h"
#include "models/layer.h"

namespace gcsim::compress {

// A compression unit of a bucket (a layer with granularity "layer", else the
// whole bucket): its span of the flat gradient and its parameter tensors.
struct Segment {
  std::string name;
  std::size_t offset = 0;  // into the flat gradient
  std::size_t size = 0;
  std::size_t k = 0;       // entries a sparsifier sends (= size otherwise)
  std::size_t group = 0;   // the bucket it is exchanged in; segments of a bucket are adjacent
  std::vector<TensorShape> tensors;  // in storage order, summing to size
};

struct BucketLayout {
  std::size_t offset = 0, size = 0;  // the bucket's span of the gradient
  std::size_t first = 0, last = 0;   // its segments [first, last)
};

// One merge of the sparse allreduce (compress/exchange/sparse_allreduce.cpp):
// after it this rank holds the sum of `ranks` ranks' vectors of bucket
// `bucket` (n entries, k of them this rank's own selection), with `nonzeros`
// entries: the measured fill-in that compress/fill_in.h predicts. dense: it
// travels dense from here on.
struct MergeSize {
  std::size_t bucket = 0, n = 0, k = 0;
  int ranks = 0;
  std::size_t nonzeros = 0;
  bool dense = false;
};

// Seconds spent in each phase of one exchange, and the bytes this rank sent.
struct ExchangeStats {
  double compress_s = 0.0;    // error feedback + encoding (selection, cast, quantization, P = MQ ...)
  double communicate_s = 0.0; // the collectives
  double decompress_s = 0.0;  // decoding and averaging
  std::uint64_t bytes_sent = 0;
  std::size_t entries_sent = 0;  // values this rank put on the wire
  std::vector<MergeSize> merges;  // the sparse allreduce's fill-in, merge by merge
};

// Accumulates wall time into one of the stats' phases.
class PhaseTimer {
 public:
  explicit PhaseTimer(double& into) : into_(into), t0_(std::chrono::steady_clock::now()) {}
  ~PhaseTimer() { into_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count(); }
  PhaseTimer(const PhaseTimer&) = delete;
  PhaseTimer& operator=(const PhaseTimer&) = delete;

 private:
  double& into_;
  std::chrono::steady_clock::time_point t0_;
};

struct ExchangeContext {
  comm::Communicator& comm;
  kernels::Backend& kernels;  // a CPU backend: the gradient is host memory
  ExchangeStats& stats;
  std::uint64_t step = 0;     // 0-based optimizer step
  std::string where;          // prefix of error messages, e.g. "step 12: "
  std::size_t bucket = 0;     // the bucket being exchanged
};

class Codec {
 public:
  virtual ~Codec() = default;
  // g: this rank's gradient of bucket b (in); the averaged exchange (out).
  // Throws kernels::NonFiniteError (named by the caller) on NaN/Inf before
  // anything is sent.
  virtual void exchange(std::size_t b, std::span<float> g, ExchangeContext& ctx) = 0;

  // Error-feedback residual over the whole gradient (empty when the method keeps none).
  virtual std::span<float> residual() { return {}; }
  // DGC momentum correction's per-worker momentum (empty when off).
  virtual std::span<float> local_momentum() { return {}; }
  // The optimizer's momentum factor (momentum correction uses it).
  virtual void set_momentum(double) {}
  // A sparsifier's density rho from now on (DGC's warm-up); other methods ignore it.
  virtual void set_density(double) {}
};

// Throws kernels::NonFiniteError(what, count) when g holds NaN or Inf.
void reject_non_finite(std::span<const float> g, const std::string& what);

// The average from the sum over `ranks` ranks: every g[i] *= 1/ranks (one
// float reciprocal, so every method rounds the same way).
void divide_by_ranks(std::span<float> g, int ranks);

// Each bucket's name (its first segment's), for error messages.
std::vector<std::string> bucket_names(const std::vector<Segment>& segments, const std::vector<BucketLayout>& buckets);

// Allgather of one message of `bytes` bytes from every rank (all the same
// size, so the byte counts are not exchanged): out holds rank 0's, then rank 1's, ...
void allgather_equal(comm::Communicator& comm, const void* data, std::size_t bytes, std::vector<std::size_t>& counts,
                     std::vector<std::uint8_t>& out);

}  // namespace gcsim::compress
