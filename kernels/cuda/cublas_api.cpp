// cuBLAS loaded with dlopen (see cublas_api.h).
#include "kernels/cuda/cublas_api.h"

#include <dlfcn.h>

#include <mutex>
#include <stdexcept>
#include <string>

namespace gcsim::kernels::cuda {
namespace {

template <class F>
void bind(void* lib, const char* symbol, F& out, const std::string& path) {
  void* p = dlsym(lib, symbol);
  if (p == nullptr) throw std::runtime_error(path + " has no symbol " + symbol);
  out = reinterpret_cast<F>(p);
}

CublasApi load() {
  const std::string major = std::to_string(CUBLAS_VER_MAJOR);
  const std::string candidates[] = {"libcublas.so." + major, "/usr/local/cuda/lib64/libcublas.so." + major};
  void* lib = nullptr;
  std::string path, first_error;
  for (const std::string& c : candidates) {
    lib = dlopen(c.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lib != nullptr) {
      path = c;
      break;
    }
    if (first_error.empty()) first_error = dlerror();
  }
  if (lib == nullptr) throw std::runtime_error("cannot load cuBLAS: " + first_error);
  CublasApi api;
  api.library = path;
  bind(lib, "cublasCreate_v2", api.create, path);
  bind(lib, "cublasDestroy_v2", api.destroy, path);
  bind(lib, "cublasSetStream_v2", api.set_stream, path);
  bind(lib, "cublasSetMathMode", api.set_math_mode, path);
  bind(lib, "cublasSgemm_v2", api.sgemm, path);
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
