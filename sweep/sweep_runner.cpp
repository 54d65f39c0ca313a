#include "sweep/sweep_runner.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "config/input_error.h"
#include "sim/output/result_format.h"
#include "sweep/atomic_file.h"
#include "sweep/csv.h"
#include "sweep/progress_bar.h"
#include "sweep/thread_pool.h"

namespace gcsim {

namespace fs = std::filesystem;

namespace {

Columns row_columns(std::size_t point, const Scenario& s, const IterationResult& r) {
  Columns cols{{"point", std::to_string(point)}};
  for (auto& c : config_columns(s, r)) cols.push_back(std::move(c));
  for (auto& c : metric_columns(r)) cols.push_back(std::move(c));
  return cols;
}

// Rows of an earlier run of the same sweep, keyed by point. Rejects a file
// from another sweep (different header or different configuration columns).
std::map<std::size_t, std::string> read_previous(const std::string& path, const std::string& header,
                                                 const std::vector<Columns>& expected_config) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  std::string text = buf.str();
  std::map<std::size_t, std::string> rows;
  if (text.empty()) return rows;
  // A row cut off mid-write (no newline) is dropped; it will be run again.
  if (text.back() != '\n') text.erase(text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1);
  std::istringstream lines(text);
  std::string line;
  if (!std::getline(lines, line)) return rows;
  if (line != header)
    throw InputError(path, "", "its columns differ from this gcsim's; move it away or pass --force to overwrite");
  int lineno = 1;
  while (std::getline(lines, line)) {
    ++lineno;
    if (line.empty()) continue;
    const auto fields = split_csv_line(line);
    std::size_t point = 0;
    try {
      point = std::stoul(fields.at(0));
    } catch (...) {
      throw InputError(path + ":" + std::to_string(lineno), "", "malformed row (no point index)");
    }
    if (point >= expected_config.size())
      throw InputError(path + ":" + std::to_string(lineno), "",
                       "point " + std::to_string(point) + " is not in this sweep; it comes from another sweep");
    const Columns& want = expected_config[point];
    for (std::size_t i = 0; i < want.size(); ++i) {
      if (i + 1 >= fields.size() || fields[i + 1] != want[i].second)
        throw InputError(path + ":" + std::to_string(lineno), want[i].first,
                         "row for point " + std::to_string(point) + " has '" +
                             (i + 1 < fields.size() ? fields[i + 1] : std::string("")) + "', this sweep has '" +
                             want[i].second + "': the file comes from another sweep; use another --out or --force");
    }
    rows[point] = line;
  }
  return rows;
}

}  // namespace

SweepOutcome run_sweep(const SweepSpec& spec, const SweepOptions& opt, const Simulator& simulate) {
  SweepOutcome out;
  out.points = spec.point_count();

  // 1. Validate every point before touching the output directory.
  const ScenarioSource base = read_scenario_source(spec.base_path);
  std::vector<Scenario> scenarios;
  scenarios.reserve(out.points);
  for (std::size_t i = 0; i < out.points; ++i) scenarios.push_back(build_scenario(spec.point_source(base, i)));

  IterationResult blank;  // config columns need only the scenario and the backend
  blank.backend = opt.backend;
  std::vector<Columns> configs;
  for (const auto& s : scenarios) configs.push_back(config_columns(s, blank));
  const std::string header = csv_header(row_columns(0, scenarios.front(), blank));

  // 2. Output directory and what is already there.
  fs::create_directories(opt.out_dir);
  out.results_csv = (fs::path(opt.out_dir) / "results.csv").string();
  std::map<std::size_t, std::string> done;
  if (fs::exists(out.results_csv)) {
    if (opt.resume) {
      done = read_previous(out.results_csv, header, configs);
    } else if (!opt.force) {
      throw InputError(out.results_csv, "", "already exists; pass --resume to continue that sweep or --force to overwrite it");
    }
  }
  out.resumed = done.size();

  auto ordered_content = [&] {
    std::string s = header + "\n";
    for (const auto& [p, row] : done) s += row + "\n";
    return s;
  };
  write_file_atomically(out.results_csv, ordered_content());  // header + kept rows, nothing half-written

  std::vector<std::size_t> todo;
  for (std::size_t i = 0; i < out.points; ++i)
    if (!done.count(i)) todo.push_back(i);

  // 3. Run; append each row as it finishes.
  std::FILE* f = std::fopen(out.results_csv.c_str(), "ab");
  if (!f) throw std::runtime_error("cannot append to " + out.results_csv);
  std::mutex mu;
  ProgressBar bar(todo.size(), "sweep " + spec.name, opt.progress);
  try {
    run_on_pool(todo.size(), opt.jobs, [&](std::size_t j) {
      const std::size_t p = todo[j];
      const IterationResult r = simulate(scenarios[p]);
      const std::string row = csv_row(row_columns(p, scenarios[p], r));
      {
        std::lock_guard<std::mutex> lock(mu);
        const std::string line = row + "\n";
        std::fwrite(line.data(), 1, line.size(), f);
        std::fflush(f);
        done[p] = row;
      }
      bar.advance();
    });
  } catch (...) {
    std::fclose(f);
    throw;
  }
  std::fclose(f);
  bar.finish();
  out.ran = todo.size();

  // 4. Final file in point order.
  write_file_atomically(out.results_csv, ordered_content());
  return out;
}

}  // namespace gcsim
