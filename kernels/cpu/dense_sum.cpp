#include "kernels/dense_sum.h"

#include <algorithm>

namespace gcsim::kernels {

void dense_sum_cpu(const std::vector<const float*>& inputs, float* out, std::size_t n) {
  std::fill(out, out + n, 0.0f);
  for (const float* in : inputs)
    for (std::size_t i = 0; i < n; ++i) out[i] += in[i];
}

}  // namespace gcsim::kernels
