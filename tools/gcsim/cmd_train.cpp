// gcsim train SCENARIO.toml [--set key=value ...] --out DIR
//
// The launcher: validates the scenario and the data, then starts
// cluster.workers worker processes (this same binary with --worker-rank R),
// which rendezvous through Gloo's file store in the run directory and train
// over Gloo's TCP transport (or NCCL on GPUs: --comm). It watches them: when
// one fails, the others get `--timeout` seconds to notice (their next
// collective fails) before they are killed, and the run fails with the first
// error; a worker that is stopped (SIGSTOP) or never ran (a bad --exec-prefix)
// fails the run at once. Workers die with the launcher (parent-death signal, and a watch on its pid). The
// run is written to DIR.partial-<pid> and renamed to DIR only when every
// worker wrote its completion record; a failed run that checkpointed keeps
// DIR.partial-<pid> and says how to resume from it.
// --backend inprocess runs the ranks as threads of this process instead.
#include <boost/program_options.hpp>

#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <sys/socket.h>
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
#include "compress/method.h"
#include "config/train_loader.h"
#include "kernels/backend.h"
#include "train/loop/checkpoint.h"
#include "train/data/dataset.h"
#include "comm/choose_backend.h"
#include "comm/gloo_comm.h"
#include "comm/inprocess_comm.h"
#include "comm/rank_identity.h"
#include "comm/tcp_store.h"
#include "train/loop/run_log.h"
#include "train/loop/trainer.h"
#include "train/emulate/emulated_trainer.h"
#include "tools/gcsim/cli.h"
#include "tools/gcsim/train_progress.h"
#include "tools/gcsim/worker_processes.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace gcsim::cli {

namespace {

struct TrainArgs {
  std::string scenario, out, backend, hosts, exec_prefix, resume, kernels, device;
  std::string comm = "auto";  // --comm: auto, gloo or nccl (the launcher passes its choice to the workers)
  std::vector<std::string> sets;
  double timeout_s = 60.0;
  int checkpoint_every = 0;
  std::int64_t stop_after = -1;
  // worker mode
  int worker_rank = -1;
  std::string run_dir, run_id, host;
  // a rank started on its own (--rendezvous)
  std::string rendezvous;
  int rank = -1, world_size = -1;
  // SCENARIO is a sweep file and this its point (gcsim validate)
  std::int64_t sweep_point = -1;
};

// The run's configuration: the scenario with its --set, or a sweep's point.
train::TrainConfig load_config(const TrainArgs& a) {
  if (a.sweep_point >= 0) return load_sweep_point_config(a.scenario, static_cast<std::size_t>(a.sweep_point), a.sets);
  return load_train_config(a.scenario, a.sets);
}

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
  s.method = cfg.scenario.compression.method;
  s.variant = compress::method(s.method).label(cfg.scenario.compression);
  s.auto_choice = cfg.auto_choice;
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

// --comm resolved for this run's worker processes (comm/choose_backend.h);
// one that cannot be met is bad input. ranks_on_host: 0 when not known.
comm::Backend comm_backend(const TrainArgs& a, int ranks_on_host) {
  try {
    return comm::choose_backend({a.comm, a.device == "cuda", ranks_on_host, !a.exec_prefix.empty()});
  } catch (const std::invalid_argument& e) {
    throw InputError(e.what());
  }
}

// With compute.emulate there is no model to checkpoint, resume or put on a GPU.
void refuse_model_flags_when_emulated(const TrainArgs& a, const train::TrainConfig& cfg) {
  if (!cfg.scenario.compute.emulate) return;
  for (const auto& [flag, set] : {std::pair<const char*, bool>{"--resume", !a.resume.empty()},
                                  {"--checkpoint-every", a.checkpoint_every > 0},
                                  {"--stop-after", a.stop_after >= 0},
                                  {"--device cuda", a.device == "cuda"}})
    if (set) throw InputError(flag, "", "does not apply to a run with compute.emulate = true (no model is computed)");
}

// The training data: Fashion-MNIST, or nothing where the compute is emulated.
train::FashionMnist load_data(const train::TrainConfig& cfg) {
  if (cfg.scenario.compute.emulate) return {};
  return train::load_fashion_mnist(cfg.settings.data_dir, cfg.settings.limit_train, cfg.settings.limit_test);
}

// An emulated-compute rank ([compute] emulate = true): no model, no data.
std::string run_emulated_rank(comm::Communicator& comm, const train::TrainConfig& cfg, const TrainArgs& a,
                              const std::string& run_dir, const std::string& command, std::FILE* progress_out) {
  const auto t0 = std::chrono::steady_clock::now();
  train::EmulatedTrainer trainer(comm, cfg, a.kernels);
  train::RunLog log(run_dir, comm.rank());
  TrainProgress progress(log, 1, cfg.scenario.cluster.workers, comm.rank() == 0, progress_out);
  const train::RunResult result = trainer.run(&progress);
  progress.finish();
  if (!result.replicas_identical)
    throw std::runtime_error("the ranks' averaged gradients differ (a bug: every rank must get the same average)");
  if (comm.rank() != 0) return {};
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  train::RunSummary s = summary_of(cfg, comm.name(), trainer.description(), log, result, wall, command);
  s.epochs = 0;
  s.emulated = true;
  return train::write_summary(run_dir, s);
}

// One rank's whole run; rank 0 also writes the summary. Returns the summary text (rank 0).
std::string run_rank(comm::Communicator& comm, const train::FashionMnist& data, const train::TrainConfig& cfg,
                     const TrainArgs& a, const std::string& run_dir, const std::string& command,
                     std::FILE* progress_out = stderr) {
  if (cfg.scenario.compute.emulate) return run_emulated_rank(comm, cfg, a, run_dir, command, progress_out);
  const auto t0 = std::chrono::steady_clock::now();
  train::Trainer trainer(comm, data, cfg, trainer_options(a, run_dir));
  train::RunLog log(run_dir, comm.rank());
  TrainProgress progress(log, cfg.settings.epochs, cfg.scenario.cluster.workers, comm.rank() == 0, progress_out);
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
  } catch (const comm::CommError& e) {
    return {kExitRuntime, true, e.what()};
  } catch (const std::exception& e) {
    return {kExitRuntime, false, e.what()};
  }
}

// ---- worker process ----------------------------------------------------------

// A worker's records in RUN_DIR, for the launcher:
//   rank-R.started  written first thing (before the scenario is read): the worker ran
//   rank-R.done     written last, after a whole run: the worker finished
//   rank-R.error    first line "cause" (its own failure) or "peer" (a collective
//                   failed because another rank did), second line the message
//   rank-R.log      the worker's stderr (the launcher opens it)
// The launcher prints one line; a worker that exits 0 without rank-R.done
// failed (e.g. an --exec-prefix that did not run it).
std::string rank_file(const std::string& run_dir, int rank, const char* what) {
  return (fs::path(run_dir) / ("rank-" + std::to_string(rank) + "." + what)).string();
}
std::string error_path(const std::string& run_dir, int rank) { return rank_file(run_dir, rank, "error"); }

void touch(const std::string& path) { std::ofstream(path).put('\n'); }

// The launcher creates rank-R.error filled with kErrorRoom newlines before the
// worker starts, so the worker's report overwrites space it already has: it
// gets through even when the failure is a full disk.
constexpr std::size_t kErrorRoom = 4096;

int worker_fail(const TrainArgs& a, const RankFailure& failure) {
  std::string text = std::string(failure.peer ? "peer" : "cause") + "\n" + failure.message;
  if (text.size() > kErrorRoom - 1) text.resize(kErrorRoom - 1);
  text += "\n";
  const std::string path = error_path(a.run_dir, a.worker_rank);
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  bool ok = fd >= 0 && write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ftruncate(fd, static_cast<off_t>(text.size())) == 0;
  if (fd >= 0 && close(fd) != 0) ok = false;
  if (!ok) std::fprintf(stderr, "gcsim train [rank %d]: %s\n", a.worker_rank, failure.message.c_str());
  return failure.code;
}

// Where rank 0's progress goes: the launcher's stderr, handed down as the
// descriptor in GCSIM_TRAIN_PROGRESS_FD (this process's own stderr is its log
// file); stderr when that descriptor did not survive the --exec-prefix.
std::FILE* progress_stream() {
  const char* e = std::getenv("GCSIM_TRAIN_PROGRESS_FD");
  const int fd = e ? std::atoi(e) : -1;
  if (fd > STDERR_FILENO && fcntl(fd, F_GETFD) != -1)
    if (std::FILE* f = fdopen(fd, "w")) return f;
  return stderr;
}

// Ends this worker when the launcher is gone, even where an --exec-prefix
// forked in between (the parent-death signal then reaches only the prefix).
void watch_launcher() {
  const char* e = std::getenv("GCSIM_TRAIN_LAUNCHER_PID");
  const pid_t launcher = e ? static_cast<pid_t>(std::atol(e)) : 0;
  if (launcher <= 1) return;
  std::thread([launcher] {
    for (;;) {
      if (kill(launcher, 0) != 0 && errno == ESRCH) _exit(kExitRuntime);
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  }).detach();
}

int worker_main(const TrainArgs& a, const train::TrainConfig& cfg) {
  const int rank = a.worker_rank;
  try {
    const auto data = load_data(cfg);
    comm::GlooOptions go;
    go.store_dir = (fs::path(a.run_dir) / ".rendezvous").string();
    go.run_id = a.run_id;
    go.host = a.host;
    go.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(a.timeout_s * 1000));
    const auto comm = comm::make_communicator(comm_backend(a, 0), rank, cfg.scenario.cluster.workers, go);
    const char* command = std::getenv("GCSIM_TRAIN_COMMAND");
    run_rank(*comm, data, cfg, a, a.run_dir, command ? command : "", rank == 0 ? progress_stream() : stderr);
    touch(rank_file(a.run_dir, rank, "done"));
    return kExitOk;
  } catch (const std::exception&) {
    return worker_fail(a, current_failure());
  }
}

// ---- one rank started on its own (--rendezvous) ---------------------------------

// A cluster scheduler (srun, mpirun, or a person) starts every rank: no
// launcher. The ranks meet in Gloo's file store in the --rendezvous directory
// (a shared filesystem), or in a TCP store that rank 0 serves at
// --rendezvous tcp://HOST:PORT, under the run id. Each writes into
// OUT.partial-RUN_ID: one directory on a shared filesystem, one per host
// otherwise. After the last step rank 0 renames it to OUT, then every other
// rank whose directory is still there (its host's own) does. A failure is one
// line on that rank's stderr and its exit code; a checkpointed run keeps its
// partial directory.
std::string keep_if_resumable(const std::string& run_dir, const train::TrainConfig& cfg);

int standalone_main(TrainArgs& a, const std::vector<std::string>& args) {
  comm::RankIdentity id;
  try {
    id = comm::rank_identity(a.rank >= 0 ? std::optional<int>(a.rank) : std::nullopt,
                             a.world_size >= 0 ? std::optional<int>(a.world_size) : std::nullopt, a.run_id,
                             [](const char* k) { return std::getenv(k); });
  } catch (const std::invalid_argument& e) {
    throw InputError(e.what());
  }
  if (a.backend != "gloo") throw InputError("--backend " + a.backend, "", "ranks started on their own talk over gloo");
  if (a.worker_rank >= 0) throw InputError("--worker-rank", "", "is the launcher's; with --rendezvous give --rank");
  if (!a.hosts.empty() || !a.exec_prefix.empty())
    throw InputError(a.hosts.empty() ? "--exec-prefix" : "--hosts", "",
                     "is the launcher's; a rank started on its own binds --host and is started by its scheduler");
  std::error_code ec;
  const bool tcp = a.rendezvous.rfind("tcp://", 0) == 0;
  if (tcp) {
    try {
      comm::parse_tcp_address(a.rendezvous);
    } catch (const std::invalid_argument& e) {
      throw InputError("--rendezvous", "", e.what());
    }
  } else if (!fs::is_directory(a.rendezvous, ec)) {
    throw InputError("--rendezvous " + a.rendezvous, "", "is not a directory (every rank must see the same one) "
                                                        "or a tcp://HOST:PORT that rank 0 serves");
  }
  const train::TrainConfig cfg = load_config(a);
  refuse_model_flags_when_emulated(a, cfg);
  const comm::Backend backend = comm_backend(a, 0);
  if (cfg.scenario.cluster.workers != id.world_size)
    throw InputError(id.source, "", "world size " + std::to_string(id.world_size) + " but the scenario has cluster.workers = " +
                                        std::to_string(cfg.scenario.cluster.workers));
  if (fs::exists(fs::symlink_status(a.out, ec)))
    throw InputError("--out " + a.out, "", "already exists; gcsim train never overwrites a run");
  if (!a.resume.empty()) a.resume = fs::absolute(a.resume).string();
  const std::string out = fs::absolute(a.out).string();
  const std::string run_dir = out + ".partial-" + id.run_id;
  fs::create_directories(run_dir, ec);
  if (ec) throw InputError("--out " + a.out, "", "cannot create " + run_dir + ": " + ec.message());
  const std::string where = "rank " + std::to_string(id.rank) + ": ";
  std::string summary;
  try {
    const auto data = load_data(cfg);
    comm::GlooOptions go;
    if (tcp) go.store_addr = a.rendezvous;
    else go.store_dir = fs::absolute(a.rendezvous).string();
    go.run_id = id.run_id;
    go.host = a.host;
    go.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(a.timeout_s * 1000));
    setenv("OPENBLAS_NUM_THREADS", "1", 0);
    std::unique_ptr<comm::Communicator> joined;
    try {
      joined = comm::make_communicator(backend, id.rank, id.world_size, go);
    } catch (const comm::CommError& e) {
      throw comm::CommError(std::string(e.what()) + " (not every rank came within the --timeout: start all " +
                            std::to_string(id.world_size) + " with the same --rendezvous directory and run id, here " +
                            id.run_id + ")");
    }
    comm::Communicator& comm = *joined;
    summary = run_rank(comm, data, cfg, a, run_dir, command_line(args), stderr);
    comm.barrier();  // every rank's logs are written
    if (id.rank == 0) fs::rename(run_dir, out);
    comm.barrier();
    if (id.rank != 0 && fs::exists(run_dir)) fs::rename(run_dir, out);  // not a shared filesystem
  } catch (const std::exception&) {
    const RankFailure f = current_failure();
    const std::string kept = id.rank == 0 ? keep_if_resumable(run_dir, cfg) : "";
    std::fprintf(stderr, "gcsim train: %s%s%s\n", where.c_str(), f.message.c_str(), kept.c_str());
    return f.code;
  }
  if (id.rank == 0) {
    std::cout << summary;
    std::cout << "run written to " << a.out << "/ (rank " << id.rank << " of " << id.world_size << ", " << id.source
              << ", run id " << id.run_id << ")\n";
  }
  return kExitOk;
}

// ---- launcher -----------------------------------------------------------------

std::atomic<int> g_signal{0};
void on_signal(int sig) { g_signal = sig; }

// How a launch ended: the exit code and, for a failure, the one line to print
// (without "gcsim train: ").
struct Outcome {
  int code = kExitOk;
  std::string message;
};

// Every --hosts entry must be an address this machine can resolve: Gloo's
// device setup crashes (SIGSEGV) on one it cannot. Without an --exec-prefix
// every worker runs here, so each address must also be one to bind here.
void check_hosts(const std::vector<std::string>& hosts, bool local) {
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    const std::string entry =
        "entry " + std::to_string(i + 1) + " '" + hosts[i] + "' (rank " + std::to_string(i) + ")";
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const int rc = getaddrinfo(hosts[i].c_str(), nullptr, &hints, &found);
    if (rc != 0) {
      if (found) freeaddrinfo(found);
      throw InputError("--hosts", "", entry + " is not an address: " + gai_strerror(rc));
    }
    int bind_error = 0;
    if (local) {
      const int fd = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd >= 0 && bind(fd, found->ai_addr, found->ai_addrlen) != 0) bind_error = errno;
      if (fd >= 0) close(fd);
    }
    freeaddrinfo(found);
    if (bind_error != 0)
      throw InputError("--hosts", "", entry + " is not an address of this machine: " + std::strerror(bind_error));
  }
}

// The first or last non-empty line of a file ("" when none), for a worker's log.
std::string log_line_of(const std::string& path, bool first) {
  std::ifstream f(path);
  std::string line, found;
  while (std::getline(f, line))
    if (line.find_first_not_of(" \t\r") != std::string::npos) {
      found = line;
      if (first) break;
    }
  return found;
}

// Runs the workers as processes. Writes into run_dir.
Outcome launch_processes(const TrainArgs& a, const train::TrainConfig& cfg, const std::string& run_dir,
                         const std::vector<std::string>& raw_args) {
  const int p = cfg.scenario.cluster.workers;
  std::vector<std::string> hosts = split_list(a.hosts, ',');
  if (hosts.empty()) hosts.assign(p, "127.0.0.1");
  if (static_cast<int>(hosts.size()) != p)
    throw InputError("--hosts", "", "lists " + std::to_string(hosts.size()) + " addresses for " + std::to_string(p) +
                                        " workers");
  check_hosts(hosts, a.exec_prefix.empty());
  fs::create_directories(fs::path(run_dir) / ".rendezvous");
  const std::string run_id = "run-" + std::to_string(getpid()) + "-" +
                             std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  const std::string exe = self_exe();
  setenv("OPENBLAS_NUM_THREADS", "1", 0);  // P processes share the cores; keep BLAS single-threaded
  setenv("GCSIM_TRAIN_COMMAND", command_line(raw_args).c_str(), 1);
  setenv("GCSIM_TRAIN_LAUNCHER_PID", std::to_string(getpid()).c_str(), 1);
  // The workers' stderr goes to their logs; rank 0's progress comes here through this descriptor.
  const int progress_fd = fcntl(STDERR_FILENO, F_DUPFD, 10);
  if (progress_fd >= 0) setenv("GCSIM_TRAIN_PROGRESS_FD", std::to_string(progress_fd).c_str(), 1);

  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  std::vector<pid_t> pids(p, -1);
  std::vector<int> status(p, 0);
  std::vector<bool> done(p, false);
  const auto kill_spawned = [&](int upto) {
    for (int q = 0; q < upto; ++q) kill(pids[q], SIGKILL);
    for (int q = 0; q < upto; ++q) waitpid(pids[q], nullptr, 0);
  };
  for (int r = 0; r < p; ++r) {
    std::vector<std::string> argv = exec_prefix_words(a.exec_prefix, r, cfg.scenario.cluster.gpus_per_node);
    argv.insert(argv.end(), {exe, "train", a.scenario, "--out", a.out, "--worker-rank", std::to_string(r),
                             "--run-dir", run_dir, "--run-id", run_id, "--host", hosts[r], "--timeout",
                             std::to_string(a.timeout_s), "--kernels", a.kernels, "--device", a.device, "--checkpoint-every",
                             std::to_string(a.checkpoint_every), "--stop-after", std::to_string(a.stop_after),
                             "--comm", a.comm});
    if (!a.resume.empty()) argv.insert(argv.end(), {"--resume", a.resume});
    for (const auto& s : a.sets) argv.insert(argv.end(), {"--set", s});
    if (a.sweep_point >= 0) argv.insert(argv.end(), {"--sweep-point", std::to_string(a.sweep_point)});
    {
      std::ofstream room(error_path(run_dir, r));
      room << std::string(kErrorRoom, '\n');
      if (!room) {
        kill_spawned(r);
        throw std::runtime_error(error_path(run_dir, r) + ": cannot create");
      }
    }
    const std::string log = rank_file(run_dir, r, "log");
    const int log_fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log_fd < 0) {
      kill_spawned(r);
      throw std::runtime_error(log + ": cannot create: " + std::strerror(errno));
    }
    try {
      pids[r] = spawn(argv, {.stderr_fd = log_fd, .report_exec_failure = true});
      close(log_fd);
    } catch (const ExecError& e) {
      close(log_fd);
      kill_spawned(r);
      if (a.exec_prefix.empty()) throw;
      throw InputError("--exec-prefix", "", e.what());
    } catch (...) {
      close(log_fd);
      kill_spawned(r);
      throw;
    }
  }

  using Clock = std::chrono::steady_clock;
  const auto timeout = std::chrono::milliseconds(static_cast<std::int64_t>(a.timeout_s * 1000));
  // A stopped worker stalls every collective: after this long it fails the run.
  const auto stop_grace = std::min<Clock::duration>(timeout, std::chrono::seconds(5));
  const Clock::time_point never = Clock::time_point::max();
  std::vector<Clock::time_point> stopped_since(p, never);
  std::vector<int> stop_signal(p, 0);
  std::vector<bool> killed_running(p, false);  // still running when the launcher killed it
  int first_failed = -1, stalled = -1, never_ran = -1;
  Clock::time_point deadline = never;
  int remaining = p;
  bool killed = false;
  const auto kill_rest = [&] {
    for (int r = 0; r < p; ++r)
      if (!done[r]) {
        kill(pids[r], SIGKILL);
        killed_running[r] = true;
      }
    killed = true;
  };
  auto last_tick = Clock::now();
  while (remaining > 0) {
    const auto now = Clock::now();
    // The launcher itself was stopped (Ctrl-Z stops the whole job): stop times restart.
    if (now - last_tick > std::chrono::seconds(1))
      for (auto& t : stopped_since)
        if (t != never) t = now;
    last_tick = now;
    for (int r = 0; r < p; ++r) {
      if (done[r]) continue;
      int st = 0;
      const pid_t got = waitpid(pids[r], &st, WNOHANG | WUNTRACED | WCONTINUED);
      if (got != pids[r]) continue;
      if (WIFSTOPPED(st)) {
        stopped_since[r] = now;
        stop_signal[r] = WSTOPSIG(st);
        continue;
      }
      if (WIFCONTINUED(st)) {
        stopped_since[r] = never;
        continue;
      }
      done[r] = true;
      status[r] = st;
      --remaining;
      const bool ok = WIFEXITED(st) && WEXITSTATUS(st) == 0 && fs::exists(rank_file(run_dir, r, "done"));
      if (ok) continue;
      if (never_ran < 0 && !killed_running[r] && g_signal == 0 && !fs::exists(rank_file(run_dir, r, "started")))
        never_ran = r;
      if (first_failed < 0) {
        first_failed = r;
        deadline = now + timeout;
      }
    }
    if (remaining == 0) break;
    for (int r = 0; r < p && stalled < 0; ++r)
      if (!done[r] && stopped_since[r] != never && now - stopped_since[r] > stop_grace) stalled = r;
    // A worker that never ran or is stopped: its peers can only wait for it.
    if ((stalled >= 0 || never_ran >= 0) && !killed) kill_rest();
    if (g_signal != 0 && deadline == never) {
      for (int r = 0; r < p; ++r)
        if (!done[r]) kill(pids[r], SIGTERM);
      deadline = now + std::chrono::seconds(5);
    }
    if (now > deadline && !killed) kill_rest();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (progress_fd >= 0) close(progress_fd);
  fs::remove_all(fs::path(run_dir) / ".rendezvous");

  if (g_signal != 0)
    return {128 + g_signal, "interrupted (signal " + std::to_string(g_signal.load()) + "); workers stopped"};
  if (first_failed < 0 && stalled < 0) {
    if (!fs::exists(fs::path(run_dir) / "summary.json"))  // every rank finished: rank 0 wrote it
      return {kExitRuntime, "rank 0 finished without writing summary.json"};
    for (int r = 0; r < p; ++r) {
      std::error_code ec;
      for (const char* what : {"started", "done", "error"}) fs::remove(rank_file(run_dir, r, what), ec);
      if (fs::exists(rank_file(run_dir, r, "log"), ec) && fs::file_size(rank_file(run_dir, r, "log"), ec) == 0)
        fs::remove(rank_file(run_dir, r, "log"), ec);
    }
    return {};
  }
  std::vector<std::string> kind(p), message(p);
  for (int r = 0; r < p; ++r) {
    {
      std::ifstream f(error_path(run_dir, r));
      std::getline(f, kind[r]);
      std::getline(f, message[r]);
    }
    std::error_code ec;
    if (kind[r].empty()) fs::remove(error_path(run_dir, r), ec);  // no report: only the room for one
  }
  const auto log_line = [&](int r, bool first = false) {
    const std::string l = log_line_of(rank_file(run_dir, r, "log"), first);
    return l.empty() ? std::string() : ": " + l;
  };
  // A worker that never ran: the --exec-prefix did not start it.
  if (never_ran >= 0 && stalled < 0) {
    const int r = never_ran;
    std::string prefix;
    for (const auto& w : exec_prefix_words(a.exec_prefix, r, cfg.scenario.cluster.gpus_per_node)) prefix += (prefix.empty() ? "" : " ") + w;
    const std::string what = "rank " + std::to_string(r) + (a.exec_prefix.empty() ? "" : " ('" + prefix + "')") +
                             " " + describe_status(status[r]) + " without running the worker" + log_line(r, true);
    if (!a.exec_prefix.empty()) return {kExitBadInput, "--exec-prefix: " + what};
    return {kExitRuntime, what};
  }
  // One line: the root cause -- a stopped rank, a rank's own error, a rank its
  // peers timed out waiting for, else the first rank to fail -- and what became
  // of the others.
  int cause = first_failed;
  bool unresponsive = false;
  if (stalled >= 0) {
    cause = stalled;
  } else {
    int own = -1;
    for (int r = p - 1; r >= 0; --r)
      if (kind[r] == "cause") own = r;
    int died = -1;  // failed without a report of its own: killed by a signal, say
    for (int r = p - 1; r >= 0; --r) {
      const bool ok = WIFEXITED(status[r]) && WEXITSTATUS(status[r]) == 0;
      if (!ok && kind[r].empty() && !killed_running[r]) died = r;
    }
    if (own >= 0) {
      cause = own;
    } else if (died >= 0) {
      cause = died;  // its peers' "lost its peers" came from it, whichever the launcher saw first
    } else if (kind[first_failed] == "peer") {
      // Its peers gave up on it: the rank that was still running, error-free, when they had.
      for (int r = 0; r < p && !unresponsive; ++r)
        if (killed_running[r] && kind[r].empty()) cause = r, unresponsive = true;
    }
  }
  std::string others;
  for (int r = 0; r < p; ++r) {
    if (r == cause) continue;
    const bool ok = WIFEXITED(status[r]) && WEXITSTATUS(status[r]) == 0 && kind[r].empty();
    others += (others.empty() ? "" : ", ") +
              ("rank " + std::to_string(r) + " " +
               (killed_running[r] && kind[r].empty() ? std::string("killed")
                : ok                                 ? std::string("finished")
                : kind[r] == "cause"                 ? std::string("failed the same way")
                : kind[r] == "peer"                  ? std::string("lost its peers")
                                                     : describe_status(status[r])));
  }
  std::string what;
  if (stalled >= 0) {
    char grace[32];
    std::snprintf(grace, sizeof grace, "%.0f", std::chrono::duration<double>(stop_grace).count());
    what = "was stopped by " + signal_name(stop_signal[cause]) + " and not continued within " + grace +
           " s (a stopped worker stalls every collective)";
  } else if (unresponsive) {
    what = "stopped responding: its peers' collectives timed out after the --timeout of " +
           std::to_string(static_cast<long long>(a.timeout_s)) + " s (" + message[first_failed] + ")";
  } else if (!message[cause].empty()) {
    what = message[cause];
  } else {
    what = describe_status(status[cause]);
    if (WIFEXITED(status[cause]) && WEXITSTATUS(status[cause]) == 0) what += " without finishing its run";
    what += log_line(cause);
  }
  const bool rest_killed = killed && stalled < 0 && !unresponsive;
  const std::string line = "rank " + std::to_string(cause) + ": " + what + " (" + others +
                           (rest_killed ? "; the rest killed after the --timeout" : "") + ")";
  const bool bad_input =
      !unresponsive && stalled < 0 && WIFEXITED(status[cause]) && WEXITSTATUS(status[cause]) == kExitBadInput;
  return {bad_input ? kExitBadInput : kExitRuntime, line};
}

Outcome launch_threads(const TrainArgs& a, const train::TrainConfig& cfg, const train::FashionMnist& data,
                       const std::string& run_dir, const std::vector<std::string>& raw_args) {
  const int p = cfg.scenario.cluster.workers;
  auto hub = std::make_shared<comm::InProcessHub>(
      p, std::chrono::milliseconds(static_cast<std::int64_t>(a.timeout_s * 1000)));
  std::vector<RankFailure> failures(p);  // each rank writes only its own entry
  std::vector<std::thread> threads;
  for (int r = 0; r < p; ++r)
    threads.emplace_back([&, r] {
      comm::InProcessComm comm(hub, r);
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
  if (cause < 0) return {};
  return {failures[cause].code, "rank " + std::to_string(cause) + ": " + failures[cause].message};
}

// After a failed run: a run directory whose checkpoints can be resumed (every
// rank's, at a common step) is kept, with its logs; returns the words that say
// where and how to resume. Anything else is removed; returns "".
std::string keep_if_resumable(const std::string& run_dir, const train::TrainConfig& cfg) {
  std::error_code ec;
  fs::remove_all(fs::path(run_dir) / ".rendezvous", ec);
  const fs::path ck = fs::path(run_dir) / "checkpoint";
  bool any = false;
  std::vector<fs::path> unfinished;  // a write the failure cut short: never resumable
  for (fs::directory_iterator it(ck, ec), end; !ec && it != end; it.increment(ec)) {
    const auto ext = it->path().extension();
    if (ext == ".ckpt") any = true;
    if (ext == ".tmp" || ext == ".new") unfinished.push_back(it->path());
  }
  for (const auto& f : unfinished) fs::remove(f, ec);
  for (fs::directory_iterator it(run_dir, ec), end; !ec && it != end; it.increment(ec)) {
    const auto ext = it->path().extension();
    std::string first;
    if (ext == ".error") std::getline(std::ifstream(it->path()), first);
    // markers, the room left for an error report never made, empty logs
    std::error_code size_ec;
    if (ext == ".started" || (ext == ".error" && first.empty()) ||
        (ext == ".log" && fs::is_empty(it->path(), size_ec)))
      unfinished.push_back(it->path());
  }
  for (const auto& f : unfinished) fs::remove(f, ec);
  if (any) {
    const auto fp = train::fingerprint_of(train::Trainer::fingerprint_text(cfg));
    try {
      for (int r = 0; r < cfg.scenario.cluster.workers; ++r)
        train::load_resume_checkpoint(ck.string(), r, cfg.scenario.cluster.workers, fp, train::SimpleCnn::kParams);
    } catch (const std::exception&) {
      any = false;  // not every rank checkpointed: nothing to resume from
    }
  }
  if (!any) {
    fs::remove_all(run_dir, ec);
    return "";
  }
  return "; its checkpoint is kept: resume with --resume " + ck.string();
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
      "command put before each worker, {rank} replaced by its rank and {node} by rank / cluster.gpus_per_node "
      "(e.g. \"ip netns exec ns{rank}\"; see tools/netem.sh)")(
      "resume", po::value<std::string>(&a.resume)->default_value(""), "continue from a run's checkpoint directory")(
      "checkpoint-every", po::value<int>(&a.checkpoint_every)->default_value(0),
      "also checkpoint every N steps (always at each epoch's end)")(
      "stop-after", po::value<std::int64_t>(&a.stop_after)->default_value(-1),
      "stop after N steps in all, with a checkpoint (for resuming)")(
      "kernels", po::value<std::string>(&a.kernels)->default_value("cpu"),
      "compression kernels: cpu or cpu-reference")(
      "device", po::value<std::string>(&a.device)->default_value("cpu"),
      "where forward/backward run: cpu (OpenBLAS) or cuda (cuBLAS + CUDA kernels; rank r on GPU r % count)")(
      "comm", po::value<std::string>(&a.comm)->default_value("auto"),
      "how worker processes exchange: gloo (TCP, host buffers), nccl (GPU buffers; needs --device cuda) or auto "
      "(nccl with --device cuda on 2 or more GPUs, a GPU per rank, no --exec-prefix, where NCCL loads; else gloo)")(
      "rendezvous", po::value<std::string>(&a.rendezvous)->default_value(""),
      "run as one rank started on its own (srun, mpirun, by hand; no launcher): the ranks meet in this "
      "directory, which every rank must see (a shared filesystem; one fresh directory, or --run-id, per run), "
      "or at tcp://HOST:PORT, where rank 0 serves them")(
      "rank", po::value<int>(&a.rank)->default_value(-1),
      "with --rendezvous: this rank (default SLURM_PROCID, else OMPI_COMM_WORLD_RANK)")(
      "world-size", po::value<int>(&a.world_size)->default_value(-1),
      "with --rendezvous: ranks in all, = cluster.workers (default SLURM_NTASKS, else OMPI_COMM_WORLD_SIZE)")(
      "host", po::value<std::string>(&a.host)->default_value("127.0.0.1"),
      "with --rendezvous: the address this rank binds, one its peers can reach")(
      "run-id", po::value<std::string>(&a.run_id)->default_value(""),
      "with --rendezvous: the run's name in the directory (default slurm-SLURM_JOB_ID, else gcsim)")(
      "sweep-point", po::value<std::int64_t>(&a.sweep_point)->default_value(-1),
      "SCENARIO is a sweep file: train its point N, the scenario gcsim sweep simulates for it (gcsim validate)");
  po::options_description internal;  // what the launcher passes to its workers; not in --help
  internal.add_options()(
      "worker-rank", po::value<int>(&a.worker_rank)->default_value(-1), "(internal) run as this rank")(
      "run-dir", po::value<std::string>(&a.run_dir)->default_value(""), "(internal)");
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
  if (a.comm != "auto" && a.comm != "gloo" && a.comm != "nccl")
    throw InputError("--comm " + a.comm, "", "must be auto, gloo or nccl");
  if (a.checkpoint_every < 0) throw InputError("--checkpoint-every", "", "must be >= 0");
  if (a.stop_after < -1) throw InputError("--stop-after", "", "must be >= 0");
  if (a.sweep_point < -1) throw InputError("--sweep-point", "", "must be >= 0");

  if (!a.rendezvous.empty()) return standalone_main(a, args);
  if (a.rank >= 0 || a.world_size >= 0)
    throw InputError("--rank", "", "and --world-size are for ranks started on their own: give --rendezvous DIR");
  if (a.worker_rank >= 0) {
    // (GlooComm ignores SIGPIPE: a write to a dead peer is an error, not a signal.)
    touch(rank_file(a.run_dir, a.worker_rank, "started"));
    watch_launcher();
    return worker_main(a, load_config(a));
  }
  const train::TrainConfig cfg = load_config(a);
  if (!cfg.auto_choice.empty()) std::cout << "auto       " << cfg.auto_choice << "\n";

  // The non-throwing overloads: a path the OS refuses to look at (too long, a
  // loop) is bad input, not a filesystem_error.
  std::error_code fs_ec;
  if (!a.resume.empty() && !fs::is_directory(a.resume, fs_ec))
    throw InputError("--resume " + a.resume, "", "is not a directory (give a run's checkpoint directory)");
  const fs::file_status out_st = fs::symlink_status(a.out, fs_ec);
  if (fs::exists(out_st)) throw InputError("--out " + a.out, "", "already exists; gcsim train never overwrites a run");
  if (fs_ec && fs_ec != std::errc::no_such_file_or_directory)
    throw InputError("--out " + a.out, "", "cannot be used: " + fs_ec.message());
  const fs::path parent = fs::absolute(a.out, fs_ec).parent_path();
  if (fs_ec || !fs::is_directory(parent, fs_ec)) throw InputError("--out " + a.out, "", "its directory does not exist");
  // Validate the data here, before any worker starts (a bad file is exit 2, nothing written).
  const bool emulate = cfg.scenario.compute.emulate;
  refuse_model_flags_when_emulated(a, cfg);
  const auto data = load_data(cfg);
  if (!emulate && data.train.count < cfg.scenario.cluster.workers)
    throw InputError(cfg.settings.data_dir, "", "fewer training images than workers");
  if (a.backend == "inprocess" && a.comm == "nccl")
    throw InputError("--comm nccl", "",
                     "needs worker processes (--backend gloo); --backend inprocess runs the ranks as threads");
  if (a.backend == "gloo")  // decided here, once; the workers get it as --comm gloo|nccl
    a.comm = comm::backend_name(comm_backend(a, cfg.scenario.cluster.workers));
  if (a.device == "cuda") {  // one line before any worker starts, not P failing workers
    try {
      train::usable_cuda_devices();
    } catch (const std::exception& e) {
      throw InputError("--device cuda", "", e.what());
    }
  }
  if (!a.resume.empty()) {
    // Checkpoints hold the parameters, the optimizer's momentum and the error-feedback
    // residual, not PowerSGD's warm-start Q matrices: a resumed run would not continue
    // the interrupted one, so it is refused rather than silently different.
    const auto& z = cfg.scenario.compression;
    if (z.method == "powersgd" && z.warm_start)
      throw InputError("--resume " + a.resume, "",
                       "cannot resume a PowerSGD run with warm_start: checkpoints do not hold its Q matrices "
                       "(set compression.warm_start = false, or start over)");
    a.resume = fs::absolute(a.resume).string();
    // Check every rank's checkpoint here, so a mismatch is one line and exit 2.
    const auto fp = train::fingerprint_of(train::Trainer::fingerprint_text(cfg));
    for (int r = 0; r < cfg.scenario.cluster.workers; ++r)
      train::load_resume_checkpoint(a.resume, r, cfg.scenario.cluster.workers, fp, train::SimpleCnn::kParams);
  }

  const std::string run_dir = fs::absolute(a.out).string() + ".partial-" + std::to_string(getpid());
  {
    std::error_code ec;
    fs::create_directories(run_dir, ec);
    if (ec) throw InputError("--out " + a.out, "", "cannot create " + run_dir + ": " + ec.message());
    if (access(run_dir.c_str(), W_OK) != 0) {
      const int e = errno;
      fs::remove(run_dir, ec);
      throw InputError("--out " + a.out, "", "cannot write in " + run_dir + ": " + std::strerror(e));
    }
  }
  Outcome outcome;
  try {
    outcome = a.backend == "gloo" ? launch_processes(a, cfg, run_dir, args) : launch_threads(a, cfg, data, run_dir, args);
  } catch (const InputError& e) {
    const std::string kept = keep_if_resumable(run_dir, cfg);
    if (kept.empty()) throw;
    throw InputError(e.what() + kept);
  } catch (const std::exception& e) {
    const std::string kept = keep_if_resumable(run_dir, cfg);
    if (kept.empty()) throw;
    throw std::runtime_error(e.what() + kept);
  }
  if (outcome.code != kExitOk) {
    const std::string kept = keep_if_resumable(run_dir, cfg);
    std::string line = outcome.message + kept;
    if (kept.empty() && outcome.code > 128) line += ", nothing written to " + a.out;
    std::fprintf(stderr, "gcsim train: %s\n", line.c_str());
    return outcome.code;
  }
  fs::rename(run_dir, a.out);
  std::ifstream summary(fs::path(a.out) / "summary.txt");
  std::cout << summary.rdbuf();
  const bool fill_in = fs::exists(fs::path(a.out) / "fill-in.csv");
  if (emulate)
    std::cout << "run written to " << a.out << "/ (steps-rank*.csv, buckets-rank*.csv, summary.json)\n";
  else
    std::cout << "run written to " << a.out << "/ (epochs.csv, steps-rank*.csv, buckets-rank*.csv, "
              << (fill_in ? "fill-in.csv, " : "") << "summary.json, checkpoint/)\n";
  return kExitOk;
}

}  // namespace gcsim::cli
