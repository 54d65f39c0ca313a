// NCCL, loaded at run time (dlopen) rather than linked, like cuBLAS
// (kernels/cuda/cublas_api.h): the gcsim binary then starts on machines
// without libnccl (every CPU-only run, GPU machines without NCCL), and only
// the NCCL communicator (comm/nccl_comm.h) and the NCCL calibration need it.
// Looks for libnccl.so.2 on the loader path, then in /usr/local/cuda/lib,
// /usr/local/cuda/lib64 and next to the executable ($ORIGIN).
// Built only with CUDA (GCSIM_HAVE_CUDA).
#pragma once

#include <nccl.h>

#include <string>

namespace gcsim::comm::nccl {

struct NcclApi {
  decltype(&ncclGetVersion) get_version = nullptr;
  decltype(&ncclGetUniqueId) get_unique_id = nullptr;
  decltype(&ncclCommInitRank) comm_init_rank = nullptr;
  decltype(&ncclCommInitAll) comm_init_all = nullptr;
  decltype(&ncclCommDestroy) comm_destroy = nullptr;
  decltype(&ncclCommAbort) comm_abort = nullptr;
  decltype(&ncclCommGetAsyncError) get_async_error = nullptr;
  decltype(&ncclGetErrorString) get_error_string = nullptr;
  decltype(&ncclAllReduce) all_reduce = nullptr;
  decltype(&ncclAllGather) all_gather = nullptr;
  decltype(&ncclReduceScatter) reduce_scatter = nullptr;
  decltype(&ncclBroadcast) broadcast = nullptr;
  decltype(&ncclSend) send = nullptr;
  decltype(&ncclRecv) recv = nullptr;
  decltype(&ncclGroupStart) group_start = nullptr;
  decltype(&ncclGroupEnd) group_end = nullptr;
  std::string library;  // the file loaded
  int version = 0;      // ncclGetVersion's code, e.g. 22809
};

// Process-wide, loaded on first use; throws std::runtime_error naming the
// library and dlerror() when it cannot be loaded. A failed load is retried on
// the next call (and fails the same way).
const NcclApi& nccl_api();

// Throws comm::CommError("what: <ncclGetErrorString>") unless r == ncclSuccess.
void check(ncclResult_t r, const char* what);

// The NCCL version code as "2.28.9" (codes of NCCL <= 2.8 are X*1000+Y*100+Z,
// later ones X*10000+Y*100+Z).
std::string version_string(int code);

}  // namespace gcsim::comm::nccl
