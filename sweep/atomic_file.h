// Files that are either whole or absent: write to a temporary file in the same
// directory, flush it to disk, then rename over the target.
#pragma once

#include <string>

namespace gcsim {

void write_file_atomically(const std::string& path, const std::string& content);

}  // namespace gcsim
