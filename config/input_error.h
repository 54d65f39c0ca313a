// Bad user input: one exception type whose message is the whole one-line
// diagnostic, "where: key: what" (where = file:line:col, or the CLI flag).
#pragma once

#include <stdexcept>
#include <string>

namespace gcsim {

class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& message) : std::runtime_error(message) {}
  InputError(const std::string& where, const std::string& key, const std::string& what)
      : std::runtime_error(format(where, key, what)) {}

 private:
  static std::string format(const std::string& where, const std::string& key, const std::string& what) {
    std::string m = where;
    if (!key.empty()) m += (m.empty() ? "" : ": ") + key;
    return m + (m.empty() ? "" : ": ") + what;
  }
};

}  // namespace gcsim
