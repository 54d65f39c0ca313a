// Whether a profile's kernel costs were measured on the CPU that `gcsim
// validate` measures on: the trainer's codecs run on this host's cores, so a
// profile whose kernels a `calibrate kernels --device cpu` measured on another
// CPU predicts their time for that one (2026-12-03: a profile from AMD EPYC
// vCPUs put the compression of runs on Intel Xeon ones at half its time;
// reports/validation.md).
#pragma once

#include <optional>
#include <string>

#include "sim/profile.h"

namespace gcsim {

// This host's CPU, as calibrate kernels names it (/proc/cpuinfo's model name).
std::string this_cpu();

// A one-line warning when `p`'s device says its kernels were measured on a
// CPU backend and does not name `cpu`; nothing for a profile of published or
// GPU figures, or one measured on this CPU.
std::optional<std::string> kernel_cpu_mismatch(const Profile& p, const std::string& cpu);

}  // namespace gcsim
