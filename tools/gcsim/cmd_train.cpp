// gcsim train SCENARIO.toml [--set key=value ...] --out DIR
//
// The launcher: validates the scenario and the data, then starts
// cluster.workers worker processes (this same binary with --worker-rank R),
// which rendezvous through Gloo's file store in the run directory and train
// over Gloo's TCP transport. It watches them: when one fails, the others get
// `--timeout` seconds to notice (their next collective fails) before they are
// killed, and the run fails with the first error. The run is written to
// DIR.partial-<pid> and renamed to DIR only when every worker succeeded.
// --backend inprocess runs the ranks as threads of this process instead.
#include <boost/program_options.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "config/input_error.h"
#include "config/train_loader.h"
#include "kernels/backend.h"
#include "train/checkpoint.h"
#include "train/dataset.h"
#include "train/gloo_comm.h"
#include "train/inprocess_comm.h"
#include "train/run_log.h"
#include "train/trainer.h"
#include "tools/gcsim/cli.h"
#include "tools/gcsim/train_progress.h"
#include "tools/gcsim/worker_processes.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace gcsim::cli {

namespace {

struct TrainArgs {
  std::string scenario, out, backend, hosts, exec_prefix, resume, kernels, device;
  std::vector<std::string> sets;
  double timeout_s = 60.0;
  int checkpoint_every = 0;
  std::int64_t stop_after = -1;
  // worker mode
  int worker_rank = -1;
  std::string run_dir, run_id, host;
};

std::string command_line(const std::vector<std::string>& args) {
  std::string c = "gcsim train";
  for (const auto& a : args) c += " " + a;
  return c;
}

train::RunSummary summary_of(const train::TrainConfig& cfg, const std::string& backend, const std::string& device,
                             const train::RunLog& log, const train::RunResult& result, double wall_s,
                             const std::string& command) {
  train::RunSummary s;
  s.scenario = cfg.scenario.source_path;
  s.backend = backend;
  s.device = device;
  s.workers = cfg.scenario.cluster.workers;
  s.batch_per_worker = cfg.scenario.batch_per_worker;
  s.epochs = cfg.settings.epochs;
  s.method = to_string(cfg.scenario.compression.method);
  s.ratio = cfg.scenario.compression.ratio;
  s.error_feedback = cfg.scenario.compression.error_feedback;
  s.momentum_correction = cfg.scenario.compression.momentum_correction;
  s.result = result;
  s.breakdown = train::mean_breakdown(log.steps());
  s.wall_s = wall_s;
  s.command = command;
  return s;
}

train::TrainerOptions trainer_options(const TrainArgs& a, const std::string& run_dir) {
  train::TrainerOptions o;
  o.device = train::parse_model_device(a.device);
  o.kernel_backend = a.kernels;
  o.checkpoint_dir = (fs::path(run_dir) / "checkpoint").string();
  o.resume_dir = a.resume;
  o.checkpoint_every = a.checkpoint_every;
  o.stop_after = a.stop_after;
  return o;
}

// One rank's whole run; rank 0 also writes the summary. Returns the summary text (rank 0).
std::string run_rank(train::Communicator& comm, const train::FashionMnist& data, const train::TrainConfig& cfg,
                     const TrainArgs& a, const std::string& run_dir, const std::string& command) {
  const auto t0 = std::chrono::steady_clock::now();
  train::Trainer trainer(comm, data, cfg, trainer_options(a, run_dir));
  train::RunLog log(run_dir, comm.rank());
  TrainProgress progress(log, cfg.settings.epochs, cfg.scenario.cluster.workers, comm.rank() == 0);
  const train::RunResult result = trainer.run(&progress);
  progress.finish();
  if (!result.replicas_identical)
    throw std::runtime_error("the replicas' parameters diverged (a bug: every rank applies the same update)");
  if (comm.rank() != 0) return {};
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return train::write_summary(run_dir, summary_of(cfg, comm.name(), trainer.model().engine_description(), log, result, wall, command));
}

// Why a rank stopped: its own failure ("cause") or a collective that failed
// because another rank did ("peer"), the message, and the exit code.
struct RankFailure {
  int code = kExitOk;
  bool peer = false;
  std::string message;
};

// Classifies the exception being handled; call it inside a catch block.
RankFailure current_failure() {
  try {
    throw;
  } catch (const InputError& e) {
    return {kExitBadInput, false, e.what()};
  } catch (const kernels::NonFiniteError& e) {
    return {kExitBadInput, false, std::string(e.what()) + " (training diverged: lower [optimizer] lr?)"};
  } catch (const train::CommError& e) {
    return {kExitRuntime, true, e.what()};
  } catch (const std::exception& e) {
    return {kExitRuntime, false, e.what()};
  }
}

// ---- worker process ----------------------------------------------------------

// A worker reports its error to the launcher in RUN_DIR/rank-R.error: first
// line "cause" (its own failure) or "peer" (a collective failed because
// another rank did), second line the message. The launcher prints one line.
std::string error_path(const std::string& run_dir, int rank) {
  return (fs::path(run_dir) / ("rank-" + std::to_string(rank) + ".error")).string();
}

int worker_fail(const TrainArgs& a, const RankFailure& failure) {
  std::ofstream f(error_path(a.run_dir, a.worker_rank));
  f << (failure.peer ? "peer" : "cause") << "\n" << failure.message << "\n";
  if (!f) std::fprintf(stderr, "gcsim train [rank %d]: %s\n", a.worker_rank, failure.message.c_str());
  return failure.code;
}

int worker_main(const TrainArgs& a, const train::TrainConfig& cfg) {
  const int rank = a.worker_rank;
  try {
    const auto data = train::load_fashion_mnist(cfg.settings.data_dir, cfg.settings.limit_train,
                                                cfg.settings.limit_test);
    train::GlooOptions go;
    go.store_dir = (fs::path(a.run_dir) / ".rendezvous").string();
    go.run_id = a.run_id;
    go.host = a.host;
    go.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(a.timeout_s * 1000));
    train::GlooComm comm(rank, cfg.scenario.cluster.workers, go);
    const char* command = std::getenv("GCSIM_TRAIN_COMMAND");
    run_rank(comm, data, cfg, a, a.run_dir, command ? command : "");
    return kExitOk;
  } catch (const std::exception&) {
    return worker_fail(a, current_failure());
  }
}

// ---- launcher -----------------------------------------------------------------

std::atomic<int> g_signal{0};
void on_signal(int sig) { g_signal = sig; }

// Runs the workers as processes; returns the exit code. Writes into run_dir.
int launch_processes(const TrainArgs& a, const train::TrainConfig& cfg, const std::string& run_dir,
                     const std::vector<std::string>& raw_args) {
  const int p = cfg.scenario.cluster.workers;
  std::vector<std::string> hosts = split_list(a.hosts, ',');
  if (hosts.empty()) hosts.assign(p, "127.0.0.1");
  if (static_cast<int>(hosts.size()) != p)
    throw InputError("--hosts", "", "lists " + std::to_string(hosts.size()) + " addresses for " + std::to_string(p) +
                                        " workers");
  fs::create_directories(fs::path(run_dir) / ".rendezvous");
  const std::string run_id = "run-" + std::to_string(getpid()) + "-" +
                             std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  const std::string exe = self_exe();
  setenv("OPENBLAS_NUM_THREADS", "1", 0);  // P processes share the cores; keep BLAS single-threaded
  setenv("GCSIM_TRAIN_COMMAND", command_line(raw_args).c_str(), 1);

  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  std::vector<pid_t> pids(p, -1);
  std::vector<int> status(p, 0);
  std::vector<bool> done(p, false);
  for (int r = 0; r < p; ++r) {
    std::vector<std::string> argv = exec_prefix_words(a.exec_prefix, r);
    argv.insert(argv.end(), {exe, "train", a.scenario, "--out", a.out, "--worker-rank", std::to_string(r),
                             "--run-dir", run_dir, "--run-id", run_id, "--host", hosts[r], "--timeout",
                             std::to_string(a.timeout_s), "--kernels", a.kernels, "--device", a.device, "--checkpoint-every",
                             std::to_string(a.checkpoint_every), "--stop-after", std::to_string(a.stop_after)});
    if (!a.resume.empty()) argv.insert(argv.end(), {"--resume", a.resume});
    for (const auto& s : a.sets) argv.insert(argv.end(), {"--set", s});
    try {
      pids[r] = spawn(argv);
    } catch (...) {
      for (int q = 0; q < r; ++q) kill(pids[q], SIGKILL);
      for (int q = 0; q < r; ++q) waitpid(pids[q], nullptr, 0);
      throw;
    }
  }

  using Clock = std::chrono::steady_clock;
  int first_failed = -1;
  Clock::time_point deadline = Clock::time_point::max();
  int remaining = p;
  bool killed = false;
  while (remaining > 0) {
    for (int r = 0; r < p; ++r) {
      if (done[r]) continue;
      int st = 0;
      const pid_t got = waitpid(pids[r], &st, WNOHANG);
      if (got == pids[r]) {
        done[r] = true;
        status[r] = st;
        --remaining;
        const bool ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
        if (!ok && first_failed < 0) {
          first_failed = r;
          deadline = Clock::now() + std::chrono::milliseconds(static_cast<std::int64_t>(a.timeout_s * 1000));
        }
      }
    }
    if (remaining == 0) break;
    if (g_signal != 0 && deadline == Clock::time_point::max()) {
      for (int r = 0; r < p; ++r)
        if (!done[r]) kill(pids[r], SIGTERM);
      deadline = Clock::now() + std::chrono::seconds(5);
    }
    if (Clock::now() > deadline && !killed) {
      for (int r = 0; r < p; ++r)
        if (!done[r]) kill(pids[r], SIGKILL);
      killed = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  fs::remove_all(fs::path(run_dir) / ".rendezvous");

  if (g_signal != 0) {
    std::fprintf(stderr, "gcsim train: interrupted (signal %d); workers stopped, nothing written to %s\n",
                 g_signal.load(), a.out.c_str());
    return 128 + g_signal;
  }
  if (first_failed < 0) return kExitOk;
  // One line: the root cause -- a rank's own error, else the first rank to
  // fail -- and what became of the others.
  std::vector<std::string> kind(p), message(p);
  for (int r = 0; r < p; ++r) {
    std::ifstream f(error_path(run_dir, r));
    std::getline(f, kind[r]);
    std::getline(f, message[r]);
  }
  int cause = first_failed;
  for (int r = p - 1; r >= 0; --r)
    if (kind[r] == "cause") cause = r;
  std::string others;
  for (int r = 0; r < p; ++r) {
    if (r == cause) continue;
    const bool ok = WIFEXITED(status[r]) && WEXITSTATUS(status[r]) == 0;
    others += (others.empty() ? "" : ", ") + ("rank " + std::to_string(r) + " " +
                                              (ok ? "finished" : kind[r] == "cause" ? "failed the same way"
                                                                 : kind[r] == "peer" ? "lost its peers"
                                                                                     : describe_status(status[r])));
  }
  const std::string what = message[cause].empty() ? describe_status(status[cause]) : message[cause];
  std::fprintf(stderr, "gcsim train: rank %d: %s (%s%s)\n", cause, what.c_str(), others.c_str(),
               killed ? "; the rest killed after the --timeout" : "");
  const bool bad_input = WIFEXITED(status[cause]) && WEXITSTATUS(status[cause]) == kExitBadInput;
  return bad_input ? kExitBadInput : kExitRuntime;
}

int launch_threads(const TrainArgs& a, const train::TrainConfig& cfg, const train::FashionMnist& data,
                   const std::string& run_dir, const std::vector<std::string>& raw_args) {
  const int p = cfg.scenario.cluster.workers;
  auto hub = std::make_shared<train::InProcessHub>(
      p, std::chrono::milliseconds(static_cast<std::int64_t>(a.timeout_s * 1000)));
  std::vector<RankFailure> failures(p);  // each rank writes only its own entry
  std::vector<std::thread> threads;
  for (int r = 0; r < p; ++r)
    threads.emplace_back([&, r] {
      train::InProcessComm comm(hub, r);
      try {
        run_rank(comm, data, cfg, a, run_dir, command_line(raw_args));
      } catch (const std::exception&) {
        failures[r] = current_failure();
        comm.abort();
      }
    });
  for (auto& t : threads) t.join();
  // One line: the first rank that failed on its own, else the first that failed.
  int cause = -1;
  for (int r = 0; r < p && cause < 0; ++r)
    if (failures[r].code != kExitOk && !failures[r].peer) cause = r;
  for (int r = 0; r < p && cause < 0; ++r)
    if (failures[r].code != kExitOk) cause = r;
  if (cause < 0) return kExitOk;
  std::fprintf(stderr, "gcsim train: rank %d: %s\n", cause, failures[cause].message.c_str());
  return failures[cause].code;
}

}  // namespace

int cmd_train(const std::vector<std::string>& args) {
  po::options_description opts("gcsim train SCENARIO.toml --out DIR [options]");
  TrainArgs a;
  opts.add_options()("help,h", "show this help")(
      "set", po::value<std::vector<std::string>>(&a.sets)->composing(), "override a scenario key: key=value")(
      "out", po::value<std::string>(&a.out), "run directory to create (never overwritten)")(
      "backend", po::value<std::string>(&a.backend)->default_value("gloo"),
      "gloo (worker processes over TCP) or inprocess (threads, for quick checks)")(
      "timeout", po::value<double>(&a.timeout_s)->default_value(60.0),
      "seconds a collective may wait for a peer; also the grace period after a worker fails")(
      "hosts", po::value<std::string>(&a.hosts)->default_value(""),
      "comma-separated address per rank to bind (default 127.0.0.1 for all)")(
      "exec-prefix", po::value<std::string>(&a.exec_prefix)->default_value(""),
      "command put before each worker, {rank} replaced (e.g. \"ip netns exec ns{rank}\"; see tools/netem.sh)")(
      "resume", po::value<std::string>(&a.resume)->default_value(""), "continue from a run's checkpoint directory")(
      "checkpoint-every", po::value<int>(&a.checkpoint_every)->default_value(0),
      "also checkpoint every N steps (always at each epoch's end)")(
      "stop-after", po::value<std::int64_t>(&a.stop_after)->default_value(-1),
      "stop after N steps in all, with a checkpoint (for resuming)")(
      "kernels", po::value<std::string>(&a.kernels)->default_value("cpu"),
      "compression kernels: cpu or cpu-reference")(
      "device", po::value<std::string>(&a.device)->default_value("cpu"),
      "where forward/backward run: cpu (OpenBLAS) or cuda (cuBLAS + CUDA kernels; rank r on GPU r % count)");
  po::options_description internal;  // what the launcher passes to its workers; not in --help
  internal.add_options()(
      "worker-rank", po::value<int>(&a.worker_rank)->default_value(-1), "(internal) run as this rank")(
      "run-dir", po::value<std::string>(&a.run_dir)->default_value(""), "(internal)")(
      "run-id", po::value<std::string>(&a.run_id)->default_value(""), "(internal)")(
      "host", po::value<std::string>(&a.host)->default_value("127.0.0.1"), "(internal)");
  const auto vm = parse_args(args, opts, internal, "scenario");
  if (vm.count("help") || !vm.count("scenario")) {
    std::cout << opts << "\n";
    return vm.count("help") ? kExitOk : kExitBadInput;
  }
  a.scenario = vm["scenario"].as<std::string>();
  if (a.out.empty()) throw InputError("--out", "", "is required (the run directory to create)");
  if (a.backend != "gloo" && a.backend != "inprocess")
    throw InputError("--backend " + a.backend, "", "must be gloo or inprocess");
  if (!(a.timeout_s > 0.0 && std::isfinite(a.timeout_s)))
    throw InputError("--timeout", "", "must be > 0 seconds");
  if (a.kernels != "cpu" && a.kernels != "cpu-reference")
    throw InputError("--kernels " + a.kernels, "", "must be cpu or cpu-reference");
  if (a.device != "cpu" && a.device != "cuda") throw InputError("--device " + a.device, "", "must be cpu or cuda");
  if (a.checkpoint_every < 0) throw InputError("--checkpoint-every", "", "must be >= 0");
  if (a.stop_after < -1) throw InputError("--stop-after", "", "must be >= 0");

  const train::TrainConfig cfg = load_train_config(a.scenario, a.sets);
  if (a.worker_rank >= 0) return worker_main(a, cfg);

  if (!a.resume.empty() && !fs::is_directory(a.resume))
    throw InputError("--resume " + a.resume, "", "is not a directory (give a run's checkpoint directory)");
  if (fs::exists(a.out)) throw InputError("--out " + a.out, "", "already exists; gcsim train never overwrites a run");
  const fs::path parent = fs::absolute(a.out).parent_path();
  if (!fs::is_directory(parent)) throw InputError("--out " + a.out, "", "its directory does not exist");
  // Validate the data here, before any worker starts (a bad file is exit 2, nothing written).
  const auto data = train::load_fashion_mnist(cfg.settings.data_dir, cfg.settings.limit_train,
                                              cfg.settings.limit_test);
  if (data.train.count < cfg.scenario.cluster.workers)
    throw InputError(cfg.settings.data_dir, "", "fewer training images than workers");
  if (a.device == "cuda") {  // one line before any worker starts, not P failing workers
    try {
      train::usable_cuda_devices();
    } catch (const std::exception& e) {
      throw InputError("--device cuda", "", e.what());
    }
  }
  if (!a.resume.empty()) {
    a.resume = fs::absolute(a.resume).string();
    // Check every rank's checkpoint here, so a mismatch is one line and exit 2.
    const auto fp = train::fingerprint_of(train::Trainer::fingerprint_text(cfg));
    for (int r = 0; r < cfg.scenario.cluster.workers; ++r)
      train::load_checkpoint(a.resume, r, cfg.scenario.cluster.workers, fp, train::SimpleCnn::kParams);
  }

  const std::string run_dir = fs::absolute(a.out).string() + ".partial-" + std::to_string(getpid());
  fs::create_directories(run_dir);
  int rc = kExitRuntime;
  try {
    rc = a.backend == "gloo" ? launch_processes(a, cfg, run_dir, args) : launch_threads(a, cfg, data, run_dir, args);
  } catch (...) {
    fs::remove_all(run_dir);
    throw;
  }
  if (rc != kExitOk) {
    fs::remove_all(run_dir);
    return rc;
  }
  fs::rename(run_dir, a.out);
  std::ifstream summary(fs::path(a.out) / "summary.txt");
  std::cout << summary.rdbuf();
  std::cout << "run written to " << a.out << "/ (epochs.csv, steps-rank*.csv, summary.json, checkpoint/)\n";
  return kExitOk;
}

}  // namespace gcsim::cli
