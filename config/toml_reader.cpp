#include "config/toml_reader.h"

#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "config/did_you_mean.h"
#include "config/input_error.h"

namespace gcsim {

namespace {

// The key at the start of a TOML line ("a.b = 1", "[a.b]", "[[a.b]]"), spaces
// outside quotes removed; "" when the line does not start with one.
std::string leading_key(const std::string& line) {
  std::size_t i = line.find_first_not_of(" \t");
  if (i == std::string::npos) return "";
  if (line[i] == '[') i = line.find_first_not_of(" \t", line[i + 1] == '[' ? i + 2 : i + 1);
  std::string key;
  for (; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '"' || c == '\'') {
      const std::size_t start = i;
      for (++i; i < line.size() && line[i] != c; ++i)
        if (c == '"' && line[i] == '\\') ++i;
      if (i >= line.size()) return "";
      key += line.substr(start, i - start + 1);
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.') {
      key += c;
    } else if (c == ' ' || c == '\t') {
      continue;
    } else {
      return (c == '=' || c == ']') ? key : "";
    }
  }
  return "";
}

// toml++ 3.3 garbles a quoted key in its "cannot redefine existing ... 'KEY'"
// and "cannot insert 'KEY'" messages ('"clcluster".workers' for
// '"cluster".workers'): take the key from the source line instead, or leave
// it out when the line does not give it plainly.
std::string fix_quoted_key(const std::string& what, const std::string& path, std::size_t line_no) {
  std::size_t at = what.find("cannot redefine existing");
  if (at == std::string::npos) at = what.find("cannot insert");
  if (at == std::string::npos) return what;
  const std::size_t open = what.find('\'', at);
  std::size_t close = what.rfind("' as ");
  if (close == std::string::npos || close <= open) close = what.rfind("' into ");
  if (close == std::string::npos || close <= open) close = what.rfind('\'');
  if (open == std::string::npos || close <= open) return what;
  const std::string garbled = what.substr(open + 1, close - open - 1);
  if (garbled.find_first_of("\"'") == std::string::npos) return what;  // bare keys come out right
  std::ifstream f(path);
  std::string line;
  for (std::size_t i = 0; i < line_no && std::getline(f, line); ++i) {
  }
  const std::string key = leading_key(line);
  // Every bare part of the key must be in toml++'s text, or the line holds another key (an inline table).
  bool plausible = !key.empty();
  std::string part;
  for (std::size_t i = 0; plausible && i <= key.size(); ++i) {
    const char c = i < key.size() ? key[i] : '.';
    if (c == '.' || c == '"' || c == '\'') {
      if (!part.empty() && garbled.find(part) == std::string::npos) plausible = false;
      part.clear();
    } else {
      part += c;
    }
  }
  if (!plausible) return what.substr(0, open) + "key" + what.substr(close + 1);
  return what.substr(0, open + 1) + key + what.substr(close);
}

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
    throw InputError(where.str(), "", "TOML syntax error: " + fix_quoted_key(what, path, src.begin.line));
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

const std::string* TableReader::override_origin(const std::string& full,
                                                const std::map<std::string, std::string>& m) const {
  for (std::string k = full; !k.empty();) {
    auto it = m.find(k);
    if (it != m.end()) return &it->second;
    // Walk up: "a.b[2].c" -> "a.b[2]" -> "a.b" -> "a" (array elements have no origin of their own).
    // A key that merely ends in ']' (a quoted "a]" from a sweep axis or --set) has no '['.
    if (const auto open = k.rfind('['); k.back() == ']' && open != std::string::npos) {
      k.resize(open);
      continue;
    }
    const auto dot = k.rfind('.');
    if (dot == std::string::npos) break;
    k.resize(dot);
  }
  return nullptr;
}

std::string TableReader::location(std::string_view key) const {
  // An override (--set, sweep axis) names where it came from.
  const std::string full = full_key(key);
  if (const std::string* o = override_origin(full, ctx_->origins)) return *o;
  if (const toml::node* n = node(key)) {
    const std::string loc = source_location(*n);
    if (!loc.empty()) return loc;
  }
  // A table no file wrote, made by an override of a key inside it (--set foo.bar=4 makes "foo").
  for (auto it = ctx_->origins.lower_bound(full); it != ctx_->origins.end() && it->first.rfind(full, 0) == 0; ++it) {
    const char next = it->first.size() > full.size() ? it->first[full.size()] : '\0';
    if (!full.empty() && (next == '.' || next == '[')) return it->second;
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

std::string TableReader::path(std::string_view key, std::optional<std::string> fallback) const {
  namespace fs = std::filesystem;
  if (!has(key) && fallback) return *fallback;
  const std::string p = string(key);
  if (p.empty() || fs::path(p).is_absolute()) return p;
  std::string dir;
  if (const std::string* d = override_origin(full_key(key), ctx_->origin_dirs)) {
    dir = *d;  // "" = the current directory
  } else {
    const auto& src = node(key)->source();
    dir = fs::path(src.path ? *src.path : ctx_->file).parent_path().string();
  }
  return dir.empty() ? fs::path(p).lexically_normal().string() : (fs::path(dir) / p).lexically_normal().string();
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
