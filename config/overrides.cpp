#include "config/overrides.h"

#include <cerrno>
#include <cstdlib>

#include "config/input_error.h"

namespace gcsim {

namespace {

std::vector<std::string> split_dotted(std::string_view key) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = key.find('.', start);
    parts.emplace_back(key.substr(start, dot == std::string_view::npos ? key.npos : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return parts;
}

// "an " before integer and array, "a " before the other TOML type names.
const char* article(const char* type) { return (type[0] == 'i' || type[0] == 'a') ? "an " : "a "; }

}  // namespace

void set_dotted(toml::table& root, std::string_view key, const toml::node& value, const std::string& origin,
                TomlContext& ctx, const std::optional<std::string>& path_dir) {
  const auto parts = split_dotted(key);
  for (const auto& p : parts)
    if (p.empty()) throw InputError(origin, std::string(key), "malformed key (empty component)");
  toml::table* t = &root;
  std::string path;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    path += (i ? "." : "") + parts[i];
    toml::node* n = t->get(parts[i]);
    if (!n) {
      t->insert(parts[i], toml::table{});
      n = t->get(parts[i]);
    }
    if (!n->is_table())
      throw InputError(origin, std::string(key),
                       "'" + path + "' is " + article(toml_type_name(*n)) + toml_type_name(*n) + ", not a table");
    t = n->as_table();
  }
  value.visit([&](const auto& v) { t->insert_or_assign(parts.back(), v); });
  ctx.origins[std::string(key)] = origin;
  if (path_dir) {
    ctx.origin_dirs[std::string(key)] = *path_dir;
  } else {
    ctx.origin_dirs.erase(std::string(key));
  }
}

void apply_set_flag(toml::table& root, std::string_view assignment, TomlContext& ctx) {
  const std::string origin = "--set " + std::string(assignment);
  const auto eq = assignment.find('=');
  if (eq == std::string_view::npos || eq == 0)
    throw InputError(origin, "", "expected key=value, e.g. --set cluster.workers=64");
  const std::string key(assignment.substr(0, eq));
  const std::string text(assignment.substr(eq + 1));
  toml::table parsed;
  try {
    parsed = toml::parse("v = " + text, origin);
  } catch (const toml::parse_error& e) {
    const std::string what(e.description());
    // TOML tried a number, string, array or table only when the text starts like one.
    const bool structured =
        text.empty() || std::string_view("\"'[{+-0123456789").find(text[0]) != std::string_view::npos;
    if (!structured) {
      parsed = toml::table{};  // a bare word (resnet50, ring, my-cpu.toml, ...) is a string
      parsed.insert("v", text);
    } else {
      errno = 0;
      char* end = nullptr;
      std::strtod(text.c_str(), &end);
      if (errno == ERANGE && end && *end == '\0')
        throw InputError(origin, "", text + " is out of range (a float must fit in 64 bits)");
      throw InputError(origin, "", "TOML syntax error in the value: " + what);
    }
  }
  const toml::node* v = parsed.get("v");
  set_dotted(root, key, *v, origin, ctx, std::string());  // its paths: relative to the current directory
}

}  // namespace gcsim
