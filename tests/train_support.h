// Shared by the trainer's CPU tests (tests/train_dist_test.cpp) and its GPU
// tests (tests/train_gpu_test.cpp): in-process ranks, a tiny separable
// dataset, a small training configuration, and a whole in-process run.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "train/data/dataset.h"
#include "comm/inprocess_comm.h"
#include "train/loop/trainer.h"

// Catch2's assertion macros are not thread-safe: code running on rank
// threads checks with RANK_REQUIRE, which throws; on_ranks rethrows the first
// failure on the test's thread.
#define RANK_REQUIRE(cond)                                                                                   \
  do {                                                                                                       \
    if (!(cond)) throw std::runtime_error(std::string("line ") + std::to_string(__LINE__) + ": " + #cond); \
  } while (0)

namespace gcsim::train::test {

using comm::Communicator;
using comm::InProcessComm;
using comm::InProcessHub;

// Runs body(comm) on P in-process ranks; rethrows the first failure.
inline void on_ranks(int p, const std::function<void(Communicator&)>& body, int timeout_ms = 20000) {
  auto hub = std::make_shared<InProcessHub>(p, std::chrono::milliseconds(timeout_ms));
  std::vector<std::exception_ptr> errors(p);
  std::vector<std::thread> ts;
  for (int r = 0; r < p; ++r)
    ts.emplace_back([&, r] {
      InProcessComm comm(hub, r);
      try {
        body(comm);
      } catch (...) {
        errors[r] = std::current_exception();
        comm.abort();
      }
    });
  for (auto& t : ts) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

// A tiny separable dataset: class c has a bright 4x4 square at position c.
inline FashionMnist synthetic_data(int train_n, int test_n) {
  auto make = [](int n, unsigned seed) {
    Dataset d;
    d.count = n;
    d.images.assign(static_cast<std::size_t>(n) * 784, 0.0f);
    d.labels.resize(n);
    std::mt19937 gen(seed);
    std::normal_distribution<float> noise(0.0f, 0.3f);
    for (int i = 0; i < n; ++i) {
      const int c = i % 10;
      d.labels[i] = static_cast<std::uint8_t>(c);
      float* img = d.images.data() + static_cast<std::size_t>(i) * 784;
      for (int j = 0; j < 784; ++j) img[j] = noise(gen);
      const int r0 = 2 + (c / 5) * 12, c0 = 2 + (c % 5) * 5;
      for (int y = 0; y < 4; ++y)
        for (int x = 0; x < 4; ++x) img[(r0 + y) * 28 + c0 + x] += 2.0f;
    }
    return d;
  };
  return {make(train_n, 1), make(test_n, 2)};
}

inline TrainConfig small_config(int workers, const std::string& method, double ratio, bool ef) {
  TrainConfig cfg;
  cfg.scenario.model.name = "simplecnn";
  cfg.scenario.cluster.workers = workers;
  cfg.scenario.batch_per_worker = 16;
  cfg.scenario.compression.method = method;
  cfg.scenario.compression.ratio = ratio;
  cfg.scenario.compression.error_feedback = ef;
  cfg.scenario.compression.granularity = Granularity::Layer;
  cfg.settings.epochs = 2;
  cfg.settings.lr = 0.05;
  cfg.settings.momentum = 0.9;
  cfg.settings.weight_decay = 1e-4;
  cfg.settings.seed = 7;
  return cfg;
}

struct FinalState {
  std::vector<float> params, momentum, residual;
  RunResult result;
};

// Runs a whole training on P in-process ranks and returns rank `keep`'s state.
inline FinalState train_inprocess(const FashionMnist& data, const TrainConfig& cfg, const TrainerOptions& opts,
                           int keep = 0) {
  FinalState out;
  std::mutex mu;
  on_ranks(cfg.scenario.cluster.workers, [&](Communicator& comm) {
    Trainer t(comm, data, cfg, opts);
    RunResult r = t.run();
    if (comm.rank() != keep) return;
    std::lock_guard lock(mu);
    out.params.assign(t.model().params().begin(), t.model().params().end());
    out.momentum.assign(t.optimizer().momentum_buffer().begin(), t.optimizer().momentum_buffer().end());
    out.residual.assign(t.exchange().residual().begin(), t.exchange().residual().end());
    out.result = r;
  });
  return out;
}

// max |a - b| over max |b| (how far a is from the reference b, relative to b's scale).
inline double max_rel_diff(const float* a, const float* b, std::size_t n) {
  double diff = 0.0, scale = 1e-30;
  for (std::size_t i = 0; i < n; ++i) {
    diff = std::max(diff, std::fabs(static_cast<double>(a[i]) - static_cast<double>(b[i])));
    scale = std::max(scale, std::fabs(static_cast<double>(b[i])));
  }
  return diff / scale;
}

}  // namespace gcsim::train::test
