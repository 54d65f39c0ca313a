// The compression hook (see gradient_exchange.h).
#include "train/loop/gradient_exchange.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

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

ExchangeStats GradientExchange::exchange(std::span<float> grads, std::uint64_t step) {
  if (grads.size() != total_) throw std::invalid_argument("GradientExchange: gradient length differs");
  ExchangeStats st;
  const std::uint64_t bytes_before = comm_.bytes_sent();
  compress::ExchangeContext ctx{comm_, *kernels_, st, step, "step " + std::to_string(step + 1) + ": "};
  for (std::size_t b = 0; b < buckets_.size(); ++b) {
    ctx.bucket = b;
    codec_->exchange(b, grads.subspan(buckets_[b].offset, buckets_[b].size), ctx);
  }
  st.bytes_sent = comm_.bytes_sent() - bytes_before;
  return st;
}

}  // namespace gcsim::train
