// Fuzz property of the wire-format unpack (kernels/wire_format.h and
// Backend::unpack of both CPU backends): for any buffer bytes and any tensor
// size n, unpack either decodes exactly bytes / wire_entry_bytes(n) entries
// with every index in [0, n) -- and pack() of them gives the same bytes back --
// or rejects the buffer with WireFormatError; it never reads outside the
// buffer (which is an exact-size heap copy, so ASan sees any overread) and
// never throws anything else. wire_entry_count() is also fed a 64-bit byte
// count with no buffer at all.
//
// Input: byte 0 = how n is chosen, then 8 bytes (little-endian u64) for n,
// then the wire buffer.
//   mode % 4 == 0: n = the u64's low byte (small tensors, many entries valid)
//   mode % 4 == 1: n = 2^31 - 128 + (low byte)   (the int32 / int64 switch)
//   mode % 4 == 2: n = the u64 (any size, int64 indices from 2^31 on)
//   mode % 4 == 3: n = the u64's low 16 bits
#pragma once

#include <cstring>
#include <memory>
#include <vector>

#include "fuzz/support.h"
#include "kernels/backend.h"
#include "kernels/wire_format.h"

namespace gcsim::fuzz {

inline bool wire_unpack(const std::uint8_t* data, std::size_t size) {
  static const std::unique_ptr<kernels::Backend> backends[] = {kernels::make_backend("cpu-reference"),
                                                               kernels::make_backend("cpu", 1)};
  Bytes in(data, size);
  const std::uint8_t mode = in.u8();
  const std::uint64_t raw_n = in.le<std::uint64_t>();
  std::size_t n = 0;
  switch (mode % 4) {
    case 0: n = raw_n & 0xff; break;
    case 1: n = kernels::kInt32IndexLimit - 128 + (raw_n & 0xff); break;
    case 2: n = static_cast<std::size_t>(raw_n); break;
    default: n = raw_n & 0xffff; break;
  }

  // The count alone, for a byte count no buffer could hold.
  try {
    const std::size_t k = kernels::wire_entry_count(static_cast<std::size_t>(raw_n), n);
    if (k * kernels::wire_entry_bytes(n) != raw_n) throw PropertyViolation("wire_entry_count: not a whole count");
  } catch (const kernels::WireFormatError&) {
  }

  const std::size_t bytes = in.rest_size();
  const auto wire = std::make_unique<std::byte[]>(bytes ? bytes : 1);
  std::memcpy(wire.get(), in.rest(), bytes);
  const std::size_t entry = kernels::wire_entry_bytes(n);
  const std::size_t capacity = bytes / entry;  // what a caller sizes values / indices by

  bool accepted = false;
  for (const auto& b : backends) {
    std::vector<float> values(capacity);
    std::vector<kernels::Index> indices(capacity);
    try {
      const std::size_t k = b->unpack(wire.get(), bytes, n, values.data(), indices.data());
      if (k * entry != bytes) throw PropertyViolation("unpack: accepted a buffer that is not k whole entries");
      for (std::size_t j = 0; j < k; ++j)
        if (indices[j] < 0 || static_cast<std::size_t>(indices[j]) >= n)
          throw PropertyViolation("unpack: returned an index outside [0, n)");
      std::vector<std::byte> again(bytes ? bytes : 1);
      b->pack(values.data(), indices.data(), k, n, again.data());
      if (bytes && std::memcmp(again.data(), wire.get(), bytes) != 0)
        throw PropertyViolation("unpack: pack(unpack(wire)) != wire");
      accepted = true;
    } catch (const kernels::WireFormatError&) {
      if (accepted) throw PropertyViolation("unpack: the CPU backends disagree on a buffer");
    }
  }
  return accepted;
}

}  // namespace gcsim::fuzz
