#include "config/layer_times_loader.h"

#include <cmath>
#include <optional>

#include "config/input_error.h"
#include "models/zoo.h"
#include "sim/output/result_format.h"

namespace gcsim {

namespace {

constexpr double kMaxMs = 1e9;            // 11.6 days: far above any step, below overflow
constexpr std::int64_t kMaxBatch = 1 << 24;

// The array at `key`, `n` long; failures located at the array or its element.
const toml::array& array_of(const TableReader& r, const char* key, std::size_t n) {
  const toml::node* node = r.table().get(key);
  if (!node) r.fail(key, "missing required key");
  const toml::array* a = node->as_array();
  if (!a) r.fail(key, std::string("expected an array, got ") + toml_type_name(*node));
  if (a->size() != n)
    r.fail(key, "has " + std::to_string(a->size()) + " entries, the zoo's model has " + std::to_string(n) + " layers");
  return *a;
}

[[noreturn]] void fail_at(const TableReader& r, const char* key, std::size_t i, const toml::node& el,
                          const std::string& what) {
  const std::string loc = source_location(el);
  throw InputError(loc.empty() ? r.location(key) : loc, r.full_key(key) + "[" + std::to_string(i) + "]", what);
}

// Times in ms (integers or floats), returned in seconds.
std::vector<double> times_s(const TableReader& r, const char* key, std::size_t n) {
  const toml::array& a = array_of(r, key, n);
  std::vector<double> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const toml::node& el = *a.get(i);
    std::optional<double> v;
    if (const auto* f = el.as_floating_point()) v = f->get();
    if (const auto* k = el.as_integer()) v = static_cast<double>(k->get());
    if (!v) fail_at(r, key, i, el, std::string("expected a number (ms), got ") + toml_type_name(el));
    if (!(*v >= 0.0 && *v <= kMaxMs))
      fail_at(r, key, i, el, "must be in [0, " + format_number(kMaxMs) + "] ms (got " + format_number(*v) + ")");
    out.push_back(*v * 1e-3);
  }
  return out;
}

MeasuredLayers read_one(const TableReader& t, const ModelSpec& zoo, const std::string& file) {
  t.reject_unknown({"batch", "device", "measured_on", "source", "repeats", "step_ms", "names", "params",
                    "forward_ms", "backward_ms"});
  MeasuredLayers m;
  m.model = zoo.name;
  m.where = file + ": " + t.prefix();
  m.device = t.string("device", "");
  t.string("measured_on", "");
  t.string("source", "");
  const std::int64_t batch = t.integer("batch");
  if (batch < 1 || batch > kMaxBatch)
    t.fail("batch", "must be in [1, " + std::to_string(kMaxBatch) + "] (got " + std::to_string(batch) + ")");
  m.batch = static_cast<int>(batch);
  if (t.has("repeats") && t.integer("repeats") < 1)
    t.fail("repeats", "must be >= 1 (got " + std::to_string(t.integer("repeats")) + ")");
  const double step_ms = t.number("step_ms");
  if (!(step_ms > 0.0 && step_ms <= kMaxMs))
    t.fail("step_ms", "must be in (0, " + format_number(kMaxMs) + "] ms (got " + format_number(step_ms) + ")");
  m.step_s = step_ms * 1e-3;

  const std::size_t n = zoo.layers.size();
  const toml::array& names = array_of(t, "names", n);
  const toml::array& params = array_of(t, "params", n);
  for (std::size_t i = 0; i < n; ++i) {
    const Layer& l = zoo.layers[i];
    const toml::node& name = *names.get(i);
    const auto* s = name.as_string();
    if (!s) fail_at(t, "names", i, name, std::string("expected a string, got ") + toml_type_name(name));
    if (s->get() != l.name)
      fail_at(t, "names", i, name, "is '" + one_line(s->get()) + "', the zoo's layer " + std::to_string(i) + " of " +
                                       zoo.name + " is '" + l.name + "'");
    m.names.push_back(s->get());
    const toml::node& p = *params.get(i);
    const auto* k = p.as_integer();
    if (!k) fail_at(t, "params", i, p, std::string("expected an integer, got ") + toml_type_name(p));
    if (k->get() != l.params)
      fail_at(t, "params", i, p, std::to_string(k->get()) + " parameters, the zoo's " + l.name + " has " +
                                     std::to_string(l.params));
    m.params.push_back(k->get());
  }
  m.forward_s = times_s(t, "forward_ms", n);
  m.backward_s = times_s(t, "backward_ms", n);
  if (!(m.forward_sum_s() + m.backward_sum_s() > 0.0))
    t.fail("forward_ms", "the per-layer times sum to 0: nothing to split the step by");
  return m;
}

}  // namespace

std::map<std::string, MeasuredLayers> read_layer_times(const TableReader& root, const std::string& path) {
  std::map<std::string, MeasuredLayers> out;
  const auto sec = root.sub("layer_times", false);
  if (!sec) return out;
  sec->reject_unknown(zoo_names());
  for (const auto& [key, node] : sec->table()) {
    const std::string name(key.str());
    const auto t = sec->sub(name, true);
    out[name] = read_one(*t, *find_model(name), path);
  }
  return out;
}

}  // namespace gcsim
