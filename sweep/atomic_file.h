// Files that are either whole or absent: write to a temporary file in the same
// directory, flush it to disk, then rename over the target.
//
// Only a regular file is ever replaced. Anything else at the target (a
// directory, a symbolic link, a FIFO, a socket, a device node) is refused:
// checked with lstat (links are not followed) before the temporary file is
// made and again right before the rename.
//
// Errors are one line naming the target and the reason (strerror): an
// InputError when the path cannot be written as given (not a regular file,
// EACCES, EROFS, ENOENT, ENOTDIR, EISDIR, ELOOP, ENAMETOOLONG: the user named
// an impossible output), a std::runtime_error otherwise (ENOSPC, EIO, ...).
// No temporary file is left behind on any path.
#pragma once

#include <string>
#include <vector>

namespace gcsim {

// `may_replace` false (no --force): an existing regular file is not replaced
// either, even one that appeared after the caller checked.
void write_file_atomically(const std::string& path, const std::string& content, bool may_replace = true);

// What is at `path` when it is something other than a regular file
// ("a directory", "a symbolic link", "a FIFO", "a socket", "a character
// device", "a block device"); "" when nothing is there or a regular file is.
std::string non_regular_kind(const std::string& path);

// Several outputs of one run, all or none. stage() writes each to its
// temporary file (so a full disk or an unwritable directory is found before
// any target is touched); commit() renames them into place in stage order.
// If a rename fails, the targets this set already created are removed again,
// a target it replaced (--force) keeps its new, whole contents (never a
// user's file deleted), and the error is rethrown. Temporary files not committed are removed by the destructor.
class AtomicFileSet {
 public:
  AtomicFileSet() = default;
  AtomicFileSet(const AtomicFileSet&) = delete;
  AtomicFileSet& operator=(const AtomicFileSet&) = delete;
  ~AtomicFileSet();

  void stage(const std::string& path, const std::string& content, bool may_replace = true);
  void commit();

 private:
  struct Staged {
    std::string path, tmp;
    bool may_replace;
  };
  std::vector<Staged> staged_;
};

}  // namespace gcsim
