// A progress bar on stderr when it is a terminal; silent otherwise.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>

namespace gcsim {

class ProgressBar {
 public:
  ProgressBar(std::size_t total, std::string label, bool enabled);
  ~ProgressBar();
  void advance(std::size_t n = 1);  // thread-safe
  void finish();

  static bool stderr_is_terminal();

 private:
  void draw();
  std::mutex mu_;
  std::size_t total_;
  std::size_t done_ = 0;
  std::string label_;
  bool enabled_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace gcsim
