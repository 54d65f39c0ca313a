// Loading a CUDA library at run time (cuBLAS: kernels/cuda/cublas_api.h,
// NCCL: comm/nccl_api.h): the first candidate path dlopen takes, and its
// symbols. The library stays loaded for the life of the process.
#pragma once

#include <dlfcn.h>
#include <limits.h>
#include <unistd.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace gcsim::shared_library {

struct Opened {
  void* handle = nullptr;
  std::string path;  // the candidate that loaded
};

// Throws std::runtime_error("cannot load WHAT: <the first candidate's dlerror>").
inline Opened open_first(const std::vector<std::string>& candidates, const std::string& what) {
  std::string first_error;
  for (const std::string& c : candidates) {
    if (void* lib = dlopen(c.c_str(), RTLD_NOW | RTLD_LOCAL)) return {lib, c};
    const char* e = dlerror();
    if (first_error.empty() && e != nullptr) first_error = e;
  }
  throw std::runtime_error("cannot load " + what + ": " + first_error);
}

// out = the symbol's address; throws std::runtime_error naming the library when it lacks it.
template <class F>
void bind(const Opened& lib, const char* symbol, F& out) {
  void* p = dlsym(lib.handle, symbol);
  if (p == nullptr) throw std::runtime_error(lib.path + " has no symbol " + symbol);
  out = reinterpret_cast<F>(p);
}

// The directory of the running executable ($ORIGIN), or "" when /proc is not there.
inline std::string executable_dir() {
  char buf[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return {};
  const std::string path(buf, static_cast<std::size_t>(n));
  const std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string{} : path.substr(0, slash);
}

}  // namespace gcsim::shared_library
