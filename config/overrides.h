// Overrides of scenario keys: `--set key=value` on the command line and the
// points of a sweep. Each override remembers where it came from, so a bad
// value is reported against the flag or the sweep file, not the scenario.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <toml++/toml.h>

#include "config/toml_reader.h"

namespace gcsim {

// Sets dotted `key` in `root` to `value`, creating tables on the way, and
// records `origin` for the key, and `path_dir` (when given) as the directory
// relative paths in the value are resolved against ("" = the current
// directory; without it, the document's directory). Throws InputError (at
// `origin`) when a path component is an existing non-table value.
void set_dotted(toml::table& root, std::string_view key, const toml::node& value, const std::string& origin,
                TomlContext& ctx, const std::optional<std::string>& path_dir = std::nullopt);

// Parses "key=value" (value in TOML syntax) and applies it; a relative path in
// it is relative to the current directory. A value that is not TOML and does
// not start like a TOML number, string, array or table (with none of
// " ' [ { + - 0-9: resnet50, my-cpu.toml, /tmp/p.toml, ./p.toml) is taken as a
// string; a TOML error in any other value (1e400, [1, "topk) is reported.
// Throws InputError naming the flag.
void apply_set_flag(toml::table& root, std::string_view assignment, TomlContext& ctx);

}  // namespace gcsim
