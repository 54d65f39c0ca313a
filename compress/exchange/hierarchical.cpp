// compression.exchange = "hierarchical": a two-level sparse exchange for
// clusters of nodes with G ranks each (ranks packed node by node), after
// HiTopKComm (Shi et al., "Towards Scalable Distributed Training of Deep
// Learning on Public Cloud Clusters", MLSys 2021: reduce-scatter inside the
// node, Top-K of each shard exchanged between nodes, allgather inside the
// node), with the dense intra-node rings of the hierarchical allreduce
// (sim/collectives/hierarchical_allreduce.h):
//
//   1. inside the node, a ring reduce-scatter of the dense bucket: local rank
//      l ends with shard l (entries [n l / G, n (l+1) / G)) summed over the
//      node's G ranks; the ring adds chunk c as x_(c+1) + x_(c+2) + ... + x_c;
//   2. local rank l runs the sparsifier on its shard, piece by piece (a piece:
//      a segment's part of the shard, k = ceil(rho piece) each), with error
//      feedback on the node's sum: acc = shard + e, send the k, e = acc - sent
//      (the residual lives only on the rank's own shard);
//   3. between nodes, local rank l of every node joins a ring allgather of
//      those pairs (known sizes: every node's pieces are the same), and sums
//      the M nodes' pairs into its dense shard in node order, / P;
//   4. inside the node, a ring allgather of the dense shards.
//
// The update: (1/P) sum over nodes of top-k(node sum of shard + e), per
// piece; each node's selection is of its G ranks' sum, not of one rank's
// gradient. Every rank ends with the same bits. The compression kernels run
// on the shard (n / G entries), which is what the plan prices.
// Wire per rank and bucket: 4 (G-1)/G n in the reduce-scatter and as much in
// the allgather (inside the node), and (M-1) k_shard (4 + index) between nodes.
#include "compress/exchange/sparse_exchange.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "comm/ring_allgather.h"
#include "compress/sparsifier.h"
#include "kernels/wire_format.h"
#include "sim/profile.h"

namespace gcsim::compress {

namespace {

// Chunk c of n entries split G ways: [n c / G, n (c+1) / G).
std::size_t chunk_lo(std::size_t n, int G, int c) { return n * static_cast<std::size_t>(c) / static_cast<std::size_t>(G); }

class HierarchicalCodec final : public Codec {
 public:
  HierarchicalCodec(const Sparsifier& m, const CompressionSpec& spec, std::vector<Segment> segments,
                    std::vector<BucketLayout> buckets, std::size_t total)
      : m_(m), spec_(spec), rho_(spec.ratio), segments_(std::move(segments)), buckets_(std::move(buckets)),
        residual_(total, 0.0f) {}

  std::span<float> residual() override { return residual_; }
  void set_density(double rho) override { rho_ = rho; }

  void exchange(std::size_t b, std::span<float> grads, ExchangeContext& ctx) override {
    comm::Communicator& comm = ctx.comm;
    kernels::Backend& kb = ctx.kernels;
    const BucketLayout& bl = buckets_[b];
    float* g = grads.data();
    const std::size_t n = bl.size;
    const int P = comm.size();
    const int G = std::clamp(spec_.node_size, 1, P);
    if (P % G != 0)
      throw std::invalid_argument("hierarchical exchange: " + std::to_string(P) + " ranks are not nodes of " +
                                  std::to_string(G));
    const int M = P / G, l = comm.rank() % G, node = comm.rank() / G;
    for (std::size_t si = bl.first; si < bl.last; ++si)  // before anything is sent
      reject_non_finite({g + (segments_[si].offset - bl.offset), segments_[si].size},
                        ctx.where + "gradient of " + segments_[si].name);
    {
      PhaseTimer t(ctx.stats.communicate_s);
      node_reduce_scatter(comm, g, n, G, l, node * G);
    }
    const std::size_t lo = chunk_lo(n, G, l), hi = chunk_lo(n, G, l + 1), shard = hi - lo;
    std::size_t k = 0;
    {
      PhaseTimer t(ctx.stats.compress_s);
      k = select_shard(kb, bl, lo, hi, g, ctx.step, l);
      wire_.resize(kernels::wire_bytes(shard, k));
      kb.pack(values_.data(), indices_.data(), k, shard, wire_.data());
    }
    ctx.stats.entries_sent += k;
    {
      PhaseTimer t(ctx.stats.communicate_s);
      node_ring_allgather(comm, M, node, G);
    }
    {
      PhaseTimer t(ctx.stats.decompress_s);
      float* out = g + lo;
      std::fill(out, out + shard, 0.0f);
      for (int m = 0; m < M; ++m) {
        kb.unpack(reinterpret_cast<const std::byte*>(gathered_.data() + static_cast<std::size_t>(m) * wire_.size()),
                  wire_.size(), shard, values_.data(), indices_.data());
        const kernels::SparseRef part{values_.data(), indices_.data(), k};
        kb.scatter_add(&part, 1, out, shard);
      }
      divide_by_ranks({out, shard}, P);
    }
    PhaseTimer t(ctx.stats.communicate_s);
    node_allgather(comm, g, n, G);
  }

 private:
  // The sparsifier on each segment's part of [lo, hi); the pairs in values_ /
  // indices_ with indices within the shard. Returns how many.
  std::size_t select_shard(kernels::Backend& kb, const BucketLayout& bl, std::size_t lo, std::size_t hi, float* g,
                           std::uint64_t step, int l) {
    values_.resize(hi - lo);
    indices_.resize(hi - lo);
    std::size_t k = 0;
    for (std::size_t si = bl.first; si < bl.last; ++si) {
      const Segment& seg = segments_[si];
      const std::size_t s_lo = std::max(lo, seg.offset - bl.offset), s_hi = std::min(hi, seg.offset - bl.offset + seg.size);
      if (s_lo >= s_hi) continue;
      const std::size_t piece = s_hi - s_lo;
      const auto kp = static_cast<std::size_t>(topk_count(rho_, static_cast<std::int64_t>(piece)));
      float* x = g + s_lo;
      float* e = residual_.data() + bl.offset + s_lo;
      // Random-K's subset derives from (step, piece): the same on every node.
      const std::size_t id = si * static_cast<std::size_t>(spec_.node_size) + static_cast<std::size_t>(l);
      const std::size_t got = spec_.error_feedback
                                  ? m_.select_with_feedback(kb, x, e, piece, kp, step, id, values_.data() + k, indices_.data() + k)
                                  : m_.select(kb, x, piece, kp, step, id, values_.data() + k, indices_.data() + k);
      for (std::size_t j = k; j < k + got; ++j) indices_[j] += static_cast<kernels::Index>(s_lo - lo);
      k += got;
    }
    return k;
  }

  // Ring reduce-scatter over ranks base .. base + G - 1: in step s local rank
  // l sends chunk l - s - 1 to l + 1 and adds chunk l - s - 2 from l - 1 into
  // its own; after G - 1 steps chunk l holds the node's sum.
  void node_reduce_scatter(comm::Communicator& comm, float* g, std::size_t n, int G, int l, int base) {
    const int next = base + (l + 1) % G, prev = base + (l + G - 1) % G;
    for (int s = 0; s + 1 < G; ++s) {
      const int out = ((l - s - 1) % G + G) % G, in = ((l - s - 2) % G + G) % G;
      const std::size_t out_lo = chunk_lo(n, G, out), in_lo = chunk_lo(n, G, in);
      const std::size_t out_n = chunk_lo(n, G, out + 1) - out_lo, in_n = chunk_lo(n, G, in + 1) - in_lo;
      scratch_.resize(in_n);
      comm.sendrecv(next, g + out_lo, out_n * sizeof(float), prev, scratch_.data(), in_n * sizeof(float));
      for (std::size_t i = 0; i < in_n; ++i) g[in_lo + i] += scratch_[i];
    }
  }

  // Ring allgather of the dense shards inside the node (chunk l from local rank l).
  void node_allgather(comm::Communicator& comm, float* g, std::size_t n, int G) {
    offsets_.resize(static_cast<std::size_t>(G) + 1);
    for (int c = 0; c <= G; ++c) offsets_[static_cast<std::size_t>(c)] = chunk_lo(n, G, c) * sizeof(float);
    const std::vector<int> group = comm::node_group(comm.rank(), comm.size(), G);
    comm::ring_allgather(comm, group, comm.rank() % G, reinterpret_cast<std::uint8_t*>(g), offsets_);
  }

  // Ring allgather of wire_ between local rank l of every node: gathered_
  // holds node 0's pairs, then node 1's, ... (all the same size).
  void node_ring_allgather(comm::Communicator& comm, int M, int node, int G) {
    const std::size_t m = wire_.size();
    gathered_.resize(static_cast<std::size_t>(M) * m);
    std::copy(reinterpret_cast<const std::uint8_t*>(wire_.data()),
              reinterpret_cast<const std::uint8_t*>(wire_.data()) + m, gathered_.data() + static_cast<std::size_t>(node) * m);
    offsets_.resize(static_cast<std::size_t>(M) + 1);
    for (int i = 0; i <= M; ++i) offsets_[static_cast<std::size_t>(i)] = static_cast<std::size_t>(i) * m;
    const std::vector<int> group = comm::cross_node_group(comm.rank(), comm.size(), G);
    comm::ring_allgather(comm, group, node, gathered_.data(), offsets_);
  }

  const Sparsifier& m_;
  CompressionSpec spec_;
  double rho_;
  std::vector<Segment> segments_;
  std::vector<BucketLayout> buckets_;
  std::vector<float> residual_, scratch_;
  std::vector<float> values_;
  std::vector<kernels::Index> indices_;
  std::vector<std::byte> wire_;
  std::vector<std::uint8_t> gathered_;
  std::vector<std::size_t> offsets_;
};

class Hierarchical final : public SparseExchange {
 public:
  Exchange kind() const override { return Exchange::Hierarchical; }
  std::optional<OptionError> validate(const CompressionSpec& spec, bool fixed_k) const override {
    if (!fixed_k)
      return OptionError{"exchange", "\"hierarchical\" needs every rank to send the same k (method topk or randomk)"};
    if (spec.momentum_correction)
      return OptionError{"exchange", "\"hierarchical\" is not combined with momentum_correction"};
    return std::nullopt;
  }
  // ph.before holds the sparsifier's selection over the whole bucket; here it
  // runs on the shard (n / G entries, k / G selected) between the reduce-scatter
  // and the exchange between nodes.
  void plan(const CompressionSpec& spec, double n, double k, int P, Phase& ph, BucketPlan& p) const override {
    const int G = std::clamp(spec.node_size, 1, std::max(P, 1));
    const double M = static_cast<double>(std::max(P, 1) / G);
    const double shard = n / G, k_shard = k / G;
    Phase scatter;
    scatter.before.push_back({op::finite_check, n, 0.0});
    scatter.collective = {CollectiveKind::IntraNodeReduceScatter, 4.0 * n, 4, "dense"};
    Phase between;
    // The reduce-scatter's sums: G - 1 received chunks of n / G added in (node_reduce_scatter).
    between.before.push_back({op::dense_sum, shard * (G - 1), 0.0});
    for (const KernelUse& u : ph.before) between.before.push_back({u.op, u.n / G, u.k / G});
    between.before.push_back({op::pack, 0.0, k_shard});
    between.collective = {CollectiveKind::InterNodeAllgather, k_shard * (4.0 + spec.index_bytes), 4, "pairs"};
    Phase gather;
    gather.before.push_back({op::scatter_add, shard, k_shard * M});
    gather.before.push_back({op::scale, shard, 0.0});
    gather.collective = {CollectiveKind::IntraNodeAllgather, 4.0 * n, 4, "dense"};
    p.phases.push_back(std::move(scatter));
    p.phases.push_back(std::move(between));
    ph = std::move(gather);
    p.selected = static_cast<std::int64_t>(std::ceil(k_shard));
  }
  std::unique_ptr<SparseExchanger> exchanger() const override { return nullptr; }
  std::unique_ptr<Codec> codec(const Sparsifier& m, const CompressionSpec& spec, const std::vector<Segment>& segments,
                               const std::vector<BucketLayout>& buckets, std::size_t total) const override {
    return std::make_unique<HierarchicalCodec>(m, spec, segments, buckets, total);
  }
};

}  // namespace

const SparseExchange& hierarchical_exchange() {
  static const Hierarchical e;
  return e;
}

}  // namespace gcsim::compress
