// SGD with momentum and weight decay, with PyTorch's torch.optim.SGD
// semantics (dampening 0, not Nesterov):
//   d = g + weight_decay * p
//   v = momentum * v + d          (v starts at 0, so the first v is d)
//   p = p - lr * v
#pragma once

#include <span>
#include <vector>

namespace gcsim::train {

struct SgdOptions {
  double lr = 0.05;
  double momentum = 0.9;
  double weight_decay = 0.0;
};

class Sgd {
 public:
  Sgd(std::size_t n, SgdOptions options);

  void step(std::span<float> params, std::span<const float> grads);

  const SgdOptions& options() const { return options_; }
  void set_lr(double lr) { options_.lr = lr; }
  std::span<float> momentum_buffer() { return velocity_; }
  std::span<const float> momentum_buffer() const { return velocity_; }

 private:
  SgdOptions options_;
  std::vector<float> velocity_;
};

}  // namespace gcsim::train
