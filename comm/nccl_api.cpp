// NCCL loaded with dlopen (see nccl_api.h).
#include "comm/nccl_api.h"

#include <dlfcn.h>
#include <limits.h>
#include <unistd.h>

#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "comm/communicator.h"  // CommError

namespace gcsim::comm::nccl {
namespace {

template <class F>
void bind(void* lib, const char* symbol, F& out, const std::string& path) {
  void* p = dlsym(lib, symbol);
  if (p == nullptr) throw std::runtime_error(path + " has no symbol " + symbol);
  out = reinterpret_cast<F>(p);
}

// The directory of the running executable, or "" when /proc is not there.
std::string executable_dir() {
  char buf[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return {};
  std::string path(buf, static_cast<std::size_t>(n));
  const std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string{} : path.substr(0, slash);
}

NcclApi load() {
  const std::string name = "libnccl.so." + std::to_string(NCCL_MAJOR);
  std::vector<std::string> candidates = {name, "/usr/local/cuda/lib/" + name, "/usr/local/cuda/lib64/" + name};
  if (const std::string dir = executable_dir(); !dir.empty()) candidates.push_back(dir + "/" + name);
  void* lib = nullptr;
  std::string path, first_error;
  for (const std::string& c : candidates) {
    lib = dlopen(c.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (lib != nullptr) {
      path = c;
      break;
    }
    const char* e = dlerror();
    if (first_error.empty() && e != nullptr) first_error = e;
  }
  if (lib == nullptr) throw std::runtime_error("cannot load NCCL (" + name + "): " + first_error);
  NcclApi api;
  api.library = path;
  bind(lib, "ncclGetVersion", api.get_version, path);
  bind(lib, "ncclGetUniqueId", api.get_unique_id, path);
  bind(lib, "ncclCommInitRank", api.comm_init_rank, path);
  bind(lib, "ncclCommInitAll", api.comm_init_all, path);
  bind(lib, "ncclCommDestroy", api.comm_destroy, path);
  bind(lib, "ncclCommAbort", api.comm_abort, path);
  bind(lib, "ncclCommGetAsyncError", api.get_async_error, path);
  bind(lib, "ncclGetErrorString", api.get_error_string, path);
  bind(lib, "ncclAllReduce", api.all_reduce, path);
  bind(lib, "ncclAllGather", api.all_gather, path);
  bind(lib, "ncclReduceScatter", api.reduce_scatter, path);
  bind(lib, "ncclBroadcast", api.broadcast, path);
  bind(lib, "ncclSend", api.send, path);
  bind(lib, "ncclRecv", api.recv, path);
  bind(lib, "ncclGroupStart", api.group_start, path);
  bind(lib, "ncclGroupEnd", api.group_end, path);
  const ncclResult_t r = api.get_version(&api.version);  // needs no GPU
  if (r != ncclSuccess)
    throw std::runtime_error(path + ": ncclGetVersion failed: " + api.get_error_string(r));
  return api;  // the library stays loaded for the life of the process
}

}  // namespace

const NcclApi& nccl_api() {
  static std::mutex mutex;
  static NcclApi api;
  static bool loaded = false;
  std::lock_guard<std::mutex> lock(mutex);
  if (!loaded) {
    api = load();  // throws: not loaded, tried again next time
    loaded = true;
  }
  return api;
}

void check(ncclResult_t r, const char* what) {
  if (r == ncclSuccess) return;
  const NcclApi& api = nccl_api();
  const char* msg = api.get_error_string != nullptr ? api.get_error_string(r) : nullptr;
  throw CommError(std::string(what) + ": " + (msg != nullptr ? msg : ("ncclResult " + std::to_string(r))));
}

std::string version_string(int code) {
  int major, minor, patch;
  if (code >= 10000) {  // NCCL 2.9 and later
    major = code / 10000;
    minor = (code % 10000) / 100;
    patch = code % 100;
  } else {
    major = code / 1000;
    minor = (code % 1000) / 100;
    patch = code % 100;
  }
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
}

}  // namespace gcsim::comm::nccl
