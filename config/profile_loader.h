// Reads a profile TOML (scenarios/profiles/*.toml; written by `gcsim calibrate`).
#pragma once

#include <string>

#include "sim/profile.h"

namespace gcsim {

// Every kernel op in sim/profile.h's op:: list must be present.
Profile load_profile(const std::string& path);

}  // namespace gcsim
