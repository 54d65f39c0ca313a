// Tests for the GPU model's code on the host: the row-major -> column-major
// GEMM mapping handed to cuBLAS (against column-major CBLAS), the element
// operations of train/model/graph_ops.h (adjointness of im2col/col2im, the
// permutes, pooling ties), and the whole batched graph of
// train/model/simplecnn_graph.h run by the host executor against the layer-by-layer
// CPU model (loss, hits and every gradient).
#include <cblas.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "tests/test_rng.h"
#include "tests/train_support.h"
#include "train/model/col_major_gemm.h"
#include "train/model/gemm.h"
#include "train/model/graph_ops.h"
#include "train/model/host_executor.h"
#include "train/model/simplecnn.h"
#include "train/model/simplecnn_graph.h"

using namespace gcsim::train;
using gcsim::train::test::max_rel_diff;

namespace {

std::size_t sz(int v) { return static_cast<std::size_t>(v); }

double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * static_cast<double>(b[i]);
  return s;
}


graph::ConvGeometry geometry(int c, int h, int w, int k, int s, int p) {
  return {c, h, w, k, s, p, (h + 2 * p - k) / s + 1, (w + 2 * p - k) / s + 1};
}

}  // namespace

TEST_CASE("to_col_major: cuBLAS's column-major call computes the row-major product", "[train][graph]") {
  TestRng rng(3);
  for (const bool ta : {false, true}) {
    for (const bool tb : {false, true}) {
      const int m = 5, n = 7, k = 3;
      // Stored shapes (row-major) with padded leading dimensions.
      const int a_rows = ta ? k : m, a_cols = ta ? m : k, b_rows = tb ? n : k, b_cols = tb ? k : n;
      const int lda = a_cols + 2, ldb = b_cols + 1, ldc = n + 3;
      const std::vector<float> a = rng.vec(sz(a_rows * lda)), b = rng.vec(sz(b_rows * ldb));
      std::vector<float> want = rng.vec(sz(m * ldc)), got = want;
      gemm_reference(ta, tb, m, n, k, 1.5f, a.data(), lda, b.data(), ldb, 0.5f, want.data(), ldc);
      const ColMajorGemm g = to_col_major(ta, tb, m, n, k, a.data(), lda, b.data(), ldb, got.data(), ldc);
      cblas_sgemm(CblasColMajor, g.trans_a ? CblasTrans : CblasNoTrans, g.trans_b ? CblasTrans : CblasNoTrans, g.m,
                  g.n, g.k, 1.5f, g.a, g.lda, g.b, g.ldb, 0.5f, g.c, g.ldc);
      INFO("trans_a " << ta << " trans_b " << tb);
      CHECK(max_rel_diff(got.data(), want.data(), got.size()) < 1e-6);
    }
  }
}

TEST_CASE("graph ops: Col2im is the adjoint of Im2col - also strided and padded", "[train][graph]") {
  TestRng rng(5);
  HostExecutor x;
  for (const graph::ConvGeometry g : {geometry(1, 28, 28, 5, 1, 2), geometry(16, 14, 14, 5, 1, 2),
                                      geometry(3, 9, 7, 3, 2, 1), geometry(2, 8, 8, 2, 2, 0)}) {
    const int batch = 3;
    const std::size_t in_n = sz(batch * g.channels * g.height * g.width);
    const std::size_t col_n = g.fan_in() * sz(batch) * g.plane();
    // Small integers: every float sum below is exact, so the identity holds exactly.
    const auto ints = [&](std::size_t n) {
      std::vector<float> v = rng.vec(n, -4.0, 5.0);
      for (float& e : v) e = std::floor(e);
      return v;
    };
    const std::vector<float> in = ints(in_n), dcol = ints(col_n);
    std::vector<float> col(col_n), din(in_n);
    x.for_each(col_n, graph::Im2col{in.data(), col.data(), g, batch});
    x.for_each(in_n, graph::Col2im{dcol.data(), din.data(), g, batch});
    // <im2col(x), y> == <x, col2im(y)> for all x, y iff the two index maps agree.
    INFO("C " << g.channels << " H " << g.height << " W " << g.width << " K " << g.kernel << " s " << g.stride);
    CHECK(dot(col, dcol) == dot(in, din));
    // A column is one output pixel's receptive field: the centre tap of
    // column (b, oy, ox) is input (b, c, oy*s - p + K/2, ...).
    const int b = 2, c = g.channels - 1, oy = g.out_height - 1, ox = 0, ky = g.kernel / 2, kx = g.kernel / 2;
    const int y = oy * g.stride - g.padding + ky, xx = ox * g.stride - g.padding + kx;
    const std::size_t r = (sz(c) * sz(g.kernel) + sz(ky)) * sz(g.kernel) + sz(kx);
    const float want = (y >= 0 && y < g.height && xx >= 0 && xx < g.width)
                           ? in[((sz(b) * sz(g.channels) + sz(c)) * sz(g.height) + sz(y)) * sz(g.width) + sz(xx)]
                           : 0.0f;
    CHECK(col[r * sz(batch) * g.plane() + sz(b) * g.plane() + sz(oy) * sz(g.out_width) + sz(ox)] == want);
  }
}

TEST_CASE("graph ops: the permutes invert each other and add the bias per channel", "[train][graph]") {
  TestRng rng(9);
  HostExecutor x;
  const int channels = 4, batch = 3;
  const std::size_t plane = 5, n = sz(channels * batch) * plane;
  const std::vector<float> cm = rng.vec(n), bias = {1.0f, 2.0f, 3.0f, 4.0f};
  std::vector<float> bm(n), back(n), bm_bias(n);
  x.for_each(n, graph::ChannelMajorToBatchMajor{cm.data(), nullptr, bm.data(), channels, batch, plane});
  x.for_each(n, graph::BatchMajorToChannelMajor{bm.data(), back.data(), channels, batch, plane});
  CHECK(back == cm);
  x.for_each(n, graph::ChannelMajorToBatchMajor{cm.data(), bias.data(), bm_bias.data(), channels, batch, plane});
  // element (b=2, c=1, p=4): channel-major (c=1, b=2, p=4)
  CHECK(bm[(2 * sz(channels) + 1) * plane + 4] == cm[(1 * sz(batch) + 2) * plane + 4]);
  CHECK(bm_bias[(2 * sz(channels) + 1) * plane + 4] == cm[(1 * sz(batch) + 2) * plane + 4] + 2.0f);
}

TEST_CASE("graph ops: max pooling keeps the first maximum and routes the gradient to it", "[train][graph]") {
  HostExecutor x;
  // One 2x4 plane: windows [1 3 / 3 0] (a tie: the top-right 3 comes first) and
  // [NaN 2 / 5 5] (a NaN first stays: no comparison with it is true, as on the CPU).
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> in = {1, 3, nan, 2, 3, 0, 5, 5};
  std::vector<float> out(2), din(8, -1.0f);
  std::vector<std::uint8_t> arg(2);
  x.for_each(2, graph::MaxPool2Forward{in.data(), out.data(), arg.data(), 2, 4});
  CHECK(out[0] == 3.0f);
  CHECK(arg[0] == 1);
  CHECK(std::isnan(out[1]));
  CHECK(arg[1] == 0);
  const std::vector<float> dout = {10.0f, 20.0f};
  x.for_each(8, graph::MaxPool2Backward{dout.data(), arg.data(), din.data(), 2, 4});
  CHECK(din == std::vector<float>{0, 10, 20, 0, 0, 0, 0, 0});
}

TEST_CASE("SimpleCnnGraph on the host executor matches the layer-by-layer CPU model", "[train][graph]") {
  TestRng rng(11);
  const int max_batch = 16;
  SimpleCnn cpu(max_batch);
  cpu.init(4);
  HostExecutor x;
  SimpleCnnGraph<HostExecutor> graph(x, max_batch);
  graph.load_params(cpu.params().data());
  std::vector<float> grads(SimpleCnn::kParams, std::numeric_limits<float>::quiet_NaN());

  for (const int batch : {max_batch, 1, 7}) {
    const std::vector<float> images = rng.images(batch);
    const std::vector<std::uint8_t> labels = rng.labels(batch);
    int cpu_hits = -1, graph_hits = -2;
    const double cpu_loss = cpu.forward_backward(images.data(), labels.data(), batch, &cpu_hits);
    const double graph_loss = graph.run(images.data(), labels.data(), batch, &graph_hits, grads.data());
    INFO("batch " << batch);
    CHECK(graph_loss == Approx(cpu_loss).epsilon(1e-5));
    CHECK(graph_hits == cpu_hits);
    for (const ParamBlock& blk : cpu.blocks()) {
      INFO("block " << blk.name);
      CHECK(max_rel_diff(grads.data() + blk.offset, cpu.grads().data() + blk.offset, blk.size) < 1e-4);
    }
    // Forward only: the same loss and hits.
    int hits = -3;
    CHECK(graph.run(images.data(), labels.data(), batch, &hits, nullptr) == graph_loss);
    CHECK(hits == graph_hits);
  }
  CHECK_THROWS_AS(graph.run(rng.images(17).data(), rng.labels(17).data(), 17, nullptr, nullptr),
                  std::invalid_argument);
  CHECK_THROWS_AS(graph.run(nullptr, nullptr, 0, nullptr, nullptr), std::invalid_argument);
}

TEST_CASE("SimpleCnnGraph: after SGD steps on new parameters it still tracks the CPU model", "[train][graph]") {
  // load_params must take effect: train the CPU model a few steps and reload.
  TestRng rng(13);
  const int batch = 8;
  SimpleCnn cpu(batch);
  cpu.init(2);
  HostExecutor x;
  SimpleCnnGraph<HostExecutor> graph(x, batch);
  std::vector<float> grads(SimpleCnn::kParams);
  const std::vector<float> images = rng.images(batch);
  const std::vector<std::uint8_t> labels = rng.labels(batch);
  double first = 0.0;
  for (int step = 0; step < 5; ++step) {
    graph.load_params(cpu.params().data());
    const double g_loss = graph.run(images.data(), labels.data(), batch, nullptr, grads.data());
    const double c_loss = cpu.forward_backward(images.data(), labels.data(), batch);
    CHECK(g_loss == Approx(c_loss).epsilon(1e-5));
    CHECK(max_rel_diff(grads.data(), cpu.grads().data(), grads.size()) < 1e-4);
    if (step == 0) first = c_loss;
    for (std::size_t i = 0; i < grads.size(); ++i) cpu.params()[i] -= 0.1f * cpu.grads()[i];
  }
  graph.load_params(cpu.params().data());
  CHECK(graph.run(images.data(), labels.data(), batch, nullptr, nullptr) < first);  // the loss went down
}

TEST_CASE("SimpleCnn: labels >= 10 are refused before anything runs and --device names", "[train][graph]") {
  SimpleCnn cpu(4);
  cpu.init(1);
  TestRng rng(1);
  const std::vector<float> images = rng.images(4);
  const std::vector<std::uint8_t> labels = {1, 2, 10, 3};
  CHECK_THROWS_WITH(cpu.forward_backward(images.data(), labels.data(), 4),
                    Catch::Contains("label 10 >= classes 10"));
  CHECK_THROWS_AS(cpu.evaluate(images.data(), labels.data(), 4), std::invalid_argument);
  CHECK(parse_model_device("cpu") == ModelDevice::cpu);
  CHECK(parse_model_device("cuda") == ModelDevice::cuda);
  CHECK_THROWS_WITH(parse_model_device("gpu"), Catch::Contains("want cpu or cuda"));
  CHECK(to_string(ModelDevice::cuda) == "cuda");
  CHECK(cpu.engine_description().find("cpu") == 0);
}

#ifdef GCSIM_HAVE_CUDA
#include "kernels/cuda/cublas_api.h"

TEST_CASE("cuBLAS loads at run time with every entry point the CUDA model calls", "[train][graph]") {
  // Needs the CUDA toolkit's libcublas (present wherever this build found
  // nvcc), not a GPU: nothing is called.
  const gcsim::kernels::cuda::CublasApi& api = gcsim::kernels::cuda::cublas_api();
  CHECK(api.library.find("libcublas.so.") != std::string::npos);
  CHECK(api.create != nullptr);
  CHECK(api.destroy != nullptr);
  CHECK(api.set_stream != nullptr);
  CHECK(api.set_math_mode != nullptr);
  CHECK(api.sgemm != nullptr);
}
#endif
