// Overrides of scenario keys: `--set key=value` on the command line and the
// points of a sweep. Each override remembers where it came from, so a bad
// value is reported against the flag or the sweep file, not the scenario.
#pragma once

#include <string>
#include <string_view>

#include <toml++/toml.h>

#include "config/toml_reader.h"

namespace gcsim {

// Sets dotted `key` in `root` to `value`, creating tables on the way, and
// records `origin` for the key. Throws InputError (at `origin`) when a path
// component is an existing non-table value.
void set_dotted(toml::table& root, std::string_view key, const toml::node& value, const std::string& origin,
                TomlContext& ctx);

// Parses "key=value" (value in TOML syntax; a bare word is taken as a string)
// and applies it. Throws InputError naming the flag when malformed.
void apply_set_flag(toml::table& root, std::string_view assignment, TomlContext& ctx);

}  // namespace gcsim
