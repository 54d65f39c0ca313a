// Files of a training run that are either whole or absent (checkpoints, the
// summary): written to PATH.tmp, flushed to disk, then renamed over PATH. On
// any failure (a full disk, say) the temporary is removed, PATH is untouched,
// and std::runtime_error says "PATH: cannot write: reason".
#pragma once

#include <cstddef>
#include <string>

namespace gcsim::train {

// `name` is the file errors name (default: path), for a file staged under another name.
void write_whole_file(const std::string& path, const void* data, std::size_t bytes, const std::string& name = "");
inline void write_whole_file(const std::string& path, const std::string& text) {
  write_whole_file(path, text.data(), text.size());
}

}  // namespace gcsim::train
