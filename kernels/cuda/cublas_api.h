// cuBLAS, loaded at run time (dlopen) rather than linked: the gcsim binary
// then starts on machines without libcublas (every CPU-only run, and GPU
// machines whose CUDA lacks it), and only `--device cuda` needs it. Looks for
// libcublas.so.<major of the CUDA headers> on the loader path, then in
// /usr/local/cuda/lib64.
#pragma once

#include <cublas_v2.h>

#include <string>

namespace gcsim::kernels::cuda {

struct CublasApi {
  decltype(&cublasCreate_v2) create = nullptr;
  decltype(&cublasDestroy_v2) destroy = nullptr;
  decltype(&cublasSetStream_v2) set_stream = nullptr;
  decltype(&cublasSetMathMode) set_math_mode = nullptr;
  decltype(&cublasSgemm_v2) sgemm = nullptr;
  std::string library;  // the file that was loaded
};

// The process-wide table, loaded on first use; throws std::runtime_error
// naming the library and the loader's message when it cannot be loaded.
const CublasApi& cublas_api();

}  // namespace gcsim::kernels::cuda
