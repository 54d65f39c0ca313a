// libFuzzer target: the property in fuzz/scenario_loader.h (InputError or success;
// anything else escapes and is a finding).
#include "fuzz/scenario_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  gcsim::fuzz::scenario_loader(data, size);
  return 0;
}
