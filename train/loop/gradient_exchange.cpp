// The compression hook (see gradient_exchange.h).
#include "train/loop/gradient_exchange.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

#include "kernels/hash.h"
#include "kernels/wire_format.h"

namespace gcsim::train {

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::size_t entries_for(std::size_t n, const CompressionSpec& spec) {
  if (spec.method == Method::None) return n;
  // k = ceil(rho n), as the simulator counts it (a hair under an integer stays that integer)
  const auto k = static_cast<std::size_t>(std::ceil(spec.ratio * static_cast<double>(n) - 1e-9));
  return std::clamp<std::size_t>(k, 1, n);
}

}  // namespace

std::vector<Segment> make_segments(const std::vector<NamedRange>& layers, const CompressionSpec& spec,
                                   double bucket_mb) {
  if (layers.empty()) throw std::invalid_argument("make_segments: no layers");
  // Buckets as index ranges [first, last) of layers. Backward produces the
  // last layer's gradient first; DDP fills buckets in that order and closes
  // one when it reaches the cap. Granularity "model": one bucket.
  std::vector<std::pair<std::size_t, std::size_t>> buckets;
  if (spec.granularity == Granularity::Model) {
    buckets.push_back({0, layers.size()});
  } else {
    const double cap = bucket_mb * 1024.0 * 1024.0;
    std::size_t last = layers.size();
    for (std::size_t i = layers.size(); i-- > 0;) {
      const std::size_t bytes = (layers[last - 1].offset + layers[last - 1].size - layers[i].offset) * sizeof(float);
      if (static_cast<double>(bytes) >= cap || i == 0) {
        buckets.push_back({i, last});
        last = i;
      }
    }
    std::reverse(buckets.begin(), buckets.end());
  }
  std::vector<Segment> out;
  for (std::size_t b = 0; b < buckets.size(); ++b) {
    const auto [first, last] = buckets[b];
    if (spec.granularity == Granularity::Layer && spec.method != Method::None) {
      for (std::size_t i = first; i < last; ++i)
        out.push_back({layers[i].name, layers[i].offset, layers[i].size, entries_for(layers[i].size, spec), b});
      continue;
    }
    std::string name;
    for (std::size_t i = first; i < last; ++i) name += (name.empty() ? "" : "+") + layers[i].name;
    name = spec.granularity == Granularity::Model ? "model" : "bucket(" + name + ")";
    const std::size_t begin = layers[first].offset, size = layers[last - 1].offset + layers[last - 1].size - begin;
    out.push_back({name, begin, size, entries_for(size, spec), b});
  }
  return out;
}

GradientExchange::GradientExchange(comm::Communicator& comm, const CompressionSpec& spec, std::vector<Segment> segments,
                                   std::size_t total, const std::string& kernel_backend)
    : comm_(comm), spec_(spec), segments_(std::move(segments)), kernels_(kernels::make_backend(kernel_backend, 1)),
      residual_(total, 0.0f),
      local_momentum_(spec.momentum_correction ? total : 0, 0.0f) {
  if (spec.momentum_correction && (spec.method == Method::None || !spec.error_feedback))
    throw std::invalid_argument("GradientExchange: momentum correction needs compression with error feedback");
  std::size_t max_group = 0;
  for (std::size_t i = 0; i < segments_.size(); ++i) {
    const Segment& s = segments_[i];
    if (s.offset + s.size > total) throw std::invalid_argument("GradientExchange: segment beyond the gradient");
    if (groups_.empty() || s.group != segments_[i - 1].group) {
      if (s.group != groups_.size())
        throw std::invalid_argument("GradientExchange: buckets must be numbered 0, 1, ... in order");
      groups_.push_back({s.offset, 0, i, i, 0});
    }
    Group& g = groups_.back();
    if (s.offset != g.offset + g.size)
      throw std::invalid_argument("GradientExchange: a bucket's segments must be adjacent");
    g.size += s.size;
    g.last = i + 1;
    g.k += s.k;
    max_group = std::max(max_group, g.size);
  }
  values_.resize(2 * max_group);
  indices_.resize(2 * max_group);
  dense_.resize(max_group);
}

std::size_t GradientExchange::compress(std::size_t si, float* g, std::uint64_t step, float* values,
                                      kernels::Index* indices) {
  const Segment& seg = segments_[si];
  kernels::Backend& kb = *kernels_;
  float* e = residual_.data() + seg.offset;
  const std::size_t n = seg.size;
  std::size_t k = seg.k;
  const bool ef = spec_.error_feedback;
  // Momentum correction: the worker's momentum u takes the gradient's place in
  // error feedback (v += u is the residual update) and is cleared where sent.
  float* u = spec_.momentum_correction ? local_momentum_.data() + seg.offset : nullptr;
  if (u) {
    const auto m = static_cast<float>(momentum_);
    for (std::size_t i = 0; i < n; ++i) u[i] = m * u[i] + g[i];
    const auto bad = static_cast<std::size_t>(std::count_if(u, u + n, [](float v) { return !std::isfinite(v); }));
    if (bad > 0) throw kernels::NonFiniteError("momentum correction", bad);
    g = u;
  }
  switch (spec_.method) {
    case Method::TopK:
      if (ef) kb.ef_topk(g, e, n, k, values, indices);
      else kb.topk(g, n, k, values, indices);
      break;
    case Method::RandomK:
    case Method::Threshold: {
      const float* src = g;
      if (ef) {
        for (std::size_t i = 0; i < n; ++i) e[i] += g[i];
        src = e;
      }
      if (spec_.method == Method::RandomK) {
        kb.randomk(src, n, k, kernels::hash64(step, si), values, indices);
      } else {
        kernels::ThresholdOptions opts;
        opts.seed = kernels::hash64(step ^ 0x7468726573686f6cull, si);
        k = kb.threshold_topk(src, n, k, std::min(n, 2 * k), opts, values, indices).selected;
      }
      if (ef)
        for (std::size_t j = 0; j < k; ++j) e[indices[j]] = 0.0f;
      break;
    }
    case Method::None:
      throw std::logic_error("GradientExchange::compress: method none is not compressed");
  }
  if (u)
    for (std::size_t j = 0; j < k; ++j) u[indices[j]] = 0.0f;
  return k;
}

ExchangeStats GradientExchange::exchange(std::span<float> grads, std::uint64_t step) {
  if (grads.size() != residual_.size()) throw std::invalid_argument("GradientExchange: gradient length differs");
  ExchangeStats st;
  const std::uint64_t bytes_before = comm_.bytes_sent();
  const float inv_p = 1.0f / static_cast<float>(comm_.size());
  kernels::Backend& kb = *kernels_;

  for (const Group& grp : groups_) {
    float* g = grads.data() + grp.offset;
    const std::size_t n = grp.size;

    if (spec_.method == Method::None) {
      auto t0 = Clock::now();
      const auto bad = static_cast<std::size_t>(std::count_if(g, g + n, [](float v) { return !std::isfinite(v); }));
      if (bad > 0)
        throw kernels::NonFiniteError(
            "step " + std::to_string(step + 1) + ": gradient of " + segments_[grp.first].name, bad);
      st.compress_s += since(t0);
      t0 = Clock::now();
      comm_.allreduce_sum(g, n);
      st.communicate_s += since(t0);
      t0 = Clock::now();
      for (std::size_t i = 0; i < n; ++i) g[i] *= inv_p;
      st.decompress_s += since(t0);
      st.entries_sent += n;
      continue;
    }

    // ---- compress: each segment's entries (error feedback folds in the residual), then pack ----
    auto t0 = Clock::now();
    std::size_t k = 0;
    for (std::size_t si = grp.first; si < grp.last; ++si) {
      const Segment& seg = segments_[si];
      std::size_t ks = 0;
      try {
        ks = compress(si, grads.data() + seg.offset, step, values_.data() + k, indices_.data() + k);
      } catch (const kernels::NonFiniteError& e) {
        throw kernels::NonFiniteError("step " + std::to_string(step + 1) + ": gradient of " + seg.name, e.count());
      }
      const auto shift = static_cast<kernels::Index>(seg.offset - grp.offset);  // to indices within the bucket
      if (shift != 0)
        for (std::size_t j = k; j < k + ks; ++j) indices_[j] += shift;
      k += ks;
    }
    if (spec_.exchange == Exchange::Allgather) {
      wire_.resize(kernels::wire_bytes(n, k));
      kb.pack(values_.data(), indices_.data(), k, n, wire_.data());
    } else {
      std::fill(dense_.begin(), dense_.begin() + static_cast<std::ptrdiff_t>(n), 0.0f);
      for (std::size_t j = 0; j < k; ++j) dense_[indices_[j]] = values_[j];
    }
    st.compress_s += since(t0);
    st.entries_sent += k;

    // ---- communicate: one collective for the bucket ----
    t0 = Clock::now();
    if (spec_.exchange == Exchange::Dense) {
      comm_.allreduce_sum(dense_.data(), n);
    } else if (spec_.method == Method::Threshold) {  // k differs between ranks
      comm_.allgatherv(wire_.data(), wire_.size(), gathered_, counts_);
    } else {  // Top-K, Random-K: every rank sends grp.k entries
      counts_.assign(static_cast<std::size_t>(comm_.size()), kernels::wire_bytes(n, grp.k));
      comm_.allgatherv_known(wire_.data(), wire_.size(), counts_, gathered_);
    }
    st.communicate_s += since(t0);

    // ---- decompress: g = (sum of all ranks' sparse parts) / P ----
    t0 = Clock::now();
    if (spec_.exchange == Exchange::Allgather) {
      std::fill(g, g + n, 0.0f);
      std::size_t at = 0;
      for (int r = 0; r < comm_.size(); ++r) {
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
    for (std::size_t i = 0; i < n; ++i) g[i] *= inv_p;
    st.decompress_s += since(t0);
  }
  st.bytes_sent = comm_.bytes_sent() - bytes_before;
  return st;
}

}  // namespace gcsim::train
