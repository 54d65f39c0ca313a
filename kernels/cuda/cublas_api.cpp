// cuBLAS loaded with dlopen (see cublas_api.h).
#include "kernels/cuda/cublas_api.h"

#include "kernels/cuda/shared_library.h"

#include <mutex>
#include <stdexcept>
#include <string>

namespace gcsim::kernels::cuda {
namespace {

CublasApi load() {
  namespace so = shared_library;
  const std::string major = std::to_string(CUBLAS_VER_MAJOR);
  const so::Opened lib =
      so::open_first({"libcublas.so." + major, "/usr/local/cuda/lib64/libcublas.so." + major}, "cuBLAS");
  const std::string& path = lib.path;
  CublasApi api;
  api.library = path;
  so::bind(lib, "cublasCreate_v2", api.create);
  so::bind(lib, "cublasDestroy_v2", api.destroy);
  so::bind(lib, "cublasSetStream_v2", api.set_stream);
  so::bind(lib, "cublasSetMathMode", api.set_math_mode);
  so::bind(lib, "cublasSgemm_v2", api.sgemm);
  return api;  // the library stays loaded for the life of the process
}

}  // namespace

const CublasApi& cublas_api() {
  static std::once_flag once;
  static CublasApi api;
  std::call_once(once, [] { api = load(); });
  return api;
}

}  // namespace gcsim::kernels::cuda
