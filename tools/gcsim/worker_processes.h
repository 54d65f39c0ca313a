// Worker processes for the commands that run P ranks as real processes
// (gcsim train, gcsim calibrate collectives): this binary's path, fork+exec,
// and a wait status in words.
#pragma once

#include <sys/types.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace gcsim::cli {

// The running executable (/proc/self/exe), to start workers of the same build.
std::string self_exe();

struct SpawnOptions {
  // The child's stderr goes to this descriptor (-1: inherited).
  int stderr_fd = -1;
  // When exec fails, throw ExecError in the parent instead of the child
  // printing a line and exiting 127.
  bool report_exec_failure = false;
};

// exec of argv[0] failed: what() is "cannot run PROGRAM: reason".
class ExecError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// fork + execvp(argv). The child gets SIGKILL when the calling thread's
// process dies (PR_SET_PDEATHSIG, checked against the race with getppid()),
// so a killed launcher leaves no workers behind.
pid_t spawn(const std::vector<std::string>& argv, const SpawnOptions& options = {});

// "exited with code N", "was killed by signal S", "was stopped by SIGSTOP".
std::string describe_status(int status);

// "SIGSTOP", "SIGKILL", ... ("signal N" for others).
std::string signal_name(int sig);

// Replaces every "{rank}" in the words of `exec_prefix` (split at spaces)
// by the rank and every "{node}" by rank / ranks_per_node (its node, ranks
// packed node by node) and returns them: the command put before worker `rank`.
std::vector<std::string> exec_prefix_words(const std::string& exec_prefix, int rank, int ranks_per_node = 1);

}  // namespace gcsim::cli
