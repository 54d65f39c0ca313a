// Runs a sweep: validates every point first (bad input stops the sweep before
// any output is written), then simulates the points on a thread pool and
// appends each finished row to DIR/results.csv at once (one write per row), so
// an interrupted sweep keeps what it finished and --resume skips those points.
// When all points are done the file is rewritten in point order, atomically.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "config/sweep_loader.h"
#include "sim/result.h"
#include "sim/scenario.h"

namespace gcsim {

struct SweepOptions {
  std::string out_dir;
  std::string backend = "des"; // recorded in every row; resumed rows must match it
  bool resume = false;      // keep DIR/results.csv rows and skip their points
  bool force = false;       // overwrite an existing DIR/results.csv
  int jobs = 0;             // <= 0: all cores
  bool progress = false;    // draw a progress bar on stderr
};

struct SweepOutcome {
  std::size_t points = 0;
  std::size_t resumed = 0;  // already in results.csv
  std::size_t ran = 0;
  std::string results_csv;
};

using Simulator = std::function<IterationResult(const Scenario&)>;

SweepOutcome run_sweep(const SweepSpec& spec, const SweepOptions& options, const Simulator& simulate);

}  // namespace gcsim
