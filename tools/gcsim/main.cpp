// gcsim: simulate compressed-gradient data-parallel training.
// Subcommands parse their own flags (Boost.Program_options); every error a
// user can cause becomes one line on stderr and exit code 2.
#include <boost/program_options/errors.hpp>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "config/input_error.h"
#include "tools/gcsim/cli.h"

#ifndef GCSIM_VERSION
#define GCSIM_VERSION "unknown"
#endif

namespace {

const char* kUsage =
    "usage: gcsim <command> [options]\n"
    "\n"
    "commands:\n"
    "  simulate SCENARIO.toml   predict iteration time, breakdown and efficiency for one configuration\n"
    "  sweep SWEEP.toml --out DIR   run every point of a sweep into DIR/results.csv (--plot for PNGs)\n"
    "  models [NAME]            list the model zoo (parameters, forward FLOPs), or one model's layers\n"
    "  report seed              reproduce the problem statement's tables with its formulas and gcsim's\n"
    "  calibrate kernels --out PROFILE.toml   time the compression kernels (--device cpu|cuda), fit and\n"
    "                           write a profile\n"
    "  train SCENARIO.toml --out DIR   train SimpleCNN on Fashion-MNIST with cluster.workers processes\n"
    "                           over Gloo (dense or compressed), logging steps, epochs and a summary\n"
    "\n"
    "options: --help (also after a command), --version\n";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? gcsim::cli::kExitBadInput : gcsim::cli::kExitOk;
  }
  if (args[0] == "--version") {
    std::printf("gcsim %s\n", GCSIM_VERSION);
    return gcsim::cli::kExitOk;
  }
  const std::string command = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  try {
    if (command == "simulate") return gcsim::cli::cmd_simulate(rest);
    if (command == "sweep") return gcsim::cli::cmd_sweep(rest);
    if (command == "models") return gcsim::cli::cmd_models(rest);
    if (command == "report") return gcsim::cli::cmd_report(rest);
    if (command == "calibrate") return gcsim::cli::cmd_calibrate(rest);
    if (command == "train") return gcsim::cli::cmd_train(rest);
    std::fprintf(stderr, "gcsim: unknown command '%s' (try gcsim --help)\n", command.c_str());
    return gcsim::cli::kExitBadInput;
  } catch (const gcsim::InputError& e) {
    std::fprintf(stderr, "gcsim %s: %s\n", command.c_str(), e.what());
    return gcsim::cli::kExitBadInput;
  } catch (const boost::program_options::error& e) {
    std::fprintf(stderr, "gcsim %s: %s (try gcsim %s --help)\n", command.c_str(), e.what(), command.c_str());
    return gcsim::cli::kExitBadInput;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gcsim %s: error: %s\n", command.c_str(), e.what());
    return gcsim::cli::kExitRuntime;
  }
}
