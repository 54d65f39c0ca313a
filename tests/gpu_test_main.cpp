// Runs the [gpu] tests when a CUDA device is present; otherwise exits 77,
// which CTest reports as "skipped" (SKIP_RETURN_CODE), not as passed.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <cstdio>

#include "kernels/backend.h"

int main(int argc, char** argv) {
  if (!gcsim::kernels::cuda_device_available()) {
    std::printf("no CUDA device (or built without CUDA): GPU tests skipped\n");
    return 77;
  }
  return Catch::Session().run(argc, argv);
}
