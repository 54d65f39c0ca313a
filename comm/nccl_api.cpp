// NCCL loaded with dlopen (see nccl_api.h).
#include "comm/nccl_api.h"

#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "comm/communicator.h"  // CommError
#include "kernels/cuda/shared_library.h"

namespace gcsim::comm::nccl {
namespace {

NcclApi load() {
  namespace so = shared_library;
  const std::string name = "libnccl.so." + std::to_string(NCCL_MAJOR);
  std::vector<std::string> candidates = {name, "/usr/local/cuda/lib/" + name, "/usr/local/cuda/lib64/" + name};
  if (const std::string dir = so::executable_dir(); !dir.empty()) candidates.push_back(dir + "/" + name);
  const so::Opened lib = so::open_first(candidates, "NCCL (" + name + ")");
  const std::string& path = lib.path;
  NcclApi api;
  api.library = path;
  so::bind(lib, "ncclGetVersion", api.get_version);
  so::bind(lib, "ncclGetUniqueId", api.get_unique_id);
  so::bind(lib, "ncclCommInitRank", api.comm_init_rank);
  so::bind(lib, "ncclCommInitAll", api.comm_init_all);
  so::bind(lib, "ncclCommDestroy", api.comm_destroy);
  so::bind(lib, "ncclCommAbort", api.comm_abort);
  so::bind(lib, "ncclCommGetAsyncError", api.get_async_error);
  so::bind(lib, "ncclGetErrorString", api.get_error_string);
  so::bind(lib, "ncclAllReduce", api.all_reduce);
  so::bind(lib, "ncclAllGather", api.all_gather);
  so::bind(lib, "ncclReduceScatter", api.reduce_scatter);
  so::bind(lib, "ncclBroadcast", api.broadcast);
  so::bind(lib, "ncclSend", api.send);
  so::bind(lib, "ncclRecv", api.recv);
  so::bind(lib, "ncclGroupStart", api.group_start);
  so::bind(lib, "ncclGroupEnd", api.group_end);
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
