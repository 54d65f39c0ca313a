// SimpleCNN (models/simplecnn.cpp gives the normative architecture) as a
// trainable model. On the CPU (the default) it runs layer by layer
// (train/model/layers.h): convolutions as im2col + GEMM and the fully connected
// layers as GEMM, through CBLAS (Debian's OpenBLAS). With ModelDevice::cuda it
// runs the batched graph of train/model/simplecnn_graph.h on a GPU (cuBLAS + CUDA
// kernels); parameters and gradients stay host arrays either way.
//
// Parameters live in one contiguous float array, layer after layer in
// forward order, each layer as [weight, bias]; weights in PyTorch layout
// (conv: [out][in][kh][kw], linear: [out][in]). The gradient array has the
// same layout, so "the flattened gradient" and "one layer's gradient" are
// both plain spans of it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "train/model/model_engine.h"

namespace gcsim::train {

struct ParamBlock {
  std::string name;        // conv1, conv2, fc1, fc2 (the zoo's layer names)
  std::size_t offset = 0;  // into params()/grads()
  std::size_t size = 0;    // weight + bias elements
};

struct EvalResult {
  double loss = 0.0;      // mean cross-entropy
  double accuracy = 0.0;  // fraction correct
  int count = 0;
};

class SimpleCnn {
 public:
  static constexpr std::size_t kParams = 202738;
  static constexpr int kClasses = 10;

  // Buffers for activations are sized for up to `max_batch` images. A cuda
  // model uses GPU (rank % device count) and throws std::runtime_error when
  // no GPU (or cuBLAS) is usable.
  explicit SimpleCnn(int max_batch, ModelDevice device = ModelDevice::cpu, int rank = 0);

  // PyTorch's default initialisation for Conv2d/Linear: weight and bias
  // U(-1/sqrt(fan_in), 1/sqrt(fan_in)), from a splitmix64 stream seeded
  // with `seed` (identical on every worker with the same seed).
  void init(std::uint64_t seed);

  std::span<float> params() { return params_; }
  std::span<const float> params() const { return params_; }
  std::span<float> grads() { return grads_; }
  std::span<const float> grads() const { return grads_; }
  const std::vector<ParamBlock>& blocks() const { return blocks_; }
  ModelDevice device() const { return device_; }
  // What computes, e.g. "cpu (OpenBLAS)" or "cuda:0 NVIDIA H100 ... (cuBLAS ...)".
  std::string engine_description() const { return engine_->description(); }

  // Forward + backward on `batch` images (batch * 784 floats) and labels.
  // Overwrites grads() with d(mean cross-entropy over the batch)/d(params)
  // and returns that mean loss. `correct` (optional) receives the number of
  // argmax hits. `on_gradient_ready` (optional) is called during backward
  // each time grads() from that offset to the end is final (ModelEngine),
  // and with 0 at the end.
  double forward_backward(const float* images, const std::uint8_t* labels, int batch, int* correct = nullptr,
                          const std::function<void(std::size_t)>& on_gradient_ready = {});

  // Forward only: mean loss and accuracy over the whole dataset, in
  // batches of at most max_batch.
  EvalResult evaluate(const float* images, const std::uint8_t* labels, int count);

 private:
  int max_batch_;
  ModelDevice device_;
  std::vector<float> params_, grads_;
  std::vector<ParamBlock> blocks_;
  std::unique_ptr<ModelEngine> engine_;
};

}  // namespace gcsim::train
