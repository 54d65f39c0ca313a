// Worker processes for the commands that run P ranks as real processes
// (gcsim train, gcsim calibrate collectives): this binary's path, fork+exec,
// and a wait status in words.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace gcsim::cli {

// The running executable (/proc/self/exe), to start workers of the same build.
std::string self_exe();

// fork + execvp(argv); the child exits 127 with a message when exec fails.
pid_t spawn(const std::vector<std::string>& argv);

// "exited with code N", "was killed by signal S".
std::string describe_status(int status);

// Replaces every "{rank}" in the words of `exec_prefix` (split at spaces)
// and returns them: the command put before worker `rank`.
std::vector<std::string> exec_prefix_words(const std::string& exec_prefix, int rank);

}  // namespace gcsim::cli
