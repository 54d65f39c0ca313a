// SimpleCnn: the SimpleCNN architecture of models/simplecnn.cpp as a trainable
// model (see simplecnn.h): the CPU engine built from train/model/layers.h, or the
// CUDA engine of train/model_engine.h.
#include "train/model/simplecnn.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "train/model/layers.h"
#include "train/model/simplecnn_graph.h"

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

// Labels index the 10 logits (the GPU graph reads them unchecked).
void check_labels(const std::uint8_t* labels, int count, const char* what) {
  for (int i = 0; i < count; ++i) {
    if (labels[i] >= SimpleCnn::kClasses)
      throw std::invalid_argument(std::string(what) + ": label " + std::to_string(labels[i]) + " >= classes " +
                                  std::to_string(SimpleCnn::kClasses));
  }
}

// The CPU engine: layer objects from train/model/layers.h and their activations.
class CpuEngine final : public ModelEngine {
  using L = SimpleCnnLayout;

 public:
  explicit CpuEngine(int max_batch)
      : conv1({.in_channels = 1, .out_channels = 16, .height = kSide, .width = kSide, .kernel = 5, .padding = 2},
              max_batch, /*need_grad_input=*/false),
        pool1(16, kSide, kSide, max_batch),
        relu1(pool1.out_features()),
        conv2({.in_channels = 16, .out_channels = 32, .height = 14, .width = 14, .kernel = 5, .padding = 2},
              max_batch),
        pool2(32, 14, 14, max_batch),
        relu2(pool2.out_features()),
        fc1(32 * 7 * 7, 120, max_batch),
        relu3(fc1.out_features()),
        fc2(120, SimpleCnn::kClasses, max_batch, /*need_grad_input=*/true),
        loss(SimpleCnn::kClasses, max_batch) {
    const std::size_t sizes[] = {conv1.param_size(), conv2.param_size(), fc1.param_size(), fc2.param_size()};
    const std::size_t offsets[] = {L::kConv1W, L::kConv2W, L::kFc1W, L::kFc2W, L::kParams};
    for (int i = 0; i < 4; ++i) {
      if (offsets[i] + sizes[i] != offsets[i + 1])
        throw std::logic_error("SimpleCnn: layers do not match SimpleCnnLayout");
    }
  }

  void load_params(const float* params) override { params_ = params; }

  double run(const float* images, const std::uint8_t* labels, int batch, int* correct, float* grads) override {
    const std::span<const float> logits = forward(images, batch);
    const double mean = loss.forward(logits, {labels, static_cast<std::size_t>(batch)}, batch, correct);
    if (grads != nullptr) backward({grads, L::kParams}, batch);
    return mean;
  }

  std::string description() const override { return "cpu (CBLAS: OpenBLAS)"; }

 private:
  std::span<const float> p(std::size_t begin, std::size_t end) const { return {params_ + begin, end - begin}; }

  // Logits for `batch` images; keeps the activations for backward().
  //
  // ReLU is applied after max pooling rather than before: ReLU is monotone,
  // so max(relu(window)) == relu(max(window)), and the gradient agrees too
  // (it reaches the window's first maximum when that maximum is positive, and
  // nothing otherwise). Same function and gradient as the architecture's
  // conv -> ReLU -> pool, on a quarter of the elements.
  std::span<const float> forward(const float* images, int batch) {
    const std::span<const float> c1 =
        conv1.forward(p(L::kConv1W, L::kConv2W), {images, static_cast<std::size_t>(batch) * kPixels}, batch);
    a1 = pool1.forward(c1, batch);
    relu1.forward(a1, batch);
    const std::span<const float> c2 = conv2.forward(p(L::kConv2W, L::kFc1W), a1, batch);
    a2 = pool2.forward(c2, batch);
    relu2.forward(a2, batch);
    a3 = fc1.forward(p(L::kFc1W, L::kFc2W), a2, batch);
    relu3.forward(a3, batch);
    return fc2.forward(p(L::kFc2W, L::kParams), a3, batch);
  }

  // After forward() and loss.forward(): overwrites every block of `grads`.
  void backward(std::span<float> grads, int batch) {
    const auto g = [&](std::size_t begin, std::size_t end) { return grads.subspan(begin, end - begin); };
    const auto done = [&](std::size_t from) {
      if (on_gradient_ready) on_gradient_ready(from);
    };
    const std::span<float> g3 = fc2.backward(p(L::kFc2W, L::kParams), loss.backward(batch), batch, g(L::kFc2W, L::kParams));
    done(L::kFc2W);
    relu3.backward(a3, g3, batch);
    const std::span<float> g2 = fc1.backward(p(L::kFc1W, L::kFc2W), g3, batch, g(L::kFc1W, L::kFc2W));
    done(L::kFc1W);
    relu2.backward(a2, g2, batch);
    const std::span<const float> gc2 = pool2.backward(g2, batch);
    const std::span<float> g1 = conv2.backward(p(L::kConv2W, L::kFc1W), gc2, batch, g(L::kConv2W, L::kFc1W));
    done(L::kConv2W);
    relu1.backward(a1, g1, batch);
    conv1.backward(p(L::kConv1W, L::kConv2W), pool1.backward(g1, batch), batch, g(L::kConv1W, L::kConv2W));
    done(L::kConv1W);
  }

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
  const float* params_ = nullptr;
  std::span<float> a1, a2, a3;  // outputs of relu1, relu2, relu3 (their masks in backward)
};

}  // namespace

ModelDevice parse_model_device(const std::string& name) {
  if (name == "cpu") return ModelDevice::cpu;
  if (name == "cuda") return ModelDevice::cuda;
  throw std::invalid_argument("unknown device '" + name + "' (want cpu or cuda)");
}

std::string to_string(ModelDevice device) { return device == ModelDevice::cuda ? "cuda" : "cpu"; }

SimpleCnn::SimpleCnn(int max_batch, ModelDevice device, int rank) : max_batch_(max_batch), device_(device) {
  if (max_batch < 1) throw std::invalid_argument("SimpleCnn: max_batch must be >= 1");
  using L = SimpleCnnLayout;
  blocks_ = {{"conv1", L::kConv1W, L::kConv2W - L::kConv1W},
             {"conv2", L::kConv2W, L::kFc1W - L::kConv2W},
             {"fc1", L::kFc1W, L::kFc2W - L::kFc1W},
             {"fc2", L::kFc2W, L::kParams - L::kFc2W}};
  static_assert(L::kParams == kParams, "SimpleCnnLayout and SimpleCnn disagree on the parameter count");
  params_.assign(kParams, 0.0f);
  grads_.assign(kParams, 0.0f);
  if (device == ModelDevice::cuda) {
    engine_ = make_cuda_model_engine(max_batch, rank);
  } else {
    engine_ = std::make_unique<CpuEngine>(max_batch);
  }
}

void SimpleCnn::init(std::uint64_t seed) {
  SplitMix64 rng(seed);
  const int fan_in[] = {1 * 5 * 5, 16 * 5 * 5, 32 * 7 * 7, 120};
  // One stream over the whole array in layout order: conv1 weight, conv1 bias, conv2 weight, ...
  for (std::size_t i = 0; i < blocks_.size(); ++i) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in[i]));
    float* p = params_.data() + blocks_[i].offset;
    for (std::size_t j = 0; j < blocks_[i].size; ++j) p[j] = static_cast<float>(bound * (2.0 * rng.uniform01() - 1.0));
  }
}

double SimpleCnn::forward_backward(const float* images, const std::uint8_t* labels, int batch, int* correct,
                                   const std::function<void(std::size_t)>& on_gradient_ready) {
  check_batch(batch, max_batch_, "SimpleCnn::forward_backward");
  check_labels(labels, batch, "SimpleCnn::forward_backward");
  engine_->load_params(params_.data());
  engine_->on_gradient_ready = on_gradient_ready;
  const double loss = engine_->run(images, labels, batch, correct, grads_.data());
  engine_->on_gradient_ready = nullptr;
  if (on_gradient_ready) on_gradient_ready(0);  // all of it (an engine that reports nothing on the way)
  return loss;
}

EvalResult SimpleCnn::evaluate(const float* images, const std::uint8_t* labels, int count) {
  if (count < 0) throw std::invalid_argument("SimpleCnn::evaluate: negative count");
  check_labels(labels, count, "SimpleCnn::evaluate");
  engine_->load_params(params_.data());
  EvalResult result;
  double loss_sum = 0.0;
  int hits = 0;
  for (int start = 0; start < count; start += max_batch_) {
    const int batch = std::min(max_batch_, count - start);
    int chunk_hits = 0;
    loss_sum += engine_->run(images + static_cast<std::size_t>(start) * kPixels, labels + start, batch, &chunk_hits,
                             nullptr) *
                batch;
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
