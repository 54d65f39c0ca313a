// Training progress on stderr (see train_progress.h).
#include "tools/gcsim/train_progress.h"

#include <unistd.h>

#include <cstdio>

namespace gcsim::cli {

TrainProgress::TrainProgress(train::RunLog& log, int epochs, int workers, bool enabled, std::FILE* out)
    : log_(log),
      epochs_(epochs),
      workers_(workers),
      enabled_(enabled),
      out_(out),
      live_(enabled && isatty(fileno(out))) {}

void TrainProgress::on_resume(const train::ResumeRecord& r) {
  log_.on_resume(r);
  if (!enabled_) return;
  std::fprintf(out_, "resuming after epoch %zu of %d, step %llu (from %s)\n", r.epochs.size(), epochs_,
               static_cast<unsigned long long>(r.global_step), r.checkpoint_dir.c_str());
  std::fflush(out_);
}

void TrainProgress::on_step(const train::StepRecord& r) {
  log_.on_step(r);
  if (!live_) return;
  // Exponential average of the loss; throughput over the steps since the last draw.
  loss_avg_ = steps_in_window_ == 0 && !line_open_ ? r.loss : 0.95 * loss_avg_ + 0.05 * r.loss;
  images_ += static_cast<double>(r.samples) * workers_;
  busy_s_ += r.step_s;
  ++steps_in_window_;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(200) && r.step + 1 != r.steps_in_epoch) return;
  last_draw_ = now;
  constexpr int kWidth = 24;
  const int filled = (r.step + 1) * kWidth / r.steps_in_epoch;
  char bar[kWidth + 1];
  for (int i = 0; i < kWidth; ++i) bar[i] = i < filled ? '#' : '.';
  bar[kWidth] = '\0';
  std::fprintf(out_, "\r\033[Kepoch %d/%d [%s] step %d/%d  loss %.4f  %.0f img/s", r.epoch + 1, epochs_, bar,
               r.step + 1, r.steps_in_epoch, loss_avg_, busy_s_ > 0 ? images_ / busy_s_ : 0.0);
  std::fflush(out_);
  line_open_ = true;
  images_ = busy_s_ = 0.0;
  steps_in_window_ = 0;
}

void TrainProgress::on_epoch(const train::EpochRecord& r) {
  log_.on_epoch(r);
  if (!enabled_) return;
  if (line_open_) std::fputs("\r\033[K", out_);
  line_open_ = false;
  std::fprintf(out_, "epoch %d/%d: test accuracy %.2f %%, test loss %.4f, train loss %.4f, %.1f s\n", r.epoch,
               epochs_, 100.0 * r.test_accuracy, r.test_loss, r.train_loss, r.epoch_s);
}

void TrainProgress::finish() {
  if (line_open_) std::fputs("\n", out_);
  line_open_ = false;
}

}  // namespace gcsim::cli
