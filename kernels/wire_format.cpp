#include "kernels/wire_format.h"

#include <string>

#include "kernels/backend.h"

namespace gcsim::kernels {

std::size_t wire_entry_count(std::size_t bytes, std::size_t n) {
  const std::size_t entry = wire_entry_bytes(n);
  if (bytes % entry != 0)
    throw WireFormatError("unpack: a wire buffer of " + std::to_string(bytes) + " bytes is not a whole number of " +
                          std::to_string(entry) + "-byte entries (tensor of n = " + std::to_string(n) + ")");
  return bytes / entry;
}

}  // namespace gcsim::kernels
