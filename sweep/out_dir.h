// A sweep's output directory: creating it (bad paths are InputErrors naming
// --out), holding DIR/.lock for the run (flock: a second sweep is refused, and
// the kernel drops the lock when its process dies, however it dies), clearing
// what a killed run's atomic rewrite left, and appending whole rows.
#pragma once

#include <sys/types.h>

#include <string>

namespace gcsim {

// Creates DIR (and parents). InputError when DIR is a file or cannot be made.
void prepare_out_dir(const std::string& dir);

// DIR/.lock, flock'ed (exclusive, non-blocking) for the life of this object.
// InputError when another process holds it or DIR is not writable.
class OutDirLock {
 public:
  explicit OutDirLock(const std::string& dir);
  ~OutDirLock();
  OutDirLock(const OutDirLock&) = delete;
  OutDirLock& operator=(const OutDirLock&) = delete;

 private:
  int fd_ = -1;
};

// Removes DIR/results.csv.tmp.* (sweep/atomic_file.cpp's temporaries). Call
// with the lock held: only the holder writes them, so every one is stale.
void remove_stale_temporaries(const std::string& dir);

// Appends whole lines to an existing file: a failed or short write is cut
// back to the previous length and throws std::runtime_error naming the file;
// after a failure nothing more is appended. Not thread-safe.
class RowAppender {
 public:
  explicit RowAppender(std::string path);
  ~RowAppender();
  RowAppender(const RowAppender&) = delete;
  RowAppender& operator=(const RowAppender&) = delete;

  void append(const std::string& line);

 private:
  std::string path_;
  int fd_ = -1;
  off_t size_ = 0;
  bool failed_ = false;
};

}  // namespace gcsim
