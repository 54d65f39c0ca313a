// Compression kernels that share CPU cores. Where the kernels run on CPUs
// (a CPU cluster, or the emulated cluster of gcsim validate, whose workers
// all run on this machine), the workers of a host compress at the same
// moments (every worker runs the same schedule), so W workers' kernels on C
// cores take max(1, W / C) times as long as one worker's alone, which is
// what `gcsim calibrate kernels --threads 1` measures: processor sharing.
// [compute] cores_per_host = C turns it on; [compute] hosts spreads the
// workers evenly over that many machines (default: one per node).
#pragma once

#include "sim/scenario.h"

namespace gcsim {

// The factor on every compression kernel's time: 1 without cores_per_host.
double kernel_sharing_factor(const Scenario& s);

}  // namespace gcsim
