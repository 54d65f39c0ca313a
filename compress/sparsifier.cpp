// Top-K, Random-K and threshold: plan and codec (see sparsifier.h).
#include "compress/sparsifier.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "compress/exchange/sparse_exchange.h"
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
  if (spec.exchange != Exchange::Allgather) l += std::string(" ") + to_string(spec.exchange) + "-exchange";
  if (spec.index_bytes == 8) l += " int64";
  if (spec.granularity == Granularity::Layer) l += " per-layer";
  if (spec.warmup_epochs > 0) l += " warmup=" + std::to_string(spec.warmup_epochs);
  return l;
}

BucketPlan Sparsifier::plan(const CompressionSpec& spec, const std::vector<Layer>& bucket, int P) const {
  if (spec.exchange == Exchange::Auto)
    throw std::logic_error("Sparsifier::plan: exchange \"auto\" is resolved by the caller (variants())");
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
  p.selected = k;
  sparse_exchange(spec.exchange).plan(spec, n, static_cast<double>(k), P, ph, p);
  p.phases.push_back(std::move(ph));
  return p;
}

std::optional<OptionError> Sparsifier::validate(const CompressionSpec& spec) const {
  if (spec.exchange == Exchange::Auto) return std::nullopt;  // variants() keeps the ones that validate
  return sparse_exchange(spec.exchange).validate(spec, fixed_k());
}

std::vector<CompressionSpec> Sparsifier::variants(const CompressionSpec& spec) const {
  if (spec.exchange != Exchange::Auto) return {spec};
  std::vector<CompressionSpec> out;
  for (Exchange e : {Exchange::Allgather, Exchange::Gtopk, Exchange::SparseAllreduce, Exchange::Hierarchical,
                     Exchange::Dense}) {
    if (e == Exchange::Hierarchical && spec.node_size < 2) continue;  // one rank per node: nothing to split
    CompressionSpec v = spec;
    v.exchange = e;
    if (!sparse_exchange(e).validate(v, fixed_k())) out.push_back(v);
  }
  return out;
}

namespace {

class SparseCodec final : public Codec {
 public:
  SparseCodec(const Sparsifier& m, const CompressionSpec& spec, std::vector<Segment> segments,
              std::vector<BucketLayout> buckets, std::size_t total)
      : m_(m), spec_(spec), segments_(std::move(segments)), buckets_(std::move(buckets)),
        residual_(total, 0.0f), local_momentum_(spec.momentum_correction ? total : 0, 0.0f) {
    if (spec.exchange == Exchange::Auto)
      throw std::invalid_argument("the trainer needs a concrete exchange, not \"auto\" (resolve it first)");
    if (spec.momentum_correction && !spec.error_feedback)
      throw std::invalid_argument("momentum correction needs error feedback");
    std::size_t max_bucket = 0;
    for (const BucketLayout& b : buckets_) max_bucket = std::max(max_bucket, b.size);
    values_.resize(2 * max_bucket);
    indices_.resize(2 * max_bucket);
    exchanger_ = sparse_exchange(spec.exchange).exchanger();
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

    // ---- compress: each segment's entries ----
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
    }
    ctx.stats.entries_sent += k;

    // ---- exchange: compress/exchange/, one collective for the bucket ----
    SparseBucket sb;
    sb.values = values_.data();
    sb.indices = indices_.data();
    sb.k = k;
    sb.k_fixed = m_.fixed_k() ? k_fixed : 0;
    sb.n = n;
    if (spec_.error_feedback) sb.residual = std::span<float>(residual_).subspan(bl.offset, n);
    exchanger_->exchange(sb, {g, n}, ctx);
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
  std::vector<float> values_;
  std::vector<kernels::Index> indices_;
  std::unique_ptr<SparseExchanger> exchanger_;
};

}  // namespace

std::unique_ptr<Codec> Sparsifier::codec(const CompressionSpec& spec, const std::vector<Segment>& segments,
                                         const std::vector<BucketLayout>& buckets, std::size_t total) const {
  if (auto own = sparse_exchange(spec.exchange).codec(*this, spec, segments, buckets, total)) return own;
  return std::make_unique<SparseCodec>(*this, spec, segments, buckets, total);
}

}  // namespace gcsim::compress
