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

struct Layer {
  std::string name;            // e.g. "layer1.0.conv1" (torchvision / HF naming where one exists)
  std::string kind;            // conv, bn, linear, embedding, layernorm, attention, lm_head, ...
  std::int64_t params = 0;     // trainable parameters (weights + biases)
  double forward_flops = 0.0;  // forward FLOPs for one sample
};

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
