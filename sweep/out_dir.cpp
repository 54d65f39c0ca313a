#include "sweep/out_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "config/input_error.h"

namespace gcsim {

namespace fs = std::filesystem;

OutDirLock::OutDirLock(const std::string& dir) {
  const std::string path = (fs::path(dir) / ".lock").string();
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw InputError(dir, "--out", std::string("cannot write into the directory: ") + std::strerror(errno));
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int e = errno;
    ::close(fd_);
    if (e == EWOULDBLOCK)
      throw InputError(dir, "--out",
                       "another gcsim sweep is writing into this directory (it holds " + path +
                           "); wait for it to finish or use another --out");
    throw InputError(dir, "--out", std::string("cannot lock ") + path + ": " + std::strerror(e));
  }
}

OutDirLock::~OutDirLock() { ::close(fd_); }

void prepare_out_dir(const std::string& dir) {
  std::error_code ec;
  const auto st = fs::status(dir, ec);
  if (fs::exists(st) && !fs::is_directory(st)) throw InputError(dir, "--out", "exists and is not a directory");
  fs::create_directories(dir, ec);
  if (ec) throw InputError(dir, "--out", "cannot create the directory: " + ec.message());
}

void remove_stale_temporaries(const std::string& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("results.csv.tmp.", 0) == 0 && e.is_regular_file(ec)) fs::remove(e.path(), ec);
  }
}

RowAppender::RowAppender(std::string path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd_ < 0) throw std::runtime_error(path_ + ": cannot append to it: " + std::strerror(errno));
  size_ = ::lseek(fd_, 0, SEEK_END);
}

RowAppender::~RowAppender() { ::close(fd_); }

void RowAppender::append(const std::string& line) {
  if (failed_) throw std::runtime_error(path_ + ": not appending after a failed write");
  std::size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int e = n < 0 ? errno : ENOSPC;
      const bool cut = ::ftruncate(fd_, size_) == 0;
      failed_ = true;
      throw std::runtime_error(path_ + ": cannot append a row: " + std::strerror(e) +
                               (cut ? "; the sweep stopped, the rows before are kept (make room, then --resume)"
                                    : "; the sweep stopped and the last row is torn (--resume drops it)"));
    }
    done += static_cast<std::size_t>(n);
  }
  size_ += static_cast<off_t>(line.size());
}

}  // namespace gcsim
