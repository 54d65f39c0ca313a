#include "config/sweep_loader.h"

#include <algorithm>
#include <cstdio>
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

std::vector<SweepSpec::KeyValue> SweepSpec::point_values(std::size_t point) const {
  std::vector<KeyValue> out;
  const auto c = coordinates(point);
  for (std::size_t i = 0; i < axes.size(); ++i) {
    const auto& a = axes[i];
    const toml::node* v = a.values.get(c[i]);
    if (a.keys.size() == 1) {
      out.push_back({a.keys[0], v, a.origins[c[i]]});
    } else {
      for (std::size_t k = 0; k < a.keys.size(); ++k) out.push_back({a.keys[k], v->as_array()->get(k), a.origins[c[i]]});
    }
  }
  return out;
}

namespace {

// One key per axis: the same key twice, or a key inside another key's table
// ("cluster.inter_node" and "cluster.inter_node.latency_us"), would make one
// axis silently override the other.
void reject_shared_keys(const std::vector<SweepAxis>& axes) {
  struct Seen {
    std::string key;
    const SweepAxis* axis;
  };
  std::vector<Seen> seen;
  auto inside = [](const std::string& outer, const std::string& inner) {
    return inner.size() > outer.size() && inner.compare(0, outer.size(), outer) == 0 && inner[outer.size()] == '.';
  };
  for (const auto& a : axes) {
    for (const auto& k : a.keys) {
      for (const auto& s : seen) {
        const std::string where = s.axis == &a ? std::string("earlier in this axis")
                                               : "in axis \"" + s.axis->key + "\" at " + s.axis->location;
        if (s.key == k)
          throw InputError(a.location, a.key, "sets '" + k + "', which is already set " + where +
                                                  "; a key may be swept by one axis only (link keys with '|' to vary them together)");
        if (inside(s.key, k) || inside(k, s.key))
          throw InputError(a.location, a.key, "sets '" + k + "', which overlaps '" + s.key + "' set " + where +
                                                  "; one axis would override the other");
      }
      seen.push_back({k, &a});
    }
  }
}

void reject_too_many_points(const std::vector<SweepAxis>& axes, const std::string& where) {
  long double product = 1;
  std::string sizes;
  for (const auto& a : axes) {
    product *= static_cast<long double>(a.values.size());
    sizes += (sizes.empty() ? "" : " x ") + std::string("\"") + a.key + "\" " + std::to_string(a.values.size());
  }
  if (product <= static_cast<long double>(kMaxSweepPoints)) return;
  char n[64];
  std::snprintf(n, sizeof n, "%.0Lf", product);
  throw InputError(where, "axes",
                   sizes + " = " + n + " points, more than the limit of " + std::to_string(kMaxSweepPoints) +
                       " per sweep; split it into several sweep files");
}

}  // namespace

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
  std::error_code ec;  // the non-throwing overload: a name too long to look up is a bad 'base', not a crash
  if (!std::filesystem::exists(s.base_path, ec)) r.fail("base", "file not found: " + s.base_path);

  const auto axes = r.sub("axes", true);
  std::vector<std::pair<std::size_t, SweepAxis>> ordered;
  for (const auto& [key, node] : axes->table()) {
    const std::string k(key.str());
    const toml::array* arr = node.as_array();
    if (!arr) axes->fail(k, std::string("expected an array of values, got ") + toml_type_name(node));
    if (arr->empty()) axes->fail(k, "needs at least one value");
    SweepAxis a;
    a.key = k;
    a.location = key.source().begin.line > 0 ? path + ":" + std::to_string(key.source().begin.line) + ":" +
                                                   std::to_string(key.source().begin.column)
                                             : axes->location(k);
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
  if (s.axes.empty())
    r.fail("axes", "is empty; a sweep needs at least one axis (a dotted scenario key with a list of values)");
  reject_shared_keys(s.axes);
  reject_too_many_points(s.axes, r.location("axes"));
  return s;
}

}  // namespace gcsim
