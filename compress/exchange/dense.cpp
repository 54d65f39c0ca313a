// compression.exchange = "dense": each rank scatters its pairs into a zero
// vector of n and the bucket is allreduced dense, / P: the same arithmetic
// as a sparse exchange and all 4n bytes of a dense one (the baseline that
// shows what sparsity saves on the wire, and what it does not).
#include "compress/exchange/sparse_exchange.h"

#include <algorithm>

#include "sim/profile.h"

namespace gcsim::compress {

namespace {

class DenseExchanger final : public SparseExchanger {
 public:
  void exchange(const SparseBucket& in, std::span<float> g, ExchangeContext& ctx) override {
    {
      PhaseTimer t(ctx.stats.compress_s);
      std::fill(g.begin(), g.end(), 0.0f);
      for (std::size_t j = 0; j < in.k; ++j) g[static_cast<std::size_t>(in.indices[j])] = in.values[j];
    }
    {
      PhaseTimer t(ctx.stats.communicate_s);
      ctx.comm.allreduce_sum(g.data(), in.n);
    }
    PhaseTimer t(ctx.stats.decompress_s);
    divide_by_ranks(g, ctx.comm.size());
  }
};

class Dense final : public SparseExchange {
 public:
  Exchange kind() const override { return Exchange::Dense; }
  void plan(const CompressionSpec&, double n, double k, int, Phase& ph, BucketPlan& p) const override {
    ph.before.push_back({op::scatter_add, n, k});  // local decompression to a dense buffer
    ph.collective = {CollectiveKind::Allreduce, 4.0 * n, 4, "dense"};
    p.after.push_back({op::scale, n, 0.0});
  }
  std::unique_ptr<SparseExchanger> exchanger() const override { return std::make_unique<DenseExchanger>(); }
};

}  // namespace

const SparseExchange& dense_exchange() {
  static const Dense e;
  return e;
}

}  // namespace gcsim::compress
