// A measured point: runs `gcsim train` on the emulated cluster (through
// tools/netem.sh) and reads back what the run directory records:
// steps-rank<R>.csv of every rank and rank 0's buckets-rank0.csv
// (train/loop/run_log.h).
#pragma once

#include <string>
#include <vector>

namespace gcsim {

struct MeasuredBucket {
  double ready_s = 0.0, start_s = 0.0, end_s = 0.0;  // medians over the steps used, since the forward pass began
};

struct MeasuredRun {
  int steps = 0;              // steps used (after the warm-up)
  // Step time without the barrier that starts it (step_s - wait_s): per step
  // the mean over ranks, then the median over steps, and its p90.
  double step_s = 0.0, step_p90_s = 0.0;
  // Means over ranks and steps.
  double compute_s = 0.0, optimizer_s = 0.0, compress_s = 0.0, communicate_s = 0.0, decompress_s = 0.0;
  double bytes_per_step = 0.0;           // per rank
  std::vector<MeasuredBucket> buckets;   // rank 0, by exchange order
  // A point measured several times (gcsim validate --repeats): each run's
  // step_s; the fields above are then the medians over the runs.
  std::vector<double> repeat_step_s;
};

// Reads a finished run directory of `workers` ranks, skipping the first
// `warmup` steps (all of them are used when there are no more). Throws
// std::runtime_error naming the file for a missing or malformed log.
MeasuredRun read_measured_run(const std::string& run_dir, int workers, int warmup);

// The directory of repeat k (0-based) of the point kept in run_dir: run_dir
// itself for the first, run_dir.rep-(k + 1) for the others.
std::string repeat_dir(const std::string& run_dir, int k);

// One point measured by several runs: every field the median over the runs
// (steps their sum; buckets where every run has the same number), and
// repeat_step_s each run's step time. Throws std::invalid_argument when empty.
MeasuredRun median_of_repeats(const std::vector<MeasuredRun>& runs);

// Every repeat kept of the point in run_dir (run_dir, then run_dir.rep-2, ...
// while they exist), combined by median_of_repeats.
MeasuredRun read_measured_repeats(const std::string& run_dir, int workers, int warmup);

// Runs argv (argv[0] looked up on PATH) with stdout and stderr into
// log_path; returns its exit status (128 + signal when killed).
int run_logged(const std::vector<std::string>& argv, const std::string& log_path);

}  // namespace gcsim
