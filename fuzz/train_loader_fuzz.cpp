// libFuzzer target: the property in fuzz/train_loader.h (InputError or success;
// anything else escapes and is a finding).
#include "fuzz/train_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  gcsim::fuzz::train_loader(data, size);
  return 0;
}
