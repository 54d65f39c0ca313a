// libFuzzer target: the property in fuzz/profile_loader.h (InputError or success;
// anything else escapes and is a finding).
#include "fuzz/profile_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  gcsim::fuzz::profile_loader(data, size);
  return 0;
}
