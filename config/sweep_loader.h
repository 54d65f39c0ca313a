// Sweep TOML: a base scenario plus [axes] of dotted scenario keys with lists
// of values; the points are the cartesian product (first axis varies slowest).
//
//   base = "../h100-cluster.toml"          # relative to the sweep file
//   [axes]
//   "cluster.workers" = [8, 64, 512]
//   "model.name|compute.efficiency" = [["resnet50", 0.15], ["gpt2-small", 0.4]]
//
// [axes] must hold at least one axis; a key may appear in one axis only (and
// no axis may set a key inside another axis's table); a sweep has at most
// kMaxSweepPoints points. Each is a located InputError.
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
  std::string location;              // "file:line:col" of the key in [axes]
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
  // Point i's value of every single key, axis by axis (linked keys split), in
  // file order: (dotted key, value, "file:line:col" of the value).
  struct KeyValue {
    std::string key;
    const toml::node* value;
    std::string origin;
  };
  std::vector<KeyValue> point_values(std::size_t point) const;
};

// The most points one sweep may have (the product of the axis lengths). Each
// point is validated (and its identity kept in memory) before the first one runs.
inline constexpr std::size_t kMaxSweepPoints = 100000;

SweepSpec load_sweep(const std::string& path);

}  // namespace gcsim
