// SGD with momentum and weight decay (see sgd.h).
#include "train/loop/sgd.h"

#include <stdexcept>

namespace gcsim::train {

Sgd::Sgd(std::size_t n, SgdOptions options) : options_(options), velocity_(n, 0.0f) {}

void Sgd::step(std::span<float> params, std::span<const float> grads) {
  if (params.size() != velocity_.size() || grads.size() != velocity_.size())
    throw std::invalid_argument("Sgd::step: parameter, gradient and momentum sizes differ");
  const auto lr = static_cast<float>(options_.lr);
  const auto mu = static_cast<float>(options_.momentum);
  const auto wd = static_cast<float>(options_.weight_decay);
  float* v = velocity_.data();
  float* p = params.data();
  const float* g = grads.data();
  for (std::size_t i = 0; i < velocity_.size(); ++i) {
    const float d = g[i] + wd * p[i];
    v[i] = mu * v[i] + d;
    p[i] -= lr * v[i];
  }
}

}  // namespace gcsim::train
