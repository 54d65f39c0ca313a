// Fuzz property of the profile loader (config/profile_loader.h): any text
// either becomes a Profile holding every required kernel op (and optional
// ones only from sim/profile.h's op:: names) or is rejected with
// gcsim::InputError -- never another exception, a crash, a sanitizer report
// or a hang.
#pragma once

#include <set>
#include <string>

#include "config/input_error.h"
#include "config/profile_loader.h"
#include "fuzz/toml_input.h"

namespace gcsim::fuzz {

inline bool profile_loader(const std::uint8_t* data, std::size_t size) {
  const std::string path = Sandbox::get().write("profile.toml", data, size);
  try {
    const Profile p = load_profile(path);
    for (const auto& required : op::required())
      if (p.kernels.count(required) == 0)
        throw PropertyViolation("profile_loader: accepted a profile without every required kernel op");
    static const std::set<std::string> known = [] {
      std::set<std::string> names(op::required().begin(), op::required().end());
      names.insert(op::optional().begin(), op::optional().end());
      return names;
    }();
    for (const auto& [name, cost] : p.kernels)
      if (known.count(name) == 0) throw PropertyViolation("profile_loader: accepted an unknown kernel op " + name);
    return true;
  } catch (const InputError&) {
    return false;
  }
}

}  // namespace gcsim::fuzz
