// Linked instead of kernels/cuda/ when the build has no CUDA.
#include <stdexcept>

#include "kernels/factories.h"

namespace gcsim::kernels {

bool cuda_device_available() { return false; }

std::unique_ptr<Backend> make_cuda_backend() {
  throw std::runtime_error("the cuda kernel backend is unavailable: gcsim was built without CUDA");
}

}  // namespace gcsim::kernels
