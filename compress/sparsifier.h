// What Top-K, Random-K and DGC's threshold share: they send k (value, index)
// pairs per compression unit (a layer, or the bucket), k = ceil(rho n).
//
//   error feedback on:  acc = g + e; select k of acc; e = acc - sent
//                       (Stich et al., "Sparsified SGD with Memory", NeurIPS 2018)
//   error feedback off: select k of g; the rest is dropped
//   momentum_correction (DGC, Lin et al., ICLR 2018, section 3.2): the worker
//                       keeps the momentum, u = m u + g, and error feedback
//                       accumulates u instead of g; u is cleared where sent.
//   exchange            how the pairs (indices within the bucket) travel and
//                       become the average: compress/exchange/ (allgather,
//                       dense, gtopk, sparse-allreduce), each with its plan
//                       and its real exchange
//   warmup_epochs       (DGC's sparsity warm-up, section 3.3) the trainer sets a
//                       higher density for the first epochs (Codec::set_density)
//
// Wire bytes per rank and bucket: allgather k (4 + index_bytes), of which
// each rank receives (P-1) k (4 + index_bytes) (ring allgather); dense 4N;
// the others in compress/exchange/ and docs/wire-formats.md.
#pragma once

#include "compress/method.h"

namespace gcsim::compress {

class Sparsifier : public Method {
 public:
  std::vector<std::string_view> options() const override {
    return {"ratio", "index_bytes", "error_feedback", "momentum_correction", "granularity", "exchange", "warmup_epochs"};
  }
  bool sparsifies() const override { return true; }
  // The exchange's own conditions (compress/exchange/sparse_exchange.h).
  std::optional<OptionError> validate(const CompressionSpec& spec) const override;
  // exchange = "auto": one spec per exchange that validates.
  std::vector<CompressionSpec> variants(const CompressionSpec& spec) const override;
  std::string label(const CompressionSpec& spec) const override;
  BucketPlan plan(const CompressionSpec& spec, const std::vector<Layer>& bucket, int P) const override;
  std::unique_ptr<Codec> codec(const CompressionSpec& spec, const std::vector<Segment>& segments,
                               const std::vector<BucketLayout>& buckets, std::size_t total) const override;

  // The profile op that prices selecting k of n (sim/profile.h op::).
  virtual const char* select_op(const CompressionSpec& spec) const = 0;
  // Whether every rank sends exactly k entries (false: the count varies, so
  // the allgather exchanges counts first).
  virtual bool fixed_k() const { return true; }
  // Selects from x (n entries) k entries (threshold: up to 2k) into values/
  // indices; returns how many. Randomness derives from (step, segment), the
  // same on every rank.
  virtual std::size_t select(kernels::Backend& kb, const float* x, std::size_t n, std::size_t k,
                             std::uint64_t step, std::size_t segment, float* values,
                             kernels::Index* indices) const = 0;
  // With error feedback: e += g, select from e, zero the selected entries of
  // e. Top-K overrides it with the fused kernel.
  virtual std::size_t select_with_feedback(kernels::Backend& kb, const float* g, float* e, std::size_t n,
                                           std::size_t k, std::uint64_t step, std::size_t segment, float* values,
                                           kernels::Index* indices) const;
};

}  // namespace gcsim::compress
