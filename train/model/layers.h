// CPU layers for the trainer (batch-major NCHW float tensors): Conv2d
// (im2col + GEMM), ReLU, MaxPool2d(2, 2), Linear (GEMM) and softmax
// cross-entropy.
//
// Conventions shared by every layer:
//   - Buffers (outputs, gradients w.r.t. the input, im2col scratch) are sized
//     for `max_batch` images at construction; forward/backward never allocate.
//     A span returned by a layer points into the layer and stays valid until
//     the next call of the same kind on it.
//   - Parameters are not owned by a layer: forward/backward take them as a
//     span in PyTorch layout, [weight, bias] (conv weight [out][in][kh][kw],
//     linear weight [out][in]). backward OVERWRITES `grad_params` (same
//     layout) with the gradient for this batch.
//   - backward(..., batch) pairs with the last forward(..., batch) (a
//     different batch throws); Conv2d and Linear read the forward input
//     again, so that memory must still hold it.
//   - batch outside [1, max_batch] or a span that is too short throws
//     std::invalid_argument.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace gcsim::train {

struct Conv2dShape {
  int in_channels = 1;
  int out_channels = 1;
  int height = 1;  // input height
  int width = 1;   // input width
  int kernel = 1;  // square kernel
  int stride = 1;
  int padding = 0;

  int out_height() const { return (height + 2 * padding - kernel) / stride + 1; }
  int out_width() const { return (width + 2 * padding - kernel) / stride + 1; }
  int fan_in() const { return in_channels * kernel * kernel; }
};

class Conv2d {
 public:
  // need_grad_input = false (a first layer) skips dL/dinput and its buffers.
  Conv2d(const Conv2dShape& shape, int max_batch, bool need_grad_input = true);

  const Conv2dShape& shape() const { return shape_; }
  std::size_t in_features() const { return in_features_; }    // C*H*W per image
  std::size_t out_features() const { return out_features_; }  // Cout*Hout*Wout per image
  std::size_t weight_size() const { return weight_size_; }
  std::size_t param_size() const { return weight_size_ + static_cast<std::size_t>(shape_.out_channels); }

  // Returns the output, batch * out_features().
  std::span<float> forward(std::span<const float> params, std::span<const float> input, int batch);
  // Returns dL/dinput (batch * in_features()), or an empty span when the
  // layer was built without need_grad_input.
  std::span<float> backward(std::span<const float> params, std::span<const float> grad_output, int batch,
                            std::span<float> grad_params);

 private:
  void im2col(const float* image, float* col) const;
  void col2im(float* col, float* image) const;
  void zero_wrapped(float* row, int oy_lo, int oy_hi, int ox_lo, int ox_hi) const;

  Conv2dShape shape_;
  int max_batch_;
  bool need_grad_input_;
  bool shifted_copy_;  // stride 1 and same width: im2col rows are shifted planes
  std::size_t in_features_, out_features_, weight_size_;
  int col_rows_, col_cols_;  // fan_in x (Hout*Wout)
  const float* input_ = nullptr;
  int forward_batch_ = 0;
  std::vector<float> output_, grad_input_, col_, dcol_;
  std::vector<double> bias_sum_;
};

// In place: y = max(x, 0) (NaN stays NaN); backward masks the gradient where
// the output is not positive (derivative 0 at 0, as PyTorch).
class Relu {
 public:
  explicit Relu(std::size_t features) : features_(features) {}
  void forward(std::span<float> data, int batch) const;
  void backward(std::span<const float> output, std::span<float> grad, int batch) const;

 private:
  std::size_t features_;
};

// MaxPool2d(kernel_size=2, stride=2) on even height and width. The first
// maximum of each window (row-major) wins, and only it receives gradient.
class MaxPool2d {
 public:
  MaxPool2d(int channels, int height, int width, int max_batch);

  std::size_t in_features() const { return in_features_; }
  std::size_t out_features() const { return out_features_; }

  std::span<float> forward(std::span<const float> input, int batch);
  std::span<float> backward(std::span<const float> grad_output, int batch);

 private:
  int channels_, height_, width_, max_batch_;
  std::size_t in_features_, out_features_;
  int forward_batch_ = 0;
  std::vector<float> output_, grad_input_;
  std::vector<std::uint8_t> argmax_;  // 0..3 within each 2x2 window
};

// y = x W^T + b on [batch][in] -> [batch][out].
class Linear {
 public:
  Linear(int in_features, int out_features, int max_batch, bool need_grad_input = true);

  std::size_t in_features() const { return static_cast<std::size_t>(in_); }
  std::size_t out_features() const { return static_cast<std::size_t>(out_); }
  std::size_t weight_size() const { return static_cast<std::size_t>(in_) * static_cast<std::size_t>(out_); }
  std::size_t param_size() const { return weight_size() + static_cast<std::size_t>(out_); }

  std::span<float> forward(std::span<const float> params, std::span<const float> input, int batch);
  std::span<float> backward(std::span<const float> params, std::span<const float> grad_output, int batch,
                            std::span<float> grad_params);

 private:
  int in_, out_, max_batch_;
  bool need_grad_input_;
  const float* input_ = nullptr;
  int forward_batch_ = 0;
  std::vector<float> output_, grad_input_;
};

// Mean over the batch of -log softmax(logits)[label], via a stable
// log-sum-exp (in double).
class SoftmaxCrossEntropy {
 public:
  SoftmaxCrossEntropy(int classes, int max_batch);

  // Mean loss. `correct` (optional) receives the number of rows whose first
  // maximal logit is the label. Labels must be < classes.
  double forward(std::span<const float> logits, std::span<const std::uint8_t> labels, int batch,
                 int* correct = nullptr);
  // d(mean loss)/d(logits) = (softmax - onehot) / batch, batch * classes.
  std::span<const float> backward(int batch);

 private:
  int classes_, max_batch_;
  int forward_batch_ = 0;
  std::vector<double> prob_;
  std::vector<float> grad_;
  std::vector<std::uint8_t> labels_;
};

}  // namespace gcsim::train
