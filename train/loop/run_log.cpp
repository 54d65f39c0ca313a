// CSV logs and the end-of-run summary (see run_log.h).
#include "train/loop/run_log.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include "sim/output/result_format.h"
#include "train/loop/whole_file.h"

namespace gcsim::train {

namespace {

constexpr const char* kStepsHeader =
    "epoch,step,global_step,samples,loss,correct,data_s,compute_s,wait_s,compress_s,communicate_s,"
    "decompress_s,optimizer_s,step_s,bytes_sent,entries_sent\n";
constexpr const char* kBucketsHeader =
    "global_step,order,bucket,ready_s,start_s,end_s,compress_s,communicate_s,decompress_s,bytes_sent\n";
constexpr const char* kFillInHeader = "global_step,bucket,n,k,ranks,nonzeros,dense\n";
constexpr const char* kEpochsHeader =
    "epoch,global_step,train_loss,train_accuracy,test_loss,test_accuracy,epoch_s,bytes_sent_cumulative\n";

std::FILE* open_csv(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (!f) throw std::runtime_error(path + ": cannot create: " + std::strerror(errno));
  return f;
}

// The comma-separated fields of a whole line (one that ended in a newline).
std::vector<std::string> fields_of(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  for (std::string f; std::getline(ss, f, ',');) out.push_back(f);
  return out;
}

// The whole lines of a file after its header (a cut-off last line is dropped).
std::vector<std::string> rows_of(const std::string& path) {
  std::ifstream f(path);
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::vector<std::string> rows;
  std::size_t at = text.find('\n');
  while (at != std::string::npos) {
    const std::size_t end = text.find('\n', at + 1);
    if (end == std::string::npos) break;
    rows.push_back(text.substr(at + 1, end - at - 1));
    at = end;
  }
  return rows;
}

std::string epoch_row(const EpochRecord& r, const std::string& epoch_s) {
  char line[256];
  std::snprintf(line, sizeof line, "%d,%llu,%.6f,%.6f,%.6f,%.6f,%s,%llu\n", r.epoch,
                static_cast<unsigned long long>(r.global_step), r.train_loss, r.train_accuracy, r.test_loss,
                r.test_accuracy, epoch_s.c_str(), static_cast<unsigned long long>(r.bytes_sent));
  return line;
}

std::string seconds(double s) {
  char b[32];
  std::snprintf(b, sizeof b, "%.4f", s);
  return b;
}

}  // namespace

RunLog::RunLog(const std::string& dir, int rank) : rank_(rank) {
  namespace fs = std::filesystem;
  steps_path_ = (fs::path(dir) / ("steps-rank" + std::to_string(rank) + ".csv")).string();
  fill_in_path_ = (fs::path(dir) / "fill-in.csv").string();
  buckets_path_ = (fs::path(dir) / ("buckets-rank" + std::to_string(rank) + ".csv")).string();
  steps_file_ = open_csv(steps_path_);
  put(steps_file_, steps_path_, kStepsHeader);
  buckets_file_ = open_csv(buckets_path_);
  put(buckets_file_, buckets_path_, kBucketsHeader);
  if (rank == 0) {
    epochs_path_ = (fs::path(dir) / "epochs.csv").string();
    epochs_file_ = open_csv(epochs_path_);
    put(epochs_file_, epochs_path_, kEpochsHeader);
  }
}

void RunLog::put(std::FILE* f, const std::string& path, const std::string& row) {
  errno = 0;
  if (std::fputs(row.c_str(), f) < 0 || std::fflush(f) != 0)
    throw std::runtime_error(path + ": cannot write: " + std::strerror(errno ? errno : EIO));
}

void RunLog::on_resume(const ResumeRecord& r) {
  namespace fs = std::filesystem;
  const fs::path earlier = fs::path(r.checkpoint_dir).parent_path();
  if (epochs_file_) {
    std::map<std::string, std::string> times;  // epoch -> epoch_s of the earlier run's rows
    for (const auto& row : rows_of((earlier / "epochs.csv").string()))
      if (const auto f = fields_of(row); f.size() == 8) times[f[0]] = f[6];
    for (const auto& e : r.epochs) {
      const auto t = times.find(std::to_string(e.epoch));
      put(epochs_file_, epochs_path_, epoch_row(e, t != times.end() ? t->second : seconds(0.0)));
    }
  }
  for (const auto& row : rows_of((earlier / ("steps-rank" + std::to_string(rank_) + ".csv")).string())) {
    const auto f = fields_of(row);
    if (f.size() != 16) continue;
    char* end = nullptr;
    const unsigned long long step = std::strtoull(f[2].c_str(), &end, 10);
    if (end == f[2].c_str() || *end != '\0' || step > r.global_step) continue;
    put(steps_file_, steps_path_, row + "\n");
  }
}

RunLog::~RunLog() {
  if (steps_file_) std::fclose(steps_file_);
  if (buckets_file_) std::fclose(buckets_file_);
  if (epochs_file_) std::fclose(epochs_file_);
  if (fill_in_file_) std::fclose(fill_in_file_);
}

void RunLog::on_step(const StepRecord& r) {
  steps_.push_back(r);
  char line[512];
  std::snprintf(line, sizeof line, "%d,%d,%llu,%d,%.6f,%d,%.6e,%.6e,%.6e,%.6e,%.6e,%.6e,%.6e,%.6e,%llu,%zu\n",
                r.epoch + 1, r.step + 1, static_cast<unsigned long long>(r.global_step), r.samples, r.loss, r.correct,
                r.data_s, r.compute_s, r.wait_s, r.compress_s, r.communicate_s, r.decompress_s, r.optimizer_s,
                r.step_s, static_cast<unsigned long long>(r.bytes_sent), r.entries_sent);
  put(steps_file_, steps_path_, line);
  std::string rows;
  for (const BucketTiming& b : r.buckets) {
    std::snprintf(line, sizeof line, "%llu,%zu,%zu,%.6e,%.6e,%.6e,%.6e,%.6e,%.6e,%llu\n",
                  static_cast<unsigned long long>(r.global_step), b.order, b.bucket, b.ready_s, b.start_s, b.end_s,
                  b.compress_s, b.communicate_s, b.decompress_s, static_cast<unsigned long long>(b.bytes_sent));
    rows += line;
  }
  if (!rows.empty()) put(buckets_file_, buckets_path_, rows);
  rows.clear();
  steps_.back().merges.clear();  // written above and below, not kept
  steps_.back().buckets.clear();
  if (rank_ != 0 || r.merges.empty()) return;
  if (!fill_in_file_) {
    fill_in_file_ = open_csv(fill_in_path_);
    put(fill_in_file_, fill_in_path_, kFillInHeader);
  }
  for (const compress::MergeSize& m : r.merges) {
    std::snprintf(line, sizeof line, "%llu,%zu,%zu,%zu,%d,%zu,%d\n", static_cast<unsigned long long>(r.global_step),
                  m.bucket, m.n, m.k, m.ranks, m.nonzeros, m.dense ? 1 : 0);
    rows += line;
  }
  put(fill_in_file_, fill_in_path_, rows);
}

void RunLog::on_epoch(const EpochRecord& r) {
  epochs_.push_back(r);
  if (!epochs_file_) return;
  put(epochs_file_, epochs_path_, epoch_row(r, seconds(r.epoch_s)));
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
    << ",\n  \"method\": \"" << s.method << "\",\n  \"variant\": \"" << json_escape(s.variant)
    << "\",\n  \"auto_choice\": \"" << json_escape(s.auto_choice) << "\",\n  \"ratio\": " << s.ratio
    << ",\n  \"error_feedback\": " << (s.error_feedback ? "true" : "false")
    << ",\n  \"momentum_correction\": " << (s.momentum_correction ? "true" : "false") << ",\n  \"epochs\": " << s.epochs
    << ",\n  \"epochs_run\": " << s.result.epochs.size() << ",\n  \"global_steps\": " << s.result.global_steps
    << ",\n  \"emulated\": " << (s.emulated ? "true" : "false") << ",\n  \"stopped_early\": " << (s.result.stopped ? "true" : "false")
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
                s.backend.c_str(), s.batch_per_worker, (s.variant.empty() ? s.method : s.variant).c_str());
  t << line;
  if (s.method != "none") {
    std::snprintf(line, sizeof line, ", error feedback %s%s", s.error_feedback ? "on" : "off",
                  s.momentum_correction ? ", momentum correction" : "");
    t << line;
  }
  t << "\n";
  if (!s.auto_choice.empty()) t << "auto            " << s.auto_choice << "\n";
  if (s.emulated) {
    std::snprintf(line, sizeof line, "progress        %llu steps of emulated compute (no model: no accuracy)\n",
                  static_cast<unsigned long long>(s.result.global_steps));
  } else {
    std::snprintf(line, sizeof line, "progress        %zu of %d epochs, %llu steps%s\n", s.result.epochs.size(),
                  s.epochs, static_cast<unsigned long long>(s.result.global_steps),
                  s.result.stopped ? " (stopped early; checkpoint saved)" : "");
  }
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
                                   std::pair<const char*, std::string>{"summary.txt", t.str()}})
    write_whole_file((fs::path(dir) / name).string(), text);
  return t.str();
}

}  // namespace gcsim::train
