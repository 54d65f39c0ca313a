// The record of a training run on disk:
//   steps-rank<R>.csv  one row per step of rank R (every rank writes its own)
//   buckets-rank<R>.csv one row per bucket exchange of rank R: when backward
//                      had filled it, when its exchange began and ended (seconds
//                      since the step's forward pass began: gradient_exchange.h
//                      BucketTiming), its phases and bytes; `order` 0 is the first
//                      exchanged, the simulator's bucket 0. Not carried over a resume.
//   epochs.csv         one row per epoch (rank 0): train/test loss and accuracy, bytes, time
//   fill-in.csv        one row per merge of the sparse allreduce (rank 0, that
//                      exchange only): the measured fill-in (compress/fill_in.h);
//                      a resumed run's starts at the checkpoint's step
//   summary.json / summary.txt   end-of-run summary (rank 0)
// Rows are flushed as they are written, so a crashed run leaves its log; a
// row that cannot be written (a full disk) throws. A resumed run's logs start
// with the record it continues: epochs.csv from the checkpoint's epochs (their
// epoch_s from the earlier run's epochs.csv beside the checkpoint directory,
// where there is one), steps-rank<R>.csv with the earlier run's whole rows up
// to the checkpoint's step (where that file is there).
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "train/loop/trainer.h"

namespace gcsim::train {

// Collects rank 0's steps for the summary and writes its CSV.
class RunLog final : public TrainObserver {
 public:
  // Opens dir/steps-rank<R>.csv (and dir/epochs.csv on rank 0). Throws std::runtime_error.
  RunLog(const std::string& dir, int rank);
  ~RunLog() override;
  RunLog(const RunLog&) = delete;
  RunLog& operator=(const RunLog&) = delete;

  void on_resume(const ResumeRecord& r) override;
  void on_step(const StepRecord& r) override;
  void on_epoch(const EpochRecord& r) override;

  const std::vector<StepRecord>& steps() const { return steps_; }
  const std::vector<EpochRecord>& epochs() const { return epochs_; }

 private:
  void put(std::FILE* f, const std::string& path, const std::string& row);
  int rank_;
  std::string steps_path_, buckets_path_, epochs_path_, fill_in_path_;
  std::FILE* steps_file_ = nullptr;
  std::FILE* buckets_file_ = nullptr;
  std::FILE* epochs_file_ = nullptr;
  std::FILE* fill_in_file_ = nullptr;  // opened at the first merge
  std::vector<StepRecord> steps_;
  std::vector<EpochRecord> epochs_;
};

// Means of the step-time breakdown over a run's steps, skipping the first
// `warmup` steps (allocation, page faults) when there are more than that.
struct StepBreakdown {
  int steps = 0;
  double data_s = 0, compute_s = 0, wait_s = 0, compress_s = 0, communicate_s = 0, decompress_s = 0, optimizer_s = 0, step_s = 0;
  double bytes_per_step = 0;
};
StepBreakdown mean_breakdown(const std::vector<StepRecord>& steps, int warmup = 5);

struct RunSummary {
  std::string scenario, backend, method;
  std::string variant;      // the method's label (compress::Method::label), e.g. "topk 1% gtopk-exchange"
  std::string auto_choice;  // what an "auto" option was resolved to, and why (empty if none)
  std::string device;  // the model engine's description (cpu, or the GPU)
  int workers = 0, batch_per_worker = 0, epochs = 0;
  double ratio = 1.0;
  bool error_feedback = false;
  bool momentum_correction = false;
  RunResult result;
  StepBreakdown breakdown;
  double wall_s = 0.0;
  std::string command;
  bool emulated = false;  // [compute] emulate = true: no model, no accuracy
};

// Writes dir/summary.json and dir/summary.txt; returns the text.
std::string write_summary(const std::string& dir, const RunSummary& s);

}  // namespace gcsim::train
