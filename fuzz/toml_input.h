// The input of the four loader targets: a TOML document, written to the
// sandbox (fuzz/support.h) and read by the path-based loader. Leading lines
// of the form "#set key=value" (TOML comments, so the document still parses)
// are also passed as --set assignments, for the targets that take them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/support.h"

namespace gcsim::fuzz {

struct TomlInput {
  std::string path;
  std::vector<std::string> sets;
};

inline TomlInput write_toml_input(const std::uint8_t* data, std::size_t size, const std::string& name) {
  TomlInput in;
  in.path = Sandbox::get().write(name, data, size);
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  constexpr std::string_view kPrefix = "#set ";
  std::size_t at = 0;
  while (at < text.size() && text.substr(at, kPrefix.size()) == kPrefix) {
    const std::size_t eol = text.find('\n', at);
    const std::size_t end = eol == std::string_view::npos ? text.size() : eol;
    std::string_view line = text.substr(at + kPrefix.size(), end - at - kPrefix.size());
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    in.sets.emplace_back(line);
    at = eol == std::string_view::npos ? text.size() : eol + 1;
  }
  return in;
}

}  // namespace gcsim::fuzz
