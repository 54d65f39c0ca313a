// GPU tests of the trainer's CUDA model (--device cuda): SimpleCNN's graph on
// cuBLAS + CUDA kernels against the layer-by-layer CPU model (loss, hits,
// every gradient block, evaluation), run-to-run determinism on the GPU, SGD
// steps that stay with the CPU trajectory, and a whole 2-rank in-process
// training run on the GPU. Tagged [gpu]; gpu_test_main exits 77 without one.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "tests/test_rng.h"
#include "train/data/dataset.h"
#include "tests/train_support.h"
#include "train/model/simplecnn.h"

using namespace gcsim;
using namespace gcsim::train;
using gcsim::train::test::max_rel_diff;

TEST_CASE("cuda SimpleCnn: loss - hits and gradients match the CPU model", "[gpu][train]") {
  TestRng rng(21);
  const int max_batch = 64;
  SimpleCnn cpu(max_batch), gpu(max_batch, ModelDevice::cuda);
  cpu.init(3);
  gpu.init(3);
  REQUIRE(std::equal(cpu.params().begin(), cpu.params().end(), gpu.params().begin()));
  INFO(gpu.engine_description());
  CHECK(gpu.engine_description().rfind("cuda:", 0) == 0);
  for (const int batch : {64, 32, 1, 7}) {
    const std::vector<float> images = rng.images(batch);
    const std::vector<std::uint8_t> labels = rng.labels(batch);
    int cpu_hits = -1, gpu_hits = -2;
    const double cpu_loss = cpu.forward_backward(images.data(), labels.data(), batch, &cpu_hits);
    const double gpu_loss = gpu.forward_backward(images.data(), labels.data(), batch, &gpu_hits);
    INFO("batch " << batch);
    CHECK(gpu_loss == Approx(cpu_loss).epsilon(1e-5));
    CHECK(gpu_hits == cpu_hits);
    for (const ParamBlock& blk : cpu.blocks()) {
      INFO("block " << blk.name);
      CHECK(max_rel_diff(gpu.grads().data() + blk.offset, cpu.grads().data() + blk.offset, blk.size) < 1e-4);
    }
  }
}

TEST_CASE("cuda SimpleCnn: bitwise deterministic run to run and evaluation agrees with the CPU", "[gpu][train]") {
  TestRng rng(22);
  const int batch = 32;
  SimpleCnn a(batch, ModelDevice::cuda), b(batch, ModelDevice::cuda), cpu(batch);
  a.init(5);
  b.init(5);
  cpu.init(5);
  const std::vector<float> images = rng.images(batch);
  const std::vector<std::uint8_t> labels = rng.labels(batch);
  const double la = a.forward_backward(images.data(), labels.data(), batch);
  const double lb = b.forward_backward(images.data(), labels.data(), batch);
  CHECK(la == lb);
  CHECK(std::equal(a.grads().begin(), a.grads().end(), b.grads().begin()));
  CHECK(a.forward_backward(images.data(), labels.data(), batch) == la);  // again on the same object

  const int n = 1000;  // several batches, the last one partial
  const std::vector<float> eval_images = rng.images(n);
  const std::vector<std::uint8_t> eval_labels = rng.labels(n);
  const EvalResult ge = a.evaluate(eval_images.data(), eval_labels.data(), n);
  const EvalResult ce = cpu.evaluate(eval_images.data(), eval_labels.data(), n);
  CHECK(ge.count == n);
  CHECK(ge.loss == Approx(ce.loss).epsilon(1e-5));
  CHECK(std::fabs(ge.accuracy - ce.accuracy) <= 2.0 / n);  // at most a near-tie or two may flip
}

TEST_CASE("cuda SimpleCnn: 30 SGD steps follow the CPU trajectory", "[gpu][train]") {
  // A learnable set: on random labels the loss surface is rough enough that a
  // single max-pool or ReLU flip (from rounding) sends the runs apart.
  const int batch = 32, steps = 30;
  const FashionMnist data = test::synthetic_data(batch * steps, 10);
  SimpleCnn cpu(batch), gpu(batch, ModelDevice::cuda);
  cpu.init(6);
  gpu.init(6);
  double first = 0.0, last = 0.0;
  for (int step = 0; step < steps; ++step) {
    const float* x = data.train.image(step * batch);
    const std::uint8_t* y = data.train.labels.data() + static_cast<std::size_t>(step) * batch;
    const double loss = cpu.forward_backward(x, y, batch);
    CHECK(gpu.forward_backward(x, y, batch) == Approx(loss).epsilon(1e-4));
    if (step == 0) first = loss;
    last = loss;
    for (std::size_t i = 0; i < SimpleCnn::kParams; ++i) {
      cpu.params()[i] -= 0.05f * cpu.grads()[i];
      gpu.params()[i] -= 0.05f * gpu.grads()[i];
    }
  }
  CHECK(last < 0.5 * first);
  double diff2 = 0.0, norm2 = 0.0;
  for (std::size_t i = 0; i < SimpleCnn::kParams; ++i) {
    const double d = static_cast<double>(gpu.params()[i]) - static_cast<double>(cpu.params()[i]);
    diff2 += d * d;
    norm2 += static_cast<double>(cpu.params()[i]) * static_cast<double>(cpu.params()[i]);
  }
  INFO("||gpu - cpu|| / ||cpu|| = " << std::sqrt(diff2 / norm2));  // 4e-8 with the host graph
  CHECK(std::sqrt(diff2 / norm2) < 1e-4);
}

TEST_CASE("cuda trainer: 2 in-process ranks on the GPU learn - stay identical - track the CPU run", "[gpu][train]") {
  const FashionMnist data = test::synthetic_data(400, 100);
  const TrainConfig cfg = test::small_config(2, std::string("topk"), 0.05, true);
  TrainerOptions gpu_opts;
  gpu_opts.device = ModelDevice::cuda;
  const test::FinalState gpu = test::train_inprocess(data, cfg, gpu_opts);
  const test::FinalState cpu = test::train_inprocess(data, cfg, {});
  REQUIRE(gpu.result.replicas_identical);
  REQUIRE(gpu.result.epochs.size() == 2);
  CHECK(gpu.result.epochs.back().test_accuracy > 0.6);  // chance is 0.1
  CHECK(std::fabs(gpu.result.epochs.back().test_accuracy - cpu.result.epochs.back().test_accuracy) <= 0.05);
  CHECK(gpu.result.epochs.back().train_loss == Approx(cpu.result.epochs.back().train_loss).epsilon(0.05));
}
