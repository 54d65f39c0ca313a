// Worker processes (see worker_processes.h).
#include "tools/gcsim/worker_processes.h"

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

pid_t spawn(const std::vector<std::string>& argv) {
  std::vector<char*> c;
  for (const auto& s : argv) c.push_back(const_cast<char*>(s.c_str()));
  c.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    execvp(c[0], c.data());
    std::fprintf(stderr, "gcsim: cannot run %s: %s\n", c[0], std::strerror(errno));
    _exit(127);
  }
  return pid;
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("was killed by signal ") + strsignal(WTERMSIG(status));
  return "stopped";
}

std::vector<std::string> exec_prefix_words(const std::string& exec_prefix, int rank) {
  std::vector<std::string> out;
  for (std::string w : split_list(exec_prefix, ' ')) {
    for (std::size_t at = w.find("{rank}"); at != std::string::npos; at = w.find("{rank}", at))
      w.replace(at, 6, std::to_string(rank));
    out.push_back(w);
  }
  return out;
}

}  // namespace gcsim::cli
