// gcsim validate SWEEP.toml --out DIR [--resume | --force] [options]
//
// Every point of the sweep twice: predicted by the DES, and measured by
// `gcsim train --sweep-point N` (its compute emulated or real, as the point
// says) on the emulated cluster tools/netem.sh builds from the point's
// [cluster] (validate/emulated_cluster.h). One row per point in
// DIR/results.csv (the sweep's configuration columns, then the prediction,
// the measurement and their relative errors: validate/validation_row.h, then
// the axis columns and config_hash), with the sweep's rules: every point
// validated before anything runs, rows appended as points finish, --resume
// skipping the points done, DIR/.lock, the final file written atomically.
// Each measured run is kept in DIR/runs/point-N (its logs and
// buckets-compared.csv), its output in DIR/runs/point-N.log; with --repeats K
// the point's K - 1 further runs in DIR/runs/point-N.rep-2 ... .rep-K, and the
// row compares the prediction with the medians over the K. At the end:
// DIR/summary.txt (median, p90, max of |step time error|) and, with
// matplotlib, DIR/validation.png (tools/plot_validation.py).
#include <boost/program_options.hpp>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "config/input_error.h"
#include "config/scenario_loader.h"
#include "config/sweep_loader.h"
#include "sim/des/training_sim.h"
#include "sweep/atomic_file.h"
#include "sweep/csv.h"
#include "sweep/progress_bar.h"
#include "sweep/sweep_runner.h"
#include "topology/cluster_topology.h"
#include "tools/gcsim/cli.h"
#include "validate/emulated_cluster.h"
#include "validate/host_check.h"
#include "validate/measured_run.h"
#include "validate/validation_row.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace gcsim::cli {

namespace {

std::string self_exe() {
  std::error_code ec;
  const fs::path p = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("cannot find this gcsim's path (/proc/self/exe): " + ec.message());
  return p.string();
}

// What an interrupted earlier run left of point N (no row for it): its run
// directory, train's partial directories and its log. All are validate's own.
void remove_leftovers(const fs::path& runs, const std::string& stem) {
  std::error_code ec;
  for (fs::directory_iterator it(runs, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name == stem || name == stem + ".log" || name.rfind(stem + ".partial-", 0) == 0 ||
        name.rfind(stem + ".rep-", 0) == 0)
      fs::remove_all(it->path(), ec);
  }
}

std::string bucket_comparison_csv(const DesRun& p, const MeasuredRun& m) {
  std::string out =
      "order,predicted_ready_s,measured_ready_s,predicted_collective_start_s,measured_start_s,predicted_end_s,"
      "measured_end_s\n";
  for (std::size_t b = 0; b < std::max(p.buckets.size(), m.buckets.size()); ++b) {
    const auto pv = [&](double BucketSpan::*f) { return b < p.buckets.size() ? format_number(p.buckets[b].*f) : ""; };
    const auto mv = [&](double MeasuredBucket::*f) { return b < m.buckets.size() ? format_number(m.buckets[b].*f) : ""; };
    out += std::to_string(b) + "," + pv(&BucketSpan::ready_s) + "," + mv(&MeasuredBucket::ready_s) + "," +
           pv(&BucketSpan::collective_start_s) + "," + mv(&MeasuredBucket::start_s) + "," + pv(&BucketSpan::end_s) +
           "," + mv(&MeasuredBucket::end_s) + "\n";
  }
  return out;
}

// An earlier validate's measurements (--measured-from DIR): its rows by
// point, each checked against this sweep's point before anything runs.
struct Earlier {
  std::string dir, csv;
  std::vector<std::string> header;
  std::map<std::size_t, std::vector<std::string>> rows;
};

Earlier read_earlier(const std::string& dir) {
  Earlier e;
  e.dir = dir;
  e.csv = (fs::path(dir) / "results.csv").string();
  std::ifstream in(e.csv);
  if (!in) throw InputError("--measured-from " + dir, "", "has no results.csv (not a gcsim validate directory)");
  std::string line;
  if (std::getline(in, line)) e.header = split_csv_line(line);
  for (int lineno = 2; std::getline(in, line); ++lineno) {
    if (line.empty()) continue;
    auto f = split_csv_line(line);
    if (f.size() != e.header.size() || f.empty())
      throw InputError(e.csv + ":" + std::to_string(lineno), "", "malformed row");
    e.rows[static_cast<std::size_t>(std::stoul(f[0]))] = std::move(f);
  }
  return e;
}

// The earlier row of `point` must describe the same point: every
// configuration column and swept key equal (what was measured; the profile,
// swept or not, and the model's options are the prediction's and may differ).
void check_earlier(const Earlier& e, std::size_t point, const Columns& identity) {
  const auto it = e.rows.find(point);
  if (it == e.rows.end())
    throw InputError(e.csv, "", "has no row for point " + std::to_string(point) + ": it was not measured there");
  for (const auto& [key, value] : identity) {
    const auto col = std::find(e.header.begin(), e.header.end(), key);
    const std::string was = col == e.header.end() ? "(no such column)" : it->second[static_cast<std::size_t>(col - e.header.begin())];
    if (was != value)
      throw InputError(e.csv, key, "point " + std::to_string(point) + " was measured with '" + was + "', this sweep's has '" +
                                       value + "': not this sweep's point");
  }
  std::error_code ec;
  if (!fs::is_directory(fs::path(e.dir) / "runs" / ("point-" + std::to_string(point)), ec))
    throw InputError(e.dir, "", "runs/point-" + std::to_string(point) + " is missing");
}

int run_plot(const std::string& results_csv, const std::string& png) {
  const std::string log = png + ".log";
  return run_logged({python_interpreter(), source_path("tools/plot_validation.py"), results_csv, "--out", png}, log);
}

}  // namespace

int cmd_validate(const std::vector<std::string>& args) {
  po::options_description opts("gcsim validate SWEEP.toml --out DIR [options]");
  std::string out, netem, measured_from;
  int warmup = 2, repeats = 1;
  double timeout_s = 120.0;
  opts.add_options()("help,h", "show this help")("out", po::value(&out), "output directory (results.csv, runs/, summary.txt, validation.png)")(
      "resume", "keep the rows of an earlier, interrupted run in DIR/results.csv and skip those points")(
      "force", "overwrite an existing DIR/results.csv")(
      "warmup", po::value(&warmup)->default_value(2), "steps of each measured run left out (allocation, first touches)")(
      "repeats", po::value(&repeats)->default_value(1),
      "measure every point this many times, one run after another, and compare with the medians over the runs")(
      "timeout", po::value(&timeout_s)->default_value(120.0), "gcsim train --timeout of the measured runs (seconds)")(
      "netem", po::value(&netem)->default_value(source_path("tools/netem.sh")),
      "the emulated-cluster script the runs go through")(
      "measured-from", po::value(&measured_from),
      "take each point's measurement from an earlier gcsim validate DIR2 of the same sweep (its runs/point-N) "
      "instead of measuring: the same measurements predicted again, after a change of the model or the profile")(
      "no-plot", "do not draw DIR/validation.png");
  const po::variables_map vm = parse_args(args, opts, "sweep");
  if (vm.count("help")) {
    std::cout << opts
              << "\nFor every point of the sweep: the DES's prediction, and a measurement, gcsim train\n"
                 "--sweep-point N on the cluster tools/netem.sh emulates from the point's [cluster]\n"
                 "(switch, two-level, fat-tree; shaped at cluster.inter_node.bandwidth_gbps; no added\n"
                 "latency). Set compute.emulate = true in the sweep for workers that sleep their compute.\n"
                 "Rows in DIR/results.csv: prediction, measurement and relative error of the step time,\n"
                 "compute, communication, compression, bytes and bucket ends; DIR/summary.txt gives the\n"
                 "median, p90 and max |step time error|. Needs root (network namespaces and tc). The\n"
                 "measured runs are timed: run nothing else on the machine meanwhile.\n";
    return kExitOk;
  }
  if (!vm.count("sweep")) throw InputError("gcsim validate", "", "missing SWEEP.toml (try --help)");
  if (out.empty()) throw InputError("gcsim validate", "--out", "is required");
  if (vm.count("resume") && vm.count("force")) throw InputError("--resume --force", "", "pick one");
  if (warmup < 0) throw InputError("--warmup " + std::to_string(warmup), "", "must be >= 0");
  if (repeats < 1 || repeats > 100) throw InputError("--repeats " + std::to_string(repeats), "", "must be 1 to 100");
  if (!(timeout_s > 0)) throw InputError("--timeout", "", "must be > 0");
  const bool measure = measured_from.empty();
  if (!measure && !vm["repeats"].defaulted())
    throw InputError("--repeats --measured-from", "", "pick one: --measured-from takes the earlier run's repeats as they are");
  if (measure && geteuid() != 0)
    throw InputError("gcsim validate", "", "needs root: the emulated cluster is network namespaces and tc (tools/netem.sh)");
  if (measure && access(netem.c_str(), X_OK) != 0) throw InputError("--netem " + netem, "", "is not an executable file");

  const std::string sweep_path = vm["sweep"].as<std::string>();
  const SweepSpec spec = load_sweep(sweep_path);
  const std::string exe = self_exe();
  const fs::path runs = fs::path(out) / "runs";
  SweepOptions o;
  o.out_dir = out;
  o.resume = vm.count("resume") > 0;
  o.force = vm.count("force") > 0;
  o.jobs = 1;  // the measurements are timed: one at a time
  o.progress = ProgressBar::stderr_is_terminal();
  o.backend = "des";
  o.check = [](const Scenario& s) {
    build_topology(s.cluster, s.profile);
    netem_arguments(s, "check");
  };
  Earlier earlier;
  if (!measure) {
    earlier = read_earlier(measured_from);
    const ScenarioSource base = read_scenario_source(spec.base_path);
    IterationResult blank;
    blank.backend = "des";
    for (std::size_t i = 0; i < spec.point_count(); ++i) {
      Columns identity = config_columns(build_scenario(spec.point_source(base, i)), blank);
      for (const auto& kv : spec.point_values(i))
        if (kv.key != "profile") identity.emplace_back(kv.key, axis_value_text(*kv.value));  // the prediction's input
      check_earlier(earlier, i, identity);
    }
  }
  PointRunner runner;
  runner.blank = validation_blank();
  const std::string cpu = measure ? this_cpu() : std::string();
  std::set<std::string> warned;  // each profile once
  runner.run = [&](const Scenario& s, std::size_t point) {
    if (measure && warned.insert(s.profile.source_path).second)
      if (const auto w = kernel_cpu_mismatch(s.profile, cpu)) std::fprintf(stderr, "gcsim validate: warning: %s\n", w->c_str());
    const DesRun predicted = simulate_des(s);
    if (!measure) {
      const std::string run_dir = (fs::path(measured_from) / "runs" / ("point-" + std::to_string(point))).string();
      const MeasuredRun measured = read_measured_repeats(run_dir, s.cluster.workers, warmup);
      return validation_columns(predicted, measured, run_dir);
    }
    std::error_code ec;
    fs::create_directories(runs, ec);
    if (ec) throw std::runtime_error(runs.string() + ": cannot create: " + ec.message());
    const std::string stem = "point-" + std::to_string(point);
    remove_leftovers(runs, stem);
    const std::string run_dir = (runs / stem).string();
    // The cluster and the run, the same for every repeat: only --out differs.
    std::vector<std::string> cluster = {netem};
    for (const auto& a : netem_arguments(s, "v" + std::to_string(::getpid() % 100000) + "p" + std::to_string(point)))
      cluster.push_back(a);
    cluster.insert(cluster.end(), {"--", exe, "train", sweep_path, "--sweep-point", std::to_string(point), "--timeout",
                                   format_number(timeout_s), "--out"});
    std::vector<MeasuredRun> repeated;
    for (int k = 0; k < repeats; ++k) {
      const std::string dir = repeat_dir(run_dir, k), log = dir + ".log";
      std::vector<std::string> argv = cluster;
      argv.push_back(dir);
      const int rc = run_logged(argv, log);
      if (rc != 0)
        throw std::runtime_error("point " + std::to_string(point) + ": the measured run failed (exit " +
                                 std::to_string(rc) + "); see " + log);
      repeated.push_back(read_measured_run(dir, s.cluster.workers, warmup));
    }
    const MeasuredRun measured = median_of_repeats(repeated);
    write_file_atomically((fs::path(run_dir) / "buckets-compared.csv").string(), bucket_comparison_csv(predicted, measured));
    return validation_columns(predicted, measured, "runs/" + stem);
  };
  const SweepOutcome r = run_points(spec, o, runner);

  std::ifstream in(r.results_csv);
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) rows.push_back(split_csv_line(line));
  const std::string text = summary_text(summarize_errors(rows), spec.name);
  write_file_atomically((fs::path(out) / "summary.txt").string(), text);
  if (measure)
    std::printf("validate %s: %zu points (%zu from an earlier run, %zu measured) -> %s\n%s", spec.name.c_str(), r.points,
                r.resumed, r.ran, r.results_csv.c_str(), text.c_str());
  else
    std::printf("validate %s: %zu points (%zu from an earlier run, %zu from %s, predicted again) -> %s\n%s",
                spec.name.c_str(), r.points, r.resumed, r.ran, measured_from.c_str(), r.results_csv.c_str(), text.c_str());
  std::fflush(stdout);
  if (!vm.count("no-plot")) {
    const std::string png = (fs::path(out) / "validation.png").string();
    const int rc = run_plot(r.results_csv, png);
    if (rc != 0) {
      std::fprintf(stderr, "gcsim validate: plotting failed (tools/plot_validation.py exit %d; see %s.log)\n", rc,
                   png.c_str());
      return rc == kExitBadInput ? kExitBadInput : kExitRuntime;
    }
    std::error_code ec;
    fs::remove(png + ".log", ec);
  }
  return kExitOk;
}

}  // namespace gcsim::cli
