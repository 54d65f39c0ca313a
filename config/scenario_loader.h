// Scenario TOML -> validated Scenario. The one place scenario keys are named;
// docs/scenario-format.md documents each key with units and defaults.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "config/toml_reader.h"
#include "sim/scenario.h"

namespace gcsim {

// A parsed (not yet validated) scenario document plus the provenance of overrides.
struct ScenarioSource {
  std::string path;
  toml::table root;
  std::shared_ptr<TomlContext> ctx;
};

ScenarioSource read_scenario_source(const std::string& path);

// Applies `--set key=value` assignments in order.
void apply_sets(ScenarioSource& src, const std::vector<std::string>& assignments);

// Validates and resolves (zoo model, profile file). Throws InputError.
Scenario build_scenario(const ScenarioSource& src);

// read + apply_sets + build + validate_run (config/run_limits.h) for `backend`
// ("des" or "analytic"): refuses a run that backend could not do.
Scenario load_scenario(const std::string& path, const std::vector<std::string>& assignments = {},
                       std::string_view backend = "des");

// The shipped default profile (scenarios/profiles/default.toml in the source
// tree, or $GCSIM_DEFAULT_PROFILE).
std::string default_profile_path();

}  // namespace gcsim
