// Dense sum: out[i] = sum over inputs of in[j][i]. The elementwise reduction a
// dense allreduce performs; one API with a CPU reference and a CUDA backend.
#pragma once

#include <cstddef>
#include <vector>

namespace gcsim::kernels {

// Plain reference (kernels/cpu/dense_sum.cpp).
void dense_sum_cpu(const std::vector<const float*>& inputs, float* out, std::size_t n);

// Whether this build has the CUDA backend and a device is present.
bool cuda_device_available();

// CUDA backend (kernels/cuda/dense_sum.cu): host pointers in and out; copies
// through device memory. Throws std::runtime_error when CUDA is unavailable.
void dense_sum_cuda(const std::vector<const float*>& inputs, float* out, std::size_t n);

}  // namespace gcsim::kernels
