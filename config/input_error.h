// Bad user input: one exception type whose message is the whole one-line
// diagnostic, "where: key: what" (where = file:line:col, or the CLI flag).
#pragma once

#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>

namespace gcsim {

// `s` with its control characters escaped (newline as \n, tab as \t, carriage
// return as \r, others and DEL as \xHH), so that a message quoting user input
// stays on one line. Other bytes (UTF-8 included) are kept; applying it twice
// changes nothing more.
inline std::string one_line(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& message) : std::runtime_error(one_line(message)) {}
  InputError(const std::string& where, const std::string& key, const std::string& what)
      : std::runtime_error(one_line(format(where, key, what))) {}

 private:
  static std::string format(const std::string& where, const std::string& key, const std::string& what) {
    std::string m = where;
    if (!key.empty()) m += (m.empty() ? "" : ": ") + key;
    return m + (m.empty() ? "" : ": ") + what;
  }
};

}  // namespace gcsim
