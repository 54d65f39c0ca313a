// SimpleCNN's forward and backward as a fixed sequence of batched GEMMs and
// element operations (train/model/graph_ops.h), generic over an executor, so the
// same code runs on the GPU (cuBLAS + CUDA kernels, train/cuda/) and, in the
// tests, on the host (CBLAS + loops, train/model/host_executor.h), where it is
// checked against the layer-by-layer CPU model (train/model/simplecnn.cpp).
//
// An executor Exec provides:
//   template <class T> using Array = ...;   owning, movable; data(), size()
//   template <class T> Array<T> make_array(std::size_t n);
//   template <class F> void for_each(std::size_t n, const F& f);   f(i) for i < n
//   void gemm(...)        row-major, the contract of train/model/gemm.h
//   template <class T> void copy_in(T* dst, const T* host, std::size_t n);
//   template <class T> void copy_out(T* host, const T* src, std::size_t n);  done on return
//
// Batched convolution: im2col over the whole batch into [fan_in][batch*P],
// one GEMM with the weights [Cout][fan_in] into channel-major [Cout][batch*P],
// then a permute (+ bias) into [batch][Cout][P]. Backward permutes the output
// gradient to channel-major and takes dW = dY col^T, db = dY 1, dcol = W^T dY,
// then gathers dcol back to the input (Col2im).
//
// C++17: nvcc compiles this header.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "train/model/graph_ops.h"

namespace gcsim::train {

// The flat parameter layout of train/model/simplecnn.h: per layer [weight, bias].
struct SimpleCnnLayout {
  static constexpr int kSide = 28, kPixels = 28 * 28, kClasses = 10;
  static constexpr int kC1 = 16, kC2 = 32, kK = 5, kFc1 = 120;
  static constexpr int kFlat = kC2 * 7 * 7;  // 1568
  static constexpr std::size_t kConv1W = 0, kConv1B = kConv1W + kC1 * 1 * kK * kK;
  static constexpr std::size_t kConv2W = kConv1B + kC1, kConv2B = kConv2W + kC2 * kC1 * kK * kK;
  static constexpr std::size_t kFc1W = kConv2B + kC2, kFc1B = kFc1W + static_cast<std::size_t>(kFc1) * kFlat;
  static constexpr std::size_t kFc2W = kFc1B + kFc1, kFc2B = kFc2W + kClasses * kFc1;
  static constexpr std::size_t kParams = kFc2B + kClasses;
};
static_assert(SimpleCnnLayout::kParams == 202738, "SimpleCNN has 202,738 parameters");

template <class Exec>
class SimpleCnnGraph {
  using L = SimpleCnnLayout;
  template <class T>
  using Array = typename Exec::template Array<T>;

 public:
  SimpleCnnGraph(Exec& exec, int max_batch)
      : x_(exec),
        max_batch_(max_batch),
        g1_{1, L::kSide, L::kSide, L::kK, 1, 2, L::kSide, L::kSide},
        g2_{L::kC1, 14, 14, L::kK, 1, 2, 14, 14} {
    if (max_batch < 1) throw std::invalid_argument("SimpleCnnGraph: max_batch must be >= 1");
    const std::size_t B = static_cast<std::size_t>(max_batch);
    params_ = x_.template make_array<float>(L::kParams);
    grads_ = x_.template make_array<float>(L::kParams);
    images_ = x_.template make_array<float>(B * L::kPixels);
    labels_ = x_.template make_array<std::uint8_t>(B);
    col1_ = x_.template make_array<float>(g1_.fan_in() * B * g1_.plane());
    t1_ = x_.template make_array<float>(L::kC1 * B * g1_.plane());
    c1_ = x_.template make_array<float>(B * L::kC1 * g1_.plane());
    a1_ = x_.template make_array<float>(B * L::kC1 * 14 * 14);
    arg1_ = x_.template make_array<std::uint8_t>(B * L::kC1 * 14 * 14);
    col2_ = x_.template make_array<float>(g2_.fan_in() * B * g2_.plane());
    t2_ = x_.template make_array<float>(L::kC2 * B * g2_.plane());
    c2_ = x_.template make_array<float>(B * L::kC2 * g2_.plane());
    a2_ = x_.template make_array<float>(B * L::kFlat);
    arg2_ = x_.template make_array<std::uint8_t>(B * L::kFlat);
    a3_ = x_.template make_array<float>(B * L::kFc1);
    logits_ = x_.template make_array<float>(B * L::kClasses);
    dlogits_ = x_.template make_array<float>(B * L::kClasses);
    row_loss_ = x_.template make_array<double>(B);
    row_correct_ = x_.template make_array<int>(B);
    da3_ = x_.template make_array<float>(B * L::kFc1);
    da2_ = x_.template make_array<float>(B * L::kFlat);
    dc2_ = x_.template make_array<float>(B * L::kC2 * g2_.plane());
    dperm2_ = x_.template make_array<float>(L::kC2 * B * g2_.plane());
    dcol2_ = x_.template make_array<float>(g2_.fan_in() * B * g2_.plane());
    da1_ = x_.template make_array<float>(B * L::kC1 * 14 * 14);
    dc1_ = x_.template make_array<float>(B * L::kC1 * g1_.plane());
    dperm1_ = x_.template make_array<float>(L::kC1 * B * g1_.plane());
    ones_ = x_.template make_array<float>(B * g1_.plane());
    host_loss_.resize(B);
    host_correct_.resize(B);
    x_.for_each(ones_.size(), graph::Fill{ones_.data(), 1.0f});
  }

  int max_batch() const { return max_batch_; }

  // Copies kParams floats from the host; used by every later run().
  void load_params(const float* host_params) { x_.copy_in(params_.data(), host_params, L::kParams); }

  // Forward on `batch` images (host memory, batch * 784 floats) and labels
  // (< 10, checked by the caller); returns the mean loss over the batch
  // (rows summed in double) and the number of argmax hits. With host_grads set,
  // also the backward pass: host_grads (kParams floats) receives
  // d(mean loss)/d(params).
  double run(const float* host_images, const std::uint8_t* host_labels, int batch, int* correct, float* host_grads) {
    if (batch < 1 || batch > max_batch_)
      throw std::invalid_argument("SimpleCnnGraph: batch " + std::to_string(batch) + " outside [1, " +
                                  std::to_string(max_batch_) + "]");
    const std::size_t B = static_cast<std::size_t>(batch);
    x_.copy_in(images_.data(), host_images, B * L::kPixels);
    x_.copy_in(labels_.data(), host_labels, B);
    forward(batch, host_grads != nullptr);
    x_.copy_out(host_loss_.data(), row_loss_.data(), B);
    x_.copy_out(host_correct_.data(), row_correct_.data(), B);
    double total = 0.0;
    int hits = 0;
    for (std::size_t b = 0; b < B; ++b) {
      total += host_loss_[b];
      hits += host_correct_[b];
    }
    if (correct != nullptr) *correct = hits;
    if (host_grads != nullptr) {
      backward(batch);
      x_.copy_out(host_grads, grads_.data(), L::kParams);
    }
    return total / batch;
  }

 private:
  const float* p(std::size_t offset) const { return params_.data() + offset; }
  float* g(std::size_t offset) { return grads_.data() + offset; }

  void conv_forward(const graph::ConvGeometry& geo, int cout, const float* in, std::size_t w, std::size_t bias,
                    float* col, float* t, float* out, int batch) {
    const std::size_t B = static_cast<std::size_t>(batch), cols = B * geo.plane();
    x_.for_each(geo.fan_in() * cols, graph::Im2col{in, col, geo, batch});
    x_.gemm(false, false, cout, static_cast<int>(cols), static_cast<int>(geo.fan_in()), 1.0f, p(w),
            static_cast<int>(geo.fan_in()), col, static_cast<int>(cols), 0.0f, t, static_cast<int>(cols));
    x_.for_each(cols * cout, graph::ChannelMajorToBatchMajor{t, p(bias), out, cout, batch, geo.plane()});
  }

  // dout: [batch][cout][P]; writes dW, db and (when din is set) dinput.
  void conv_backward(const graph::ConvGeometry& geo, int cout, const float* dout, std::size_t w, std::size_t bias,
                     const float* col, float* dperm, float* dcol, float* din, int batch) {
    const std::size_t B = static_cast<std::size_t>(batch), cols = B * geo.plane();
    const int n = static_cast<int>(cols), fan_in = static_cast<int>(geo.fan_in());
    x_.for_each(cols * cout, graph::BatchMajorToChannelMajor{dout, dperm, cout, batch, geo.plane()});
    x_.gemm(false, true, cout, fan_in, n, 1.0f, dperm, n, col, n, 0.0f, g(w), fan_in);
    x_.gemm(false, false, cout, 1, n, 1.0f, dperm, n, ones_.data(), 1, 0.0f, g(bias), 1);
    if (din == nullptr) return;
    x_.gemm(true, false, fan_in, n, cout, 1.0f, p(w), fan_in, dperm, n, 0.0f, dcol, n);
    x_.for_each(B * static_cast<std::size_t>(geo.channels) * geo.height * geo.width,
                graph::Col2im{dcol, din, geo, batch});
  }

  // y[batch][out] = x[batch][in] W^T + b.
  void linear_forward(const float* in, int in_features, int out_features, std::size_t w, std::size_t bias,
                      float* out, int batch) {
    x_.for_each(static_cast<std::size_t>(batch) * out_features,
                graph::BroadcastRow{p(bias), out, static_cast<std::size_t>(out_features)});
    x_.gemm(false, true, batch, out_features, in_features, 1.0f, in, in_features, p(w), in_features, 1.0f, out,
            out_features);
  }

  void linear_backward(const float* in, int in_features, int out_features, std::size_t w, std::size_t bias,
                       const float* dout, float* din, int batch) {
    x_.gemm(true, false, out_features, in_features, batch, 1.0f, dout, out_features, in, in_features, 0.0f, g(w),
            in_features);
    x_.for_each(static_cast<std::size_t>(out_features),
                graph::ColumnSum{dout, g(bias), batch, static_cast<std::size_t>(out_features)});
    x_.gemm(false, false, batch, in_features, out_features, 1.0f, dout, out_features, p(w), in_features, 0.0f, din,
            in_features);
  }

  // ReLU after pooling, as train/model/simplecnn.cpp (same function and gradient
  // as conv -> ReLU -> pool, since ReLU is monotone).
  void forward(int batch, bool want_grad) {
    const std::size_t B = static_cast<std::size_t>(batch);
    conv_forward(g1_, L::kC1, images_.data(), L::kConv1W, L::kConv1B, col1_.data(), t1_.data(), c1_.data(), batch);
    x_.for_each(B * L::kC1 * 14 * 14, graph::MaxPool2Forward{c1_.data(), a1_.data(), arg1_.data(), 28, 28});
    x_.for_each(B * L::kC1 * 14 * 14, graph::ReluForward{a1_.data()});
    conv_forward(g2_, L::kC2, a1_.data(), L::kConv2W, L::kConv2B, col2_.data(), t2_.data(), c2_.data(), batch);
    x_.for_each(B * L::kFlat, graph::MaxPool2Forward{c2_.data(), a2_.data(), arg2_.data(), 14, 14});
    x_.for_each(B * L::kFlat, graph::ReluForward{a2_.data()});
    linear_forward(a2_.data(), L::kFlat, L::kFc1, L::kFc1W, L::kFc1B, a3_.data(), batch);
    x_.for_each(B * L::kFc1, graph::ReluForward{a3_.data()});
    linear_forward(a3_.data(), L::kFc1, L::kClasses, L::kFc2W, L::kFc2B, logits_.data(), batch);
    x_.for_each(B, graph::SoftmaxCrossEntropyRow{logits_.data(), labels_.data(), row_loss_.data(),
                                                 row_correct_.data(), want_grad ? dlogits_.data() : nullptr,
                                                 L::kClasses, batch});
  }

  void backward(int batch) {
    const std::size_t B = static_cast<std::size_t>(batch);
    linear_backward(a3_.data(), L::kFc1, L::kClasses, L::kFc2W, L::kFc2B, dlogits_.data(), da3_.data(), batch);
    x_.for_each(B * L::kFc1, graph::ReluBackward{a3_.data(), da3_.data()});
    linear_backward(a2_.data(), L::kFlat, L::kFc1, L::kFc1W, L::kFc1B, da3_.data(), da2_.data(), batch);
    x_.for_each(B * L::kFlat, graph::ReluBackward{a2_.data(), da2_.data()});
    x_.for_each(B * L::kC2 * g2_.plane(), graph::MaxPool2Backward{da2_.data(), arg2_.data(), dc2_.data(), 14, 14});
    conv_backward(g2_, L::kC2, dc2_.data(), L::kConv2W, L::kConv2B, col2_.data(), dperm2_.data(), dcol2_.data(),
                  da1_.data(), batch);
    x_.for_each(B * L::kC1 * 14 * 14, graph::ReluBackward{a1_.data(), da1_.data()});
    x_.for_each(B * L::kC1 * g1_.plane(), graph::MaxPool2Backward{da1_.data(), arg1_.data(), dc1_.data(), 28, 28});
    conv_backward(g1_, L::kC1, dc1_.data(), L::kConv1W, L::kConv1B, col1_.data(), dperm1_.data(), nullptr, nullptr,
                  batch);
  }

  Exec& x_;
  int max_batch_;
  graph::ConvGeometry g1_, g2_;
  Array<float> params_, grads_, images_;
  Array<std::uint8_t> labels_;
  Array<float> col1_, t1_, c1_, a1_;
  Array<std::uint8_t> arg1_;
  Array<float> col2_, t2_, c2_, a2_;
  Array<std::uint8_t> arg2_;
  Array<float> a3_, logits_, dlogits_;
  Array<double> row_loss_;
  Array<int> row_correct_;
  Array<float> da3_, da2_, dc2_, dperm2_, dcol2_, da1_, dc1_, dperm1_, ones_;
  // host copies of the per-row results
  std::vector<double> host_loss_;
  std::vector<int> host_correct_;
};

}  // namespace gcsim::train
