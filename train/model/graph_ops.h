// Element operations of the executor-generic SimpleCNN graph
// (train/model/simplecnn_graph.h): each is a small struct of raw pointers and sizes
// whose operator()(i) computes output element i, with no shared writes, so one
// definition runs as a plain loop on the host (train/model/host_executor.h) and as a
// grid-stride CUDA kernel (train/model/cuda/cuda_executor.cuh).
//
// C++17 (nvcc compiles this header). Layouts as in train/model/layers.h: images and
// activations batch-major NCHW; conv weights [out][in][kh][kw]. The batched
// im2col matrix is [fan_in][batch * Hout * Wout] (column = b * P + p), so one
// GEMM convolves the whole batch; its product is channel-major [C][batch][P]
// and is permuted back to [batch][C][P].
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "kernels/host_device.h"

namespace gcsim::train::graph {

using Size = std::size_t;

struct ConvGeometry {
  int channels, height, width;  // input plane
  int kernel, stride, padding;
  int out_height, out_width;
  GCSIM_HD Size plane() const { return static_cast<Size>(out_height) * static_cast<Size>(out_width); }
  GCSIM_HD Size fan_in() const { return static_cast<Size>(channels) * static_cast<Size>(kernel) * kernel; }
};

// col[r][b * P + p] = input[b][c][oy*s - pad + ky][ox*s - pad + kx] (0 outside),
// r = (c, ky, kx), p = (oy, ox). n = fan_in * batch * P.
struct Im2col {
  const float* input;
  float* col;
  ConvGeometry g;
  int batch;
  GCSIM_HD void operator()(Size i) const {
    const Size cols = static_cast<Size>(batch) * g.plane();
    const Size r = i / cols, q = i % cols;
    const Size b = q / g.plane(), p = q % g.plane();
    const int c = static_cast<int>(r / (static_cast<Size>(g.kernel) * g.kernel));
    const int ky = static_cast<int>((r / g.kernel) % g.kernel), kx = static_cast<int>(r % g.kernel);
    const int oy = static_cast<int>(p / g.out_width), ox = static_cast<int>(p % g.out_width);
    const int y = oy * g.stride - g.padding + ky, x = ox * g.stride - g.padding + kx;
    const bool inside = y >= 0 && y < g.height && x >= 0 && x < g.width;
    col[i] = inside ? input[((b * g.channels + c) * g.height + y) * g.width + x] : 0.0f;
  }
};

// The adjoint of Im2col as a gather: dinput[b][c][y][x] = sum of dcol over
// the (ky, kx, oy, ox) that read that pixel. n = batch * C * H * W.
struct Col2im {
  const float* dcol;
  float* dinput;
  ConvGeometry g;
  int batch;
  GCSIM_HD void operator()(Size i) const {
    const Size cols = static_cast<Size>(batch) * g.plane();
    const int x = static_cast<int>(i % g.width);
    const int y = static_cast<int>((i / g.width) % g.height);
    const int c = static_cast<int>((i / (static_cast<Size>(g.width) * g.height)) % g.channels);
    const Size b = i / (static_cast<Size>(g.width) * g.height * g.channels);
    float sum = 0.0f;
    for (int ky = 0; ky < g.kernel; ++ky) {
      const int ty = y + g.padding - ky;
      if (ty < 0 || ty % g.stride != 0 || ty / g.stride >= g.out_height) continue;
      for (int kx = 0; kx < g.kernel; ++kx) {
        const int tx = x + g.padding - kx;
        if (tx < 0 || tx % g.stride != 0 || tx / g.stride >= g.out_width) continue;
        const Size r = (static_cast<Size>(c) * g.kernel + ky) * g.kernel + kx;
        const Size p = static_cast<Size>(ty / g.stride) * g.out_width + static_cast<Size>(tx / g.stride);
        sum += dcol[r * cols + b * g.plane() + p];
      }
    }
    dinput[i] = sum;
  }
};

// out[b][c][p] = in[c][b][p] + bias[c] (bias may be null). n = channels * batch * plane.
struct ChannelMajorToBatchMajor {
  const float* in;
  const float* bias;
  float* out;
  int channels, batch;
  Size plane;
  GCSIM_HD void operator()(Size i) const {
    const Size p = i % plane, c = (i / plane) % channels, b = i / (plane * channels);
    out[i] = in[(c * batch + b) * plane + p] + (bias != nullptr ? bias[c] : 0.0f);
  }
};

// out[c][b][p] = in[b][c][p]. n = channels * batch * plane.
struct BatchMajorToChannelMajor {
  const float* in;
  float* out;
  int channels, batch;
  Size plane;
  GCSIM_HD void operator()(Size i) const {
    const Size p = i % plane, b = (i / plane) % batch, c = i / (plane * batch);
    out[i] = in[(b * channels + c) * plane + p];
  }
};

// MaxPool2d(2, 2) on planes of even height x width: out = the window's first
// maximum in row-major order, with the same comparisons as train/model/layers.cpp
// (so ties and NaN resolve alike); argmax = 0..3 within the window.
// n = planes * (height/2) * (width/2).
struct MaxPool2Forward {
  const float* in;
  float* out;
  std::uint8_t* argmax;
  int height, width;
  GCSIM_HD void operator()(Size i) const {
    const Size ow = static_cast<Size>(width / 2), oh = static_cast<Size>(height / 2);
    const Size ox = i % ow, oy = (i / ow) % oh, plane = i / (ow * oh);
    const float* r0 = in + (plane * height + 2 * oy) * width + 2 * ox;
    const float* r1 = r0 + width;
    const float a = r0[0], b = r0[1], c = r1[0], d = r1[1];
    const bool top_right = b > a, bottom_right = d > c;
    const float top = top_right ? b : a, bottom = bottom_right ? d : c;
    const bool lower = bottom > top;
    out[i] = lower ? bottom : top;
    argmax[i] = static_cast<std::uint8_t>(lower ? 2 + (bottom_right ? 1 : 0) : (top_right ? 1 : 0));
  }
};

// din[plane][y][x] = dout of its window when it was the argmax, else 0.
// n = planes * height * width.
struct MaxPool2Backward {
  const float* dout;
  const std::uint8_t* argmax;
  float* din;
  int height, width;
  GCSIM_HD void operator()(Size i) const {
    const Size x = i % width, y = (i / width) % height, plane = i / (static_cast<Size>(width) * height);
    const Size o = (plane * (height / 2) + y / 2) * (width / 2) + x / 2;
    const unsigned pos = static_cast<unsigned>((y % 2) * 2 + x % 2);
    din[i] = argmax[o] == pos ? dout[o] : 0.0f;
  }
};

// x = x < 0 ? 0 : x (NaN stays NaN, as train/model/layers.cpp).
struct ReluForward {
  float* x;
  GCSIM_HD void operator()(Size i) const { x[i] = x[i] < 0.0f ? 0.0f : x[i]; }
};

// grad = output > 0 ? grad : 0.
struct ReluBackward {
  const float* output;
  float* grad;
  GCSIM_HD void operator()(Size i) const { grad[i] = output[i] > 0.0f ? grad[i] : 0.0f; }
};

// out[b][j] = row[j] for every row b. n = rows * cols.
struct BroadcastRow {
  const float* row;
  float* out;
  Size cols;
  GCSIM_HD void operator()(Size i) const { out[i] = row[i % cols]; }
};

// out[j] = sum over b of in[b][j] (double accumulation, in row order). n = cols.
struct ColumnSum {
  const float* in;
  float* out;
  int rows;
  Size cols;
  GCSIM_HD void operator()(Size j) const {
    double sum = 0.0;
    for (int b = 0; b < rows; ++b) sum += static_cast<double>(in[static_cast<Size>(b) * cols + j]);
    out[j] = static_cast<float>(sum);
  }
};

struct Fill {
  float* out;
  float value;
  GCSIM_HD void operator()(Size i) const { out[i] = value; }
};

// One row of softmax cross-entropy (as train/model/layers.cpp): loss[b] =
// logsumexp(z) - z[label] in double, correct[b] = (first argmax == label),
// and, when grad is set, grad[b][j] = (softmax_j - [j == label]) / batch.
// Labels must be < classes (the caller checks). n = batch.
struct SoftmaxCrossEntropyRow {
  const float* logits;
  const std::uint8_t* labels;
  double* loss;
  int* correct;
  float* grad;  // may be null
  int classes, batch;
  GCSIM_HD void operator()(Size b) const {
    const float* z = logits + b * classes;
    int arg = 0;
    for (int j = 1; j < classes; ++j) {
      if (z[j] > z[arg]) arg = j;
    }
    const double zmax = static_cast<double>(z[arg]);
    double sum = 0.0;
    for (int j = 0; j < classes; ++j) sum += exp(static_cast<double>(z[j]) - zmax);
    const int label = labels[b];
    loss[b] = zmax + log(sum) - static_cast<double>(z[label]);
    correct[b] = arg == label ? 1 : 0;
    if (grad != nullptr) {
      const double scale = 1.0 / batch;
      for (int j = 0; j < classes; ++j) {
        const double p = exp(static_cast<double>(z[j]) - zmax) / sum;
        grad[b * classes + j] = static_cast<float>((p - (j == label ? 1.0 : 0.0)) * scale);
      }
    }
  }
};

}  // namespace gcsim::train::graph
