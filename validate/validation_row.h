// One row of `gcsim validate`: the simulator's prediction of a point beside
// what the emulated cluster measured, with relative errors
// (predicted / measured - 1), and the error summary over all rows.
//
// Step time: the DES's iteration time against the measured step without its
// starting barrier (measured_run.h). Phases: compute (forward + backward +
// optimizer), communication (collective time: the DES's busy collective
// time, the trainer's time inside collectives), compression (compress +
// decompress kernels). Buckets: the largest difference between a bucket's
// predicted and measured end, relative to the measured step. A point measured
// several times (--repeats) is compared with the medians over its runs, and
// its row gives how many and their spread ((max - min) / median step time).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "sim/des/training_sim.h"
#include "sim/output/result_format.h"
#include "validate/measured_run.h"

namespace gcsim {

// The metric columns (names; values blank).
Columns validation_blank();
Columns validation_columns(const DesRun& predicted, const MeasuredRun& measured, const std::string& run_dir);

struct ErrorSummary {
  std::size_t points = 0;
  double median = 0.0, p90 = 0.0, max = 0.0;  // of |step_error|
  std::size_t worst = 0;                      // the point with the largest |step_error|
  std::size_t within_5 = 0, within_10 = 0, within_20 = 0;
};

// The summary of the step_error column of results.csv's rows (header first).
ErrorSummary summarize_errors(const std::vector<std::vector<std::string>>& rows);
std::string summary_text(const ErrorSummary& s, const std::string& sweep);

}  // namespace gcsim
