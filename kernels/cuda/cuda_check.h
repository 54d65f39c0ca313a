// CUDA_CHECK: turn a CUDA error into an exception that carries file:line.
#pragma once

#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#define CUDA_CHECK(expr)                                                                            \
  do {                                                                                              \
    const cudaError_t gcsim_err_ = (expr);                                                          \
    if (gcsim_err_ != cudaSuccess)                                                                  \
      throw std::runtime_error(std::string(__FILE__) + ":" + std::to_string(__LINE__) + ": " #expr \
                               ": " + cudaGetErrorString(gcsim_err_));                              \
  } while (0)
