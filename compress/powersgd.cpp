// method = "powersgd": PowerSGD (Vogels, Karimireddy & Jaggi, "PowerSGD:
// Practical Low-Rank Gradient Compression for Distributed Optimization",
// NeurIPS 2019, Algorithms 1 and 2), as PyTorch's DDP hook defines it
// (torch/distributed/algorithms/ddp_comm_hooks/powerSGD_hook.py, powerSGD_hook
// with PowerSGDState).
//
// Per bucket, at step >= start_iter (before it: the dense allreduce, / P):
//   error feedback   M += e over the whole bucket; keep a copy C
//   tensors          each tensor viewed as a matrix (rows, cols): conv weights
//                    (out, in kh kw), linear (out, in); r' = min(rows, cols, r).
//                    A matrix is compressed when (rows + cols) r' min_compression_rate
//                    < rows cols (PyTorch's _should_compress); vectors (biases,
//                    norms) and matrices rank r would not shrink are not.
//   1. allreduce of the uncompressed tensors, one buffer, then / P
//   2. P = M Q for each compressed matrix (Q warm-started: the previous step's
//      averaged Q; else a fresh seeded normal Q, the same on every rank),
//      one allreduce of all P of the bucket (summed)
//   3. orthogonalise each P (Gram-Schmidt, epsilon 1e-8 where PyTorch's default
//      is 0, so a zero matrix does not turn into NaN), Q = M^T P,
//      one allreduce of all Q, then / P
//   4. M = P Q^T; error feedback e = C - (the bucket as exchanged), over the
//      whole bucket, as the hook does (so an uncompressed tensor keeps
//      local - average; Vogels et al.'s code keeps none for them)
// Wire (docs/wire-formats.md): per bucket the uncompressed tensors' fp32
// values, then sum r'(rows) floats of P, then sum r'(cols) floats of Q, each
// as an allreduce: bytes per worker (ring) 2 (P-1)/P (4 U + 4 r' sum rows + 4 r' sum cols),
// independent of P like every allreduce.
#include <algorithm>
#include <cmath>
#include <numbers>

#include "compress/methods.h"
#include "kernels/hash.h"
#include "kernels/host_passes.h"
#include "sim/profile.h"

namespace gcsim::compress {

namespace {

constexpr float kEpsilon = 1e-8f;

struct Matrix {
  std::size_t offset = 0;  // within the bucket
  std::size_t rows = 0, cols = 0, rank = 0;
  std::size_t p_at = 0, q_at = 0;  // into the bucket's P and Q memory
};

struct Vector {
  std::size_t offset = 0, size = 0;  // within the bucket
};

struct Split {
  std::vector<Matrix> matrices;
  std::vector<Vector> vectors;
  std::size_t p_size = 0, q_size = 0, u_size = 0;
};

Split split(const std::vector<TensorShape>& tensors, const CompressionSpec& spec) {
  Split s;
  std::size_t at = 0;
  for (const TensorShape& t : tensors) {
    const auto rows = static_cast<std::size_t>(t.rows), cols = static_cast<std::size_t>(t.cols);
    const std::size_t r = std::min({rows, cols, static_cast<std::size_t>(spec.rank)});
    const bool compress = cols > 1 && rows > 1 &&
                          static_cast<double>((rows + cols) * r) * spec.min_compression_rate <
                              static_cast<double>(rows * cols);
    if (compress) {
      s.matrices.push_back({at, rows, cols, r, s.p_size, s.q_size});
      s.p_size += rows * r;
      s.q_size += cols * r;
    } else {
      s.vectors.push_back({at, rows * cols});
      s.u_size += rows * cols;
    }
    at += rows * cols;
  }
  return s;
}

// A standard normal by Box-Muller from two hashed uniforms: the same on every rank.
float seeded_normal(std::uint64_t seed, std::uint64_t i) {
  const double u1 = (static_cast<double>(kernels::hash64(seed, 2 * i) >> 11) + 0.5) * 0x1.0p-53;
  const double u2 = static_cast<double>(kernels::hash64(seed, 2 * i + 1) >> 11) * 0x1.0p-53;
  return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2));
}

class PowerSgdCodec final : public Codec {
 public:
  PowerSgdCodec(const CompressionSpec& spec, const std::vector<Segment>& segments,
                const std::vector<BucketLayout>& buckets, std::size_t total)
      : spec_(spec), residual_(spec.error_feedback ? total : 0, 0.0f) {
    for (const BucketLayout& b : buckets) {
      std::vector<TensorShape> tensors;
      for (std::size_t si = b.first; si < b.last; ++si)
        for (const TensorShape& t : segments[si].tensors) tensors.push_back(t);
      State st;
      st.split = split(tensors, spec);
      st.offset = b.offset;
      st.name = segments[b.first].name;
      st.p.resize(st.split.p_size);
      st.q.resize(st.split.q_size);
      buckets_.push_back(std::move(st));
    }
  }

  std::span<float> residual() override { return residual_; }

  void exchange(std::size_t b, std::span<float> g, ExchangeContext& ctx) override {
    State& st = buckets_[b];
    const Split& sp = st.split;
    kernels::Backend& kb = ctx.kernels;
    comm::Communicator& comm = ctx.comm;
    const float inv_p = 1.0f / static_cast<float>(comm.size());
    const std::size_t n = g.size();
    {
      PhaseTimer t(ctx.stats.compress_s);
      reject_non_finite(g, ctx.where + "gradient of " + st.name);
    }
    if (ctx.step < static_cast<std::uint64_t>(spec_.start_iter)) {  // PyTorch's start_powerSGD_iter
      ctx.stats.entries_sent += n;
      {
        PhaseTimer t(ctx.stats.communicate_s);
        comm.allreduce_sum(g.data(), n);
      }
      PhaseTimer t(ctx.stats.decompress_s);
      divide_by_ranks(g, comm.size());
      return;
    }
    ctx.stats.entries_sent += sp.u_size + sp.p_size + sp.q_size;
    float* e = spec_.error_feedback ? residual_.data() + st.offset : nullptr;
    {
      PhaseTimer t(ctx.stats.compress_s);
      if (e) {
        copy_.resize(n);
        kernels::host::ef_add(g.data(), e, copy_.data(), n);
      }
      uncompressed_.resize(sp.u_size);
      std::size_t at = 0;
      for (const Vector& v : sp.vectors) {
        std::copy_n(g.data() + v.offset, v.size, uncompressed_.data() + at);
        at += v.size;
      }
      if (!st.q_ready || !spec_.warm_start) {
        const std::uint64_t seed = kernels::hash64(0x506f77657253ull /* "PowerS" */, spec_.warm_start ? b : ctx.step * 65536 + b);
        for (std::size_t i = 0; i < st.q.size(); ++i) st.q[i] = seeded_normal(seed, i);
        st.q_ready = true;
      }
      for (const Matrix& m : sp.matrices)
        kb.matmul(g.data() + m.offset, st.q.data() + m.q_at, st.p.data() + m.p_at, m.rows, m.cols, m.rank);
    }
    {
      PhaseTimer t(ctx.stats.communicate_s);
      if (sp.u_size > 0) comm.allreduce_sum(uncompressed_.data(), sp.u_size);
      if (sp.p_size > 0) comm.allreduce_sum(st.p.data(), sp.p_size);
    }
    if (sp.p_size > 0) {
      {
        PhaseTimer t(ctx.stats.compress_s);
        refs_.clear();
        for (const Matrix& m : sp.matrices) refs_.push_back({st.p.data() + m.p_at, m.rows, m.rank});
        kb.orthogonalize_batched(refs_.data(), refs_.size(), kEpsilon);
        for (const Matrix& m : sp.matrices)
          kb.matmul_tn(g.data() + m.offset, st.p.data() + m.p_at, st.q.data() + m.q_at, m.rows, m.cols, m.rank);
      }
      PhaseTimer t(ctx.stats.communicate_s);
      comm.allreduce_sum(st.q.data(), sp.q_size);
    }
    PhaseTimer t(ctx.stats.decompress_s);
    divide_by_ranks(st.q, comm.size());
    for (const Matrix& m : sp.matrices)
      kb.matmul_nt(st.p.data() + m.p_at, st.q.data() + m.q_at, g.data() + m.offset, m.rows, m.cols, m.rank);
    std::size_t at = 0;
    for (const Vector& v : sp.vectors) {
      for (std::size_t i = 0; i < v.size; ++i) g[v.offset + i] = uncompressed_[at + i] * inv_p;
      at += v.size;
    }
    if (e) kernels::host::ef_residual(copy_.data(), g.data(), e, n);
  }

 private:
  struct State {
    Split split;
    std::size_t offset = 0;
    std::string name;
    std::vector<float> p, q;
    bool q_ready = false;
  };

  CompressionSpec spec_;
  std::vector<float> residual_;
  std::vector<State> buckets_;
  std::vector<float> copy_, uncompressed_;
  std::vector<kernels::MatrixRef> refs_;
};

class PowerSgd final : public Method {
 public:
  std::string_view name() const override { return "powersgd"; }
  std::string_view summary() const override {
    return "PowerSGD: rank-r P Q^T per matrix, allreduce of P then of Q (PyTorch's powerSGD_hook)";
  }
  std::vector<std::string_view> options() const override {
    return {"rank", "start_iter", "error_feedback", "warm_start", "min_compression_rate"};
  }
  std::string label(const CompressionSpec& s) const override {
    std::string l = "powersgd r=" + std::to_string(s.rank);
    if (!s.error_feedback) l += " no-EF";
    if (!s.warm_start) l += " cold";
    return l;
  }

  // Steady state (step >= start_iter): the simulator prices a converged
  // iteration, not the warm-up.
  BucketPlan plan(const CompressionSpec& spec, const std::vector<Layer>& bucket, int) const override {
    std::vector<TensorShape> tensors;
    for (const Layer& l : bucket)
      for (const TensorShape& t : tensors_of(l)) tensors.push_back(t);
    const Split sp = split(tensors, spec);
    BucketPlan p;
    double n = 0.0;  // the bucket's entries, which the finite check and error feedback pass over
    for (const Layer& l : bucket) n += static_cast<double>(l.params);
    Phase first;  // on the compression stream: the finite check, error feedback in, P = M Q
    first.before.push_back({op::finite_check, n, 0.0});
    if (spec.error_feedback) first.before.push_back({op::ef_add, n, 0.0});
    // Per matrix one launch of each product; the orthogonalisation is one
    // batched launch for the bucket (Backend::orthogonalize_batched).
    std::vector<KernelUse> between, after;
    KernelUse orth{op::orthogonalize, 0.0, 0.0};
    for (const Matrix& m : sp.matrices) {
      const double nm = static_cast<double>(m.rows * m.cols), r = static_cast<double>(m.rank);
      first.before.push_back({op::matmul, nm, nm * r});
      orth.n += static_cast<double>(m.rows) * r;
      orth.k += static_cast<double>(m.rows) * r * r;
      between.push_back({op::matmul, nm, nm * r});
      after.push_back({op::matmul, nm, nm * r});
    }
    if (!sp.matrices.empty()) between.insert(between.begin(), orth);
    std::vector<Phase> phases;
    if (sp.u_size > 0) phases.push_back({{}, {CollectiveKind::Allreduce, 4.0 * static_cast<double>(sp.u_size), 4, "dense"}});
    if (sp.p_size > 0) {
      phases.push_back({{}, {CollectiveKind::Allreduce, 4.0 * static_cast<double>(sp.p_size), 4, "P"}});
      phases.push_back({between, {CollectiveKind::Allreduce, 4.0 * static_cast<double>(sp.q_size), 4, "Q"}});
    }
    if (phases.empty()) phases.push_back({{}, {CollectiveKind::Allreduce, 0.0, 4, "dense"}});
    phases.front().before.insert(phases.front().before.begin(), first.before.begin(), first.before.end());
    p.phases = std::move(phases);
    // After the last allreduce: Q / P, then M = P Q^T per matrix, the
    // uncompressed tensors / P, error feedback out.
    if (sp.q_size > 0) after.insert(after.begin(), {op::scale, static_cast<double>(sp.q_size), 0.0});
    if (sp.u_size > 0) after.push_back({op::scale, static_cast<double>(sp.u_size), 0.0});
    if (spec.error_feedback) after.push_back({op::ef_residual, n, 0.0});
    p.after = std::move(after);
    p.selected = static_cast<std::int64_t>(sp.u_size + sp.p_size + sp.q_size);
    return p;
  }

  std::unique_ptr<Codec> codec(const CompressionSpec& spec, const std::vector<Segment>& segments,
                               const std::vector<BucketLayout>& buckets, std::size_t total) const override {
    return std::make_unique<PowerSgdCodec>(spec, segments, buckets, total);
  }
};

}  // namespace

const Method& powersgd_method() {
  static const PowerSgd m;
  return m;
}

}  // namespace gcsim::compress
