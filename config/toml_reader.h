// Typed, located access to a TOML table. Every failure is an InputError that
// names file:line:col (or the --set flag / sweep axis a value came from) and
// the full dotted key. Callers list the keys they accept, so unknown keys are
// caught with a "did you mean" suggestion.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

namespace gcsim {

// Where values came from, for diagnostics.
struct TomlContext {
  std::string file;                              // the document's path
  std::map<std::string, std::string> origins;    // dotted key -> where an override came from
  // dotted key of an override -> the directory its relative paths are resolved
  // against: "" for the command line (the current directory), a sweep file's
  // directory for its axes. Keys from the document resolve against its directory.
  std::map<std::string, std::string> origin_dirs;
};

// Parses a file; a syntax error becomes an InputError "file:line:col: TOML syntax error: ...".
toml::table parse_toml_file(const std::string& path);

// "file:line:col" of a node, or "" when it has no source position.
std::string source_location(const toml::node& node);

class TableReader {
 public:
  // `self` is the node holding `table` (for its position); nullptr for the root.
  TableReader(const toml::table& table, std::string prefix, std::shared_ptr<const TomlContext> ctx,
              const toml::node* self = nullptr);

  bool has(std::string_view key) const;
  const toml::table& table() const { return *table_; }
  const std::string& prefix() const { return prefix_; }

  // Required when `fallback` is empty.
  double number(std::string_view key, std::optional<double> fallback = std::nullopt) const;
  std::int64_t integer(std::string_view key, std::optional<std::int64_t> fallback = std::nullopt) const;
  bool boolean(std::string_view key, std::optional<bool> fallback = std::nullopt) const;
  std::string string(std::string_view key, std::optional<std::string> fallback = std::nullopt) const;
  // A path: relative to the directory of the file that wrote it, or, for an
  // override, to the directory recorded for it (the current directory for --set).
  std::string path(std::string_view key, std::optional<std::string> fallback = std::nullopt) const;
  // A string that must be one of `allowed` (did-you-mean on a miss).
  std::string choice(std::string_view key, const std::vector<std::string>& allowed,
                     std::optional<std::string> fallback = std::nullopt) const;

  // Sub-table; an empty optional when absent and not required.
  std::optional<TableReader> sub(std::string_view key, bool required) const;
  // Array of tables (e.g. [[model.layers]] or an inline array of inline tables).
  std::vector<TableReader> table_array(std::string_view key) const;

  // Rejects keys not in `allowed`, with a suggestion.
  void reject_unknown(const std::vector<std::string>& allowed) const;

  // Throws InputError located at `key` (or at this table when the key is absent).
  [[noreturn]] void fail(std::string_view key, const std::string& what) const;

  std::string full_key(std::string_view key) const;
  std::string location(std::string_view key) const;

 private:
  const toml::node* node(std::string_view key) const;
  const toml::node& require(std::string_view key) const;
  [[noreturn]] void wrong_type(std::string_view key, const char* expected) const;
  // The override (exact key or an ancestor) that set `full`, or nullptr.
  const std::string* override_origin(const std::string& full, const std::map<std::string, std::string>& m) const;

  const toml::table* table_;
  std::string prefix_;
  std::shared_ptr<const TomlContext> ctx_;
  const toml::node* self_;
};

// The TOML type name of a node, for messages ("string", "integer", ...).
const char* toml_type_name(const toml::node& node);

}  // namespace gcsim
