// compression.exchange = "gtopk": global Top-K by a tree of pairwise merges
// (Shi, Wang, Chu, Li, Li & Li, "A Distributed Synchronous SGD Algorithm with
// Global Top-k Sparsification for Low Bandwidth Networks", ICDCS 2019,
// algorithms 1 and 2), as sim/collectives/gtopk.h prices it.
//
// Every rank sends its k pairs; with L = ceil(log2 P), in round j = 0..L-1
// rank r with r mod 2^(j+1) = 2^j sends its current k pairs to r - 2^j, which
// sums them into its own (mine + theirs on a shared index) and keeps the top
// k of the at most 2k (kernels' topk, so ties go as the kernels break them).
// Rank 0 then holds the global set G of k pairs and broadcasts it down the
// binomial tree. Every rank applies G / P.
//
// Not the allgather's update: that one applies the sum of every rank's top k
// (up to P k entries); this one the top k of that sum as the tree finds it,
// k entries in all. An entry dropped in a merge loses the contributions
// merged into it so far. Error feedback follows the paper (algorithm 1, line
// 10): the pairs a rank sent whose index is not in G go back to its residual,
// so only what G carried is taken out of it. (Contributions to an index of G
// lost in an earlier merge are not returned, as in the paper.)
// Every rank must send the same k (Top-K, Random-K); momentum correction
// (which clears the momentum where sent) is not combined with it.
// Wire: k (4 + index) bytes per message, 2 (P-1) messages in all.
#include "compress/exchange/sparse_exchange.h"

#include <algorithm>

#include "comm/rank_patterns.h"
#include "compress/exchange/sparse_vector.h"
#include "kernels/wire_format.h"
#include "sim/profile.h"

namespace gcsim::compress {

namespace {

class GtopkExchanger final : public SparseExchanger {
 public:
  void exchange(const SparseBucket& in, std::span<float> g, ExchangeContext& ctx) override {
    kernels::Backend& kb = ctx.kernels;
    comm::Communicator& comm = ctx.comm;
    const int P = comm.size(), r = comm.rank(), L = comm::ceil_log2(P);
    const int mine = comm::tree_round(r, L);  // the round r sends in (L: the root)
    const std::size_t n = in.n, k = in.k;
    const std::size_t bytes = kernels::wire_bytes(n, k);
    SparseVector cur;
    {
      PhaseTimer t(ctx.stats.compress_s);
      cur = sorted_pairs(in.values, in.indices, k, n);
    }
    // ---- reduce: merges up the tree (comm/rank_patterns.h), then my k pairs to my parent ----
    for (int j = 0; j < mine; ++j) {
      if (comm::reduce_role(r, j, P) != comm::TreeRole::Receives) continue;
      recv_.resize(bytes);
      {
        PhaseTimer t(ctx.stats.communicate_s);
        comm.recv(r + (1 << j), recv_.data(), bytes);
      }
      PhaseTimer t(ctx.stats.compress_s);
      const SparseVector theirs = SparseVector::decode(kb, recv_.data(), bytes, n);
      cur = top_k(kb, merge(cur, theirs), k);
    }
    if (r != 0) {
      encode(kb, cur, ctx);
      {
        PhaseTimer t(ctx.stats.communicate_s);
        comm.send(r - (1 << mine), wire_.data(), bytes);
      }
      // ---- broadcast of G down the binomial tree: from my parent ----
      recv_.resize(bytes);
      {
        PhaseTimer t(ctx.stats.communicate_s);
        comm.recv(r - (1 << mine), recv_.data(), bytes);
      }
      PhaseTimer t(ctx.stats.decompress_s);
      cur = SparseVector::decode(kb, recv_.data(), bytes, n);
    }
    const std::vector<int> children = comm::broadcast_children(r, L, P);
    if (!children.empty()) {
      encode(kb, cur, ctx);
      PhaseTimer t(ctx.stats.communicate_s);
      for (int j : children) comm.send(r + (1 << j), wire_.data(), bytes);
    }
    // ---- apply G / P; return what G did not carry to the residual ----
    PhaseTimer t(ctx.stats.decompress_s);
    std::fill(g.begin(), g.end(), 0.0f);
    const float inv_p = 1.0f / static_cast<float>(P);
    for (std::size_t e = 0; e < cur.indices.size(); ++e)
      g[static_cast<std::size_t>(cur.indices[e])] = cur.values[e] * inv_p;
    if (!in.residual.empty())
      for (std::size_t e = 0; e < k; ++e)
        if (!std::binary_search(cur.indices.begin(), cur.indices.end(), in.indices[e]))
          in.residual[static_cast<std::size_t>(in.indices[e])] += in.values[e];
  }

 private:
  void encode(kernels::Backend& kb, const SparseVector& v, ExchangeContext& ctx) {
    PhaseTimer t(ctx.stats.compress_s);
    v.encode(kb, wire_);
  }

  // The k entries of largest |value| of v, sorted by index.
  SparseVector top_k(kernels::Backend& kb, const SparseVector& v, std::size_t k) {
    const std::size_t m = v.indices.size();
    values_.resize(k);
    positions_.resize(k);
    kb.topk(v.values.data(), m, k, values_.data(), positions_.data());
    for (std::size_t e = 0; e < k; ++e) positions_[e] = v.indices[static_cast<std::size_t>(positions_[e])];
    return sorted_pairs(values_.data(), positions_.data(), k, v.n);
  }

  std::vector<std::byte> wire_, recv_;
  std::vector<float> values_;
  std::vector<kernels::Index> positions_;
};

class Gtopk final : public SparseExchange {
 public:
  Exchange kind() const override { return Exchange::Gtopk; }
  std::optional<OptionError> validate(const CompressionSpec& spec, bool fixed_k) const override {
    if (!fixed_k)
      return OptionError{"exchange", "\"gtopk\" needs every rank to send the same k (method topk or randomk)"};
    if (spec.momentum_correction)
      return OptionError{"exchange", "\"gtopk\" is not combined with momentum_correction"};
    return std::nullopt;
  }
  void plan(const CompressionSpec& spec, double n, double k, int, Phase& ph, BucketPlan& p) const override {
    ph.before.push_back({op::pack, 0.0, k});
    CollectiveUse c{CollectiveKind::GlobalTopK, k * (4.0 + spec.index_bytes), 4, "pairs"};
    c.entries = n;
    c.selected = k;
    ph.collective = c;
    p.after.push_back({op::scatter_add, n, k});
  }
  std::unique_ptr<SparseExchanger> exchanger() const override { return std::make_unique<GtopkExchanger>(); }
};

}  // namespace

const SparseExchange& gtopk_exchange() {
  static const Gtopk e;
  return e;
}

}  // namespace gcsim::compress
