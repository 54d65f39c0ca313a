// The compression hook (see gradient_exchange.h).
#include "train/gradient_exchange.h"

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
  std::vector<Segment> out;
  auto add = [&](std::string name, std::size_t offset, std::size_t size) {
    out.push_back({std::move(name), offset, size, entries_for(size, spec)});
  };
  switch (spec.granularity) {
    case Granularity::Layer:
      for (const auto& l : layers) add(l.name, l.offset, l.size);
      break;
    case Granularity::Model: {
      std::size_t total = 0;
      for (const auto& l : layers) total += l.size;
      add("model", layers.front().offset, total);
      break;
    }
    case Granularity::Bucket: {
      // Backward produces the last layer's gradient first; DDP fills buckets
      // in that order and closes one when it reaches the cap.
      const double cap = bucket_mb * 1024.0 * 1024.0;
      std::size_t end = layers.back().offset + layers.back().size, begin = end;
      std::string names;
      for (auto it = layers.rbegin(); it != layers.rend(); ++it) {
        begin = it->offset;
        names = names.empty() ? it->name : it->name + "+" + names;
        if (static_cast<double>(end - begin) * sizeof(float) >= cap || std::next(it) == layers.rend()) {
          add("bucket(" + names + ")", begin, end - begin);
          end = begin;
          names.clear();
        }
      }
      std::reverse(out.begin(), out.end());
      break;
    }
  }
  return out;
}

GradientExchange::GradientExchange(Communicator& comm, const CompressionSpec& spec, std::vector<Segment> segments,
                                   std::size_t total, const std::string& kernel_backend)
    : comm_(comm), spec_(spec), segments_(std::move(segments)), kernels_(kernels::make_backend(kernel_backend, 1)),
      residual_(total, 0.0f),
      local_momentum_(spec.momentum_correction ? total : 0, 0.0f) {
  if (spec.momentum_correction && (spec.method == Method::None || !spec.error_feedback))
    throw std::invalid_argument("GradientExchange: momentum correction needs compression with error feedback");
  std::size_t max_seg = 0;
  for (const auto& s : segments_) {
    if (s.offset + s.size > total) throw std::invalid_argument("GradientExchange: segment beyond the gradient");
    max_seg = std::max(max_seg, s.size);
  }
  values_.resize(2 * max_seg);
  indices_.resize(2 * max_seg);
  dense_.resize(max_seg);
}

// Selects this rank's entries of segment si into values_/indices_ and packs
// them into wire_ (or scatters them into dense_); returns how many.
std::size_t GradientExchange::compress(std::size_t si, float* g, std::uint64_t step) {
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
      if (ef) kb.ef_topk(g, e, n, k, values_.data(), indices_.data());
      else kb.topk(g, n, k, values_.data(), indices_.data());
      break;
    case Method::RandomK:
    case Method::Threshold: {
      const float* src = g;
      if (ef) {
        for (std::size_t i = 0; i < n; ++i) e[i] += g[i];
        src = e;
      }
      if (spec_.method == Method::RandomK) {
        kb.randomk(src, n, k, kernels::hash64(step, si), values_.data(), indices_.data());
      } else {
        kernels::ThresholdOptions opts;
        opts.seed = kernels::hash64(step ^ 0x7468726573686f6cull, si);
        k = kb.threshold_topk(src, n, k, std::min(n, 2 * k), opts, values_.data(), indices_.data()).selected;
      }
      if (ef)
        for (std::size_t j = 0; j < k; ++j) e[indices_[j]] = 0.0f;
      break;
    }
    case Method::None:
      throw std::logic_error("GradientExchange::compress: method none is not compressed");
  }
  if (u)
    for (std::size_t j = 0; j < k; ++j) u[indices_[j]] = 0.0f;
  if (spec_.exchange == Exchange::Allgather) {
    wire_.resize(kernels::wire_bytes(n, k));
    kb.pack(values_.data(), indices_.data(), k, n, wire_.data());
  } else {
    std::fill(dense_.begin(), dense_.begin() + static_cast<std::ptrdiff_t>(n), 0.0f);
    for (std::size_t j = 0; j < k; ++j) dense_[indices_[j]] = values_[j];
  }
  return k;
}

ExchangeStats GradientExchange::exchange(std::span<float> grads, std::uint64_t step) {
  if (grads.size() != residual_.size()) throw std::invalid_argument("GradientExchange: gradient length differs");
  ExchangeStats st;
  const std::uint64_t bytes_before = comm_.bytes_sent();
  const float inv_p = 1.0f / static_cast<float>(comm_.size());
  kernels::Backend& kb = *kernels_;

  for (std::size_t si = 0; si < segments_.size(); ++si) {
    const Segment& seg = segments_[si];
    float* g = grads.data() + seg.offset;
    const std::size_t n = seg.size;

    if (spec_.method == Method::None) {
      auto t0 = Clock::now();
      const auto bad = static_cast<std::size_t>(std::count_if(g, g + n, [](float v) { return !std::isfinite(v); }));
      if (bad > 0) throw kernels::NonFiniteError("step " + std::to_string(step + 1) + ": gradient of " + seg.name, bad);
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

    // ---- compress: select k entries (error feedback folds in the residual) ----
    auto t0 = Clock::now();
    std::size_t k = 0;
    try {
      k = compress(si, g, step);
    } catch (const kernels::NonFiniteError& e) {
      throw kernels::NonFiniteError("step " + std::to_string(step + 1) + ": gradient of " + seg.name, e.count());
    }
    st.compress_s += since(t0);
    st.entries_sent += k;

    // ---- communicate ----
    t0 = Clock::now();
    if (spec_.exchange == Exchange::Dense) {
      comm_.allreduce_sum(dense_.data(), n);
    } else if (spec_.method == Method::Threshold) {  // k differs between ranks
      comm_.allgatherv(wire_.data(), wire_.size(), gathered_, counts_);
    } else {  // Top-K, Random-K: every rank sends k = seg.k entries
      counts_.assign(static_cast<std::size_t>(comm_.size()), kernels::wire_bytes(n, seg.k));
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
