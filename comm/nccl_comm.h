// Collectives between GPUs through NCCL (comm/nccl_api.h: libnccl loaded at
// run time), one rank per process and GPU. Built only with CUDA and nccl.h
// (GCSIM_HAVE_NCCL); the header itself needs neither.
//
// Rendezvous: the ranks share the ncclUniqueId through the store Gloo uses
// (gloo_comm.h): a gloo FileStore on a directory all ranks see, or the TCP
// store rank 0 serves (comm/tcp_store.h), under the run id; or a store the
// caller built. Rank 0 calls ncclGetUniqueId and publishes it; every rank then
// marks itself arrived, and waits (within the timeout) until all have, before
// ncclCommInitRank, so that the blocking initialisation starts only when every
// peer is there. GlooOptions::host is not used: NCCL picks its own interfaces
// (NCCL_SOCKET_IFNAME).
//
// The interface takes host pointers (the trainer's gradients live on the
// host): each call copies into persistent device staging buffers (grown as
// needed, never shrunk), runs the NCCL collective on them on the
// communicator's own stream, and copies the result back, then waits. A wait
// polls cudaStreamQuery and ncclCommGetAsyncError; after the timeout, or on an
// asynchronous NCCL error, it calls ncclCommAbort and throws CommError, and
// every later call throws CommError at once. (Host-side NCCL calls that block
// by themselves - ncclCommInitRank after every rank arrived, the connection
// setup of a first collective or send - are bounded by NCCL's own socket
// errors, not by this timeout.)
//
// The collectives:
//   allreduce_sum       ncclAllReduce(ncclFloat, ncclSum).
//   allreduce_sum_half  ncclAllReduce(ncclFloat16 | ncclBfloat16, ncclSum).
//                       NCCL adds in its own order (ring chunks, tree or NVLS,
//                       as it picks), not the Gloo ring's: results may differ
//                       from GlooComm's in the last bits, but every rank gets
//                       the same bits (NCCL reduces once and distributes).
//                       The same holds for the fp32 sum.
//   allgatherv          the byte counts first (ncclAllGather of one uint64 per
//                       rank), then the parts as allgatherv_known.
//   allgatherv_known    equal counts: one ncclAllGather; unequal: one
//                       ncclBroadcast per rank from that rank into its place
//                       in the output, in one ncclGroupStart/End (no padding
//                       to the largest part on the wire).
//   barrier             a 1-element allreduce and a stream sync.
//   send/recv/sendrecv  ncclSend/ncclRecv in one ncclGroupStart/End.
// Unlike GlooComm, a 1-rank NcclComm still runs every call through NCCL.
//
// bytes_sent counts what the ring schedule sends, exactly as GlooComm does
// (ring_allreduce_bytes, ring_allgather_bytes; point to point: the bytes
// sent), whatever algorithm NCCL chooses (tree or NVLS send other amounts).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "comm/communicator.h"
#include "comm/gloo_comm.h"  // GlooOptions: the same store settings

struct ncclComm;     // nccl.h's ncclComm_t is ncclComm*
struct CUstream_st;  // cudaStream_t

namespace gloo::rendezvous {
class Store;
}

namespace gcsim::comm {

class NcclComm final : public Communicator {
 public:
  // On CUDA device `device`; the ranks meet in the store of `options`
  // (store_dir or store_addr, run_id, timeout). A 1-rank communicator needs
  // no store (both may be empty). Throws CommError when not every rank came
  // within the timeout or NCCL fails, std::runtime_error when NCCL or the
  // device cannot be used, std::invalid_argument for a bad rank/size.
  NcclComm(int rank, int size, int device, const GlooOptions& options);
  // The same through a store the caller built (keys under `prefix`).
  NcclComm(int rank, int size, int device, gloo::rendezvous::Store& store, const std::string& prefix,
           std::chrono::milliseconds timeout);
  ~NcclComm() override;
  NcclComm(const NcclComm&) = delete;
  NcclComm& operator=(const NcclComm&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string name() const override { return "nccl"; }
  int device() const { return device_; }
  void allreduce_sum(float* data, std::size_t n) override;
  void allreduce_sum_half(std::uint16_t* data, std::size_t n, kernels::HalfFormat format) override;
  void allgatherv(const void* data, std::size_t bytes, std::vector<std::uint8_t>& out,
                  std::vector<std::size_t>& counts) override;
  void allgatherv_known(const void* data, std::size_t bytes, const std::vector<std::size_t>& counts,
                        std::vector<std::uint8_t>& out) override;
  void barrier() override;
  void send(int peer, const void* data, std::size_t bytes) override;
  void recv(int peer, void* data, std::size_t bytes) override;
  using Communicator::sendrecv;
  void sendrecv(int to, const void* out, std::size_t out_bytes, int from, void* in, std::size_t in_bytes) override;

 private:
  void init(gloo::rendezvous::Store* store, const std::string& prefix);
  void begin(const char* op);                  // throws once aborted; selects the device
  void wait(const char* op);                   // the stream's work done, or abort + CommError
  void fail(const char* op, const std::string& why);  // abort + CommError
  void* staging(int which, std::size_t bytes);  // device buffer `which` (0, 1), at least `bytes`
  void gather_parts(const void* data, std::size_t bytes, const std::vector<std::size_t>& counts,
                    std::vector<std::uint8_t>& out);

  int rank_, size_, device_;
  std::chrono::milliseconds timeout_;
  ncclComm* comm_ = nullptr;
  CUstream_st* stream_ = nullptr;
  bool aborted_ = false;
  void* buffer_[2] = {nullptr, nullptr};
  std::size_t capacity_[2] = {0, 0};
  std::unique_ptr<TcpStoreServer> store_server_;  // rank 0 with a TCP store: serves it while alive
};

// The number of CUDA devices NCCL can use on this host (>= 1), after checking
// that the CUDA runtime finds a device and libnccl loads; throws
// std::runtime_error saying why not ("no usable GPU: ...", "cannot load NCCL
// ..."). Only in builds with NCCL: comm/choose_backend.h reports the rest.
int nccl_device_count();

}  // namespace gcsim::comm
