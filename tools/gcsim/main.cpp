// gcsim: simulate compressed-gradient data-parallel training.
// Subcommands parse their own flags (Boost.Program_options); every error a
// user can cause becomes one line on stderr, "gcsim CMD: ...", and exit code 2.
// Other failures are one line and exit code 1, a failed write to stdout
// included (a full disk or a closed pipe: the output did not arrive).
#include <boost/program_options/errors.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
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
    "  calibrate collectives --workers P --out PROFILE.toml   time Gloo's allreduce and allgather between\n"
    "                           P processes, fit the profile's [collective] figures and write a profile\n"
    "  train SCENARIO.toml --out DIR   train SimpleCNN on Fashion-MNIST with cluster.workers processes\n"
    "                           over Gloo (dense or compressed), logging steps, epochs and a summary\n"
    "  validate SWEEP.toml --out DIR   every point predicted by the DES and measured by train on an\n"
    "                           emulated cluster (tools/netem.sh, root); errors, summary and plot\n"
    "\n"
    "options: --help (also after a command), --version\n"
    "Paths given on the command line (--set profile=FILE included) are relative to the current\n"
    "directory; paths written in a file are relative to that file's directory. --out - is stdout\n"
    "where a command prints text (simulate, report).\n";

// The name errors are reported under: "calibrate kernels" / "calibrate collectives" for those.
std::string command_label(const std::string& command, const std::vector<std::string>& rest) {
  if (command != "calibrate" || rest.empty()) return command;
  if (rest[0] == "collectives") return "calibrate collectives";
  for (const auto& a : rest)
    if (a == "kernels") return "calibrate kernels";
  return command;
}

// Drops a leading "gcsim CMD" that a message may carry itself, so that the
// prefix main adds appears once.
std::string without_prefix(std::string m, const std::string& label, const std::string& command) {
  for (const std::string& p : {"gcsim " + label, "gcsim " + command}) {
    if (m.rfind(p, 0) != 0) continue;
    m.erase(0, p.size());
    if (m.rfind(": ", 0) == 0) {
      m.erase(0, 2);
    } else if (m.rfind(' ', 0) == 0) {
      m.erase(0, 1);
    }
    break;
  }
  return gcsim::one_line(m);
}

// Flushes stdout; a failed write (EPIPE, ENOSPC, EIO) is one line on stderr and exit code 1.
int finish(int rc, const std::string& label) {
  errno = 0;
  std::cout.flush();  // through stdio (cout is synced with it): a failure sets errno
  const bool cout_failed = !std::cout;
  int err = errno;
  errno = 0;
  const bool flush_failed = std::fflush(stdout) != 0;
  if (err == 0) err = errno;
  if (cout_failed || flush_failed || std::ferror(stdout)) {
    std::fprintf(stderr, "gcsim%s%s: cannot write to stdout: %s\n", label.empty() ? "" : " ", label.c_str(),
                 err ? std::strerror(err) : "write error");
    return rc == gcsim::cli::kExitOk ? gcsim::cli::kExitRuntime : rc;
  }
  return rc;
}

int run(const std::string& command, const std::vector<std::string>& rest, const std::string& label) {
  try {
    if (command == "simulate") return gcsim::cli::cmd_simulate(rest);
    if (command == "sweep") return gcsim::cli::cmd_sweep(rest);
    if (command == "models") return gcsim::cli::cmd_models(rest);
    if (command == "report") return gcsim::cli::cmd_report(rest);
    if (command == "calibrate") return gcsim::cli::cmd_calibrate(rest);
    if (command == "train") return gcsim::cli::cmd_train(rest);
    if (command == "validate") return gcsim::cli::cmd_validate(rest);
    std::fprintf(stderr, "gcsim: unknown command '%s' (try gcsim --help)\n", gcsim::one_line(command).c_str());
    return gcsim::cli::kExitBadInput;
  } catch (const gcsim::InputError& e) {
    std::fprintf(stderr, "gcsim %s: %s\n", label.c_str(), without_prefix(e.what(), label, command).c_str());
    return gcsim::cli::kExitBadInput;
  } catch (const boost::program_options::error& e) {
    std::fprintf(stderr, "gcsim %s: %s (try gcsim %s --help)\n", label.c_str(),
                 without_prefix(e.what(), label, command).c_str(), label.c_str());
    return gcsim::cli::kExitBadInput;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gcsim %s: error: %s\n", label.c_str(), without_prefix(e.what(), label, command).c_str());
    return gcsim::cli::kExitRuntime;
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return finish(args.empty() ? gcsim::cli::kExitBadInput : gcsim::cli::kExitOk, "");
  }
  if (args[0] == "--version") {
    std::printf("gcsim %s\n", GCSIM_VERSION);
    return finish(gcsim::cli::kExitOk, "");
  }
  const std::string command = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  const std::string label = command_label(command, rest);
  return finish(run(command, rest, label), label);
}
