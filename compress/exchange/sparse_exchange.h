// How a sparsifier's (value, index) pairs travel between the ranks
// (compression.exchange): one SparseExchange per way, each in its own file
// with both of a method's faces, its cost model (plan: the collective and the
// kernels around it) and its real exchange over the communicator. registry.cpp
// maps compression.exchange to them.
//
//   allgather         every rank gets every rank's pairs, sums them    (allgather.cpp)
//   dense             pairs scattered into zeros, dense allreduce      (dense.cpp)
//   gtopk             global top k of the sum by a tree of merges      (gtopk.cpp)
//   sparse-allreduce  the exact sum by recursive doubling, dense once
//                     it fills in                                      (sparse_allreduce.cpp)
//   hierarchical      dense reduce-scatter in the node, the shard's
//                     pairs between nodes, dense allgather in the node  (hierarchical.cpp)
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "compress/codec.h"
#include "compress/method.h"
#include "compress/plan.h"
#include "compress/spec.h"

namespace gcsim::compress {

class Sparsifier;

// One rank's selection for one bucket of n entries.
struct SparseBucket {
  const float* values = nullptr;
  const kernels::Index* indices = nullptr;  // within the bucket
  std::size_t k = 0;                        // this rank's pairs
  std::size_t k_fixed = 0;                  // every rank's k, when the method fixes it (else 0)
  std::size_t n = 0;
  std::span<float> residual;                // the bucket's error-feedback residual (empty without)
};

class SparseExchanger {
 public:
  virtual ~SparseExchanger() = default;
  // g (n entries, any content) becomes (1/P) x what the exchange delivers;
  // the exchange's own encoding, merging and decoding time goes to
  // ctx.stats' compress / communicate / decompress.
  virtual void exchange(const SparseBucket& in, std::span<float> g, ExchangeContext& ctx) = 0;
};

class SparseExchange {
 public:
  virtual ~SparseExchange() = default;
  virtual Exchange kind() const = 0;
  // Options it cannot honour with this method (fixed_k: every rank sends the same k).
  virtual std::optional<OptionError> validate(const CompressionSpec&, bool /*fixed_k*/) const { return std::nullopt; }
  // Completes the plan of a bucket of n entries where each rank selected k
  // (ph.before holds the selection kernels): ph's collective, and kernels.
  virtual void plan(const CompressionSpec& spec, double n, double k, int P, Phase& ph, BucketPlan& p) const = 0;
  virtual std::unique_ptr<SparseExchanger> exchanger() const = 0;
  // A codec of its own, for an exchange that moves the selection itself
  // (hierarchical: onto the node's reduced shard), else nullptr: the
  // sparsifier's codec, which selects and hands the pairs to exchanger().
  virtual std::unique_ptr<Codec> codec(const Sparsifier&, const CompressionSpec&, const std::vector<Segment>&,
                                       const std::vector<BucketLayout>&, std::size_t /*total*/) const {
    return nullptr;
  }
};

const SparseExchange& sparse_exchange(Exchange e);

}  // namespace gcsim::compress
