// gcsim sweep SWEEP.toml --out DIR [--plot] [--resume | --force] [--jobs N]
#include <boost/program_options.hpp>
#include <spawn.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <iostream>

#include "config/input_error.h"
#include "config/sweep_loader.h"
#include "sim/analytic/iteration.h"
#include "sim/des/training_sim.h"
#include "sweep/progress_bar.h"
#include "sweep/sweep_runner.h"
#include "sweep/thread_pool.h"
#include "topology/cluster_topology.h"
#include "tools/gcsim/cli.h"

extern char** environ;

namespace po = boost::program_options;

namespace gcsim::cli {

namespace {

// Runs tools/plot_sweep.py on DIR/results.csv into DIR/plots; returns its exit status.
int run_plot(const std::string& results_csv, const std::string& plot_dir) {
  const std::string python = python_interpreter();
  const std::string script = source_path("tools/plot_sweep.py");
  std::vector<std::string> argv_s = {python, script, results_csv, "--out", plot_dir};
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawnp(&pid, python.c_str(), nullptr, nullptr, argv.data(), environ) != 0)
    throw std::runtime_error("cannot start " + python + " for plotting");
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

}  // namespace

// gcsim sweep merge --out DIR SHARD_DIR...: the shards' results.csv as one (sweep/shard.h).
int cmd_sweep_merge(const std::vector<std::string>& args) {
  po::options_description opts("gcsim sweep merge --out DIR SHARD_DIR... [options]");
  std::string out;
  opts.add_options()("help,h", "show this help")("out", po::value(&out), "output directory (results.csv)")(
      "force", "overwrite an existing DIR/results.csv");
  po::options_description all;
  all.add(opts).add_options()("shards", po::value<std::vector<std::string>>()->composing());
  po::positional_options_description pos;
  pos.add("shards", -1);
  po::variables_map vm;
  po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
  po::notify(vm);
  if (vm.count("help")) {
    std::cout << opts
              << "\nJoins the results.csv of the shards of one sweep (each run with gcsim sweep --shard I/N\n"
                 "into its own directory) into DIR/results.csv, in point order: the file the whole sweep\n"
                 "writes. Refuses shards of different sweeps, a shard missing or given twice, and a\n"
                 "point missing, doubled or not matching its sweep (each shard's DIR/shard.txt).\n";
    return kExitOk;
  }
  if (out.empty()) throw InputError("gcsim sweep merge", "--out", "is required");
  if (!vm.count("shards")) throw InputError("gcsim sweep merge", "", "no shard directories given (try --help)");
  const MergeOutcome r = merge_shards(vm["shards"].as<std::vector<std::string>>(), out, vm.count("force") > 0);
  std::printf("sweep merge: %zu points from %zu shards -> %s\n", r.points, r.shards, r.results_csv.c_str());
  return kExitOk;
}

int cmd_sweep(const std::vector<std::string>& args) {
  if (!args.empty() && args[0] == "merge") return cmd_sweep_merge({args.begin() + 1, args.end()});
  po::options_description opts("gcsim sweep SWEEP.toml --out DIR [options]");
  std::string out, shard;
  int jobs = 0;
  opts.add_options()("help,h", "show this help")("out", po::value(&out), "output directory (results.csv, plots/)")(
      "plot", "draw the plots into DIR/plots (tools/plot_sweep.py, matplotlib)")(
      "resume", "keep the rows of an earlier, interrupted run in DIR/results.csv and skip those points")(
      "force", "overwrite an existing DIR/results.csv")(
      "jobs,j", po::value(&jobs)->default_value(0), "worker threads (0 = all cores)")(
      "shard", po::value(&shard), "I/N: run only the points p with p mod N = I, for one machine of N; "
                                  "join the N directories with gcsim sweep merge")(
      "backend", po::value<std::string>()->default_value("des"),
      "des (discrete-event simulator, default) | analytic (closed-form alpha-beta model)");
  const po::variables_map vm = parse_args(args, opts, "sweep");
  if (vm.count("help")) {
    std::cout << opts
              << "\nA sweep file names a base scenario and [axes] of dotted keys with lists of values;\n"
                 "every combination is simulated (at most 100000 points; identical ones once). Rows are\n"
                 "appended to DIR/results.csv as points finish: the simulate --format csv columns, one\n"
                 "column per swept key and config_hash (the point's resolved scenario and profile; --resume\n"
                 "keeps only rows whose hash matches). One sweep at a time per DIR (DIR/.lock).\n"
                 "Over several machines: --shard I/N on each (DIR/shard.txt records it), then\n"
                 "gcsim sweep merge --out DIR SHARD_DIR... (see gcsim sweep merge --help).\n";
    return kExitOk;
  }
  if (!vm.count("sweep")) throw InputError("gcsim sweep", "", "missing SWEEP.toml (try --help)");
  if (out.empty()) throw InputError("gcsim sweep", "--out", "is required");
  if (vm.count("resume") && vm.count("force")) throw InputError("--resume --force", "", "pick one");
  if (jobs < 0) throw InputError("--jobs " + std::to_string(jobs), "", "must be >= 0");
  const std::string backend = vm["backend"].as<std::string>();
  if (backend != "analytic" && backend != "des") throw InputError("--backend " + backend, "", "expected des or analytic");

  const SweepSpec spec = load_sweep(vm["sweep"].as<std::string>());
  SweepOptions o;
  o.out_dir = out;
  o.resume = vm.count("resume") > 0;
  o.force = vm.count("force") > 0;
  o.jobs = jobs;
  if (!shard.empty()) o.shard = parse_shard(shard);
  o.progress = ProgressBar::stderr_is_terminal();
  o.backend = backend;
  // The DES builds the cluster's topology, whose checks (derived link rates
  // finite, P a multiple of G, ...) are part of validating a point.
  if (backend == "des") o.check = [](const Scenario& s) { build_topology(s.cluster, s.profile); };
  const SweepOutcome r = run_sweep(spec, o, [&backend](const Scenario& s) {
    return backend == "des" ? simulate_des(s).result : simulate_analytic(s);
  });
  std::string extra;
  if (r.reused) extra += ", " + std::to_string(r.reused) + " identical to another point";
  if (r.torn) extra += ", a torn last row dropped";
  const std::string of_shard = o.shard.active() ? "shard " + shard + ": " + std::to_string(r.shard_points) + " of them; "
                                                  : "";
  std::printf("sweep %s: %zu points (%s%zu from an earlier run, %zu simulated%s) -> %s\n", spec.name.c_str(), r.points,
              of_shard.c_str(), r.resumed, r.ran, extra.c_str(), r.results_csv.c_str());
  std::fflush(stdout);

  if (vm.count("plot")) {
    const std::string plot_dir = (std::filesystem::path(out) / "plots").string();
    std::filesystem::create_directories(plot_dir);
    const int rc = run_plot(r.results_csv, plot_dir);
    if (rc != 0) {
      std::fprintf(stderr, "gcsim sweep: plotting failed (tools/plot_sweep.py exit %d)\n", rc);
      return rc == kExitBadInput ? kExitBadInput : kExitRuntime;
    }
  }
  return kExitOk;
}

}  // namespace gcsim::cli
