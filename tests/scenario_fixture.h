// Shared by the scenario loader's tests (tests/config_test.cpp) and the bounds
// tests (tests/bounds_test.cpp): a valid scenario to break one thing at a time,
// a per-process temporary folder, and the one-line message of loading a text.
#pragma once

#include <unistd.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "config/input_error.h"
#include "config/scenario_loader.h"

namespace gcsim::test {

// A valid scenario; tests break one thing at a time.
inline const std::string kValidScenario = R"(name = "t"
[model]
name = "resnet50"
batch_per_worker = 32

[compute]
forward_backward_ms = 100.0

[cluster]
workers = 8
[cluster.inter_node]
bandwidth_gbps = 10.0
latency_us = 5.0

[compression]
method = "topk"
ratio = 0.01
)";

// One folder per process: ctest -j runs test cases of this binary side by side.
inline std::filesystem::path temp_dir() {
  const auto dir = std::filesystem::temp_directory_path() / ("gcsim_config_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir;
}

inline std::string write_temp(const std::string& name, const std::string& text) {
  const auto p = temp_dir() / name;
  std::ofstream(p) << text;
  return p.string();
}

// `s` with its first `from` replaced by `to` (which must be there).
inline std::string replace(std::string s, const std::string& from, const std::string& to) {
  const auto pos = s.find(from);
  REQUIRE(pos != std::string::npos);
  return s.replace(pos, from.size(), to);
}

inline bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// The shipped default profile's text (scenarios/profiles/default.toml).
inline std::string default_profile_text() {
  std::ifstream in(std::string(GCSIM_SOURCE_DIR) + "/scenarios/profiles/default.toml");
  std::stringstream ss;
  ss << in.rdbuf();
  REQUIRE(!ss.str().empty());
  return ss.str();
}

// The one-line message of loading `text` with `sets` for `backend`, or "" when it loads.
inline std::string error_of(const std::string& text, const std::vector<std::string>& sets = {},
                            const std::string& backend = "des") {
  const std::string path = write_temp("s.toml", text);
  try {
    load_scenario(path, sets, backend);
  } catch (const InputError& e) {
    const std::string m = e.what();
    CHECK(m.find('\n') == std::string::npos);
    return m;
  }
  return "";
}

}  // namespace gcsim::test
