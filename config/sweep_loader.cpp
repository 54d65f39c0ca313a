#include "config/sweep_loader.h"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <sstream>

#include "config/input_error.h"
#include "config/overrides.h"
#include "config/toml_reader.h"

namespace gcsim {

namespace {

std::vector<std::string> split_keys(const std::string& key) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : key) {
    if (c == '|') {
      out.push_back(cur);
      cur.clear();
    } else if (c != ' ') {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

}  // namespace

std::size_t SweepSpec::point_count() const {
  std::size_t n = 1;
  for (const auto& a : axes) n *= a.values.size();
  return n;
}

std::vector<std::size_t> SweepSpec::coordinates(std::size_t point) const {
  std::vector<std::size_t> c(axes.size());
  for (std::size_t i = axes.size(); i-- > 0;) {
    c[i] = point % axes[i].values.size();
    point /= axes[i].values.size();
  }
  return c;
}

ScenarioSource SweepSpec::point_source(const ScenarioSource& base, std::size_t point) const {
  ScenarioSource src;
  src.path = base.path;
  src.root = base.root;
  src.ctx = std::make_shared<TomlContext>(*base.ctx);
  const auto c = coordinates(point);
  for (std::size_t i = 0; i < axes.size(); ++i) {
    const auto& a = axes[i];
    const std::string origin = a.origins[c[i]] + " ([axes] \"" + a.key + "\")";
    const toml::node& v = *a.values.get(c[i]);
    const std::string dir = std::filesystem::path(path).parent_path().string();  // axis paths: relative to this file
    if (a.keys.size() == 1) {
      set_dotted(src.root, a.keys[0], v, origin, *src.ctx, dir);
    } else {
      for (std::size_t k = 0; k < a.keys.size(); ++k) set_dotted(src.root, a.keys[k], *v.as_array()->get(k), origin, *src.ctx, dir);
    }
  }
  return src;
}

SweepSpec load_sweep(const std::string& path) {
  const toml::table root = parse_toml_file(path);
  auto ctx = std::make_shared<TomlContext>();
  ctx->file = path;
  const TableReader r(root, "", ctx);
  r.reject_unknown({"name", "description", "base", "axes"});

  SweepSpec s;
  s.path = path;
  s.name = r.string("name", std::filesystem::path(path).stem().string());
  r.string("description", "");
  s.base_path = r.path("base");  // relative to the sweep file
  if (!std::filesystem::exists(s.base_path)) r.fail("base", "file not found: " + s.base_path);

  const auto axes = r.sub("axes", true);
  std::vector<std::pair<std::size_t, SweepAxis>> ordered;
  for (const auto& [key, node] : axes->table()) {
    const std::string k(key.str());
    const toml::array* arr = node.as_array();
    if (!arr) axes->fail(k, std::string("expected an array of values, got ") + toml_type_name(node));
    if (arr->empty()) axes->fail(k, "needs at least one value");
    SweepAxis a;
    a.key = k;
    a.keys = split_keys(k);
    for (const auto& part : a.keys)
      if (part.empty()) axes->fail(k, "has an empty key between '|'");
    a.values = *arr;
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const toml::node& v = *arr->get(i);
      const std::string loc = source_location(v);
      a.origins.push_back(loc.empty() ? axes->location(k) : loc);
      if (a.keys.size() > 1 && (!v.is_array() || v.as_array()->size() != a.keys.size()))
        throw InputError(a.origins.back(), k,
                         "each value must be a list of " + std::to_string(a.keys.size()) + " entries, one per key");
    }
    ordered.emplace_back(key.source().begin.line * 100000ull + key.source().begin.column, std::move(a));
  }
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  for (auto& [pos, a] : ordered) s.axes.push_back(std::move(a));
  return s;
}

}  // namespace gcsim
