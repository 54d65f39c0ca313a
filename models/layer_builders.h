// Layer builders: append layers to a ModelSpec while tracking the activation
// shape of one sample, so that every parameter and FLOP count is derived from
// the shapes (never typed in by hand).
//
// Shape model: an activation is `channels` features at each of
// `height x width` positions.
//   - image tensor C x H x W          -> {C, H, W}
//   - flattened vector of N features  -> {N, 1, 1}
//   - sequence of T tokens, D features -> {D, 1, T}
// A linear layer acts on the channel dimension at every position (a 1x1
// convolution), so one helper covers both classifier heads and per-token
// projections in transformers.
//
// FLOPs convention (see models/layer.h): 2 FLOPs per multiply-accumulate.
//   conv2d      2 * Cin/groups * K*K * Cout * Hout*Wout   (+ Cout*Hout*Wout with bias)
//   linear      2 * in * out * positions                  (+ out * positions with bias)
//   batchnorm2d 2 * C*H*W    (inference form: one scale + one shift per element)
//   layernorm   2 * D * T    (same convention: scale + shift per element; the
//                             mean/variance reductions are not counted)
//   embedding   0            (a table lookup)
//   attention   4 * T*T*D    (Q.K^T scores and the weighted sum of V, 2*T*T*D each,
//                             full T x T without exploiting the causal mask;
//                             softmax and scaling are not counted)
// Pooling, activation functions (ReLU/GELU), dropout, flatten and residual /
// embedding additions are not attributed to any layer: they add no layer and
// no FLOPs, they only change the tracked shape where they pool.
//
// Every helper throws std::invalid_argument on a shape (or an empty layer
// name) that does not fit, leaving the spec and the tracked shape unchanged.
// A returned `const Layer&` refers into spec.layers and is valid only until
// the next layer is appended.
#pragma once

#include <cstdint>
#include <string>

#include "models/layer.h"

namespace gcsim {

// Activation shape of one sample (see the shape model above).
struct ActShape {
  std::int64_t channels = 0;
  std::int64_t height = 0;
  std::int64_t width = 0;

  std::int64_t positions() const { return height * width; }
  std::int64_t elements() const { return channels * positions(); }
  friend bool operator==(const ActShape&, const ActShape&) = default;
};

// Square-kernel 2-D convolution hyper-parameters (dilation 1).
struct Conv2dOptions {
  std::int64_t kernel = 1;
  std::int64_t stride = 1;
  std::int64_t padding = 0;
  bool bias = false;
  std::int64_t groups = 1;
};

class LayerBuilder {
 public:
  // Appends to `spec.layers`; `input` is the shape of one input sample.
  LayerBuilder(ModelSpec& spec, ActShape input);

  const ActShape& shape() const { return shape_; }
  // Rewinds the tracked shape, e.g. to the block input before building a
  // residual shortcut branch.
  void set_shape(ActShape s);

  // nn.Conv2d(Cin = shape().channels, out_channels, ...). Kind "conv".
  const Layer& conv2d(std::string name, std::int64_t out_channels, Conv2dOptions opt);
  // nn.BatchNorm2d(C): weight + bias (running stats are buffers). Kind "bn".
  const Layer& batchnorm2d(std::string name);
  // nn.Linear(in = shape().channels, out_features), applied at every position.
  // Kind "linear".
  const Layer& linear(std::string name, std::int64_t out_features, bool bias);
  // A bias-free linear whose weight is shared with an earlier layer (tied
  // embeddings): 0 parameters, full FLOPs.
  const Layer& tied_linear(std::string name, std::int64_t out_features, std::string kind);
  // nn.LayerNorm(D = shape().channels): weight + bias. Kind "layernorm".
  const Layer& layernorm(std::string name);
  // nn.Embedding(num_embeddings, dim): a lookup at every position; the output
  // has `dim` channels. Kind "embedding", 0 FLOPs.
  const Layer& embedding(std::string name, std::int64_t num_embeddings, std::int64_t dim);
  // Multi-head self-attention core on a fused QKV activation
  // (shape().channels == 3 * d_model): scores + weighted sum, no parameters.
  // The output has d_model channels. Kind "attention".
  const Layer& attention_core(std::string name, std::int64_t d_model);

  // Shape-only steps: no layer, no FLOPs (floor mode, like PyTorch's default).
  void max_pool2d(std::int64_t kernel, std::int64_t stride, std::int64_t padding = 0);
  void avg_pool2d(std::int64_t kernel, std::int64_t stride, std::int64_t padding = 0);
  void adaptive_avg_pool2d(std::int64_t out_h, std::int64_t out_w);
  void flatten();  // {C, H, W} -> {C*H*W, 1, 1}

 private:
  Layer& append(std::string name, std::string kind, std::int64_t params,
                      std::int64_t forward_flops);
  void pool2d(std::int64_t kernel, std::int64_t stride, std::int64_t padding);

  ModelSpec& spec_;
  ActShape shape_;
};

// Output size of a sliding window along one dimension (floor mode, dilation 1);
// throws std::invalid_argument when the window does not fit.
std::int64_t window_output_size(std::int64_t in, std::int64_t kernel, std::int64_t stride,
                                std::int64_t padding);

}  // namespace gcsim
