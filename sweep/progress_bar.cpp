#include "sweep/progress_bar.h"

#include <unistd.h>

#include <cstdio>

namespace gcsim {

bool ProgressBar::stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

ProgressBar::ProgressBar(std::size_t total, std::string label, bool enabled)
    : total_(total), label_(std::move(label)), enabled_(enabled), start_(std::chrono::steady_clock::now()) {
  if (enabled_) draw();
}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::advance(std::size_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  done_ += n;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (done_ == total_ || now - last_draw_ > std::chrono::milliseconds(100)) draw();
}

void ProgressBar::finish() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!enabled_ || finished_) return;
  finished_ = true;
  draw();
  std::fputc('\n', stderr);
}

void ProgressBar::draw() {
  last_draw_ = std::chrono::steady_clock::now();
  const double frac = total_ ? static_cast<double>(done_) / static_cast<double>(total_) : 1.0;
  const int width = 30;
  const int filled = static_cast<int>(frac * width);
  const double elapsed = std::chrono::duration<double>(last_draw_ - start_).count();
  const double eta = done_ > 0 ? elapsed * (static_cast<double>(total_) / static_cast<double>(done_) - 1.0) : 0.0;
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.resize(width, '.');
  std::fprintf(stderr, "\r%s [%s] %zu/%zu %3.0f%%  %.1fs elapsed, ~%.1fs left ", label_.c_str(), bar.c_str(), done_,
               total_, frac * 100.0, elapsed, eta);
  std::fflush(stderr);
}

}  // namespace gcsim
