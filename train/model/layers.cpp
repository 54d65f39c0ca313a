// CPU layers for the trainer (see layers.h).
#include "train/model/layers.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "train/model/gemm.h"

namespace gcsim::train {
namespace {

void check_batch(int batch, int max_batch, const char* what) {
  if (batch < 1 || batch > max_batch) {
    throw std::invalid_argument(std::string(what) + ": batch " + std::to_string(batch) + " outside [1, " +
                                std::to_string(max_batch) + "]");
  }
}

void check_size(std::size_t have, std::size_t need, const char* what) {
  if (have < need) {
    throw std::invalid_argument(std::string(what) + ": span of " + std::to_string(have) + " elements, need " +
                                std::to_string(need));
  }
}

// backward() pairs with the last forward(): same batch, which must exist.
void check_pairing(int batch, int forward_batch, const char* what) {
  if (batch != forward_batch) {
    throw std::invalid_argument(std::string(what) + ": batch " + std::to_string(batch) +
                                " does not match the last forward (" + std::to_string(forward_batch) + ")");
  }
}

void check_positive(int value, const char* what) {
  if (value < 1) throw std::invalid_argument(std::string(what) + " must be >= 1");
}

std::size_t sz(int v) { return static_cast<std::size_t>(v); }

// ceil(a / b) for b > 0 and any sign of a.
int ceil_div(int a, int b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

// Element-wise loops written as blocks of 8 plus a tail: the fixed-size inner
// loop is vectorised at -O2 too (GCC's "very cheap" cost model does not
// vectorise a loop of unknown trip count).
constexpr std::size_t kBlock = 8;

void add_to(float* __restrict dst, const float* __restrict src, std::size_t n) {
  std::size_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    for (std::size_t j = 0; j < kBlock; ++j) dst[i + j] += src[i + j];
  }
  for (; i < n; ++i) dst[i] += src[i];
}

void fill(float* dst, std::size_t n, float value) {
  std::size_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    for (std::size_t j = 0; j < kBlock; ++j) dst[i + j] = value;
  }
  for (; i < n; ++i) dst[i] = value;
}

// Sum with kBlock float partial sums, combined in double.
double sum(const float* x, std::size_t n) {
  float part[kBlock] = {};
  std::size_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    for (std::size_t j = 0; j < kBlock; ++j) part[j] += x[i + j];
  }
  double total = 0.0;
  for (; i < n; ++i) total += static_cast<double>(x[i]);
  for (std::size_t j = 0; j < kBlock; ++j) total += static_cast<double>(part[j]);
  return total;
}

void relu_in_place(float* x, std::size_t n) {
  std::size_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    for (std::size_t j = 0; j < kBlock; ++j) x[i + j] = x[i + j] < 0.0f ? 0.0f : x[i + j];
  }
  for (; i < n; ++i) x[i] = x[i] < 0.0f ? 0.0f : x[i];
}

void relu_mask(const float* __restrict y, float* __restrict g, std::size_t n) {
  std::size_t i = 0;
  for (; i + kBlock <= n; i += kBlock) {
    for (std::size_t j = 0; j < kBlock; ++j) g[i + j] = y[i + j] > 0.0f ? g[i + j] : 0.0f;
  }
  for (; i < n; ++i) g[i] = y[i] > 0.0f ? g[i] : 0.0f;
}

}  // namespace

// ---- Conv2d -------------------------------------------------------------------

Conv2d::Conv2d(const Conv2dShape& shape, int max_batch, bool need_grad_input)
    : shape_(shape), max_batch_(max_batch), need_grad_input_(need_grad_input) {
  check_positive(shape.in_channels, "Conv2d in_channels");
  check_positive(shape.out_channels, "Conv2d out_channels");
  check_positive(shape.height, "Conv2d height");
  check_positive(shape.width, "Conv2d width");
  check_positive(shape.kernel, "Conv2d kernel");
  check_positive(shape.stride, "Conv2d stride");
  check_positive(max_batch, "Conv2d max_batch");
  if (shape.padding < 0 || shape.padding >= shape.kernel) {
    throw std::invalid_argument("Conv2d padding must be in [0, kernel)");
  }
  if (shape.out_height() < 1 || shape.out_width() < 1) throw std::invalid_argument("Conv2d input smaller than kernel");
  in_features_ = sz(shape.in_channels) * sz(shape.height) * sz(shape.width);
  col_rows_ = shape.fan_in();
  col_cols_ = shape.out_height() * shape.out_width();
  out_features_ = sz(shape.out_channels) * sz(col_cols_);
  weight_size_ = sz(shape.out_channels) * sz(col_rows_);
  output_.resize(sz(max_batch) * out_features_);
  if (need_grad_input) grad_input_.resize(sz(max_batch) * in_features_);
  col_.assign(sz(col_rows_) * sz(col_cols_), 0.0f);  // zero outside the rectangles, for good (see im2col)
  if (need_grad_input) dcol_.resize(col_.size());
  bias_sum_.resize(sz(shape.out_channels));
  shifted_copy_ = shape.stride == 1 && shape.out_width() == shape.width;
}

// col[(c*K + kh)*K + kw][oy*Wout + ox] = image[c][oy*s + kh - p][ox*s + kw - p] (0 outside).
//
// For one kernel offset (kh, kw) the outputs that read a pixel form the
// rectangle [oy_lo, oy_hi) x [ox_lo, ox_hi); the rest of the row reads
// padding. `col` is always col_, whose entries outside the rectangles are
// zeroed once at construction and never written, so only the rectangles are
// filled here. With stride 1 and Wout == W ("same" width) a col row is the
// image plane shifted by a constant, so a rectangle is one contiguous copy;
// the entries that wrapped into the padding columns are zeroed again.
void Conv2d::im2col(const float* image, float* col) const {
  const int h = shape_.height, w = shape_.width, k = shape_.kernel, s = shape_.stride, p = shape_.padding;
  const int oh = shape_.out_height(), ow = shape_.out_width();
  float* dst = col;
  for (int c = 0; c < shape_.in_channels; ++c) {
    const float* plane = image + sz(c) * sz(h) * sz(w);
    for (int kh = 0; kh < k; ++kh) {
      const int oy_lo = std::clamp(ceil_div(p - kh, s), 0, oh);
      const int oy_hi = std::clamp(ceil_div(h + p - kh, s), oy_lo, oh);
      for (int kw = 0; kw < k; ++kw, dst += col_cols_) {
        const int ox_lo = std::clamp(ceil_div(p - kw, s), 0, ow);
        const int ox_hi = std::clamp(ceil_div(w + p - kw, s), ox_lo, ow);
        if (oy_lo == oy_hi || ox_lo == ox_hi) continue;
        const float* src = plane + sz(oy_lo * s + kh - p) * sz(w) + (ox_lo * s + kw - p);
        if (shifted_copy_) {
          std::copy(src, src + ((oy_hi - 1 - oy_lo) * ow + ox_hi - ox_lo), dst + oy_lo * ow + ox_lo);
          zero_wrapped(dst, oy_lo, oy_hi, ox_lo, ox_hi);
          continue;
        }
        for (int oy = oy_lo; oy < oy_hi; ++oy, src += s * w) {
          float* row = dst + oy * ow;
          const float* in = src;
          for (int ox = ox_lo; ox < ox_hi; ++ox, in += s) row[ox] = *in;
        }
      }
    }
  }
}

// Zeroes columns [0, ox_lo) and [ox_hi, Wout) of rows [oy_lo, oy_hi) of one col
// row (at most `padding` columns on each side). Column by column: row by row
// the short runs would become memset calls.
void Conv2d::zero_wrapped(float* row, int oy_lo, int oy_hi, int ox_lo, int ox_hi) const {
  const int ow = shape_.out_width();
  for (int ox = 0; ox < ox_lo; ++ox) {
    for (int oy = oy_lo; oy < oy_hi; ++oy) row[oy * ow + ox] = 0.0f;
  }
  for (int ox = ox_hi; ox < ow; ++ox) {
    for (int oy = oy_lo; oy < oy_hi; ++oy) row[oy * ow + ox] = 0.0f;
  }
}

// The adjoint of im2col: image = 0, then every col entry inside the
// rectangles is added back to the pixel im2col read it from. Clobbers the
// wrapped padding entries of `col` (dcol_, scratch).
void Conv2d::col2im(float* col, float* image) const {
  const int h = shape_.height, w = shape_.width, k = shape_.kernel, s = shape_.stride, p = shape_.padding;
  const int oh = shape_.out_height(), ow = shape_.out_width();
  std::fill(image, image + in_features_, 0.0f);
  float* src = col;
  for (int c = 0; c < shape_.in_channels; ++c) {
    float* plane = image + sz(c) * sz(h) * sz(w);
    for (int kh = 0; kh < k; ++kh) {
      const int oy_lo = std::clamp(ceil_div(p - kh, s), 0, oh);
      const int oy_hi = std::clamp(ceil_div(h + p - kh, s), oy_lo, oh);
      for (int kw = 0; kw < k; ++kw, src += col_cols_) {
        const int ox_lo = std::clamp(ceil_div(p - kw, s), 0, ow);
        const int ox_hi = std::clamp(ceil_div(w + p - kw, s), ox_lo, ow);
        if (oy_lo == oy_hi || ox_lo == ox_hi) continue;
        float* dst = plane + sz(oy_lo * s + kh - p) * sz(w) + (ox_lo * s + kw - p);
        if (shifted_copy_) {
          // Zero what im2col would have zeroed, then one contiguous add.
          zero_wrapped(src, oy_lo, oy_hi, ox_lo, ox_hi);
          add_to(dst, src + oy_lo * ow + ox_lo, sz((oy_hi - 1 - oy_lo) * ow + ox_hi - ox_lo));
          continue;
        }
        for (int oy = oy_lo; oy < oy_hi; ++oy, dst += s * w) {
          const float* row = src + oy * ow;
          float* out = dst;
          for (int ox = ox_lo; ox < ox_hi; ++ox, out += s) *out += row[ox];
        }
      }
    }
  }
}

std::span<float> Conv2d::forward(std::span<const float> params, std::span<const float> input, int batch) {
  check_batch(batch, max_batch_, "Conv2d::forward");
  check_size(params.size(), param_size(), "Conv2d::forward params");
  check_size(input.size(), sz(batch) * in_features_, "Conv2d::forward input");
  const int oc = shape_.out_channels;
  const float* weight = params.data();
  const float* bias = weight + weight_size_;
  input_ = input.data();
  forward_batch_ = batch;
  for (int b = 0; b < batch; ++b) {
    float* out = output_.data() + sz(b) * out_features_;
    im2col(input_ + sz(b) * in_features_, col_.data());
    for (int c = 0; c < oc; ++c) fill(out + sz(c) * sz(col_cols_), sz(col_cols_), bias[c]);
    gemm(false, false, oc, col_cols_, col_rows_, 1.0f, weight, col_rows_, col_.data(), col_cols_, 1.0f, out, col_cols_);
  }
  return {output_.data(), sz(batch) * out_features_};
}

std::span<float> Conv2d::backward(std::span<const float> params, std::span<const float> grad_output, int batch,
                                  std::span<float> grad_params) {
  check_batch(batch, max_batch_, "Conv2d::backward");
  check_size(params.size(), param_size(), "Conv2d::backward params");
  check_size(grad_params.size(), param_size(), "Conv2d::backward grad_params");
  check_size(grad_output.size(), sz(batch) * out_features_, "Conv2d::backward grad_output");
  check_pairing(batch, forward_batch_, "Conv2d::backward");
  const int oc = shape_.out_channels;
  const float* weight = params.data();
  float* grad_weight = grad_params.data();
  float* grad_bias = grad_weight + weight_size_;
  std::fill(bias_sum_.begin(), bias_sum_.end(), 0.0);
  for (int b = 0; b < batch; ++b) {
    const float* gy = grad_output.data() + sz(b) * out_features_;
    // dW (+)= dY_b [oc x HWout] * col_b^T [HWout x fan_in]
    im2col(input_ + sz(b) * in_features_, col_.data());
    gemm(false, true, oc, col_rows_, col_cols_, 1.0f, gy, col_cols_, col_.data(), col_cols_, b == 0 ? 0.0f : 1.0f,
         grad_weight, col_rows_);
    for (int c = 0; c < oc; ++c) bias_sum_[sz(c)] += sum(gy + sz(c) * sz(col_cols_), sz(col_cols_));
    if (need_grad_input_) {
      // dcol = W^T [fan_in x oc] * dY_b [oc x HWout], then scattered back.
      gemm(true, false, col_rows_, col_cols_, oc, 1.0f, weight, col_rows_, gy, col_cols_, 0.0f, dcol_.data(),
           col_cols_);
      col2im(dcol_.data(), grad_input_.data() + sz(b) * in_features_);
    }
  }
  for (int c = 0; c < oc; ++c) grad_bias[c] = static_cast<float>(bias_sum_[sz(c)]);
  if (!need_grad_input_) return {};
  return {grad_input_.data(), sz(batch) * in_features_};
}

// ---- Relu ---------------------------------------------------------------------

void Relu::forward(std::span<float> data, int batch) const {
  const std::size_t n = sz(batch) * features_;
  check_size(data.size(), n, "Relu::forward");
  relu_in_place(data.data(), n);
}

void Relu::backward(std::span<const float> output, std::span<float> grad, int batch) const {
  const std::size_t n = sz(batch) * features_;
  check_size(output.size(), n, "Relu::backward output");
  check_size(grad.size(), n, "Relu::backward grad");
  relu_mask(output.data(), grad.data(), n);
}

// ---- MaxPool2d ----------------------------------------------------------------

MaxPool2d::MaxPool2d(int channels, int height, int width, int max_batch)
    : channels_(channels), height_(height), width_(width), max_batch_(max_batch) {
  check_positive(channels, "MaxPool2d channels");
  check_positive(height, "MaxPool2d height");
  check_positive(width, "MaxPool2d width");
  check_positive(max_batch, "MaxPool2d max_batch");
  if (height % 2 != 0 || width % 2 != 0) throw std::invalid_argument("MaxPool2d needs even height and width");
  in_features_ = sz(channels) * sz(height) * sz(width);
  out_features_ = in_features_ / 4;
  output_.resize(sz(max_batch) * out_features_);
  argmax_.resize(sz(max_batch) * out_features_);
  grad_input_.resize(sz(max_batch) * in_features_);
}

std::span<float> MaxPool2d::forward(std::span<const float> input, int batch) {
  check_batch(batch, max_batch_, "MaxPool2d::forward");
  check_size(input.size(), sz(batch) * in_features_, "MaxPool2d::forward input");
  forward_batch_ = batch;
  const int oh = height_ / 2, ow = width_ / 2;
  const int planes = batch * channels_;
  float* out = output_.data();
  std::uint8_t* arg = argmax_.data();
  for (int pl = 0; pl < planes; ++pl) {
    const float* x = input.data() + sz(pl) * sz(height_) * sz(width_);
    for (int oy = 0; oy < oh; ++oy) {
      const float* r0 = x + sz(2 * oy) * sz(width_);
      const float* r1 = r0 + width_;
      for (int ox = 0; ox < ow; ++ox, ++out, ++arg) {
        // Branch-free (random data would mispredict); strict '>' keeps the first maximum.
        const float a = r0[2 * ox], b = r0[2 * ox + 1], c = r1[2 * ox], d = r1[2 * ox + 1];
        const bool top_right = b > a, bottom_right = d > c;
        const float top = top_right ? b : a, bottom = bottom_right ? d : c;
        const bool lower = bottom > top;
        *out = lower ? bottom : top;
        *arg = static_cast<std::uint8_t>(lower ? 2 + bottom_right : top_right);
      }
    }
  }
  return {output_.data(), sz(batch) * out_features_};
}

std::span<float> MaxPool2d::backward(std::span<const float> grad_output, int batch) {
  check_batch(batch, max_batch_, "MaxPool2d::backward");
  check_size(grad_output.size(), sz(batch) * out_features_, "MaxPool2d::backward grad_output");
  check_pairing(batch, forward_batch_, "MaxPool2d::backward");
  const int oh = height_ / 2, ow = width_ / 2;
  const int planes = batch * channels_;
  const float* gy = grad_output.data();
  const std::uint8_t* arg = argmax_.data();
  for (int pl = 0; pl < planes; ++pl) {
    float* gx = grad_input_.data() + sz(pl) * sz(height_) * sz(width_);
    for (int oy = 0; oy < oh; ++oy) {
      float* r0 = gx + sz(2 * oy) * sz(width_);
      float* r1 = r0 + width_;
      for (int ox = 0; ox < ow; ++ox, ++gy, ++arg) {
        const float g = *gy;
        const std::uint8_t idx = *arg;
        r0[2 * ox] = idx == 0 ? g : 0.0f;
        r0[2 * ox + 1] = idx == 1 ? g : 0.0f;
        r1[2 * ox] = idx == 2 ? g : 0.0f;
        r1[2 * ox + 1] = idx == 3 ? g : 0.0f;
      }
    }
  }
  return {grad_input_.data(), sz(batch) * in_features_};
}

// ---- Linear -------------------------------------------------------------------

Linear::Linear(int in_features, int out_features, int max_batch, bool need_grad_input)
    : in_(in_features), out_(out_features), max_batch_(max_batch), need_grad_input_(need_grad_input) {
  check_positive(in_features, "Linear in_features");
  check_positive(out_features, "Linear out_features");
  check_positive(max_batch, "Linear max_batch");
  output_.resize(sz(max_batch) * sz(out_features));
  if (need_grad_input) grad_input_.resize(sz(max_batch) * sz(in_features));
}

std::span<float> Linear::forward(std::span<const float> params, std::span<const float> input, int batch) {
  check_batch(batch, max_batch_, "Linear::forward");
  check_size(params.size(), param_size(), "Linear::forward params");
  check_size(input.size(), sz(batch) * sz(in_), "Linear::forward input");
  const float* weight = params.data();
  const float* bias = weight + weight_size();
  input_ = input.data();
  forward_batch_ = batch;
  float* out = output_.data();
  for (int b = 0; b < batch; ++b) std::copy(bias, bias + out_, out + sz(b) * sz(out_));
  gemm(false, true, batch, out_, in_, 1.0f, input_, in_, weight, in_, 1.0f, out, out_);
  return {out, sz(batch) * sz(out_)};
}

std::span<float> Linear::backward(std::span<const float> params, std::span<const float> grad_output, int batch,
                                  std::span<float> grad_params) {
  check_batch(batch, max_batch_, "Linear::backward");
  check_size(params.size(), param_size(), "Linear::backward params");
  check_size(grad_params.size(), param_size(), "Linear::backward grad_params");
  check_size(grad_output.size(), sz(batch) * sz(out_), "Linear::backward grad_output");
  check_pairing(batch, forward_batch_, "Linear::backward");
  const float* gy = grad_output.data();
  float* grad_weight = grad_params.data();
  float* grad_bias = grad_weight + weight_size();
  // dW [out x in] = dY^T [out x batch] * X [batch x in]
  gemm(true, false, out_, in_, batch, 1.0f, gy, out_, input_, in_, 0.0f, grad_weight, in_);
  for (int j = 0; j < out_; ++j) {
    double sum = 0.0;
    for (int b = 0; b < batch; ++b) sum += static_cast<double>(gy[sz(b) * sz(out_) + sz(j)]);
    grad_bias[j] = static_cast<float>(sum);
  }
  if (!need_grad_input_) return {};
  // dX [batch x in] = dY [batch x out] * W [out x in]
  gemm(false, false, batch, in_, out_, 1.0f, gy, out_, params.data(), in_, 0.0f, grad_input_.data(), in_);
  return {grad_input_.data(), sz(batch) * sz(in_)};
}

// ---- SoftmaxCrossEntropy ------------------------------------------------------

SoftmaxCrossEntropy::SoftmaxCrossEntropy(int classes, int max_batch) : classes_(classes), max_batch_(max_batch) {
  check_positive(classes, "SoftmaxCrossEntropy classes");
  if (classes > 256) throw std::invalid_argument("SoftmaxCrossEntropy: at most 256 classes (uint8 labels)");
  check_positive(max_batch, "SoftmaxCrossEntropy max_batch");
  prob_.resize(sz(max_batch) * sz(classes));
  grad_.resize(sz(max_batch) * sz(classes));
  labels_.resize(sz(max_batch));
}

double SoftmaxCrossEntropy::forward(std::span<const float> logits, std::span<const std::uint8_t> labels, int batch,
                                    int* correct) {
  check_batch(batch, max_batch_, "SoftmaxCrossEntropy::forward");
  check_size(logits.size(), sz(batch) * sz(classes_), "SoftmaxCrossEntropy::forward logits");
  check_size(labels.size(), sz(batch), "SoftmaxCrossEntropy::forward labels");
  for (int b = 0; b < batch; ++b) {
    if (labels[sz(b)] >= classes_) {
      throw std::invalid_argument("SoftmaxCrossEntropy::forward: label " + std::to_string(labels[sz(b)]) +
                                  " >= classes " + std::to_string(classes_));
    }
  }
  forward_batch_ = batch;
  double total = 0.0;
  int hits = 0;
  for (int b = 0; b < batch; ++b) {
    const float* z = logits.data() + sz(b) * sz(classes_);
    double* p = prob_.data() + sz(b) * sz(classes_);
    int arg = 0;
    for (int j = 1; j < classes_; ++j) {
      if (z[j] > z[arg]) arg = j;
    }
    const double zmax = static_cast<double>(z[arg]);
    double sum = 0.0;
    for (int j = 0; j < classes_; ++j) {
      p[j] = std::exp(static_cast<double>(z[j]) - zmax);
      sum += p[j];
    }
    for (int j = 0; j < classes_; ++j) p[j] /= sum;
    const int label = labels[sz(b)];
    total += zmax + std::log(sum) - static_cast<double>(z[label]);
    labels_[sz(b)] = static_cast<std::uint8_t>(label);
    if (arg == label) ++hits;
  }
  if (correct != nullptr) *correct = hits;
  return total / batch;
}

std::span<const float> SoftmaxCrossEntropy::backward(int batch) {
  check_batch(batch, max_batch_, "SoftmaxCrossEntropy::backward");
  check_pairing(batch, forward_batch_, "SoftmaxCrossEntropy::backward");
  const double scale = 1.0 / batch;
  for (int b = 0; b < batch; ++b) {
    const double* p = prob_.data() + sz(b) * sz(classes_);
    float* g = grad_.data() + sz(b) * sz(classes_);
    const int label = labels_[sz(b)];
    for (int j = 0; j < classes_; ++j) g[j] = static_cast<float>((p[j] - (j == label ? 1.0 : 0.0)) * scale);
  }
  return {grad_.data(), sz(batch) * sz(classes_)};
}

}  // namespace gcsim::train
