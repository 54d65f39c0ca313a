// Which communicator a data-parallel run's worker processes use (gcsim train
// --comm auto|gloo|nccl), decided in one place, and the communicator made.
//
//   gloo  always allowed: TCP between processes, host buffers (CPU or GPU model).
//   nccl  needs --device cuda, a build with NCCL, a GPU the CUDA runtime finds,
//         libnccl.so.2, and (when the ranks sharing this host are known) a GPU
//         for each of them: NCCL refuses two ranks of one communicator on one GPU.
//   auto  nccl with --device cuda when this host has >= 2 GPUs, NCCL loads and
//         every rank on the host gets its own GPU, and the ranks are not behind
//         an --exec-prefix (emulated networks, other hosts: their links are the
//         point, and NCCL would go around them); else gloo.
// Rank r uses GPU r % (number of GPUs), as the CUDA model engine does
// (train/model/model_engine.h), so its gradients and its NCCL buffers share a device.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "comm/communicator.h"
#include "comm/gloo_comm.h"  // GlooOptions

namespace gcsim::comm {

enum class Backend { Gloo, Nccl };
std::string backend_name(Backend b);  // "gloo", "nccl"

// What this host offers NCCL: its GPUs, and why NCCL cannot be used ("" when it can).
struct NcclAvailability {
  int gpus = 0;
  std::string problem;
};
// The real one: "this gcsim was built without CUDA" (or without nccl.h), the
// CUDA runtime's answer, or the loader's message for libnccl.
NcclAvailability nccl_availability();

struct CommRequest {
  std::string comm = "auto";   // --comm: auto, gloo or nccl
  bool cuda = false;           // --device cuda
  int ranks_on_host = 0;       // ranks sharing this host's GPUs; 0 when not known
  bool exec_prefix = false;    // the ranks run under an --exec-prefix (ranks_on_host then not known)
};

// Throws std::invalid_argument with one line starting "--comm VALUE: " for an
// unknown value or an nccl that cannot be used here (saying why). `probe` is
// asked only when nccl is possible (--device cuda); tests pass their own.
Backend choose_backend(const CommRequest& request,
                       const std::function<NcclAvailability()>& probe = nccl_availability);

// Rank `rank` of `size` on `backend`, meeting the others in the store of
// `options` (Gloo's; NCCL shares its unique id through the same store). NCCL:
// on GPU rank % number of GPUs. Throws what the communicator's constructor throws.
std::unique_ptr<Communicator> make_communicator(Backend backend, int rank, int size, const GlooOptions& options);

}  // namespace gcsim::comm
