// Measured points (see measured_run.h).
#include "validate/measured_run.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include "sim/percentile.h"

extern char** environ;

namespace gcsim {

namespace {

namespace fs = std::filesystem;

// Rows of a CSV with the given header columns, as numbers by column name.
std::vector<std::map<std::string, double>> read_rows(const std::string& path, const std::vector<std::string>& need) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot read (the run did not write it)");
  std::string line;
  if (!std::getline(in, line)) throw std::runtime_error(path + ": empty");
  std::vector<std::string> header;
  {
    std::stringstream ss(line);
    for (std::string f; std::getline(ss, f, ',');) header.push_back(f);
  }
  for (const auto& n : need)
    if (std::find(header.begin(), header.end(), n) == header.end())
      throw std::runtime_error(path + ": no column '" + n + "'");
  std::vector<std::map<std::string, double>> rows;
  int lineno = 1;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty()) continue;
    std::stringstream ss(line);
    std::map<std::string, double> row;
    std::size_t i = 0;
    for (std::string f; std::getline(ss, f, ',') && i < header.size(); ++i) {
      char* end = nullptr;
      const double v = std::strtod(f.c_str(), &end);
      if (end == f.c_str() || *end != '\0' || !std::isfinite(v))
        throw std::runtime_error(path + ":" + std::to_string(lineno) + ": '" + f + "' in column " + header[i] +
                                 " is not a number");
      row[header[i]] = v;
    }
    if (i != header.size()) throw std::runtime_error(path + ":" + std::to_string(lineno) + ": too few fields");
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace

MeasuredRun read_measured_run(const std::string& run_dir, int workers, int warmup) {
  MeasuredRun m;
  std::vector<std::vector<std::map<std::string, double>>> ranks;
  for (int r = 0; r < workers; ++r)
    ranks.push_back(read_rows((fs::path(run_dir) / ("steps-rank" + std::to_string(r) + ".csv")).string(),
                              {"global_step", "compute_s", "wait_s", "compress_s", "communicate_s", "decompress_s",
                               "optimizer_s", "step_s", "bytes_sent"}));
  std::size_t steps = ranks[0].size();
  for (const auto& r : ranks) steps = std::min(steps, r.size());
  if (steps == 0) throw std::runtime_error(run_dir + ": the run recorded no steps");
  const std::size_t skip = steps > static_cast<std::size_t>(warmup) ? static_cast<std::size_t>(warmup) : 0;
  std::vector<double> per_step;
  double n = 0.0;
  for (std::size_t i = skip; i < steps; ++i) {
    double sum = 0.0;
    for (const auto& r : ranks) {
      const auto& row = r[i];
      sum += row.at("step_s") - row.at("wait_s");
      m.compute_s += row.at("compute_s");
      m.optimizer_s += row.at("optimizer_s");
      m.compress_s += row.at("compress_s");
      m.communicate_s += row.at("communicate_s");
      m.decompress_s += row.at("decompress_s");
      m.bytes_per_step += row.at("bytes_sent");
      n += 1.0;
    }
    per_step.push_back(sum / workers);
  }
  for (double* v : {&m.compute_s, &m.optimizer_s, &m.compress_s, &m.communicate_s, &m.decompress_s, &m.bytes_per_step})
    *v /= n;
  m.steps = static_cast<int>(per_step.size());
  m.step_s = percentile(per_step, 0.5);
  m.step_p90_s = percentile(per_step, 0.9);

  const auto rows = read_rows((fs::path(run_dir) / "buckets-rank0.csv").string(),
                              {"global_step", "order", "ready_s", "start_s", "end_s"});
  const double first_step = static_cast<double>(ranks[0][skip].at("global_step"));
  std::map<std::size_t, std::vector<const std::map<std::string, double>*>> by_order;
  for (const auto& row : rows)
    if (row.at("global_step") >= first_step) by_order[static_cast<std::size_t>(row.at("order"))].push_back(&row);
  for (std::size_t b = 0; b < by_order.size(); ++b) {
    const auto it = by_order.find(b);
    if (it == by_order.end()) throw std::runtime_error(run_dir + "/buckets-rank0.csv: no rows for bucket order " + std::to_string(b));
    std::vector<double> ready, start, end;
    for (const auto* row : it->second) {
      ready.push_back(row->at("ready_s"));
      start.push_back(row->at("start_s"));
      end.push_back(row->at("end_s"));
    }
    m.buckets.push_back({percentile(ready, 0.5), percentile(start, 0.5), percentile(end, 0.5)});
  }
  return m;
}

std::string repeat_dir(const std::string& run_dir, int k) {
  return k == 0 ? run_dir : run_dir + ".rep-" + std::to_string(k + 1);
}

MeasuredRun median_of_repeats(const std::vector<MeasuredRun>& runs) {
  if (runs.empty()) throw std::invalid_argument("median_of_repeats: no runs");
  const auto median = [&](auto field) {
    std::vector<double> v;
    for (const MeasuredRun& r : runs) v.push_back(field(r));
    return percentile(v, 0.5);
  };
  MeasuredRun m;
  for (const MeasuredRun& r : runs) {
    m.steps += r.steps;
    m.repeat_step_s.push_back(r.step_s);
  }
  for (double MeasuredRun::*f : {&MeasuredRun::step_s, &MeasuredRun::step_p90_s, &MeasuredRun::compute_s,
                                 &MeasuredRun::optimizer_s, &MeasuredRun::compress_s, &MeasuredRun::communicate_s,
                                 &MeasuredRun::decompress_s, &MeasuredRun::bytes_per_step})
    m.*f = median([f](const MeasuredRun& r) { return r.*f; });
  const std::size_t nb = runs[0].buckets.size();
  if (std::all_of(runs.begin(), runs.end(), [nb](const MeasuredRun& r) { return r.buckets.size() == nb; })) {
    for (std::size_t b = 0; b < nb; ++b) {
      MeasuredBucket mb;
      for (double MeasuredBucket::*f : {&MeasuredBucket::ready_s, &MeasuredBucket::start_s, &MeasuredBucket::end_s})
        mb.*f = median([b, f](const MeasuredRun& r) { return r.buckets[b].*f; });
      m.buckets.push_back(mb);
    }
  } else {
    m.buckets = runs[0].buckets;
  }
  return m;
}

MeasuredRun read_measured_repeats(const std::string& run_dir, int workers, int warmup) {
  std::vector<MeasuredRun> runs;
  for (int k = 0;; ++k) {
    const std::string dir = repeat_dir(run_dir, k);
    std::error_code ec;
    if (k > 0 && !fs::is_directory(dir, ec)) break;
    runs.push_back(read_measured_run(dir, workers, warmup));
  }
  return median_of_repeats(runs);
}

int run_logged(const std::vector<std::string>& argv_s, const std::string& log_path) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::vector<std::string> copy = argv_s;
  std::vector<char*> argv;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw std::runtime_error("cannot start " + argv_s[0] + ": " + std::strerror(rc));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) throw std::runtime_error("waitpid: " + std::string(std::strerror(errno)));
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

}  // namespace gcsim
