// The collective measurements as CSV (`gcsim calibrate collectives --csv`,
// read back by --refit, and what each NCCL variant's process hands back):
//   op,bytes,wire_bytes,median_s,min_s,max_s,spread,repeats,wrong,variant
// Files written before the last two columns existed (8 columns, allreduce
// and allgather only) still read.
#pragma once

#include <string>
#include <vector>

#include "calib/collective_sweep.h"

namespace gcsim::calib {

std::string measurements_csv(const std::vector<CollectiveMeasurement>& ms);

// Throws InputError naming the file and line.
std::vector<CollectiveMeasurement> read_measurements_csv(const std::string& path);

}  // namespace gcsim::calib
