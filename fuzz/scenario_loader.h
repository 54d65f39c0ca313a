// Fuzz property of the scenario loader (config/scenario_loader.h): any text,
// with any --set assignments, either becomes a validated Scenario or is
// rejected with gcsim::InputError -- never another exception, a crash, a
// sanitizer report or a hang.
#pragma once

#include "config/input_error.h"
#include "config/scenario_loader.h"
#include "fuzz/toml_input.h"

namespace gcsim::fuzz {

// Returns true when the input was accepted, false when it was rejected with
// InputError; anything else escapes.
inline bool scenario_loader(const std::uint8_t* data, std::size_t size) {
  const TomlInput in = write_toml_input(data, size, "scenario.toml");
  try {
    const Scenario s = load_scenario(in.path, in.sets);
    return s.cluster.workers >= 1;
  } catch (const InputError&) {
    return false;
  }
}

}  // namespace gcsim::fuzz
