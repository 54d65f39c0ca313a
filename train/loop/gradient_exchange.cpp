// The compression hook (see gradient_exchange.h).
#include "train/loop/gradient_exchange.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "sim/training/buckets.h"

namespace gcsim::train {

namespace {

std::size_t entries_for(std::size_t n, const CompressionSpec& spec) {
  if (!compress::method(spec.method).sparsifies()) return n;
  return static_cast<std::size_t>(compress::topk_count(spec.ratio, static_cast<std::int64_t>(n)));
}

std::vector<TensorShape> shapes_of(const NamedRange& r) {
  if (!r.tensors.empty()) return r.tensors;
  return {TensorShape{static_cast<std::int64_t>(r.size), 1}};
}

}  // namespace

std::vector<Segment> make_segments(const std::vector<NamedRange>& layers, const CompressionSpec& spec,
                                   double bucket_mb) {
  if (layers.empty()) throw std::invalid_argument("make_segments: no layers");
  // Buckets as index ranges [first, last) of layers, DDP's rule, the
  // simulator's (sim/training/buckets.h); numbered here in forward order.
  std::vector<std::int64_t> params;
  for (const auto& l : layers) params.push_back(static_cast<std::int64_t>(l.size));
  auto buckets = bucket_ranges(params, bucket_mb * 1024.0 * 1024.0, spec.granularity);
  std::reverse(buckets.begin(), buckets.end());
  const bool per_layer = spec.granularity == Granularity::Layer && compress::method(spec.method).sparsifies();
  std::vector<Segment> out;
  for (std::size_t b = 0; b < buckets.size(); ++b) {
    const auto [first, last] = buckets[b];
    if (per_layer) {
      for (std::size_t i = first; i < last; ++i)
        out.push_back({layers[i].name, layers[i].offset, layers[i].size, entries_for(layers[i].size, spec), b,
                       shapes_of(layers[i])});
      continue;
    }
    std::string name;
    std::vector<TensorShape> tensors;
    for (std::size_t i = first; i < last; ++i) {
      name += (name.empty() ? "" : "+") + layers[i].name;
      for (const TensorShape& t : shapes_of(layers[i])) tensors.push_back(t);
    }
    name = spec.granularity == Granularity::Model ? "model" : "bucket(" + name + ")";
    const std::size_t begin = layers[first].offset, size = layers[last - 1].offset + layers[last - 1].size - begin;
    out.push_back({name, begin, size, entries_for(size, spec), b, std::move(tensors)});
  }
  return out;
}

GradientExchange::GradientExchange(comm::Communicator& comm, const CompressionSpec& spec,
                                   std::vector<Segment> segments, std::size_t total,
                                   const std::string& kernel_backend)
    : comm_(comm), spec_(spec), segments_(std::move(segments)), total_(total),
      kernels_(kernels::make_backend(kernel_backend, 1)) {
  const compress::Method& m = compress::method(spec.method);
  if (spec.momentum_correction && (!m.sparsifies() || !spec.error_feedback))
    throw std::invalid_argument("GradientExchange: momentum correction needs a sparsifier with error feedback");
  for (std::size_t i = 0; i < segments_.size(); ++i) {
    const Segment& s = segments_[i];
    if (s.offset + s.size > total) throw std::invalid_argument("GradientExchange: segment beyond the gradient");
    if (buckets_.empty() || s.group != segments_[i - 1].group) {
      if (s.group != buckets_.size())
        throw std::invalid_argument("GradientExchange: buckets must be numbered 0, 1, ... in order");
      buckets_.push_back({s.offset, 0, i, i});
    }
    compress::BucketLayout& g = buckets_.back();
    if (s.offset != g.offset + g.size)
      throw std::invalid_argument("GradientExchange: a bucket's segments must be adjacent");
    g.size += s.size;
    g.last = i + 1;
  }
  codec_ = m.codec(spec_, segments_, buckets_, total);
}

double GradientExchange::warmup_density(const CompressionSpec& spec, int epoch) {
  if (epoch >= spec.warmup_epochs) return spec.ratio;
  return std::max(spec.ratio, std::pow(0.25, epoch + 1));
}

std::span<float> GradientExchange::residual() {
  const std::span<float> r = codec_->residual();
  if (!r.empty()) return r;
  no_residual_.assign(total_, 0.0f);
  return no_residual_;
}

ExchangeStats GradientExchange::exchange(std::span<float> grads, std::uint64_t step,
                                        std::vector<BucketTiming>* timings, Clock::time_point step_start) {
  if (grads.size() != total_) throw std::invalid_argument("GradientExchange: gradient length differs");
  ExchangeStats st;
  if (timings) timings->clear();
  const double ready = std::chrono::duration<double>(Clock::now() - step_start).count();
  for (std::size_t b = buckets_.size(); b-- > 0;) {
    BucketTiming t;
    t.ready_s = ready;
    exchange_bucket(b, grads, step, st, t, step_start);
    if (timings) timings->push_back(t);
  }
  return st;
}

void GradientExchange::exchange_bucket(std::size_t b, std::span<float> grads, std::uint64_t step,
                                       ExchangeStats& st, BucketTiming& t, Clock::time_point step_start) {
  if (grads.size() != total_) throw std::invalid_argument("GradientExchange: gradient length differs");
  const auto since = [&] { return std::chrono::duration<double>(Clock::now() - step_start).count(); };
  const std::uint64_t bytes_before = comm_.bytes_sent();
  const double c0 = st.compress_s, m0 = st.communicate_s, d0 = st.decompress_s;
  t.bucket = b;
  t.order = buckets_.size() - 1 - b;
  t.start_s = since();
  compress::ExchangeContext ctx{comm_, *kernels_, st, step, "step " + std::to_string(step + 1) + ": "};
  ctx.bucket = b;
  codec_->exchange(b, grads.subspan(buckets_[b].offset, buckets_[b].size), ctx);
  t.end_s = since();
  t.compress_s = st.compress_s - c0;
  t.communicate_s = st.communicate_s - m0;
  t.decompress_s = st.decompress_s - d0;
  t.bytes_sent = comm_.bytes_sent() - bytes_before;
  st.bytes_sent += t.bytes_sent;
}

}  // namespace gcsim::train
