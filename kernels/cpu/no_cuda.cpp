// Linked instead of kernels/cuda/ when the build has no CUDA.
#include <stdexcept>

#include "kernels/dense_sum.h"

namespace gcsim::kernels {

bool cuda_device_available() { return false; }

void dense_sum_cuda(const std::vector<const float*>&, float*, std::size_t) {
  throw std::runtime_error("gcsim was built without CUDA");
}

}  // namespace gcsim::kernels
