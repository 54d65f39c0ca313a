// Writes a calibrated profile: a base profile (collective figures, GPU table,
// and any op that was not measured) with the measured kernel cost fits put in
// place of its [kernels.*] entries and [profile] metadata naming the device,
// driver, runtime and date. The result is what sim/profile.h reads.
#pragma once

#include <map>
#include <string>

#include "calib/cost_fit.h"
#include "kernels/backend.h"

namespace gcsim::calib {

struct CalibrationRecord {
  kernels::DeviceInfo device;
  std::string date;      // YYYY-MM-DD
  std::string command;   // the command line that measured it
  int repeats = 0;
};

// Throws (InputError via the TOML reader) when the base profile does not parse.
std::string calibrated_profile_toml(const std::string& base_profile_path, const std::map<std::string, CostFit>& fits,
                                    const CalibrationRecord& record);

}  // namespace gcsim::calib
