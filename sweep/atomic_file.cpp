#include "sweep/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "config/input_error.h"

namespace gcsim {

namespace {

// One line naming `path` and why; InputError when the path itself is the problem.
[[noreturn]] void fail(const std::string& path, const char* doing, int err) {
  const std::string what = std::string("cannot ") + doing + ": " + std::strerror(err);
  switch (err) {
    case EACCES: case EPERM: case EROFS: case ENOENT: case ENOTDIR: case EISDIR: case ELOOP: case ENAMETOOLONG:
    case EEXIST:
      throw InputError(path, "", what);
    default:
      throw std::runtime_error(path + ": " + what);
  }
}

void refuse_non_regular(const std::string& path) {
  const std::string kind = non_regular_kind(path);
  if (!kind.empty()) throw InputError(path, "", "is " + kind + "; only a regular file is replaced");
}

// Writes `content` to a new temporary file beside `path`; returns its name.
std::string write_temporary(const std::string& path, const std::string& content) {
  refuse_non_regular(path);
  std::string tmp;
  int fd = -1;
  for (int attempt = 0; fd < 0; ++attempt) {
    tmp = path + ".tmp." + std::to_string(::getpid());
    if (attempt > 0) tmp.append("-").append(std::to_string(attempt));
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0 && (errno != EEXIST || attempt >= 100)) fail(path, "write it", errno);
  }
  std::size_t done = 0;
  int err = 0;
  while (done < content.size() && err == 0) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno != EINTR) err = errno;
      continue;
    }
    done += static_cast<std::size_t>(n);
  }
  if (err == 0 && ::fsync(fd) != 0 && errno != EINVAL) err = errno;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err != 0) {
    ::unlink(tmp.c_str());
    fail(path, "write it", err);
  }
  return tmp;
}

// Renames `tmp` over `path` unless something other than a regular file is
// there now, or anything is and `may_replace` is false.
void move_into_place(const std::string& tmp, const std::string& path, bool may_replace) {
  try {
    refuse_non_regular(path);
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  // Nothing there now (or nothing may be replaced): rename without replacing,
  // so that whatever appears in between (a FIFO, a link, a file) is kept.
  struct stat st {};
  const bool absent = ::lstat(path.c_str(), &st) != 0 && errno == ENOENT;
  int rc = -1;
  errno = 0;
  if (absent || !may_replace) rc = ::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE);
  if ((absent || !may_replace) && rc != 0 && (errno == EINVAL || errno == ENOSYS)) {  // no renameat2 here
    errno = absent ? 0 : EEXIST;
    if (absent) rc = std::rename(tmp.c_str(), path.c_str());
  } else if (!absent && may_replace) {
    rc = std::rename(tmp.c_str(), path.c_str());
  }
  if (rc != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    if (e == EEXIST)
      throw InputError(path, "", "already exists (it appeared while gcsim ran); pass --force to overwrite it");
    fail(path, "rename the temporary file over it", e);
  }
}

}  // namespace

std::string non_regular_kind(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return "";
  switch (st.st_mode & S_IFMT) {
    case S_IFREG: return "";
    case S_IFDIR: return "a directory";
    case S_IFLNK: return "a symbolic link";
    case S_IFIFO: return "a FIFO";
    case S_IFSOCK: return "a socket";
    case S_IFCHR: return "a character device";
    case S_IFBLK: return "a block device";
    default: return "not a regular file";
  }
}

void write_file_atomically(const std::string& path, const std::string& content, bool may_replace) {
  move_into_place(write_temporary(path, content), path, may_replace);
}

void AtomicFileSet::stage(const std::string& path, const std::string& content, bool may_replace) {
  staged_.push_back({path, write_temporary(path, content), may_replace});
}

void AtomicFileSet::commit() {
  std::size_t done = 0;
  std::vector<bool> created(staged_.size(), false);  // nothing was at the target before this set
  try {
    for (; done < staged_.size(); ++done) {
      struct stat st {};
      created[done] = ::lstat(staged_[done].path.c_str(), &st) != 0 && errno == ENOENT;
      move_into_place(staged_[done].tmp, staged_[done].path, staged_[done].may_replace);
    }
  } catch (...) {
    // Remove what this set created; a file it replaced (--force) keeps its new,
    // whole contents, since its old ones are gone either way.
    for (std::size_t i = 0; i < done; ++i)
      if (created[i]) ::unlink(staged_[i].path.c_str());
    for (std::size_t i = done + 1; i < staged_.size(); ++i) ::unlink(staged_[i].tmp.c_str());
    staged_.clear();
    throw;
  }
  staged_.clear();
}

AtomicFileSet::~AtomicFileSet() {
  for (const auto& s : staged_) ::unlink(s.tmp.c_str());
}

}  // namespace gcsim
