// compression.exchange = "allgather": each rank packs its pairs
// (kernels/wire_format.h), one ring allgather(v) brings every rank's to every
// rank, which unpacks and scatter-adds them, / P. Sizes known in advance
// (Top-K, Random-K: k fixed) skip the byte counts' exchange.
// Bytes per rank and bucket: k (4 + index) sent to the ring, (P-1) k (4 + index) received.
#include "compress/exchange/sparse_exchange.h"

#include <algorithm>

#include "kernels/wire_format.h"
#include "sim/profile.h"

namespace gcsim::compress {

namespace {

class AllgatherExchanger final : public SparseExchanger {
 public:
  void exchange(const SparseBucket& in, std::span<float> g, ExchangeContext& ctx) override {
    kernels::Backend& kb = ctx.kernels;
    comm::Communicator& comm = ctx.comm;
    const std::size_t n = in.n;
    {
      PhaseTimer t(ctx.stats.compress_s);
      wire_.resize(kernels::wire_bytes(n, in.k));
      kb.pack(in.values, in.indices, in.k, n, wire_.data());
    }
    {
      PhaseTimer t(ctx.stats.communicate_s);
      if (in.k_fixed == 0) {
        comm.allgatherv(wire_.data(), wire_.size(), gathered_, counts_);
      } else {
        counts_.assign(static_cast<std::size_t>(comm.size()), kernels::wire_bytes(n, in.k_fixed));
        comm.allgatherv_known(wire_.data(), wire_.size(), counts_, gathered_);
      }
    }
    PhaseTimer t(ctx.stats.decompress_s);
    std::fill(g.begin(), g.end(), 0.0f);
    std::size_t at = 0;
    for (int r = 0; r < comm.size(); ++r) {
      const std::size_t kr = kernels::wire_entry_count(counts_[r], n);
      values_.resize(kr);
      indices_.resize(kr);
      kb.unpack(reinterpret_cast<const std::byte*>(gathered_.data() + at), counts_[r], n, values_.data(),
                indices_.data());
      const kernels::SparseRef part{values_.data(), indices_.data(), kr};
      kb.scatter_add(&part, 1, g.data(), n);
      at += counts_[r];
    }
    divide_by_ranks(g, comm.size());
  }

 private:
  std::vector<std::byte> wire_;
  std::vector<std::uint8_t> gathered_;
  std::vector<std::size_t> counts_;
  std::vector<float> values_;
  std::vector<kernels::Index> indices_;
};

class Allgather final : public SparseExchange {
 public:
  Exchange kind() const override { return Exchange::Allgather; }
  void plan(const CompressionSpec& spec, double n, double k, int P, Phase& ph, BucketPlan& p) const override {
    ph.before.push_back({op::pack, 0.0, k});
    ph.collective = {CollectiveKind::Allgather, k * (4.0 + spec.index_bytes), 4, "pairs"};
    p.after.push_back({op::scatter_add, n, k * P});
    p.after.push_back({op::scale, n, 0.0});
  }
  std::unique_ptr<SparseExchanger> exchanger() const override { return std::make_unique<AllgatherExchanger>(); }
};

}  // namespace

const SparseExchange& allgather_exchange() {
  static const Allgather e;
  return e;
}

}  // namespace gcsim::compress
