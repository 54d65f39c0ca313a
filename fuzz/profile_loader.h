// Fuzz property of the profile loader (config/profile_loader.h): any text
// either becomes a Profile holding every kernel op or is rejected with
// gcsim::InputError -- never another exception, a crash, a sanitizer report
// or a hang.
#pragma once

#include "config/input_error.h"
#include "config/profile_loader.h"
#include "fuzz/toml_input.h"

namespace gcsim::fuzz {

inline bool profile_loader(const std::uint8_t* data, std::size_t size) {
  const std::string path = Sandbox::get().write("profile.toml", data, size);
  try {
    const Profile p = load_profile(path);
    if (p.kernels.size() != 7) throw PropertyViolation("profile_loader: accepted a profile without every kernel op");
    return true;
  } catch (const InputError&) {
    return false;
  }
}

}  // namespace gcsim::fuzz
