// `gcsim calibrate collectives --backend nccl`: NCCL's collectives on the
// local GPUs (calib/nccl_bench.h), each forced variant (NCCL_ALGO Ring or
// Tree, NCCL_PROTO LL, LL128 or Simple, and NCCL's own choice) in a process
// of its own, because NCCL reads those variables once, when a communicator
// is made. The launcher starts this binary once per variant with the
// variant's environment and collects what each wrote.
#pragma once

#include <string>
#include <vector>

#include "calib/collective_sweep.h"

namespace gcsim::cli {

// "default", "Ring", "Tree", "Ring/LL", ..., "Tree/Simple".
const std::vector<std::string>& nccl_variants();
// A comma-separated list of them, or "all"; throws InputError naming --variants.
std::vector<std::string> parse_nccl_variants(const std::string& list);
// NCCL_ALGO and NCCL_PROTO for a variant ("" where NCCL chooses).
std::pair<std::string, std::string> nccl_variant_env(const std::string& variant);

struct NcclCalibration {
  int gpus = 0;  // 0: every GPU
  std::vector<std::string> variants;
  calib::CollectiveSweepOptions sweep;
  double timeout_s = 600.0;  // per variant
  // What the launcher passes on to each variant's process.
  std::vector<std::string> child_args;
};

struct NcclResult {
  int ranks = 0;
  std::vector<std::string> devices;
  std::string library;
  std::vector<calib::CollectiveMeasurement> ms;  // every variant's, labelled
};

// Runs every variant's process in turn; throws std::runtime_error with the
// first failure in words.
NcclResult run_nccl_calibration(const NcclCalibration& c);

// A variant's process: sets its environment, measures, writes
// RUN_DIR/measurements.csv and RUN_DIR/devices.txt. Returns the exit code.
int nccl_variant_main(const NcclCalibration& c, const std::string& variant, const std::string& run_dir);

}  // namespace gcsim::cli
