// The constructors behind make_backend(), one per implementation file.
#pragma once

#include <memory>

#include "kernels/backend.h"

namespace gcsim::kernels {

std::unique_ptr<Backend> make_reference_backend();           // kernels/cpu/reference_backend.cpp
std::unique_ptr<Backend> make_fast_cpu_backend(unsigned threads);  // kernels/cpu/fast_backend.cpp
std::unique_ptr<Backend> make_cuda_backend();                // kernels/cuda/cuda_backend.cu (or cpu/no_cuda.cpp)

}  // namespace gcsim::kernels
