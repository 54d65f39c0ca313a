// libFuzzer target: the property in fuzz/checkpoint_reader.h (InputError or success;
// anything else escapes and is a finding).
#include "fuzz/checkpoint_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  gcsim::fuzz::checkpoint_reader(data, size);
  return 0;
}
