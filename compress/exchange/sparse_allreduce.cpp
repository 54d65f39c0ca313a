// compression.exchange = "sparse-allreduce": the exact sum of every rank's
// sparse vector by recursive doubling, switching to dense once the merged
// vector fills in (SparCML: Renggli, Ashkboos, Aghagolzadeh, Alistarh &
// Hoefler, SC 2019, section 4: SSAR_Recursive_double with DSAR's switch), as
// sim/collectives/sparse_allreduce.h prices it.
//
// With P' = 2^floor(log2 P): rank P'+i first hands its pairs to rank i and
// gets the result back at the end. Core rank x exchanges its whole current
// vector with x XOR 2^s (s = 0 .. log2 P' - 1) and merges (the union, summed
// on shared indices: compress/exchange/sparse_vector.h); once its pairs would
// be at least 4n bytes it sends all n values instead. Merging is commutative
// bit for bit and both partners of a round merge the same two vectors, so
// every rank ends with the same bits, the sum in the butterfly's order.
// Every rank applies the sum / P. Error feedback is the method's own: all
// that was sent arrives.
// Wire: an 8-byte size, then the vector: k_s (4 + index) bytes while sparse,
// 4n once dense, per round.
#include "compress/exchange/sparse_exchange.h"

#include <algorithm>

#include "comm/rank_patterns.h"
#include "compress/exchange/sparse_vector.h"
#include "compress/fill_in.h"
#include "sim/profile.h"

namespace gcsim::compress {

namespace {

class SparseAllreduceExchanger final : public SparseExchanger {
 public:
  void exchange(const SparseBucket& in, std::span<float> g, ExchangeContext& ctx) override {
    comm::Communicator& comm = ctx.comm;
    const int P = comm.size(), r = comm.rank();
    const int pof2 = comm::floor_pow2(P);
    const int extra = P - pof2;
    SparseVector cur;
    {
      PhaseTimer t(ctx.stats.compress_s);
      cur = sorted_pairs(in.values, in.indices, in.k, in.n);
      cur.make_dense_if_larger();
    }
    // How many ranks' vectors a core rank's block of `size` core ranks holds
    // (core rank i < extra holds two after the hand-off).
    const auto ranks_in = [&](int size) {
      const int lo = r & ~(size - 1);
      return size + std::max(0, std::min(lo + size, extra) - lo);
    };
    if (r >= pof2) {  // an extra rank: hand off, get the sum back
      swap(comm, r - pof2, cur, /*send=*/true, /*recv=*/false, ctx);
      swap(comm, r - pof2, cur, false, true, ctx);
    } else {
      if (r < extra) {
        swap(comm, r + pof2, cur, false, true, ctx, /*merge=*/true);
        record(in, ranks_in(1), cur, ctx);
      }
      for (int d = 1; d < pof2; d *= 2) {
        swap(comm, r ^ d, cur, true, true, ctx, true);
        record(in, ranks_in(2 * d), cur, ctx);
      }
      if (r < extra) swap(comm, r + pof2, cur, true, false, ctx);
    }
    PhaseTimer t(ctx.stats.decompress_s);
    std::fill(g.begin(), g.end(), 0.0f);
    cur.add_to(g.data());
    divide_by_ranks(g, P);
  }

 private:
  // The fill-in after a merge: the support of the sum (counted over the values
  // once the merge has made it dense).
  static void record(const SparseBucket& in, int ranks, const SparseVector& cur, ExchangeContext& ctx) {
    std::size_t nonzeros = cur.indices.size();
    if (cur.dense) nonzeros = static_cast<std::size_t>(
        std::count_if(cur.values.begin(), cur.values.end(), [](float v) { return v != 0.0f; }));
    ctx.stats.merges.push_back({ctx.bucket, in.n, in.k, ranks, nonzeros, cur.dense});
  }

  // Sends cur to peer and/or receives the peer's vector; with merge, cur
  // becomes cur + theirs, else theirs.
  void swap(comm::Communicator& comm, int peer, SparseVector& cur, bool send, bool recv, ExchangeContext& ctx,
            bool merge_in = false) {
    {
      PhaseTimer t(ctx.stats.compress_s);
      if (send) cur.encode(ctx.kernels, wire_);
      else wire_.clear();
    }
    {
      PhaseTimer t(ctx.stats.communicate_s);
      if (send && recv) comm.sendrecv_sized(peer, wire_.data(), wire_.size(), recv_);
      else if (send) comm.send_sized(peer, wire_.data(), wire_.size());
      else comm.recv_sized(peer, recv_);
    }
    if (!recv) return;
    PhaseTimer t(ctx.stats.compress_s);
    SparseVector theirs =
        SparseVector::decode(ctx.kernels, reinterpret_cast<const std::byte*>(recv_.data()), recv_.size(), cur.n);
    cur = merge_in ? merge(cur, theirs) : std::move(theirs);
    cur.make_dense_if_larger();
  }

  std::vector<std::byte> wire_;
  std::vector<std::uint8_t> recv_;
};

class SparseAllreduce final : public SparseExchange {
 public:
  Exchange kind() const override { return Exchange::SparseAllreduce; }
  void plan(const CompressionSpec& spec, double n, double k, int P, Phase& ph, BucketPlan& p) const override {
    ph.before.push_back({op::pack, 0.0, k});
    CollectiveUse c{CollectiveKind::SparseAllreduce, k * (4.0 + spec.index_bytes), 4, "pairs"};
    c.entries = n;
    c.selected = k;
    ph.collective = c;
    const FillIn fill{n, k, 4.0 + spec.index_bytes, 4.0};
    p.after.push_back({op::scatter_add, n, fill.dense(P) ? n : fill.support(P)});
    p.after.push_back({op::scale, n, 0.0});
  }
  std::unique_ptr<SparseExchanger> exchanger() const override {
    return std::make_unique<SparseAllreduceExchanger>();
  }
};

}  // namespace

const SparseExchange& sparse_allreduce_exchange() {
  static const SparseAllreduce e;
  return e;
}

}  // namespace gcsim::compress
