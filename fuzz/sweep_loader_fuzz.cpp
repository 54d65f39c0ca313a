// libFuzzer target: the property in fuzz/sweep_loader.h (InputError or success;
// anything else escapes and is a finding).
#include "fuzz/sweep_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  gcsim::fuzz::sweep_loader(data, size);
  return 0;
}
