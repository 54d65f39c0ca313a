// Fuzz property of the sweep loader (config/sweep_loader.h), as `gcsim sweep`
// uses it (sweep/sweep_runner.cpp validates every point before running): any
// text either becomes a SweepSpec whose points each build into a validated
// Scenario, or is rejected with gcsim::InputError -- never another exception,
// a crash, a sanitizer report or a hang. Up to kMaxPoints points are built
// (the first ones and the last one), to keep each input fast.
#pragma once

#include <algorithm>

#include "config/input_error.h"
#include "config/scenario_loader.h"
#include "config/sweep_loader.h"
#include "fuzz/toml_input.h"

namespace gcsim::fuzz {

inline bool sweep_loader(const std::uint8_t* data, std::size_t size) {
  constexpr std::size_t kMaxPoints = 8;
  const std::string path = Sandbox::get().write("sweep.toml", data, size);
  try {
    const SweepSpec spec = load_sweep(path);
    const std::size_t points = spec.point_count();
    const ScenarioSource base = read_scenario_source(spec.base_path);
    for (std::size_t i = 0; i < std::min(points, kMaxPoints); ++i) build_scenario(spec.point_source(base, i));
    if (points > kMaxPoints) build_scenario(spec.point_source(base, points - 1));
    return true;
  } catch (const InputError&) {
    return false;
  }
}

}  // namespace gcsim::fuzz
