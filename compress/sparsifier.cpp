// Top-K, Random-K and threshold: plan and codec (see sparsifier.h).
#include "compress/sparsifier.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "kernels/wire_format.h"
#include "sim/profile.h"

namespace gcsim::compress {

std::size_t Sparsifier::select_with_feedback(kernels::Backend& kb, const float* g, float* e, std::size_t n,
                                             std::size_t k, std::uint64_t step, std::size_t segment, float* values,
                                             kernels::Index* indices) const {
  for (std::size_t i = 0; i < n; ++i) e[i] += g[i];
  const std::size_t sent = select(kb, e, n, k, step, segment, values, indices);
  for (std::size_t j = 0; j < sent; ++j) e[indices[j]] = 0.0f;
  return sent;
}

std::string Sparsifier::label(const CompressionSpec& spec) const {
  char pct[32];
  std::snprintf(pct, sizeof pct, " %.6g%%", spec.ratio * 100.0);
  std::string l = std::string(name()) + pct;
  if (!spec.error_feedback) l += " no-EF";
  if (spec.momentum_correction) l += " +MC";
  if (spec.exchange == Exchange::Dense) l += " dense-exchange";
  if (spec.index_bytes == 8) l += " int64";
  if (spec.granularity == Granularity::Layer) l += " per-layer";
  if (spec.warmup_epochs > 0) l += " warmup=" + std::to_string(spec.warmup_epochs);
  return l;
}

BucketPlan Sparsifier::plan(const CompressionSpec& spec, const std::vector<Layer>& bucket, int P) const {
  BucketPlan p;
  const char* sel = select_op(spec);
  double n = 0.0;
  std::int64_t k = 0;
  Phase ph;
  if (spec.granularity == Granularity::Layer) {
    for (const Layer& l : bucket) {
      const std::int64_t kl = topk_count(spec.ratio, l.params);
      k += kl;
      ph.before.push_back({sel, static_cast<double>(l.params), static_cast<double>(kl)});
      n += static_cast<double>(l.params);
    }
  } else {
    std::int64_t params = 0;
    for (const Layer& l : bucket) params += l.params;
    n = static_cast<double>(params);
    k = topk_count(spec.ratio, params);
    ph.before.push_back({sel, n, static_cast<double>(k)});
  }
  const double kd = static_cast<double>(k);
  p.selected = k;
  if (spec.exchange == Exchange::Allgather) {
    ph.before.push_back({op::pack, 0.0, kd});
    ph.collective = {CollectiveKind::Allgather, kd * (4.0 + spec.index_bytes), 4, "pairs"};
    p.after.push_back({op::scatter_add, n, kd * P});
  } else {
    ph.before.push_back({op::scatter_add, n, kd});  // local decompression to a dense buffer
    ph.collective = {CollectiveKind::Allreduce, 4.0 * n, 4, "dense"};
  }
  p.phases.push_back(std::move(ph));
  return p;
}

namespace {

class SparseCodec final : public Codec {
 public:
  SparseCodec(const Sparsifier& m, const CompressionSpec& spec, std::vector<Segment> segments,
              std::vector<BucketLayout> buckets, std::size_t total)
      : m_(m), spec_(spec), segments_(std::move(segments)), buckets_(std::move(buckets)),
        residual_(total, 0.0f), local_momentum_(spec.momentum_correction ? total : 0, 0.0f) {
    if (spec.momentum_correction && !spec.error_feedback)
      throw std::invalid_argument("momentum correction needs error feedback");
    std::size_t max_bucket = 0;
    for (const BucketLayout& b : buckets_) max_bucket = std::max(max_bucket, b.size);
    values_.resize(2 * max_bucket);
    indices_.resize(2 * max_bucket);
    dense_.resize(max_bucket);
  }

  std::span<float> residual() override { return residual_; }
  std::span<float> local_momentum() override { return local_momentum_; }
  void set_momentum(double m) override { momentum_ = m; }
  void set_density(double rho) override {
    for (Segment& seg : segments_)
      seg.k = static_cast<std::size_t>(topk_count(rho, static_cast<std::int64_t>(seg.size)));
  }

  void exchange(std::size_t b, std::span<float> grads, ExchangeContext& ctx) override {
    const BucketLayout& bl = buckets_[b];
    float* g = grads.data();
    const std::size_t n = bl.size;
    kernels::Backend& kb = ctx.kernels;
    comm::Communicator& comm = ctx.comm;

    // ---- compress: each segment's entries, then pack ----
    std::size_t k = 0, k_fixed = 0;
    {
      PhaseTimer t(ctx.stats.compress_s);
      for (std::size_t si = bl.first; si < bl.last; ++si) {
        const Segment& seg = segments_[si];
        const std::size_t at = seg.offset - bl.offset;
        std::size_t ks = 0;
        try {
          ks = compress(kb, si, g + at, ctx.step, values_.data() + k, indices_.data() + k);
        } catch (const kernels::NonFiniteError& e) {
          throw kernels::NonFiniteError(ctx.where + "gradient of " + seg.name, e.count());
        }
        if (at != 0)
          for (std::size_t j = k; j < k + ks; ++j) indices_[j] += static_cast<kernels::Index>(at);
        k += ks;
        k_fixed += seg.k;
      }
      if (spec_.exchange == Exchange::Allgather) {
        wire_.resize(kernels::wire_bytes(n, k));
        kb.pack(values_.data(), indices_.data(), k, n, wire_.data());
      } else {
        std::fill(dense_.begin(), dense_.begin() + static_cast<std::ptrdiff_t>(n), 0.0f);
        for (std::size_t j = 0; j < k; ++j) dense_[indices_[j]] = values_[j];
      }
    }
    ctx.stats.entries_sent += k;

    // ---- communicate: one collective for the bucket ----
    {
      PhaseTimer t(ctx.stats.communicate_s);
      if (spec_.exchange == Exchange::Dense) {
        comm.allreduce_sum(dense_.data(), n);
      } else if (!m_.fixed_k()) {
        comm.allgatherv(wire_.data(), wire_.size(), gathered_, counts_);
      } else {
        counts_.assign(static_cast<std::size_t>(comm.size()), kernels::wire_bytes(n, k_fixed));
        comm.allgatherv_known(wire_.data(), wire_.size(), counts_, gathered_);
      }
    }

    // ---- decompress: g = (sum of all ranks' sparse parts) / P ----
    PhaseTimer t(ctx.stats.decompress_s);
    if (spec_.exchange == Exchange::Allgather) {
      std::fill(g, g + n, 0.0f);
      std::size_t at = 0;
      for (int r = 0; r < comm.size(); ++r) {
        const std::size_t kr = kernels::wire_entry_count(counts_[r], n);
        part_values_.resize(kr);
        part_indices_.resize(kr);
        kb.unpack(reinterpret_cast<const std::byte*>(gathered_.data() + at), counts_[r], n, part_values_.data(),
                  part_indices_.data());
        const kernels::SparseRef part{part_values_.data(), part_indices_.data(), kr};
        kb.scatter_add(&part, 1, g, n);
        at += counts_[r];
      }
    } else {
      std::copy(dense_.begin(), dense_.begin() + static_cast<std::ptrdiff_t>(n), g);
    }
    const float inv_p = 1.0f / static_cast<float>(comm.size());
    for (std::size_t i = 0; i < n; ++i) g[i] *= inv_p;
  }

 private:
  std::size_t compress(kernels::Backend& kb, std::size_t si, float* g, std::uint64_t step, float* values,
                       kernels::Index* indices) {
    const Segment& seg = segments_[si];
    float* e = residual_.data() + seg.offset;
    const std::size_t n = seg.size;
    // Momentum correction: the worker's momentum u takes the gradient's place
    // in error feedback and is cleared where sent (momentum factor masking).
    float* u = spec_.momentum_correction ? local_momentum_.data() + seg.offset : nullptr;
    if (u) {
      const auto m = static_cast<float>(momentum_);
      for (std::size_t i = 0; i < n; ++i) u[i] = m * u[i] + g[i];
      reject_non_finite({u, n}, "momentum correction");
      g = u;
    }
    const std::size_t k = spec_.error_feedback
                              ? m_.select_with_feedback(kb, g, e, n, seg.k, step, si, values, indices)
                              : m_.select(kb, g, n, seg.k, step, si, values, indices);
    if (u)
      for (std::size_t j = 0; j < k; ++j) u[indices[j]] = 0.0f;
    return k;
  }

  const Sparsifier& m_;
  CompressionSpec spec_;
  std::vector<Segment> segments_;
  std::vector<BucketLayout> buckets_;
  std::vector<float> residual_, local_momentum_;
  double momentum_ = 0.9;
  std::vector<float> values_, dense_, part_values_;
  std::vector<kernels::Index> indices_, part_indices_;
  std::vector<std::byte> wire_;
  std::vector<std::uint8_t> gathered_;
  std::vector<std::size_t> counts_;
};

}  // namespace

std::unique_ptr<Codec> Sparsifier::codec(const CompressionSpec& spec, const std::vector<Segment>& segments,
                                         const std::vector<BucketLayout>& buckets, std::size_t total) const {
  return std::make_unique<SparseCodec>(*this, spec, segments, buckets, total);
}

}  // namespace gcsim::compress
