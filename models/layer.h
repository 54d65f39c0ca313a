// A model as the simulator sees it: an ordered list of layers, each with its
// trainable parameter count and its forward FLOPs per sample.
//
// FLOPs convention: 2 FLOPs per multiply-accumulate (the usual "FLOPs = 2 x MACs").
// Backward is taken as 2x forward when a step is derived from FLOPs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gcsim {

// One parameter tensor of a layer, as the matrix gradient compressors see it:
// a conv weight (out, in, kh, kw) is (out, in*kh*kw), a linear weight
// (out, in), an embedding (num, dim); vectors (biases, norm scales) are (n, 1).
struct TensorShape {
  std::int64_t rows = 0;
  std::int64_t cols = 1;
  std::int64_t size() const { return rows * cols; }
};

struct Layer {
  std::string name;            // e.g. "layer1.0.conv1" (torchvision / HF naming where one exists)
  std::string kind;            // conv, bn, linear, embedding, layernorm, attention, lm_head, ...
  std::int64_t params = 0;     // trainable parameters (weights + biases)
  double forward_flops = 0.0;  // forward FLOPs for one sample
  // Its parameter tensors in storage order (weight, then bias), summing to
  // params. Empty for layers given only by a parameter count (custom models):
  // see tensors_of().
  std::vector<TensorShape> tensors;
};

// The layer's tensors; a layer without shapes is one (params, 1) vector.
inline std::vector<TensorShape> tensors_of(const Layer& l) {
  if (!l.tensors.empty() || l.params == 0) return l.tensors;
  return {TensorShape{l.params, 1}};
}

struct ModelSpec {
  std::string name;            // zoo name, or "custom"
  std::string sample_unit;     // what one sample is, e.g. "image 3x224x224"
  std::vector<Layer> layers;   // forward order; backward visits them in reverse

  std::int64_t total_params() const {
    std::int64_t n = 0;
    for (const auto& l : layers) n += l.params;
    return n;
  }
  double forward_flops() const {
    double f = 0.0;
    for (const auto& l : layers) f += l.forward_flops;
    return f;
  }
};

}  // namespace gcsim
