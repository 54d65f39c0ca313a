// CSV logs and the end-of-run summary (see run_log.h).
#include "train/run_log.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "sim/output/result_format.h"

namespace gcsim::train {

namespace {

std::FILE* open_csv(const std::string& path, const char* header) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (!f) throw std::runtime_error(path + ": cannot create");
  std::fputs(header, f);
  std::fflush(f);
  return f;
}

}  // namespace

RunLog::RunLog(const std::string& dir, int rank) {
  namespace fs = std::filesystem;
  steps_file_ = open_csv((fs::path(dir) / ("steps-rank" + std::to_string(rank) + ".csv")).string(),
                         "epoch,step,global_step,samples,loss,correct,data_s,compute_s,wait_s,compress_s,communicate_s,"
                         "decompress_s,optimizer_s,step_s,bytes_sent,entries_sent\n");
  if (rank == 0)
    epochs_file_ = open_csv((fs::path(dir) / "epochs.csv").string(),
                            "epoch,global_step,train_loss,train_accuracy,test_loss,test_accuracy,epoch_s,"
                            "bytes_sent_cumulative\n");
}

RunLog::~RunLog() {
  if (steps_file_) std::fclose(steps_file_);
  if (epochs_file_) std::fclose(epochs_file_);
}

void RunLog::on_step(const StepRecord& r) {
  steps_.push_back(r);
  std::fprintf(steps_file_, "%d,%d,%llu,%d,%.6f,%d,%.6e,%.6e,%.6e,%.6e,%.6e,%.6e,%.6e,%.6e,%llu,%zu\n", r.epoch + 1,
               r.step + 1, static_cast<unsigned long long>(r.global_step), r.samples, r.loss, r.correct, r.data_s,
               r.compute_s, r.wait_s, r.compress_s, r.communicate_s, r.decompress_s, r.optimizer_s, r.step_s,
               static_cast<unsigned long long>(r.bytes_sent), r.entries_sent);
  std::fflush(steps_file_);
}

void RunLog::on_epoch(const EpochRecord& r) {
  epochs_.push_back(r);
  if (!epochs_file_) return;
  std::fprintf(epochs_file_, "%d,%llu,%.6f,%.6f,%.6f,%.6f,%.4f,%llu\n", r.epoch,
               static_cast<unsigned long long>(r.global_step), r.train_loss, r.train_accuracy, r.test_loss,
               r.test_accuracy, r.epoch_s, static_cast<unsigned long long>(r.bytes_sent));
  std::fflush(epochs_file_);
}

StepBreakdown mean_breakdown(const std::vector<StepRecord>& steps, int warmup) {
  StepBreakdown b;
  const std::size_t skip = steps.size() > static_cast<std::size_t>(warmup) ? static_cast<std::size_t>(warmup) : 0;
  for (std::size_t i = skip; i < steps.size(); ++i) {
    const auto& r = steps[i];
    b.data_s += r.data_s;
    b.compute_s += r.compute_s;
    b.wait_s += r.wait_s;
    b.compress_s += r.compress_s;
    b.communicate_s += r.communicate_s;
    b.decompress_s += r.decompress_s;
    b.optimizer_s += r.optimizer_s;
    b.step_s += r.step_s;
    b.bytes_per_step += static_cast<double>(r.bytes_sent);
    ++b.steps;
  }
  if (b.steps > 0) {
    const double n = b.steps;
    for (double* v : {&b.data_s, &b.compute_s, &b.wait_s, &b.compress_s, &b.communicate_s, &b.decompress_s, &b.optimizer_s,
                      &b.step_s, &b.bytes_per_step})
      *v /= n;
  }
  return b;
}

std::string write_summary(const std::string& dir, const RunSummary& s) {
  namespace fs = std::filesystem;
  const auto& b = s.breakdown;
  const EpochRecord* last = s.result.epochs.empty() ? nullptr : &s.result.epochs.back();
  double best = 0.0;
  for (const auto& e : s.result.epochs) best = std::max(best, e.test_accuracy);
  const double images_per_s = b.step_s > 0 ? s.workers * s.batch_per_worker / b.step_s : 0.0;

  std::ostringstream j;
  j.precision(8);
  j << "{\n  \"scenario\": \"" << json_escape(s.scenario) << "\",\n  \"backend\": \"" << s.backend
    << "\",\n  \"device\": \"" << json_escape(s.device) << "\",\n  \"workers\": " << s.workers << ",\n  \"batch_per_worker\": " << s.batch_per_worker
    << ",\n  \"method\": \"" << s.method << "\",\n  \"ratio\": " << s.ratio
    << ",\n  \"error_feedback\": " << (s.error_feedback ? "true" : "false")
    << ",\n  \"momentum_correction\": " << (s.momentum_correction ? "true" : "false") << ",\n  \"epochs\": " << s.epochs
    << ",\n  \"epochs_run\": " << s.result.epochs.size() << ",\n  \"global_steps\": " << s.result.global_steps
    << ",\n  \"stopped_early\": " << (s.result.stopped ? "true" : "false")
    << ",\n  \"replicas_identical\": " << (s.result.replicas_identical ? "true" : "false")
    << ",\n  \"final_test_accuracy\": " << (last ? last->test_accuracy : 0.0)
    << ",\n  \"best_test_accuracy\": " << best << ",\n  \"final_test_loss\": " << (last ? last->test_loss : 0.0)
    << ",\n  \"bytes_sent_rank0\": " << (last ? last->bytes_sent : 0) << ",\n  \"mean_step\": {\"steps\": " << b.steps
    << ", \"data_s\": " << b.data_s << ", \"compute_s\": " << b.compute_s << ", \"wait_s\": " << b.wait_s << ", \"compress_s\": " << b.compress_s
    << ", \"communicate_s\": " << b.communicate_s << ", \"decompress_s\": " << b.decompress_s
    << ", \"optimizer_s\": " << b.optimizer_s << ", \"step_s\": " << b.step_s
    << ", \"bytes_sent\": " << b.bytes_per_step << "},\n  \"images_per_s\": " << images_per_s
    << ",\n  \"wall_s\": " << s.wall_s << ",\n  \"command\": \"" << json_escape(s.command) << "\"\n}\n";

  std::ostringstream t;
  char line[256];
  t << "scenario        " << s.scenario << "\n";
  t << "model on        " << s.device << "\n";
  std::snprintf(line, sizeof line, "run             %d workers (%s), batch %d per worker, %s", s.workers,
                s.backend.c_str(), s.batch_per_worker, s.method.c_str());
  t << line;
  if (s.method != "none") {
    std::snprintf(line, sizeof line, " ratio %g, error feedback %s%s", s.ratio, s.error_feedback ? "on" : "off",
                  s.momentum_correction ? ", momentum correction" : "");
    t << line;
  }
  t << "\n";
  std::snprintf(line, sizeof line, "progress        %zu of %d epochs, %llu steps%s\n", s.result.epochs.size(),
                s.epochs, static_cast<unsigned long long>(s.result.global_steps),
                s.result.stopped ? " (stopped early; checkpoint saved)" : "");
  t << line;
  if (last) {
    std::snprintf(line, sizeof line, "test accuracy   %.2f %% (best %.2f %%), test loss %.4f\n",
                  100.0 * last->test_accuracy, 100.0 * best, last->test_loss);
    t << line;
  }
  std::snprintf(line, sizeof line,
                "mean step       %.2f ms: data %.2f, compute %.2f, wait %.2f, compress %.2f, communicate %.2f, "
                "decompress %.2f, optimizer %.2f (over %d steps)\n",
                1e3 * b.step_s, 1e3 * b.data_s, 1e3 * b.compute_s, 1e3 * b.wait_s, 1e3 * b.compress_s, 1e3 * b.communicate_s,
                1e3 * b.decompress_s, 1e3 * b.optimizer_s, b.steps);
  t << line;
  std::snprintf(line, sizeof line, "bytes sent      %.1f KB per step per worker, %.2f MB in all (rank 0)\n",
                b.bytes_per_step / 1e3, last ? static_cast<double>(last->bytes_sent) / 1e6 : 0.0);
  t << line;
  std::snprintf(line, sizeof line, "throughput      %.0f images/s; wall %.1f s; replicas identical: %s\n",
                images_per_s, s.wall_s, s.result.replicas_identical ? "yes" : "NO");
  t << line;

  for (const auto& [name, text] : {std::pair<const char*, std::string>{"summary.json", j.str()},
                                   std::pair<const char*, std::string>{"summary.txt", t.str()}}) {
    std::ofstream f(fs::path(dir) / name);
    f << text;
    if (!f) throw std::runtime_error((fs::path(dir) / name).string() + ": cannot write");
  }
  return t.str();
}

}  // namespace gcsim::train
