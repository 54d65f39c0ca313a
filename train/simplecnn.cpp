// SimpleCnn: the SimpleCNN architecture of models/simplecnn.cpp as a trainable
// CPU model built from train/layers.h (see simplecnn.h).
#include "train/simplecnn.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "train/layers.h"

namespace gcsim::train {
namespace {

constexpr int kSide = 28;
constexpr int kPixels = kSide * kSide;

// splitmix64 (Steele, Lea, Flood 2014): one 64-bit state, one output per step.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1) from the top 24 bits (exact as a float).
  double uniform01() { return static_cast<double>(next() >> 40) * 0x1.0p-24; }

 private:
  std::uint64_t state_;
};

void check_batch(int batch, int max_batch, const char* what) {
  if (batch < 1 || batch > max_batch) {
    throw std::invalid_argument(std::string(what) + ": batch " + std::to_string(batch) + " outside [1, " +
                                std::to_string(max_batch) + "]");
  }
}

}  // namespace

struct SimpleCnn::Impl {
  explicit Impl(int max_batch_)
      : max_batch(max_batch_),
        conv1({.in_channels = 1, .out_channels = 16, .height = kSide, .width = kSide, .kernel = 5, .padding = 2},
              max_batch_, /*need_grad_input=*/false),
        pool1(16, kSide, kSide, max_batch_),
        relu1(pool1.out_features()),
        conv2({.in_channels = 16, .out_channels = 32, .height = 14, .width = 14, .kernel = 5, .padding = 2},
              max_batch_),
        pool2(32, 14, 14, max_batch_),
        relu2(pool2.out_features()),
        fc1(32 * 7 * 7, 120, max_batch_),
        relu3(fc1.out_features()),
        fc2(120, SimpleCnn::kClasses, max_batch_, /*need_grad_input=*/true),
        loss(SimpleCnn::kClasses, max_batch_) {}

  // Logits for `batch` images; keeps the activations for backward().
  //
  // ReLU is applied after max pooling rather than before: ReLU is monotone,
  // so max(relu(window)) == relu(max(window)), and the gradient agrees too
  // (it reaches the window's first maximum when that maximum is positive, and
  // nothing otherwise). Same function and gradient as the architecture's
  // conv -> ReLU -> pool, on a quarter of the elements.
  std::span<const float> forward(std::span<const float> params, const std::vector<ParamBlock>& blocks,
                                 const float* images, int batch) {
    const auto p = [&](int i) { return params.subspan(blocks[i].offset, blocks[i].size); };
    const std::span<const float> c1 = conv1.forward(p(0), {images, static_cast<std::size_t>(batch) * kPixels}, batch);
    a1 = pool1.forward(c1, batch);
    relu1.forward(a1, batch);
    const std::span<const float> c2 = conv2.forward(p(1), a1, batch);
    a2 = pool2.forward(c2, batch);
    relu2.forward(a2, batch);
    a3 = fc1.forward(p(2), a2, batch);
    relu3.forward(a3, batch);
    return fc2.forward(p(3), a3, batch);
  }

  // After forward() and loss.forward(): overwrites every block of `grads`.
  void backward(std::span<const float> params, std::span<float> grads, const std::vector<ParamBlock>& blocks,
                int batch) {
    const auto p = [&](int i) { return params.subspan(blocks[i].offset, blocks[i].size); };
    const auto g = [&](int i) { return grads.subspan(blocks[i].offset, blocks[i].size); };
    const std::span<float> g3 = fc2.backward(p(3), loss.backward(batch), batch, g(3));
    relu3.backward(a3, g3, batch);
    const std::span<float> g2 = fc1.backward(p(2), g3, batch, g(2));
    relu2.backward(a2, g2, batch);
    const std::span<const float> gc2 = pool2.backward(g2, batch);
    const std::span<float> g1 = conv2.backward(p(1), gc2, batch, g(1));
    relu1.backward(a1, g1, batch);
    conv1.backward(p(0), pool1.backward(g1, batch), batch, g(0));
  }

  int max_batch;
  Conv2d conv1;
  MaxPool2d pool1;
  Relu relu1;
  Conv2d conv2;
  MaxPool2d pool2;
  Relu relu2;
  Linear fc1;
  Relu relu3;
  Linear fc2;
  SoftmaxCrossEntropy loss;
  std::span<float> a1, a2, a3;  // outputs of relu1, relu2, relu3 (their masks in backward)
};

SimpleCnn::SimpleCnn(int max_batch) {
  if (max_batch < 1) throw std::invalid_argument("SimpleCnn: max_batch must be >= 1");
  impl_ = std::make_shared<Impl>(max_batch);
  const std::size_t sizes[] = {impl_->conv1.param_size(), impl_->conv2.param_size(), impl_->fc1.param_size(),
                               impl_->fc2.param_size()};
  const char* names[] = {"conv1", "conv2", "fc1", "fc2"};
  std::size_t offset = 0;
  for (int i = 0; i < 4; ++i) {
    blocks_.push_back({names[i], offset, sizes[i]});
    offset += sizes[i];
  }
  if (offset != kParams) throw std::logic_error("SimpleCnn: parameter count does not match kParams");
  params_.assign(kParams, 0.0f);
  grads_.assign(kParams, 0.0f);
}

void SimpleCnn::init(std::uint64_t seed) {
  SplitMix64 rng(seed);
  const int fan_in[] = {impl_->conv1.shape().fan_in(), impl_->conv2.shape().fan_in(),
                        static_cast<int>(impl_->fc1.in_features()), static_cast<int>(impl_->fc2.in_features())};
  // One stream over the whole array in layout order: conv1 weight, conv1 bias, conv2 weight, ...
  for (std::size_t i = 0; i < blocks_.size(); ++i) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in[i]));
    float* p = params_.data() + blocks_[i].offset;
    for (std::size_t j = 0; j < blocks_[i].size; ++j) p[j] = static_cast<float>(bound * (2.0 * rng.uniform01() - 1.0));
  }
}

double SimpleCnn::forward_backward(const float* images, const std::uint8_t* labels, int batch, int* correct) {
  check_batch(batch, impl_->max_batch, "SimpleCnn::forward_backward");
  const std::span<const float> logits = impl_->forward(params_, blocks_, images, batch);
  const double loss = impl_->loss.forward(logits, {labels, static_cast<std::size_t>(batch)}, batch, correct);
  impl_->backward(params_, grads_, blocks_, batch);
  return loss;
}

EvalResult SimpleCnn::evaluate(const float* images, const std::uint8_t* labels, int count) {
  if (count < 0) throw std::invalid_argument("SimpleCnn::evaluate: negative count");
  EvalResult result;
  double loss_sum = 0.0;
  int hits = 0;
  for (int start = 0; start < count; start += impl_->max_batch) {
    const int batch = std::min(impl_->max_batch, count - start);
    const std::span<const float> logits =
        impl_->forward(params_, blocks_, images + static_cast<std::size_t>(start) * kPixels, batch);
    int chunk_hits = 0;
    loss_sum +=
        impl_->loss.forward(logits, {labels + start, static_cast<std::size_t>(batch)}, batch, &chunk_hits) * batch;
    hits += chunk_hits;
  }
  result.count = count;
  if (count > 0) {
    result.loss = loss_sum / count;
    result.accuracy = static_cast<double>(hits) / count;
  }
  return result;
}

}  // namespace gcsim::train
