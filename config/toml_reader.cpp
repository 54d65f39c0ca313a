#include "config/toml_reader.h"

#include <filesystem>
#include <sstream>
#include <system_error>

#include "config/did_you_mean.h"
#include "config/input_error.h"

namespace gcsim {

namespace {
// What a path that exists but is not a regular file is ("" for a regular file
// or a missing path, which the parser reports as "cannot open file").
std::string not_a_regular_file(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);  // follows symlinks
  if (ec) return "";
  switch (st.type()) {
    case fs::file_type::regular:
    case fs::file_type::not_found: return "";
    case fs::file_type::directory: return "is a directory, not a file";
    case fs::file_type::fifo: return "is a FIFO, not a regular file";
    case fs::file_type::socket: return "is a socket, not a regular file";
    case fs::file_type::block: return "is a block device, not a regular file";
    case fs::file_type::character: return "is a character device, not a regular file";
    default: return "is not a regular file";
  }
}
}  // namespace

toml::table parse_toml_file(const std::string& path) {
  // The one place input files are read: a directory would otherwise parse as an empty document.
  if (const std::string what = not_a_regular_file(path); !what.empty()) throw InputError(path, "", what);
  try {
    return toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto& src = e.source();
    std::ostringstream where;
    where << path;
    if (src.begin.line > 0) where << ':' << src.begin.line << ':' << src.begin.column;
    std::string what(e.description());
    if (what.find("File could not be opened") != std::string::npos) {
      throw InputError(path, "", "cannot open file");
    }
    throw InputError(where.str(), "", "TOML syntax error: " + what);
  }
}

namespace {
std::string format_region(const toml::source_region& src) {
  if (src.begin.line == 0 || !src.path) return "";
  std::ostringstream o;
  o << *src.path << ':' << src.begin.line << ':' << src.begin.column;
  return o.str();
}
}  // namespace

std::string source_location(const toml::node& node) { return format_region(node.source()); }

const char* toml_type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table: return "table";
    case toml::node_type::array: return "array";
    case toml::node_type::string: return "string";
    case toml::node_type::integer: return "integer";
    case toml::node_type::floating_point: return "float";
    case toml::node_type::boolean: return "boolean";
    case toml::node_type::date: return "date";
    case toml::node_type::time: return "time";
    case toml::node_type::date_time: return "date-time";
    default: return "nothing";
  }
}

TableReader::TableReader(const toml::table& table, std::string prefix, std::shared_ptr<const TomlContext> ctx,
                         const toml::node* self)
    : table_(&table), prefix_(std::move(prefix)), ctx_(std::move(ctx)), self_(self) {}

std::string TableReader::full_key(std::string_view key) const {
  if (prefix_.empty()) return std::string(key);
  if (key.empty()) return prefix_;
  return prefix_ + "." + std::string(key);
}

std::string TableReader::location(std::string_view key) const {
  // An override (--set, sweep axis) names where it came from.
  for (std::string k = full_key(key); !k.empty();) {
    auto it = ctx_->origins.find(k);
    if (it != ctx_->origins.end()) return it->second;
    // Walk up: "a.b[2].c" -> "a.b[2]" -> "a.b" -> "a" (array elements have no origin of their own).
    if (!k.empty() && k.back() == ']') {
      k.resize(k.rfind('['));
      continue;
    }
    const auto dot = k.rfind('.');
    if (dot == std::string::npos) break;
    k.resize(dot);
  }
  if (const toml::node* n = node(key)) {
    const std::string loc = source_location(*n);
    if (!loc.empty()) return loc;
  }
  if (self_) {
    const std::string loc = source_location(*self_);
    if (!loc.empty()) return loc;
  }
  return ctx_->file + ":1:1";
}

void TableReader::fail(std::string_view key, const std::string& what) const {
  throw InputError(location(key), full_key(key), what);
}

const toml::node* TableReader::node(std::string_view key) const {
  if (key.empty()) return self_;
  return table_->get(key);
}

bool TableReader::has(std::string_view key) const { return node(key) != nullptr; }

const toml::node& TableReader::require(std::string_view key) const {
  const toml::node* n = node(key);
  if (!n) fail(key, "missing required key");
  return *n;
}

void TableReader::wrong_type(std::string_view key, const char* expected) const {
  fail(key, std::string("expected ") + expected + ", got " + toml_type_name(*node(key)));
}

double TableReader::number(std::string_view key, std::optional<double> fallback) const {
  if (!has(key) && fallback) return *fallback;
  const toml::node& n = require(key);
  if (auto v = n.value_exact<double>()) return *v;
  if (auto i = n.value_exact<std::int64_t>()) return static_cast<double>(*i);
  wrong_type(key, "a number");
}

std::int64_t TableReader::integer(std::string_view key, std::optional<std::int64_t> fallback) const {
  if (!has(key) && fallback) return *fallback;
  const toml::node& n = require(key);
  if (auto i = n.value_exact<std::int64_t>()) return *i;
  wrong_type(key, "an integer");
}

bool TableReader::boolean(std::string_view key, std::optional<bool> fallback) const {
  if (!has(key) && fallback) return *fallback;
  const toml::node& n = require(key);
  if (auto b = n.value_exact<bool>()) return *b;
  wrong_type(key, "a boolean (true or false)");
}

std::string TableReader::string(std::string_view key, std::optional<std::string> fallback) const {
  if (!has(key) && fallback) return *fallback;
  const toml::node& n = require(key);
  if (auto s = n.value_exact<std::string>()) return *s;
  wrong_type(key, "a string");
}

std::string TableReader::choice(std::string_view key, const std::vector<std::string>& allowed,
                                std::optional<std::string> fallback) const {
  const std::string v = string(key, std::move(fallback));
  for (const auto& a : allowed)
    if (a == v) return v;
  fail(key, "unknown value '" + v + "'" + suggestion_suffix(v, allowed));
}

std::optional<TableReader> TableReader::sub(std::string_view key, bool required) const {
  const toml::node* n = node(key);
  if (!n) {
    if (required) fail(key, "missing required table [" + full_key(key) + "]");
    return std::nullopt;
  }
  if (!n->is_table()) wrong_type(key, "a table");
  return TableReader(*n->as_table(), full_key(key), ctx_, n);
}

std::vector<TableReader> TableReader::table_array(std::string_view key) const {
  const toml::node& n = require(key);
  const toml::array* arr = n.as_array();
  if (!arr) wrong_type(key, "an array of tables");
  std::vector<TableReader> out;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const toml::node& el = *arr->get(i);
    const std::string k = full_key(key) + "[" + std::to_string(i) + "]";
    if (!el.is_table()) {
      std::string loc = source_location(el);
      throw InputError(loc.empty() ? location(key) : loc, k,
                       std::string("expected a table, got ") + toml_type_name(el));
    }
    out.emplace_back(*el.as_table(), k, ctx_, &el);
  }
  return out;
}

void TableReader::reject_unknown(const std::vector<std::string>& allowed) const {
  for (const auto& [k, v] : *table_) {
    const std::string key(k.str());
    bool ok = false;
    for (const auto& a : allowed) ok = ok || a == key;
    if (ok) continue;
    std::string loc = ctx_->origins.count(full_key(key)) ? location(key) : format_region(k.source());
    if (loc.empty()) loc = location(key);
    const std::string best = closest_match(key, allowed);
    std::string what = "unknown key";
    if (!best.empty()) what += ", did you mean '" + full_key(best) + "'?";
    throw InputError(loc, full_key(key), what);
  }
}

}  // namespace gcsim
