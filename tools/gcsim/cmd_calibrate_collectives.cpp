// gcsim calibrate collectives --workers P --out PROFILE.toml [options]
//
// Starts P worker processes of this binary (like gcsim train: Gloo over TCP,
// rendezvous through a file store, optionally each in its own network
// namespace via --exec-prefix/--hosts, which tools/netem.sh appends), times
// Gloo's ring allreduce and ring allgather over a range of sizes, fits the
// profile's [collective] launch_us and alpha_us (calib/collective_sweep.h) and
// writes a profile: the base profile with those replaced.
#include <boost/program_options.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "calib/collective_sweep.h"
#include "calib/nccl_tests_log.h"
#include "calib/profile_writer.h"
#include "config/input_error.h"
#include "config/profile_loader.h"
#include "comm/gloo_comm.h"
#include "sweep/atomic_file.h"
#include "tools/gcsim/cli.h"
#include "tools/gcsim/worker_processes.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace gcsim::cli {

namespace {

struct Args {
  int workers = 4, repeats = 15, warmup = 3;
  std::size_t min_bytes = 4, max_bytes = 4u << 20;
  double rate_mbit = 0.0, timeout_s = 60.0, compute_ms = 0.0;
  std::string out, base, csv, hosts, exec_prefix, refit;
  std::vector<std::string> nccl_logs;  // --from-nccl-tests
  bool force = false;
  // worker mode
  int worker_rank = -1;
  std::string run_dir, run_id, host;
};

const char* const kCsvHeader = "op,bytes,wire_bytes,median_s,min_s,max_s,spread,repeats";

std::string measurements_csv(const std::vector<calib::CollectiveMeasurement>& ms) {
  std::ostringstream o;
  o.precision(9);
  o << kCsvHeader << "\n";
  for (const auto& m : ms)
    o << m.op << ',' << m.bytes << ',' << m.wire_bytes << ',' << m.seconds.median << ',' << m.seconds.min << ','
      << m.seconds.max << ',' << m.seconds.spread << ',' << m.seconds.count << '\n';
  return o.str();
}

// Throws InputError naming the file and line.
std::vector<calib::CollectiveMeasurement> read_measurements(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw InputError(path, "", "cannot open file");
  std::string line;
  if (!std::getline(f, line) || line != kCsvHeader)
    throw InputError(path, "", std::string("not a collectives CSV (its first line must be '") + kCsvHeader + "')");
  std::vector<calib::CollectiveMeasurement> ms;
  while (std::getline(f, line)) {
    std::istringstream in(line);
    calib::CollectiveMeasurement m;
    std::string field;
    std::vector<std::string> v;
    while (std::getline(in, field, ',')) v.push_back(field);
    const std::string where = path + ":" + std::to_string(ms.size() + 2);
    if (v.size() != 8 || (v[0] != "allreduce" && v[0] != "allgather"))
      throw InputError(where, "", "want op (allreduce or allgather) and 7 numbers, got '" + line + "'");
    try {
      m.op = v[0];
      m.bytes = std::stoull(v[1]);
      m.wire_bytes = std::stod(v[2]);
      m.seconds.median = std::stod(v[3]);
      m.seconds.min = std::stod(v[4]);
      m.seconds.max = std::stod(v[5]);
      m.seconds.spread = std::stod(v[6]);
      m.seconds.count = std::stoi(v[7]);
    } catch (const std::exception&) {
      throw InputError(where, "", "a field is not a number: '" + line + "'");
    }
    if (!(m.seconds.median > 0.0 && std::isfinite(m.seconds.median) && m.wire_bytes >= 0.0))
      throw InputError(where, "", "median_s must be a positive number and wire_bytes >= 0");
    ms.push_back(m);
  }
  return ms;
}

calib::CollectiveSweepOptions sweep_options(const Args& a) {
  calib::CollectiveSweepOptions o;
  o.sizes = calib::collective_size_grid(a.min_bytes, a.max_bytes);
  o.repeats = a.repeats;
  o.warmup = a.warmup;
  o.compute_s = a.compute_ms / 1e3;
  return o;
}

std::string error_path(const std::string& run_dir, int rank) {
  return (fs::path(run_dir) / ("rank-" + std::to_string(rank) + ".error")).string();
}

// A worker's failure goes to RUN_DIR/rank-R.error for the launcher's one line.
int worker_main(const Args& a) {
  try {
    comm::GlooOptions go;
    go.store_dir = (fs::path(a.run_dir) / "rendezvous").string();
    go.run_id = a.run_id;
    go.host = a.host;
    go.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(a.timeout_s * 1000));
    comm::GlooComm comm(a.worker_rank, a.workers, go);
    const auto ms = calib::run_collective_sweep(comm, sweep_options(a));
    if (a.worker_rank == 0) {
      std::ofstream f(fs::path(a.run_dir) / "measurements.csv");
      f << measurements_csv(ms);
      if (!f) throw std::runtime_error("cannot write the measurements to " + a.run_dir);
    }
    return kExitOk;
  } catch (const std::exception& e) {
    std::ofstream f(error_path(a.run_dir, a.worker_rank));
    f << e.what() << "\n";
    if (!f) std::fprintf(stderr, "gcsim calibrate collectives [rank %d]: %s\n", a.worker_rank, e.what());
    return kExitRuntime;
  }
}

std::atomic<int> g_signal{0};
void on_signal(int sig) { g_signal = sig; }

// Runs the P workers; returns "" when all succeeded, else the first failure in
// words. SIGINT/SIGTERM stop the workers and throw Interrupted.
struct Interrupted {
  int signal;
};

std::string run_workers(const Args& a, const std::string& run_dir) {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::vector<std::string> hosts = split_list(a.hosts, ',');
  if (hosts.empty()) hosts.assign(static_cast<std::size_t>(a.workers), "127.0.0.1");
  const std::string run_id = "calib-" + std::to_string(getpid());
  const std::string exe = self_exe();
  std::vector<pid_t> pids;
  for (int r = 0; r < a.workers; ++r) {
    std::vector<std::string> argv = exec_prefix_words(a.exec_prefix, r);
    argv.insert(argv.end(), {exe, "calibrate", "collectives", "--workers", std::to_string(a.workers), "--worker-rank",
                             std::to_string(r), "--run-dir", run_dir, "--run-id", run_id, "--host",
                             hosts[static_cast<std::size_t>(r)], "--timeout", std::to_string(a.timeout_s),
                             "--min-bytes", std::to_string(a.min_bytes), "--max-bytes", std::to_string(a.max_bytes),
                             "--repeats", std::to_string(a.repeats), "--warmup", std::to_string(a.warmup),
                             "--compute-ms", std::to_string(a.compute_ms)});
    try {
      pids.push_back(spawn(argv));
    } catch (...) {
      for (const pid_t q : pids) kill(q, SIGKILL);
      for (const pid_t q : pids) waitpid(q, nullptr, 0);
      throw;
    }
  }
  // Wait for all; after the first failure the others get --timeout to notice, then are killed.
  std::string failure;
  std::size_t remaining = pids.size();
  std::vector<bool> done(pids.size(), false);
  auto deadline = std::chrono::steady_clock::time_point::max();
  while (remaining > 0) {
    for (std::size_t r = 0; r < pids.size(); ++r) {
      int st = 0;
      if (done[r] || waitpid(pids[r], &st, WNOHANG) != pids[r]) continue;
      done[r] = true;
      --remaining;
      if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0) && failure.empty()) {
        std::ifstream f(error_path(run_dir, static_cast<int>(r)));
        std::string message;
        std::getline(f, message);
        failure = "rank " + std::to_string(r) + ": " + (message.empty() ? describe_status(st) : message);
        deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<long>(a.timeout_s * 1000));
      }
    }
    if (std::chrono::steady_clock::now() > deadline || g_signal != 0)
      for (std::size_t r = 0; r < pids.size(); ++r)
        if (!done[r]) kill(pids[r], SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (g_signal != 0) throw Interrupted{g_signal};
  return failure;
}

// Runs the workers in a temporary directory (removed on every path) and
// returns rank 0's measurements.
std::vector<calib::CollectiveMeasurement> measure(const Args& a) {
  std::string tmpl = (fs::temp_directory_path() / "gcsim-calibrate-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("cannot create a temporary directory in /tmp");
  const std::string run_dir = tmpl;
  std::vector<calib::CollectiveMeasurement> ms;
  try {
    fs::create_directories(fs::path(run_dir) / "rendezvous");
    const calib::CollectiveSweepOptions o = sweep_options(a);
    std::fprintf(stderr, "calibrating collectives: %d workers, %zu sizes %zu..%zu bytes, %d repeats\n", a.workers,
                 o.sizes.size(), o.sizes.front(), o.sizes.back(), a.repeats);
    const std::string failure = run_workers(a, run_dir);
    if (!failure.empty()) throw std::runtime_error("the measurement failed: " + failure);
    ms = read_measurements((fs::path(run_dir) / "measurements.csv").string());
  } catch (...) {
    fs::remove_all(run_dir);
    throw;
  }
  fs::remove_all(run_dir);
  return ms;
}

}  // namespace

int cmd_calibrate_collectives(const std::vector<std::string>& args) {
  po::options_description opts("gcsim calibrate collectives --workers P --out PROFILE.toml [options]");
  Args a;
  opts.add_options()("help,h", "show this help")(
      "workers", po::value(&a.workers)->default_value(4), "worker processes (ranks), >= 2")(
      "out", po::value(&a.out), "profile to write (refuses to replace an existing file without --force)")(
      "force", "overwrite --out / --csv if they are regular files")(
      "base", po::value(&a.base)->default_value(source_path("scenarios/profiles/default.toml")),
      "profile to copy everything but the measured [collective] figures from")(
      "min-bytes", po::value(&a.min_bytes)->default_value(4), "smallest message (bytes; sizes are 4 * 4^i)")(
      "max-bytes", po::value(&a.max_bytes)->default_value(4u << 20), "largest message (bytes)")(
      "repeats", po::value(&a.repeats)->default_value(15), "timed repeats per size (the median is fitted)")(
      "warmup", po::value(&a.warmup)->default_value(3), "untimed repeats before them")(
      "compute-ms", po::value(&a.compute_ms)->default_value(0.0),
      "CPU work per rank before each collective, like a training step's compute (matters where cores are shared)")(
      "rate-mbit", po::value(&a.rate_mbit)->default_value(0.0),
      "the link rate the workers are shaped to (tools/netem.sh --rate-mbit): also fits inter_node_efficiency")(
      "csv", po::value(&a.csv), "also write every measurement (median, min, max, spread) to this CSV")(
      "refit", po::value(&a.refit)->default_value(""),
      "measure nothing: fit the measurements of an earlier --csv (taken with the same --workers)")(
      "from-nccl-tests", po::value(&a.nccl_logs)->multitoken(),
      "measure nothing: fit nccl-tests logs (all_reduce_perf and all_gather_perf output, one of each at least, "
      "the same ranks); P comes from their '# Rank' lines")(
      "hosts", po::value(&a.hosts)->default_value(""), "comma-separated address per rank (default 127.0.0.1)")(
      "exec-prefix", po::value(&a.exec_prefix)->default_value(""),
      "command put before each worker, {rank} replaced (tools/netem.sh appends it)")(
      "timeout", po::value(&a.timeout_s)->default_value(60.0), "seconds a collective may wait for a peer");
  po::options_description internal;  // what the launcher passes to its workers; not in --help
  internal.add_options()(
      "worker-rank", po::value(&a.worker_rank)->default_value(-1), "(internal) run as this rank")(
      "run-dir", po::value(&a.run_dir)->default_value(""), "(internal)")(
      "run-id", po::value(&a.run_id)->default_value(""), "(internal)")(
      "host", po::value(&a.host)->default_value("127.0.0.1"), "(internal)");
  const po::variables_map vm = parse_args(args, opts, internal, "extra");
  if (vm.count("help")) {
    std::cout << opts
              << "\nTimes Gloo's ring allreduce and ring allgather between P worker processes, fits the\n"
                 "profile's [collective] launch_us (per collective) and alpha_us (per ring step), and writes\n"
                 "the base profile with them. Run it where the training runs, e.g. inside tools/netem.sh.\n"
                 "With --from-nccl-tests LOG... the same fit comes from nccl-tests' all_reduce_perf and\n"
                 "all_gather_perf output (out-of-place times; nccl-tests' size and busbw definitions) instead.\n";
    return kExitOk;
  }
  if (vm.count("extra"))
    throw InputError("unexpected argument '" + vm["extra"].as<std::string>() + "'");
  if (a.workers < 2 || a.workers > 1024) throw InputError("--workers", "", "must be between 2 and 1024");
  if (a.repeats < 1 || a.repeats > 10000 || a.warmup < 0 || a.warmup > 1000)
    throw InputError("--repeats/--warmup", "", "need 1 <= repeats <= 10000, 0 <= warmup <= 1000");
  if (!(a.timeout_s > 0.0 && a.timeout_s <= 86400.0))
    throw InputError("--timeout", "", "must be > 0 seconds and at most a day (86400)");
  if (a.min_bytes < 1 || a.max_bytes > (1u << 30) || calib::collective_size_grid(a.min_bytes, a.max_bytes).size() < 2)
    throw InputError("--min-bytes/--max-bytes", "", "need at least two sizes 4 * 4^i between them (at most 1 GiB)");
  if (!(a.rate_mbit >= 0.0 && std::isfinite(a.rate_mbit))) throw InputError("--rate-mbit", "", "must be >= 0");
  if (!(a.compute_ms >= 0.0 && a.compute_ms <= 60e3)) throw InputError("--compute-ms", "", "must be in [0, 60000]");
  if (a.worker_rank >= 0) return worker_main(a);

  if (a.out.empty()) throw InputError("--out", "", "is required");
  const std::vector<std::string> hosts = split_list(a.hosts, ',');
  if (!hosts.empty() && static_cast<int>(hosts.size()) != a.workers)
    throw InputError("--hosts", "", "lists " + std::to_string(hosts.size()) + " addresses for " +
                                        std::to_string(a.workers) + " workers");
  a.force = vm.count("force") > 0;
  check_output_file(a.out, a.force, "--out");
  if (!a.csv.empty()) check_output_file(a.csv, a.force, "--csv");
  check_distinct_outputs({{"--out", a.out}, {"--csv", a.csv}});
  load_profile(a.base);  // a bad base fails now, not after the measurement

  std::vector<calib::CollectiveMeasurement> ms;
  if (!a.nccl_logs.empty()) {
    if (!a.refit.empty()) throw InputError("--from-nccl-tests --refit", "", "pick one");
    int ranks = 0;
    for (const std::string& path : a.nccl_logs) {
      std::ifstream f(path);
      if (!f) throw InputError(path, "", "cannot open file");
      std::stringstream text;
      text << f.rdbuf();
      calib::NcclTestsLog log;
      try {
        log = calib::parse_nccl_tests_log(text.str(), path);
      } catch (const std::invalid_argument& e) {
        throw InputError(e.what());
      }
      if (ranks != 0 && log.ranks != ranks)
        throw InputError(path, "", "has " + std::to_string(log.ranks) + " ranks, " + a.nccl_logs.front() + " has " +
                                       std::to_string(ranks) + ": fit logs of one run size at a time");
      ranks = log.ranks;
      ms.insert(ms.end(), log.rows.begin(), log.rows.end());
    }
    if (vm["workers"].defaulted()) a.workers = ranks;
    if (a.workers != ranks)
      throw InputError("--workers " + std::to_string(a.workers), "", "the nccl-tests logs have " + std::to_string(ranks) + " ranks");
    try {
      calib::fit_collectives(ms, a.workers);
    } catch (const std::invalid_argument& e) {
      throw InputError("--from-nccl-tests", "", std::string(e.what()) + " (give an all_reduce_perf and an all_gather_perf log)");
    }
  } else if (a.refit.empty()) {
    try {
      ms = measure(a);
    } catch (const Interrupted& i) {
      std::fprintf(stderr, "gcsim calibrate collectives: interrupted (signal %d); workers stopped, nothing written\n",
                   i.signal);
      return 128 + i.signal;
    }
  } else {
    ms = read_measurements(a.refit);
    try {
      calib::fit_collectives(ms, a.workers);
    } catch (const std::invalid_argument& e) {
      throw InputError(a.refit, "", e.what());
    }
  }

  const calib::CollectiveFit fit = calib::fit_collectives(ms, a.workers);
  std::printf("%-10s %10s %12s %14s\n", "op", "bytes", "median_us", "fit_us");
  for (const auto& m : ms) {
    const calib::CostFit& f = m.op == "allreduce" ? fit.allreduce : fit.allgather;
    std::printf("%-10s %10zu %12.1f %14.1f\n", m.op.c_str(), m.bytes, 1e6 * m.seconds.median,
                1e6 * f.eval(m.wire_bytes, 0.0));
  }
  calib::CollectiveRecord rec;
  rec.network = a.refit.empty() ? std::to_string(a.workers) + " processes, Gloo TCP" +
                                      (a.exec_prefix.empty() ? std::string(" on loopback")
                                                             : " via '" + a.exec_prefix + "'")
                                : "the measurements in " + a.refit;
  if (!a.nccl_logs.empty()) {
    rec.network = std::to_string(a.workers) + " ranks, the nccl-tests logs";
    for (const auto& l : a.nccl_logs) rec.network += " " + l;
  }
  if (a.rate_mbit > 0) rec.network += ", shaped to " + std::to_string(static_cast<long long>(a.rate_mbit)) + " Mbit/s";
  rec.date = today_utc();
  rec.command = "gcsim calibrate collectives";
  for (const auto& x : args) rec.command += " " + x;
  rec.workers = a.workers;
  rec.repeats = a.refit.empty() && a.nccl_logs.empty() ? a.repeats : ms.front().seconds.count;
  rec.launch_us = 1e6 * fit.launch_s;
  rec.alpha_us = 1e6 * fit.step_alpha_s;
  rec.achieved_mbit = 8.0 * fit.bytes_per_s / 1e6;
  if (a.rate_mbit > 0) rec.inter_node_efficiency = std::min(1.0, rec.achieved_mbit / a.rate_mbit);
  rec.allreduce_r2 = fit.allreduce.r2;
  rec.allgather_r2 = fit.allgather.r2;
  std::printf("launch_us %.1f  alpha_us %.1f  achieved %.0f Mbit/s%s\n", rec.launch_us, rec.alpha_us,
              rec.achieved_mbit,
              rec.inter_node_efficiency >= 0 ? (" (efficiency " + std::to_string(rec.inter_node_efficiency) + ")").c_str()
                                             : "");
  const std::string text = calib::collective_profile_toml(a.base, rec);
  AtomicFileSet files;  // both or neither
  if (!a.csv.empty()) files.stage(a.csv, measurements_csv(ms), a.force);
  files.stage(a.out, text, a.force);
  files.commit();
  load_profile(a.out);  // what we wrote must read back
  std::printf("wrote %s\n", a.out.c_str());
  return kExitOk;
}

}  // namespace gcsim::cli
