// A data-parallel worker whose compute is emulated ([compute] emulate = true):
// for P beyond what this machine's cores can compute, each worker sleeps its
// forward, its backward layer by layer (in reverse, each layer the time the
// simulator gives it: sim/training/compute_time.h) and its optimizer step,
// instead of computing them. Everything else is real: a gradient of the
// scenario model's real layer sizes (synthetic_gradient.h: seeded,
// heavy-tailed), the method's real compression kernels, error feedback and
// collectives on the given communicator (Gloo over the emulated network),
// buckets as DDP forms them, and with training.overlap = true the same
// overlapped exchange as the real trainer (overlapped_exchange.h).
//
// It runs [compute] emulate_steps steps and reports each like the real
// trainer (StepRecord: the phase breakdown and per-bucket timings); there is
// no model to evaluate, so no epochs and no accuracy.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "comm/communicator.h"
#include "sim/training/compute_time.h"
#include "train/loop/gradient_exchange.h"
#include "train/loop/overlapped_exchange.h"
#include "train/loop/train_settings.h"
#include "train/loop/trainer.h"

namespace gcsim::train {

class EmulatedTrainer {
 public:
  EmulatedTrainer(comm::Communicator& comm, const TrainConfig& config, const std::string& kernel_backend = "cpu");
  ~EmulatedTrainer();

  // Runs the steps; RunResult::replicas_identical says every rank ended with
  // bitwise the same averaged gradient.
  RunResult run(TrainObserver* observer = nullptr);

  const GradientExchange& exchange() const { return *exchange_; }
  std::span<const float> gradient() const { return grads_; }
  const ComputeTimes& compute_times() const { return times_; }
  // "emulated compute: resnet18 (11,689,512 parameters), 412.3 ms per step"
  std::string description() const;

 private:
  comm::Communicator& comm_;
  TrainConfig config_;
  ComputeTimes times_;
  struct Range {
    std::size_t layer = 0;  // index into the model's layers
    std::size_t offset = 0, size = 0;
  };
  std::vector<Range> ranges_;         // per layer, forward order (layers without parameters: size 0)
  std::vector<float> pristine_, grads_;
  std::unique_ptr<GradientExchange> exchange_;
  std::unique_ptr<OverlappedExchange> overlapped_;
};

}  // namespace gcsim::train
