// The choice of communicator (see choose_backend.h).
#include "comm/choose_backend.h"

#include <stdexcept>

#if GCSIM_HAVE_NCCL
#include "comm/nccl_comm.h"
#endif

namespace gcsim::comm {

std::string backend_name(Backend b) { return b == Backend::Nccl ? "nccl" : "gloo"; }

NcclAvailability nccl_availability() {
#if GCSIM_HAVE_NCCL
  try {
    return {nccl_device_count(), ""};
  } catch (const std::exception& e) {
    return {0, e.what()};
  }
#elif GCSIM_HAVE_CUDA
  return {0, "this gcsim was built without NCCL (no nccl.h at configure time)"};
#else
  return {0, "this gcsim was built without CUDA (no nvcc at configure time)"};
#endif
}

Backend choose_backend(const CommRequest& request, const std::function<NcclAvailability()>& probe) {
  const std::string flag = "--comm " + request.comm + ": ";
  if (request.comm == "gloo") return Backend::Gloo;
  if (request.comm == "auto") {
    if (!request.cuda || request.exec_prefix) return Backend::Gloo;
    const NcclAvailability a = probe();
    const bool one_gpu_each = request.ranks_on_host <= a.gpus;
    return a.problem.empty() && a.gpus >= 2 && one_gpu_each ? Backend::Nccl : Backend::Gloo;
  }
  if (request.comm != "nccl") throw std::invalid_argument(flag + "must be auto, gloo or nccl");
  // Under an --exec-prefix the ranks may be on other hosts: how many share this one is not known.
  const int ranks_on_host = request.exec_prefix ? 0 : request.ranks_on_host;
  if (!request.cuda)
    throw std::invalid_argument(flag + "needs --device cuda (NCCL exchanges GPU buffers; gloo is for the CPU)");
  const NcclAvailability a = probe();
  if (!a.problem.empty()) throw std::invalid_argument(flag + "NCCL cannot be used here: " + a.problem);
  if (a.gpus < 1) throw std::invalid_argument(flag + "NCCL cannot be used here: no GPU found");
  if (ranks_on_host > a.gpus)
    throw std::invalid_argument(flag + std::to_string(ranks_on_host) + " ranks on this host but " +
                                std::to_string(a.gpus) + " GPU" + (a.gpus == 1 ? "" : "s") +
                                " (NCCL needs a GPU for each rank; use --comm gloo)");
  return Backend::Nccl;
}

std::unique_ptr<Communicator> make_communicator(Backend backend, int rank, int size, const GlooOptions& options) {
  if (backend == Backend::Gloo) return std::make_unique<GlooComm>(rank, size, options);
#if GCSIM_HAVE_NCCL
  return std::make_unique<NcclComm>(rank, size, rank % nccl_device_count(), options);
#else
  throw std::runtime_error("--comm nccl: " + nccl_availability().problem);
#endif
}

}  // namespace gcsim::comm
