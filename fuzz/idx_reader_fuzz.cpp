// libFuzzer target: the property in fuzz/idx_reader.h (InputError or success;
// anything else escapes and is a finding).
#include "fuzz/idx_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  gcsim::fuzz::idx_reader(data, size);
  return 0;
}
