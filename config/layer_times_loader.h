// Reads a profile's [layer_times.MODEL] sections (sim/layer_times.h), written
// by tools/profile_model.py. Each is checked against the zoo's model of that
// name, layer by layer: the layer names, their order and their parameter
// counts must be the zoo's, and every time finite and >= 0.
#pragma once

#include <map>
#include <string>

#include "config/toml_reader.h"
#include "sim/layer_times.h"

namespace gcsim {

// `root` reads the whole profile at `path` (named in MeasuredLayers::where); an
// absent [layer_times] gives an empty map. Throws InputError
// (file:line:col: layer_times.MODEL.KEY: what) on bad input.
std::map<std::string, MeasuredLayers> read_layer_times(const TableReader& root, const std::string& path);

}  // namespace gcsim
