// How much host memory one training worker needs, estimated from the batch
// before anything is allocated (so a batch that cannot fit is refused as bad
// input, not met by std::bad_alloc halfway). Header-only: the scenario loader
// uses it. The figures follow the CPU model's buffers (train/model/simplecnn.cpp,
// train/model/layers.cpp); tests/train_dist_test.cpp checks them against what
// constructing the model really allocates.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gcsim::train {

// Per image of the model's batch: each layer's output and input gradient
// (conv1 needs none), the pooling argmax bytes, the loss's probabilities
// (double), gradient and label.
inline constexpr std::size_t kSimpleCnnBytesPerImage =
    4 * (12544 +                 // conv1 output 16x28x28
         3136 + 12544 +          // pool1 output 16x14x14, input gradient
         6272 + 3136 +           // conv2 output 32x14x14, input gradient
         1568 + 6272 +           // pool2 output 32x7x7, input gradient
         120 + 1568 +            // fc1 output, input gradient
         10 + 120 +              // fc2 output, input gradient
         10) +                   // loss gradient
    3136 + 1568 +                // pooling argmax (one byte each)
    8 * 10 + 1;                  // loss probabilities (double), label

// Independent of the batch: parameters and gradients, the im2col buffers of
// one image (conv1 25x784; conv2 400x196 and its gradient).
inline constexpr std::size_t kSimpleCnnFixedBytes = 4 * (2 * 202738 + 25 * 784 + 2 * 400 * 196);

// The CPU model's buffers for batches of up to max_batch images.
inline constexpr std::size_t simplecnn_host_bytes(std::size_t max_batch) {
  return kSimpleCnnFixedBytes + max_batch * kSimpleCnnBytesPerImage;
}

// One worker: the model sized for max(batch, eval_batch), the batch gathered
// from the data set, optimizer and compression state (momentum, residual,
// local momentum, scratch: a few copies of the parameters), and the decoded
// data set (float images and labels).
inline constexpr double worker_host_bytes(std::size_t batch, std::size_t eval_batch, std::size_t train_images,
                                          std::size_t test_images) {
  const std::size_t model_batch = batch > eval_batch ? batch : eval_batch;
  return static_cast<double>(simplecnn_host_bytes(model_batch)) + static_cast<double>(batch) * (784 * 4 + 1) +
         6.0 * 4 * 202738 + static_cast<double>(train_images + test_images) * (784 * 4 + 1);
}

}  // namespace gcsim::train
