// libFuzzer target: the property in fuzz/wire_unpack.h (InputError or success;
// anything else escapes and is a finding).
#include "fuzz/wire_unpack.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  gcsim::fuzz::wire_unpack(data, size);
  return 0;
}
