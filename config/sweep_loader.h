// Sweep TOML: a base scenario plus [axes] of dotted scenario keys with lists
// of values; the points are the cartesian product (first axis varies slowest).
//
//   base = "../h100-cluster.toml"          # relative to the sweep file
//   [axes]
//   "cluster.workers" = [8, 64, 512]
//   "model.name|compute.efficiency" = [["resnet50", 0.15], ["gpt2-small", 0.4]]
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "config/scenario_loader.h"

namespace gcsim {

// One axis. Its key is a dotted scenario key ("cluster.workers"), or several
// joined by '|' ("model.name|compute.efficiency") whose values are lists with
// one entry per key: linked keys that change together.
struct SweepAxis {
  std::string key;
  std::vector<std::string> keys;     // key split at '|'
  toml::array values;
  std::vector<std::string> origins;  // "file:line:col" of each value
};

struct SweepSpec {
  std::string path;
  std::string name;
  std::string base_path;             // resolved relative to the sweep file
  std::vector<SweepAxis> axes;       // in file order

  std::size_t point_count() const;
  // Index of each axis's value for point i.
  std::vector<std::size_t> coordinates(std::size_t point) const;
  // The base scenario with point i's values applied (not yet validated).
  ScenarioSource point_source(const ScenarioSource& base, std::size_t point) const;
};

SweepSpec load_sweep(const std::string& path);

}  // namespace gcsim
