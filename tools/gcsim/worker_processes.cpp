// Worker processes (see worker_processes.h).
#include "tools/gcsim/worker_processes.h"

#include <algorithm>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "tools/gcsim/cli.h"

namespace gcsim::cli {

std::string self_exe() {
  std::error_code ec;
  const auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("cannot resolve /proc/self/exe: " + ec.message());
  return p.string();
}

pid_t spawn(const std::vector<std::string>& argv, const SpawnOptions& options) {
  std::vector<char*> c;
  for (const auto& s : argv) c.push_back(const_cast<char*>(s.c_str()));
  c.push_back(nullptr);
  // exec failures come back through a close-on-exec pipe: EOF means exec worked.
  int report[2] = {-1, -1};
  if (options.report_exec_failure && pipe2(report, O_CLOEXEC) != 0)
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    const int e = errno;
    if (report[0] >= 0) close(report[0]), close(report[1]);
    throw std::runtime_error(std::string("fork: ") + std::strerror(e));
  }
  if (pid == 0) {
    // Die with the launcher; if it died between fork and prctl, go now.
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(127);
    if (report[0] >= 0) close(report[0]);
    if (options.stderr_fd >= 0 && dup2(options.stderr_fd, STDERR_FILENO) < 0) _exit(127);
    execvp(c[0], c.data());
    const int e = errno;
    if (report[1] >= 0) {
      ssize_t ignored = write(report[1], &e, sizeof e);
      (void)ignored;
    } else {
      std::fprintf(stderr, "gcsim: cannot run %s: %s\n", c[0], std::strerror(e));
    }
    _exit(127);
  }
  if (report[0] >= 0) {
    close(report[1]);
    int e = 0;
    ssize_t got;
    do got = read(report[0], &e, sizeof e);
    while (got < 0 && errno == EINTR);
    close(report[0]);
    if (got == static_cast<ssize_t>(sizeof e)) {
      waitpid(pid, nullptr, 0);
      throw ExecError("cannot run " + argv[0] + ": " + std::strerror(e));
    }
  }
  return pid;
}

std::string signal_name(int sig) {
  switch (sig) {
    case SIGSTOP: return "SIGSTOP";
    case SIGTSTP: return "SIGTSTP";
    case SIGTTIN: return "SIGTTIN";
    case SIGTTOU: return "SIGTTOU";
    case SIGKILL: return "SIGKILL";
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGSEGV: return "SIGSEGV";
    case SIGABRT: return "SIGABRT";
    case SIGBUS: return "SIGBUS";
    default: return "signal " + std::to_string(sig);
  }
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("was killed by signal ") + strsignal(WTERMSIG(status));
  if (WIFSTOPPED(status)) return "was stopped by " + signal_name(WSTOPSIG(status));
  return "stopped";
}

std::vector<std::string> exec_prefix_words(const std::string& exec_prefix, int rank, int ranks_per_node) {
  std::vector<std::string> out;
  const int node = rank / std::max(ranks_per_node, 1);
  for (std::string w : split_list(exec_prefix, ' ')) {
    for (const auto& [field, value] : {std::pair{std::string("{rank}"), rank}, std::pair{std::string("{node}"), node}})
      for (std::size_t at = w.find(field); at != std::string::npos; at = w.find(field, at))
        w.replace(at, field.size(), std::to_string(value));
    out.push_back(w);
  }
  return out;
}

}  // namespace gcsim::cli
