// Runs a sweep: validates every point first (bad input stops the sweep before
// any output is written), then simulates the points on a thread pool and
// appends each finished row to DIR/results.csv at once (one checked write per
// row: a failed or short write is cut back and stops the sweep), so an
// interrupted sweep keeps what it finished and --resume skips those points.
// When all points are done the file is rewritten in point order, atomically.
//
// Rows: `point`, the configuration columns, the metric columns (as
// `gcsim simulate --format csv`), then one column per swept key (named by the
// key, the value as the sweep file gives it) and `config_hash`, the identity
// of the point's resolved scenario and profile (sweep/config_hash.h). Points
// with the same config_hash are simulated once. --resume keeps a row only if
// all of these match this sweep's point, and drops a torn last row.
//
// DIR/.lock is held (flock) for the whole run: a second sweep into the same
// DIR is refused; the kernel releases the lock when a process dies.
//
// With a shard (--shard I/N) it runs and writes only its points, and records
// DIR/shard.txt for `gcsim sweep merge` (sweep/shard.h).
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "config/sweep_loader.h"
#include "sim/output/result_format.h"
#include "sim/result.h"
#include "sim/scenario.h"
#include "sweep/shard.h"

namespace gcsim {

struct SweepOptions {
  std::string out_dir;
  std::string backend = "des"; // recorded in every row; resumed rows must match it
  bool resume = false;      // keep DIR/results.csv rows and skip their points
  bool force = false;       // overwrite an existing DIR/results.csv
  int jobs = 0;             // <= 0: all cores
  Shard shard;              // run only the points p with p mod count = index (sweep/shard.h)
  bool progress = false;    // draw a progress bar on stderr
  // Extra validation of every point before anything is written (the checks
  // the backend makes when it builds its model of the point, e.g. the
  // topology); whatever it throws becomes an InputError naming the point.
  std::function<void(const Scenario&)> check;
};

struct SweepOutcome {
  std::size_t points = 0;
  std::size_t shard_points = 0;  // this shard's (= points unsharded)
  std::size_t resumed = 0;  // already in results.csv
  std::size_t ran = 0;      // simulations run
  std::size_t reused = 0;   // rows that took the result of an identical point
  std::size_t torn = 0;     // torn last rows of an interrupted run dropped by --resume
  std::string results_csv;
};

// An axis value as its results.csv column writes it: strings bare, numbers
// as the other columns write them, anything else (arrays, inline tables) as
// TOML on one line.
std::string axis_value_text(const toml::node& v);

using Simulator = std::function<IterationResult(const Scenario&)>;

SweepOutcome run_sweep(const SweepSpec& spec, const SweepOptions& options, const Simulator& simulate);

// The same for any row: what follows a point's configuration columns (its
// metrics) is `blank`'s columns (their names; the header), filled per point
// by `run` (the same columns, in the same order). run_sweep's are the
// simulator's (sim/output/result_format.h); gcsim validate's are the
// prediction beside the measurement (validate/validation_row.h).
struct PointRunner {
  Columns blank;
  std::function<Columns(const Scenario&, std::size_t point)> run;
};
SweepOutcome run_points(const SweepSpec& spec, const SweepOptions& options, const PointRunner& runner);

}  // namespace gcsim
