// Layer builders: parameter and FLOP counts derived from shapes.
// Conventions are documented in models/layer_builders.h.
#include "models/layer_builders.h"

#include <stdexcept>
#include <utility>

namespace gcsim {
namespace {

void require(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument("layer builder: " + what);
}

void require_shape(const ActShape& s, const std::string& who) {
  require(s.channels > 0 && s.height > 0 && s.width > 0,
          who + ": activation shape must be positive (" + std::to_string(s.channels) + "x" +
              std::to_string(s.height) + "x" + std::to_string(s.width) + ")");
}

}  // namespace

std::int64_t window_output_size(std::int64_t in, std::int64_t kernel, std::int64_t stride,
                                std::int64_t padding) {
  require(in > 0 && kernel > 0 && stride > 0 && padding >= 0,
          "window: need in > 0, kernel > 0, stride > 0, padding >= 0");
  require(in + 2 * padding >= kernel, "window: kernel " + std::to_string(kernel) +
                                          " larger than padded input " +
                                          std::to_string(in + 2 * padding));
  return (in + 2 * padding - kernel) / stride + 1;
}

LayerBuilder::LayerBuilder(ModelSpec& spec, ActShape input) : spec_(spec), shape_(input) {
  require_shape(input, "input");
}

void LayerBuilder::set_shape(ActShape s) {
  require_shape(s, "set_shape");
  shape_ = s;
}

Layer& LayerBuilder::append(std::string name, std::string kind, std::int64_t params,
                                  std::int64_t forward_flops) {
  require(!name.empty(), "layer name must not be empty");
  Layer l;
  l.name = std::move(name);
  l.kind = std::move(kind);
  l.params = params;
  l.forward_flops = static_cast<double>(forward_flops);
  spec_.layers.push_back(std::move(l));
  return spec_.layers.back();
}

const Layer& LayerBuilder::conv2d(std::string name, std::int64_t out_channels,
                                  Conv2dOptions opt) {
  const std::int64_t cin = shape_.channels;
  require(out_channels > 0, name + ": out_channels must be positive");
  require(opt.groups > 0 && cin % opt.groups == 0 && out_channels % opt.groups == 0,
          name + ": groups must divide in and out channels");
  const std::int64_t hout = window_output_size(shape_.height, opt.kernel, opt.stride, opt.padding);
  const std::int64_t wout = window_output_size(shape_.width, opt.kernel, opt.stride, opt.padding);

  const std::int64_t weight = out_channels * (cin / opt.groups) * opt.kernel * opt.kernel;
  const std::int64_t bias = opt.bias ? out_channels : 0;
  const std::int64_t out_elems = out_channels * hout * wout;
  const std::int64_t flops = 2 * (cin / opt.groups) * opt.kernel * opt.kernel * out_elems +
                             (opt.bias ? out_elems : 0);
  Layer& l = append(std::move(name), "conv", weight + bias, flops);
  l.tensors = {{out_channels, weight / out_channels}};
  if (opt.bias) l.tensors.push_back({out_channels, 1});
  shape_ = ActShape{out_channels, hout, wout};
  return l;
}

const Layer& LayerBuilder::batchnorm2d(std::string name) {
  Layer& l = append(std::move(name), "bn", 2 * shape_.channels, 2 * shape_.elements());
  l.tensors = {{shape_.channels, 1}, {shape_.channels, 1}};
  return l;
}

const Layer& LayerBuilder::linear(std::string name, std::int64_t out_features, bool bias) {
  require(out_features > 0, name + ": out_features must be positive");
  const std::int64_t in = shape_.channels;
  const std::int64_t pos = shape_.positions();
  const std::int64_t params = in * out_features + (bias ? out_features : 0);
  const std::int64_t flops = 2 * in * out_features * pos + (bias ? out_features * pos : 0);
  Layer& l = append(std::move(name), "linear", params, flops);
  l.tensors = {{out_features, in}};
  if (bias) l.tensors.push_back({out_features, 1});
  shape_.channels = out_features;
  return l;
}

const Layer& LayerBuilder::tied_linear(std::string name, std::int64_t out_features,
                                       std::string kind) {
  require(out_features > 0, name + ": out_features must be positive");
  const std::int64_t flops = 2 * shape_.channels * out_features * shape_.positions();
  const Layer& l = append(std::move(name), std::move(kind), 0, flops);
  shape_.channels = out_features;
  return l;
}

const Layer& LayerBuilder::layernorm(std::string name) {
  Layer& l = append(std::move(name), "layernorm", 2 * shape_.channels, 2 * shape_.elements());
  l.tensors = {{shape_.channels, 1}, {shape_.channels, 1}};
  return l;
}

const Layer& LayerBuilder::embedding(std::string name, std::int64_t num_embeddings,
                                     std::int64_t dim) {
  require(num_embeddings > 0 && dim > 0, name + ": embedding sizes must be positive");
  Layer& l = append(std::move(name), "embedding", num_embeddings * dim, 0);
  l.tensors = {{num_embeddings, dim}};
  shape_.channels = dim;
  return l;
}

const Layer& LayerBuilder::attention_core(std::string name, std::int64_t d_model) {
  require(d_model > 0 && shape_.channels == 3 * d_model,
          name + ": attention core expects fused QKV input with 3*d_model channels");
  const std::int64_t t = shape_.positions();
  const std::int64_t flops = 2 * t * t * d_model    // scores Q.K^T
                             + 2 * t * t * d_model;  // weighted sum of V
  const Layer& l = append(std::move(name), "attention", 0, flops);
  shape_.channels = d_model;
  return l;
}

void LayerBuilder::pool2d(std::int64_t kernel, std::int64_t stride, std::int64_t padding) {
  require(2 * padding <= kernel, "pool: padding must be at most half the kernel");
  const std::int64_t h = window_output_size(shape_.height, kernel, stride, padding);
  const std::int64_t w = window_output_size(shape_.width, kernel, stride, padding);
  shape_.height = h;
  shape_.width = w;
}

void LayerBuilder::max_pool2d(std::int64_t kernel, std::int64_t stride, std::int64_t padding) {
  pool2d(kernel, stride, padding);
}

void LayerBuilder::avg_pool2d(std::int64_t kernel, std::int64_t stride, std::int64_t padding) {
  pool2d(kernel, stride, padding);
}

void LayerBuilder::adaptive_avg_pool2d(std::int64_t out_h, std::int64_t out_w) {
  require(out_h > 0 && out_w > 0, "adaptive_avg_pool2d: output size must be positive");
  shape_.height = out_h;
  shape_.width = out_w;
}

void LayerBuilder::flatten() {
  shape_ = ActShape{shape_.elements(), 1, 1};
}

}  // namespace gcsim
