// Whole-or-absent files (see whole_file.h).
#include "train/loop/whole_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace gcsim::train {

void write_whole_file(const std::string& path, const void* data, std::size_t bytes, const std::string& name) {
  const std::string tmp = path + ".tmp";
  const auto fail = [&](int fd, int e) {
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    throw std::runtime_error((name.empty() ? path : name) + ": cannot write: " + std::strerror(e));
  };
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(-1, errno);
  const auto* p = static_cast<const char*>(data);
  for (std::size_t done = 0; done < bytes;) {
    const ssize_t n = ::write(fd, p + done, bytes - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(fd, errno);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) fail(fd, errno);
  if (::close(fd) != 0) fail(-1, errno);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) fail(-1, errno);
}

}  // namespace gcsim::train
