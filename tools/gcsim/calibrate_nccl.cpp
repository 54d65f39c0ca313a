#include "tools/gcsim/calibrate_nccl.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "calib/collective_csv.h"
#include "comm/choose_backend.h"
#include "config/input_error.h"
#include "tools/gcsim/cli.h"
#include "tools/gcsim/worker_processes.h"
#if GCSIM_HAVE_NCCL
#include "calib/nccl_bench.h"
#endif

namespace fs = std::filesystem;

namespace gcsim::cli {

const std::vector<std::string>& nccl_variants() {
  static const std::vector<std::string> v = {"default",     "Ring",    "Tree",       "Ring/LL",   "Ring/LL128",
                                             "Ring/Simple", "Tree/LL", "Tree/LL128", "Tree/Simple"};
  return v;
}

std::vector<std::string> parse_nccl_variants(const std::string& list) {
  if (list == "all") return nccl_variants();
  std::vector<std::string> out;
  for (const std::string& v : split_list(list, ',')) {
    bool known = false;
    for (const auto& k : nccl_variants()) known = known || k == v;
    if (!known)
      throw InputError("--variants", "",
                       "unknown variant '" + v + "' (want all, or a list of default, Ring, Tree, Ring/LL, Ring/LL128, "
                       "Ring/Simple, Tree/LL, Tree/LL128, Tree/Simple)");
    out.push_back(v);
  }
  if (out.empty()) throw InputError("--variants", "", "is empty");
  return out;
}

std::pair<std::string, std::string> nccl_variant_env(const std::string& variant) {
  if (variant == "default") return {"", ""};
  const auto slash = variant.find('/');
  if (slash == std::string::npos) return {variant, ""};
  return {variant.substr(0, slash), variant.substr(slash + 1)};
}

int nccl_variant_main(const NcclCalibration& c, const std::string& variant, const std::string& run_dir) {
  try {
#if GCSIM_HAVE_NCCL
    const auto [algo, proto] = nccl_variant_env(variant);
    if (algo.empty()) unsetenv("NCCL_ALGO");
    else setenv("NCCL_ALGO", algo.c_str(), 1);
    if (proto.empty()) unsetenv("NCCL_PROTO");
    else setenv("NCCL_PROTO", proto.c_str(), 1);
    calib::NcclBench bench(c.gpus);
    std::vector<calib::CollectiveMeasurement> ms = calib::run_collective_sweep(bench, c.sweep);
    for (auto& m : ms) m.variant = variant;
    std::ofstream(fs::path(run_dir) / "measurements.csv") << calib::measurements_csv(ms);
    std::ofstream d(fs::path(run_dir) / "devices.txt");
    d << bench.library() << "\n";
    for (const auto& name : bench.device_names()) d << name << "\n";
    if (!d) throw std::runtime_error("cannot write to " + run_dir);
    return kExitOk;
#else
    (void)c;
    (void)variant;
    throw std::runtime_error(comm::nccl_availability().problem);
#endif
  } catch (const std::exception& e) {
    std::ofstream(fs::path(run_dir) / "error.txt") << e.what() << "\n";
    return kExitRuntime;
  }
}

NcclResult run_nccl_calibration(const NcclCalibration& c) {
  std::string tmpl = (fs::temp_directory_path() / "gcsim-calibrate-nccl-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("cannot create a temporary directory in /tmp");
  const fs::path root = tmpl;
  NcclResult r;
  try {
    for (const std::string& variant : c.variants) {
      const fs::path dir = root / std::to_string(&variant - c.variants.data());
      fs::create_directories(dir);
      std::vector<std::string> argv = {self_exe(), "calibrate", "collectives", "--backend", "nccl",
                                       "--nccl-variant", variant, "--run-dir", dir.string()};
      argv.insert(argv.end(), c.child_args.begin(), c.child_args.end());
      std::fprintf(stderr, "nccl variant %s ...\n", variant.c_str());
      const pid_t pid = spawn(argv);
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(c.timeout_s);
      int st = 0;
      while (waitpid(pid, &st, WNOHANG) != pid) {
        if (std::chrono::steady_clock::now() > deadline) {
          kill(pid, SIGKILL);
          waitpid(pid, &st, 0);
          throw std::runtime_error("nccl variant " + variant + ": no result within --timeout " +
                                   std::to_string(c.timeout_s) + " s");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
        std::ifstream f(dir / "error.txt");
        std::string message;
        std::getline(f, message);
        throw std::runtime_error("nccl variant " + variant + ": " + (message.empty() ? describe_status(st) : message));
      }
      const auto ms = calib::read_measurements_csv((dir / "measurements.csv").string());
      r.ms.insert(r.ms.end(), ms.begin(), ms.end());
      std::ifstream d(dir / "devices.txt");
      std::getline(d, r.library);
      r.devices.clear();
      for (std::string line; std::getline(d, line);) r.devices.push_back(line);
      r.ranks = static_cast<int>(r.devices.size());
    }
  } catch (...) {
    fs::remove_all(root);
    throw;
  }
  fs::remove_all(root);
  return r;
}

}  // namespace gcsim::cli
