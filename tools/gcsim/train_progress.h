// Progress of a training run on stderr (rank 0 only): a live line with epoch,
// step, loss and throughput when stderr is a terminal, and one line per epoch
// with test accuracy always, to `out` (stderr, or the launcher's stderr that a
// worker process was handed). Forwards every record to the run's log.
#pragma once

#include <chrono>
#include <cstdio>

#include "train/loop/run_log.h"

namespace gcsim::cli {

class TrainProgress final : public train::TrainObserver {
 public:
  TrainProgress(train::RunLog& log, int epochs, int workers, bool enabled, std::FILE* out = stderr);
  void on_resume(const train::ResumeRecord& r) override;
  void on_step(const train::StepRecord& r) override;
  void on_epoch(const train::EpochRecord& r) override;
  void finish();

 private:
  train::RunLog& log_;
  int epochs_, workers_;
  bool enabled_;
  std::FILE* out_;
  bool live_;
  bool line_open_ = false;
  double loss_avg_ = 0.0, images_ = 0.0, busy_s_ = 0.0;
  int steps_in_window_ = 0;
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace gcsim::cli
