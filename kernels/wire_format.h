// The sparse wire format: k float32 values, then k indices, little-endian, no
// header (the receiver knows n, so it knows the index width and derives k from
// the length). Indices are int32 while n < 2^31 and int64 from there on, so a
// message is k (4 + 4) bytes for every model in the zoo: DESIGN.md's
// "Top-K payload per worker: k (4 + index bytes)".
#pragma once

#include <cstddef>
#include <cstdint>

namespace gcsim::kernels {

inline constexpr std::size_t kInt32IndexLimit = std::size_t{1} << 31;

inline std::size_t index_bytes(std::size_t n) { return n >= kInt32IndexLimit ? 8 : 4; }
inline std::size_t wire_entry_bytes(std::size_t n) { return 4 + index_bytes(n); }
inline std::size_t wire_bytes(std::size_t n, std::size_t k) { return k * wire_entry_bytes(n); }

// The entry count k of a wire buffer of `bytes` for a tensor of n entries;
// throws WireFormatError (kernels/backend.h) when it is not a whole number of
// entries. kernels/wire_format.cpp.
std::size_t wire_entry_count(std::size_t bytes, std::size_t n);

}  // namespace gcsim::kernels
