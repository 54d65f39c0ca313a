// gcsim calibrate collectives [--backend gloo|nccl] --out PROFILE.toml [options]
//
// gloo: starts P worker processes of this binary (like gcsim train: Gloo over
// TCP, rendezvous through a file store, optionally each in its own network
// namespace via --exec-prefix/--hosts, which tools/netem.sh appends) and times
// Gloo's ring allreduce and ring allgather over a range of sizes, and
// gcsim's own point-to-point ring (p2p_ring: the hierarchical exchange's
// rings, inside nodes or between them, --node-size).
// nccl: one process per forced NCCL variant drives every local GPU
// (tools/gcsim/calibrate_nccl.h) and times allreduce, allgather,
// reduce_scatter and broadcast.
// Both print nccl-tests' table, fit the ring family's launch and alpha
// (calib/collective_sweep.h), and for NCCL the tree family's from
// NCCL_ALGO=Tree, and write the base profile with them: [collective] and
// [collective.<family>.<link class>].
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

#include "calib/collective_csv.h"
#include "calib/collective_sweep.h"
#include "calib/nccl_tests_log.h"
#include "calib/profile_writer.h"
#include "config/input_error.h"
#include "config/profile_loader.h"
#include "comm/choose_backend.h"
#include "comm/gloo_comm.h"
#include "sweep/atomic_file.h"
#include "tools/gcsim/calibrate_nccl.h"
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
  std::string backend = "gloo", variants = "all", collectives, link_class, nccl_tests_out;
  int gpus = 0;
  int node_size = 0;  // p2p_ring's nodes; 0: 1 for inter, every rank one node for intra
  double rate_gbps = 0.0;
  bool no_check = false;
  std::string nccl_variant;  // internal: run as that variant's process
  // worker mode
  int worker_rank = -1;
  std::string run_dir, run_id, host;
};

calib::CollectiveSweepOptions sweep_options(const Args& a) {
  calib::CollectiveSweepOptions o;
  o.sizes = calib::collective_size_grid(a.min_bytes, a.max_bytes);
  o.repeats = a.repeats;
  o.warmup = a.warmup;
  o.compute_s = a.compute_ms / 1e3;
  o.check = !a.no_check;
  o.collectives = split_list(a.collectives, ',');
  o.groups = {a.node_size, a.link_class != "intra"};
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
      f << calib::measurements_csv(ms);
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
    std::vector<std::string> argv = exec_prefix_words(a.exec_prefix, r, a.node_size);
    argv.insert(argv.end(), {exe, "calibrate", "collectives", "--workers", std::to_string(a.workers), "--worker-rank",
                             std::to_string(r), "--run-dir", run_dir, "--run-id", run_id, "--host",
                             hosts[static_cast<std::size_t>(r)], "--timeout", std::to_string(a.timeout_s),
                             "--min-bytes", std::to_string(a.min_bytes), "--max-bytes", std::to_string(a.max_bytes),
                             "--repeats", std::to_string(a.repeats), "--warmup", std::to_string(a.warmup),
                             "--compute-ms", std::to_string(a.compute_ms), "--collectives", a.collectives,
                             "--node-size", std::to_string(a.node_size), "--link-class", a.link_class});
    if (a.no_check) argv.push_back("--no-check");
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
    ms = calib::read_measurements_csv((fs::path(run_dir) / "measurements.csv").string());
  } catch (...) {
    fs::remove_all(run_dir);
    throw;
  }
  fs::remove_all(run_dir);
  return ms;
}

}  // namespace

namespace {

// The measurements a family is fitted from: NCCL's forced variant where it
// was measured (NCCL_ALGO=Ring / Tree, NCCL's protocol choice), else NCCL's
// own choice for the ring; Gloo's are unlabelled.
std::vector<calib::CollectiveMeasurement> of_variant(const std::vector<calib::CollectiveMeasurement>& ms,
                                                     const std::string& variant) {
  std::vector<calib::CollectiveMeasurement> out;
  for (const auto& m : ms)
    if (m.variant == variant) out.push_back(m);
  return out;
}

bool has_op(const std::vector<calib::CollectiveMeasurement>& ms, const char* op) {
  return std::any_of(ms.begin(), ms.end(), [&](const auto& m) { return m.op == op; });
}

// Whether the ring family is to be fitted: an allreduce measured, or none of
// the ops that have families of their own (p2p_ring, allreduce_half) alone.
bool ring_measured_in(const std::vector<calib::CollectiveMeasurement>& ms) {
  return has_op(ms, calib::coll::allreduce) ||
         (!has_op(ms, calib::coll::p2p_ring) && !has_op(ms, calib::coll::allreduce_half));
}

// A family fitted as a chain of ring steps (calib::AllgatherFit: the
// allgather's, fp16's allreduce), with its curve against the line rate when
// one was given (rate_mbit > 0).
calib::CollectiveRecord::Family ring_steps_family(const calib::AllgatherFit& g, const std::string& family,
                                                  const std::string& fitted_from,
                                                  const std::vector<calib::CollectiveMeasurement>& ms,
                                                  const char* op, double rate_mbit) {
  calib::CollectiveRecord::Family f;
  f.family = family;
  f.fitted_from = fitted_from;
  f.launch_us = 1e6 * g.launch_s;
  f.alpha_us = 1e6 * g.step_alpha_s;
  f.bandwidth_gbs = g.bytes_per_s / 1e9;
  if (rate_mbit > 0) {
    f.efficiency = std::min(1.0, 8.0 * g.bytes_per_s / 1e6 / rate_mbit);
    f.curve = calib::efficiency_curve(ms, op, g.allgather.alpha_s, rate_mbit * 1e6 / 8.0);
  }
  f.r2 = g.allgather.r2;
  return f;
}

// The ranks of the ring a p2p_ring measurement ran on: wire = (L - 1) parts.
int p2p_ring_length(const calib::CollectiveMeasurement& m) {
  return m.bytes > 0 ? static_cast<int>(std::lround(m.wire_bytes / static_cast<double>(m.bytes))) + 1 : 0;
}

// nccl-tests' tables, one per variant and collective (gcsim's p2p_ring is not one: p2p_table).
std::string nccl_tests_tables(const std::vector<calib::CollectiveMeasurement>& ms, int ranks,
                              const std::vector<std::string>& devices, const std::string& library) {
  std::vector<std::string> variants;
  for (const auto& m : ms)
    if (std::find(variants.begin(), variants.end(), m.variant) == variants.end()) variants.push_back(m.variant);
  std::string out;
  for (const std::string& v : variants) {
    const auto rows = of_variant(ms, v);
    const auto [algo, proto] = nccl_variant_env(v.empty() ? "default" : v);
    std::string note = "gcsim calibrate collectives, " + library;
    if (!v.empty())
      note += ", " + std::string(algo.empty() ? "NCCL's own algorithm" : "NCCL_ALGO=" + algo) + " " +
              (proto.empty() ? "its own protocol" : "NCCL_PROTO=" + proto);
    for (const std::string& op : calib::all_collectives())
      if (std::any_of(rows.begin(), rows.end(), [&](const auto& m) { return m.op == op; }))
        out += calib::format_nccl_tests_table(op, ranks, rows, devices, note) + "\n";
  }
  return out;
}

// gcsim's own ring, which nccl-tests has not: its table, per rank; "" without it.
std::string p2p_table(const std::vector<calib::CollectiveMeasurement>& ms) {
  if (!has_op(ms, calib::coll::p2p_ring)) return "";
  std::string out = "# p2p_ring: gcsim's sendrecv ring allgather over groups (size: one rank's part)\n"
                    "#        (B)   ring ranks    time (us)   per rank (Mbit/s)\n";
  char b[160];
  for (const auto& m : ms) {
    if (m.op != calib::coll::p2p_ring) continue;
    std::snprintf(b, sizeof b, "%12zu %12d %12.1f %19.2f\n", m.bytes, p2p_ring_length(m), m.seconds.median * 1e6,
                  8.0 * m.wire_bytes / m.seconds.median / 1e6);
    out += b;
  }
  return out + "\n";
}

}  // namespace

int cmd_calibrate_collectives(const std::vector<std::string>& args) {
  po::options_description opts("gcsim calibrate collectives [--backend gloo|nccl] --out PROFILE.toml [options]");
  Args a;
  opts.add_options()("help,h", "show this help")(
      "backend", po::value(&a.backend)->default_value("gloo"),
      "gloo: P worker processes over TCP (--workers); nccl: every local GPU from one process, as nccl-tests -g")(
      "workers", po::value(&a.workers)->default_value(4), "gloo: worker processes (ranks), >= 2")(
      "gpus", po::value(&a.gpus)->default_value(0), "nccl: GPUs to use (0: all of them)")(
      "variants", po::value(&a.variants)->default_value("all"),
      "nccl: what to force in turn, each in its own process: all, or a list of default (NCCL chooses), Ring, Tree "
      "(NCCL_ALGO), Ring/LL, Ring/LL128, Ring/Simple, Tree/LL, Tree/LL128, Tree/Simple (NCCL_ALGO/NCCL_PROTO)")(
      "collectives", po::value(&a.collectives)->default_value(""),
      "comma-separated subset of allreduce, allgather, reduce_scatter, broadcast, p2p_ring, allreduce_half "
      "(default: all the backend has; gloo has allreduce, allgather, p2p_ring, gcsim's own sendrecv ring, and "
      "allreduce_half, the fp16 ring allreduce; nccl the first four)")(
      "node-size", po::value(&a.node_size)->default_value(0),
      "gloo: p2p_ring's rings over nodes of G ranks (packed, as the scenario's gpus_per_node): --link-class inter "
      "times local rank l of every node in a ring (G rings at once), intra every node's G ranks (all nodes at once); "
      "default 1 for inter (one ring of all), --workers for intra (one node)")(
      "link-class", po::value(&a.link_class)->default_value(""),
      "which link the measurement describes: intra (the GPUs of one node; default for nccl) or inter (between "
      "hosts; default for gloo): the fit goes to [collective.<family>.<class>_node]; fabric: links between switches "
      "that bound every flow (e.g. a fat-tree's oversubscribed uplinks with one flow each way, --rate-mbit their "
      "rate): only the efficiencies, to [collective] fabric_efficiency and [collective.<family>.fabric]")(
      "out", po::value(&a.out), "profile to write (refuses to replace an existing file without --force)")(
      "force", "overwrite --out / --csv / --nccl-tests-out if they are regular files")(
      "base", po::value(&a.base)->default_value(source_path("scenarios/profiles/default.toml")),
      "profile to copy everything but the measured [collective] figures from")(
      "min-bytes", po::value(&a.min_bytes)->default_value(4), "smallest message (bytes; sizes are 4 * 4^i)")(
      "max-bytes", po::value(&a.max_bytes)->default_value(4u << 20),
      "largest message (bytes, at most 1 GiB; nccl: 1 GiB unless given)")(
      "repeats", po::value(&a.repeats)->default_value(15), "timed repeats per size (the median is fitted)")(
      "warmup", po::value(&a.warmup)->default_value(3), "untimed repeats before them")(
      "no-check", "skip the data check (one run per size with known inputs, compared element by element)")(
      "compute-ms", po::value(&a.compute_ms)->default_value(0.0),
      "gloo: CPU work per rank before each collective, like a training step's compute (matters where cores are shared)")(
      "rate-mbit", po::value(&a.rate_mbit)->default_value(0.0),
      "the link rate the ranks are shaped to (tools/netem.sh --rate-mbit): also fits the link class's efficiency")(
      "rate-gbps", po::value(&a.rate_gbps)->default_value(0.0), "the same in Gbit/s (e.g. 3600 for 450 GB/s NVLink)")(
      "csv", po::value(&a.csv), "also write every measurement (median, min, max, spread, #wrong, variant) to this CSV")(
      "nccl-tests-out", po::value(&a.nccl_tests_out),
      "also write the tables in nccl-tests' layout (size count type redop root time algbw busbw #wrong) to this file")(
      "refit", po::value(&a.refit)->default_value(""),
      "measure nothing: fit the measurements of an earlier --csv (taken with the same --workers)")(
      "from-nccl-tests", po::value(&a.nccl_logs)->multitoken(),
      "measure nothing: fit nccl-tests logs (all_reduce_perf and all_gather_perf output, one of each at least, "
      "the same ranks); P comes from their '# Rank' lines")(
      "hosts", po::value(&a.hosts)->default_value(""), "gloo: comma-separated address per rank (default 127.0.0.1)")(
      "exec-prefix", po::value(&a.exec_prefix)->default_value(""),
      "gloo: command put before each worker, {rank} replaced by its rank, {node} by rank / --node-size "
      "(tools/netem.sh appends it)")(
      "timeout", po::value(&a.timeout_s)->default_value(60.0),
      "seconds a collective may wait for a peer (nccl: seconds per variant's process)");
  po::options_description internal;  // what the launcher passes to its workers; not in --help
  internal.add_options()(
      "worker-rank", po::value(&a.worker_rank)->default_value(-1), "(internal) run as this rank")(
      "run-dir", po::value(&a.run_dir)->default_value(""), "(internal)")(
      "run-id", po::value(&a.run_id)->default_value(""), "(internal)")(
      "nccl-variant", po::value(&a.nccl_variant)->default_value(""), "(internal) run as this NCCL variant's process")(
      "host", po::value(&a.host)->default_value("127.0.0.1"), "(internal)");
  const po::variables_map vm = parse_args(args, opts, internal, "extra");
  if (vm.count("help")) {
    std::cout << opts
              << "\nTimes collectives over a range of sizes, prints them in nccl-tests' layout (algbw and busbw in\n"
                 "nccl-tests' definitions), fits the profile's figures and writes the base profile with them:\n"
                 "  [collective] launch_us (per collective), alpha_us (per ring step), <class>_node_efficiency;\n"
                 "  [collective.ring.<class>_node] and, from NCCL_ALGO=Tree, [collective.tree.<class>_node]:\n"
                 "  alpha_us, efficiency, bandwidth_gbs, r2, which collective.algorithm = \"ring\" / \"tree\" use.\n"
                 "--backend gloo: Gloo's ring allreduce and ring allgather between --workers processes; run it where\n"
                 "the training runs, e.g. inside tools/netem.sh. --backend nccl: one process drives every local GPU\n"
                 "(ncclCommInitAll and group calls, CUDA events, after warm-up, data check on); each --variants entry\n"
                 "runs in its own process with NCCL_ALGO/NCCL_PROTO set. One GPU gives only a one-rank check:\n"
                 "NCCL refuses two ranks on one GPU, so nothing is fitted and no profile is written.\n"
                 "With --from-nccl-tests LOG... the same fit comes from nccl-tests' all_reduce_perf and\n"
                 "all_gather_perf output (out-of-place times; nccl-tests' size and busbw definitions) instead.\n";
    return kExitOk;
  }
  if (vm.count("extra"))
    throw InputError("unexpected argument '" + vm["extra"].as<std::string>() + "'");
  if (a.backend != "gloo" && a.backend != "nccl") throw InputError("--backend", "", "must be gloo or nccl (got '" + a.backend + "')");
  const bool nccl = a.backend == "nccl";
  if (a.link_class.empty()) a.link_class = nccl ? "intra" : "inter";
  if (a.link_class != "intra" && a.link_class != "inter" && a.link_class != "fabric")
    throw InputError("--link-class", "", "must be intra, inter or fabric (got '" + a.link_class + "')");
  if (nccl && vm["max-bytes"].defaulted()) a.max_bytes = std::size_t{1} << 30;
  if (a.workers < 2 || a.workers > 1024) throw InputError("--workers", "", "must be between 2 and 1024");
  if (a.node_size == 0) a.node_size = a.link_class == "intra" ? a.workers : 1;
  if (a.node_size < 1 || a.workers % a.node_size != 0)
    throw InputError("--node-size", "", std::to_string(a.workers) + " workers are not nodes of " +
                                            std::to_string(a.node_size) + " ranks");
  const std::vector<std::string> asked = split_list(a.collectives, ',');
  const bool times_p2p = !nccl && a.refit.empty() && a.nccl_logs.empty() &&
                         (asked.empty() || std::find(asked.begin(), asked.end(), "p2p_ring") != asked.end());
  if (times_p2p && (a.link_class != "intra" ? a.workers / a.node_size : a.node_size) < 2)
    throw InputError("--node-size", "", "p2p_ring's rings would have one rank (--link-class " + a.link_class +
                                            " with nodes of " + std::to_string(a.node_size) + " of " +
                                            std::to_string(a.workers) + " ranks); leave p2p_ring out of --collectives");
  if (a.gpus < 0 || a.gpus > 1024) throw InputError("--gpus", "", "must be between 0 (all) and 1024");
  if (a.repeats < 1 || a.repeats > 10000 || a.warmup < 0 || a.warmup > 1000)
    throw InputError("--repeats/--warmup", "", "need 1 <= repeats <= 10000, 0 <= warmup <= 1000");
  if (!(a.timeout_s > 0.0 && a.timeout_s <= 86400.0))
    throw InputError("--timeout", "", "must be > 0 seconds and at most a day (86400)");
  if (a.min_bytes < 1 || a.max_bytes > (std::size_t{1} << 30) ||
      calib::collective_size_grid(a.min_bytes, a.max_bytes).size() < 2)
    throw InputError("--min-bytes/--max-bytes", "", "need at least two sizes 4 * 4^i between them (at most 1 GiB)");
  if (!(a.rate_mbit >= 0.0 && std::isfinite(a.rate_mbit))) throw InputError("--rate-mbit", "", "must be >= 0");
  if (!(a.rate_gbps >= 0.0 && std::isfinite(a.rate_gbps))) throw InputError("--rate-gbps", "", "must be >= 0");
  if (a.rate_mbit > 0 && a.rate_gbps > 0) throw InputError("--rate-mbit --rate-gbps", "", "give one of them");
  if (a.rate_gbps > 0) a.rate_mbit = a.rate_gbps * 1e3;
  if (!(a.compute_ms >= 0.0 && a.compute_ms <= 60e3)) throw InputError("--compute-ms", "", "must be in [0, 60000]");
  a.no_check = vm.count("no-check") > 0;
  for (const std::string& op : asked) {
    try {
      calib::check_collective(op);
    } catch (const std::invalid_argument& e) {
      throw InputError("--collectives", "", e.what());
    }
    if (!nccl && op != calib::coll::allreduce && op != calib::coll::allgather && op != calib::coll::p2p_ring &&
        op != calib::coll::allreduce_half)
      throw InputError("--collectives", "", "the gloo backend times allreduce, allgather, p2p_ring and allreduce_half (" +
                                                op + " needs --backend nccl)");
    if (nccl && op == calib::coll::p2p_ring) throw InputError("--collectives", "", "p2p_ring is gcsim's own ring over Gloo: --backend gloo");
    if (nccl && op == calib::coll::allreduce_half)
      throw InputError("--collectives", "", "allreduce_half is Gloo's ring with gcsim's half sum: --backend gloo");
  }
  const std::vector<std::string> variants = nccl ? parse_nccl_variants(a.variants) : std::vector<std::string>{};
  NcclCalibration nc;
  nc.gpus = a.gpus;
  nc.variants = variants;
  nc.sweep = sweep_options(a);
  nc.timeout_s = a.timeout_s;
  nc.child_args = {"--gpus", std::to_string(a.gpus), "--min-bytes", std::to_string(a.min_bytes), "--max-bytes",
                   std::to_string(a.max_bytes), "--repeats", std::to_string(a.repeats), "--warmup",
                   std::to_string(a.warmup), "--collectives", a.collectives};
  if (a.no_check) nc.child_args.push_back("--no-check");
  if (!a.nccl_variant.empty()) return nccl_variant_main(nc, a.nccl_variant, a.run_dir);
  if (a.worker_rank >= 0) return worker_main(a);

  if (nccl) {
    for (const char* gloo_only : {"workers", "hosts", "exec-prefix", "node-size"})
      if (!vm[gloo_only].defaulted()) throw InputError(std::string("--") + gloo_only, "", "is for --backend gloo (nccl uses the local GPUs: --gpus)");
    if (a.compute_ms > 0) throw InputError("--compute-ms", "", "is for --backend gloo");
    if (!a.nccl_logs.empty() || !a.refit.empty())
      throw InputError("--backend nccl", "", "measures; --refit and --from-nccl-tests fit earlier measurements (leave --backend out)");
  }
  if (a.out.empty()) throw InputError("--out", "", "is required");
  const std::vector<std::string> hosts = split_list(a.hosts, ',');
  if (!hosts.empty() && static_cast<int>(hosts.size()) != a.workers)
    throw InputError("--hosts", "", "lists " + std::to_string(hosts.size()) + " addresses for " +
                                        std::to_string(a.workers) + " workers");
  a.force = vm.count("force") > 0;
  check_output_file(a.out, a.force, "--out");
  if (!a.csv.empty()) check_output_file(a.csv, a.force, "--csv");
  if (!a.nccl_tests_out.empty()) check_output_file(a.nccl_tests_out, a.force, "--nccl-tests-out");
  check_distinct_outputs({{"--out", a.out}, {"--csv", a.csv}, {"--nccl-tests-out", a.nccl_tests_out}});
  load_profile(a.base);  // a bad base fails now, not after the measurement
  if (nccl)
    if (const std::string why = comm::nccl_availability().problem; !why.empty())
      throw InputError("--backend nccl", "", why);

  std::vector<calib::CollectiveMeasurement> ms;
  std::vector<std::string> devices;
  std::string library = "Gloo " + std::string(a.exec_prefix.empty() ? "TCP on loopback" : "TCP");
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
    library = "nccl-tests logs";
  } else if (nccl) {
    NcclResult r = run_nccl_calibration(nc);
    ms = std::move(r.ms);
    devices = r.devices;
    library = r.library;
    a.workers = r.ranks;
  } else if (a.refit.empty()) {
    try {
      ms = measure(a);
    } catch (const Interrupted& i) {
      std::fprintf(stderr, "gcsim calibrate collectives: interrupted (signal %d); workers stopped, nothing written\n",
                   i.signal);
      return 128 + i.signal;
    }
  } else {
    ms = calib::read_measurements_csv(a.refit);
    try {
      if (ring_measured_in(ms)) calib::fit_collectives(ms, a.workers);
    } catch (const std::invalid_argument& e) {
      throw InputError(a.refit, "", e.what());
    }
  }
  if (devices.empty()) devices.assign(static_cast<std::size_t>(a.workers), a.refit.empty() ? library : a.refit);
  const std::string tables = nccl_tests_tables(ms, a.workers, devices, library);
  std::fputs(tables.c_str(), stdout);
  std::fputs(p2p_table(ms).c_str(), stdout);

  if (a.workers < 2) {
    // One GPU: NCCL's one-rank path (a local copy) checked end to end, no fit.
    std::printf("one GPU: this is a one-rank check of NCCL only (NCCL refuses two ranks on one GPU, so no "
                "collective crosses a link): nothing fitted, %s not written\n", a.out.c_str());
    AtomicFileSet files;
    if (!a.csv.empty()) files.stage(a.csv, calib::measurements_csv(ms), a.force);
    if (!a.nccl_tests_out.empty()) files.stage(a.nccl_tests_out, tables, a.force);
    files.commit();
    return kExitOk;
  }

  // The ring: NCCL_ALGO=Ring where measured, else NCCL's own choice; Gloo's as they come.
  const std::string ring_variant = !nccl ? std::string() : of_variant(ms, "Ring").empty() ? "default" : "Ring";
  const std::vector<calib::CollectiveMeasurement> ring_ms = nccl ? of_variant(ms, ring_variant) : ms;
  if (ring_ms.empty())
    throw InputError("--variants", "", "the ring fit needs Ring or default among them (got " + a.variants + ")");
  // Only gcsim's own ring or fp16's allreduce measured (--collectives p2p_ring / allreduce_half): their
  // families alone go into the base.
  const bool ring_measured = ring_measured_in(ring_ms);
  calib::CollectiveFit fit;
  try {
    if (ring_measured) fit = calib::fit_collectives(ring_ms, a.workers);
  } catch (const std::invalid_argument& e) {
    throw InputError("--collectives", "", std::string(e.what()) + " (the ring fit needs allreduce and allgather)");
  }
  if (ring_measured) std::printf("%-10s %10s %12s %14s\n", "op", "bytes", "median_us", "fit_us");
  for (const auto& m : ring_ms) {
    if (!ring_measured || (m.op != calib::coll::allreduce && m.op != calib::coll::allgather)) continue;
    const calib::CostFit& f = m.op == calib::coll::allreduce ? fit.allreduce : fit.allgather;
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
  if (nccl) rec.network = std::to_string(a.workers) + " GPUs (" + devices.front() + "), " + library + ", one process";
  if (a.rate_mbit > 0) rec.network += ", shaped to " + std::to_string(static_cast<long long>(a.rate_mbit)) + " Mbit/s";
  rec.date = today_utc();
  rec.command = "gcsim calibrate collectives";
  for (const auto& x : args) rec.command += " " + x;
  rec.workers = a.workers;
  rec.repeats = a.refit.empty() && a.nccl_logs.empty() ? a.repeats : ms.front().seconds.count;
  rec.launch_us = 1e6 * fit.launch_s;
  rec.alpha_us = 1e6 * fit.step_alpha_s;
  rec.achieved_mbit = 8.0 * fit.bytes_per_s / 1e6;
  rec.link_class = a.link_class == "fabric" ? "fabric" : a.link_class + "_node";
  if (a.rate_mbit > 0) rec.inter_node_efficiency = std::min(1.0, rec.achieved_mbit / a.rate_mbit);
  rec.allreduce_r2 = fit.allreduce.r2;
  rec.allgather_r2 = fit.allgather.r2;
  rec.ring_measured = ring_measured;
  const double line_bytes_per_s = a.rate_mbit * 1e6 / 8.0;
  if (ring_measured) {
    calib::CollectiveRecord::Family ring;
    ring.family = "ring";
    ring.fitted_from = nccl ? "allreduce + allgather, " + std::string(ring_variant == "Ring" ? "NCCL_ALGO=Ring" : "NCCL's own algorithm")
                            : "ring allreduce + ring allgather";
    ring.launch_us = rec.launch_us;
    ring.alpha_us = rec.alpha_us;
    ring.efficiency = rec.inter_node_efficiency;
    ring.bandwidth_gbs = fit.bytes_per_s / 1e9;
    ring.r2 = fit.allreduce.r2;
    if (a.rate_mbit > 0) ring.curve = calib::efficiency_curve(ring_ms, calib::coll::allreduce, fit.allreduce.alpha_s, line_bytes_per_s);
    rec.families.push_back(ring);
    // The allgather on its own: Gloo's allgatherv (and NCCL's allgather) reach another rate than the allreduce.
    try {
      const calib::AllgatherFit g = calib::fit_allgather(ring_ms, a.workers, fit.launch_s);
      const calib::CollectiveRecord::Family ag = ring_steps_family(
          g, "allgather",
          nccl ? "allgather, " + std::string(ring_variant == "Ring" ? "NCCL_ALGO=Ring" : "NCCL's own algorithm")
               : "ring allgather",
          ring_ms, calib::coll::allgather, a.rate_mbit);
      rec.families.push_back(ag);
      std::printf("allgather: alpha_us %.2f per step  achieved %.0f Mbit/s\n", ag.alpha_us, 8.0 * g.bytes_per_s / 1e6);
    } catch (const std::invalid_argument& e) {
      std::printf("allgather: not fitted (%s)\n", e.what());
    }
    std::printf("ring: launch_us %.1f  alpha_us %.2f  achieved %.0f Mbit/s%s\n", rec.launch_us, rec.alpha_us,
                rec.achieved_mbit,
                rec.inter_node_efficiency >= 0 ? (" (efficiency " + std::to_string(rec.inter_node_efficiency) + ")").c_str()
                                               : "");
  }
  // gcsim's own sendrecv ring (the hierarchical exchange's): no library launches it.
  if (has_op(ring_ms, calib::coll::p2p_ring)) {
    const auto p2p = std::find_if(ring_ms.begin(), ring_ms.end(), [](const auto& m) { return m.op == calib::coll::p2p_ring; });
    const int L = p2p_ring_length(*p2p);
    // Between nodes the P / L rings at once are a node's ranks, which share its NIC (as the simulator's
    // G rings do): the link's efficiency is theirs together. Inside nodes each rank has its own link.
    const int sharing = a.link_class != "intra" && L > 0 ? std::max(1, a.workers / L) : 1;
    try {
      const calib::AllgatherFit g = calib::fit_allgather(ring_ms, L, 0.0, calib::coll::p2p_ring);
      calib::CollectiveRecord::Family f;
      f.family = "p2p";
      f.fitted_from = "gcsim's sendrecv ring allgather, rings of " + std::to_string(L) + " ranks (" +
                      std::to_string(a.workers / std::max(L, 1)) + " at once" +
                      (sharing > 1 ? ", " + std::to_string(sharing) + " per NIC" : std::string()) + ")";
      f.alpha_us = 1e6 * g.step_alpha_s;
      f.bandwidth_gbs = sharing * g.bytes_per_s / 1e9;
      if (a.rate_mbit > 0) {
        f.efficiency = std::min(1.0, sharing * 8.0 * g.bytes_per_s / 1e6 / a.rate_mbit);
        f.curve = calib::efficiency_curve(ring_ms, calib::coll::p2p_ring, g.allgather.alpha_s, line_bytes_per_s / sharing);
      }
      f.r2 = g.allgather.r2;
      rec.families.push_back(f);
      std::printf("p2p: alpha_us %.2f per step  achieved %.0f Mbit/s per rank (rings of %d, %d per link)\n",
                  f.alpha_us, 8.0 * g.bytes_per_s / 1e6, L, sharing);
    } catch (const std::invalid_argument& e) {
      if (!ring_measured) throw InputError("--collectives", "", e.what());
      std::printf("p2p: not fitted (%s)\n", e.what());
    }
  }
  // fp16's allreduce: Gloo's ring over 2-byte elements, summed by gcsim's half_sum on the CPU.
  if (has_op(ring_ms, calib::coll::allreduce_half)) {
    const double launch_s = ring_measured ? fit.launch_s : load_profile(a.base).collective(family::ring).launch_s;
    try {
      const calib::AllgatherFit h = calib::fit_half_allreduce(ring_ms, a.workers, launch_s);
      const calib::CollectiveRecord::Family f =
          ring_steps_family(h, family::half, "fp16 ring allreduce (Gloo's ring, gcsim's half sum)", ring_ms,
                            calib::coll::allreduce_half, a.rate_mbit);
      rec.families.push_back(f);
      std::printf("half: alpha_us %.2f per step  achieved %.0f Mbit/s\n", f.alpha_us, 8.0 * h.bytes_per_s / 1e6);
    } catch (const std::invalid_argument& e) {
      if (!ring_measured) throw InputError("--collectives", "", e.what());
      std::printf("half: not fitted (%s)\n", e.what());
    }
  }
  if (const auto tree_ms = of_variant(ms, "Tree"); nccl && !tree_ms.empty()) {
    try {
      const calib::TreeFit t = calib::fit_tree_allreduce(tree_ms, a.workers, fit.launch_s);
      calib::CollectiveRecord::Family tree;
      tree.family = "tree";
      tree.fitted_from = "allreduce, NCCL_ALGO=Tree";
      tree.launch_us = 1e6 * t.launch_s;
      tree.alpha_us = 1e6 * t.step_alpha_s;
      tree.bandwidth_gbs = t.bytes_per_s / 1e9;
      if (a.rate_mbit > 0) tree.efficiency = std::min(1.0, 8.0 * t.bytes_per_s / 1e6 / a.rate_mbit);
      tree.r2 = t.allreduce.r2;
      rec.families.push_back(tree);
      std::printf("tree: alpha_us %.2f per level  bandwidth %.2f GB/s\n", tree.alpha_us, tree.bandwidth_gbs);
    } catch (const std::invalid_argument& e) {
      std::printf("tree: not fitted (%s)\n", e.what());
    }
  }
  const std::string text = calib::collective_profile_toml(a.base, rec);
  AtomicFileSet files;  // all or none
  if (!a.csv.empty()) files.stage(a.csv, calib::measurements_csv(ms), a.force);
  if (!a.nccl_tests_out.empty()) files.stage(a.nccl_tests_out, tables, a.force);
  files.stage(a.out, text, a.force);
  files.commit();
  load_profile(a.out);  // what we wrote must read back
  std::printf("wrote %s\n", a.out.c_str());
  return kExitOk;
}

}  // namespace gcsim::cli
