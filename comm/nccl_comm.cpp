// NCCL-backed communicator (see nccl_comm.h).
#include "comm/nccl_comm.h"

#include <cuda_runtime.h>
#include <nccl.h>

#include <cstring>
#include <exception>
#include <stdexcept>
#include <thread>
#include <utility>

#include <gloo/rendezvous/file_store.h>
#include <gloo/rendezvous/prefix_store.h>

#include "comm/nccl_api.h"
#include "comm/tcp_store.h"
#include "kernels/cuda/cuda_check.h"

namespace gcsim::comm {

namespace {

using nccl::nccl_api;

template <typename F>
void guarded(const char* op, F&& f) {
  as_comm_error("nccl", op, std::forward<F>(f));
}

std::string key_arrived(int rank) { return "nccl-arrived-" + std::to_string(rank); }
const char* const kKeyUniqueId = "nccl-unique-id";

}  // namespace

int nccl_device_count() {
  int count = 0;
  const cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    cudaGetLastError();  // clear it: this is an answer, not a failure
    throw std::runtime_error(std::string("no usable GPU: ") + cudaGetErrorString(err));
  }
  if (count == 0) throw std::runtime_error("no GPU found");
  nccl_api();  // throws "cannot load NCCL ...: <dlerror>"
  return count;
}

NcclComm::NcclComm(int rank, int size, int device, const GlooOptions& options)
    : rank_(rank), size_(size), device_(device), timeout_(options.timeout) {
  if (size < 1 || rank < 0 || rank >= size || device < 0) throw std::invalid_argument("NcclComm: bad rank/size/device");
  if (size == 1) {
    init(nullptr, "");
    return;
  }
  if (options.store_addr.empty() && options.store_dir.empty())
    throw std::invalid_argument("NcclComm: no store (GlooOptions::store_dir or store_addr) for " +
                                std::to_string(size) + " ranks");
  std::unique_ptr<gloo::rendezvous::Store> base;
  guarded("rendezvous", [&] {
    if (!options.store_addr.empty()) {
      const auto [host, port] = parse_tcp_address(options.store_addr);
      if (rank == 0) store_server_ = std::make_unique<TcpStoreServer>(host, port);
      base = std::make_unique<TcpStore>(host, port, options.timeout);
    } else {
      base = std::make_unique<gloo::rendezvous::FileStore>(options.store_dir);
    }
  });
  init(base.get(), options.run_id);
}

NcclComm::NcclComm(int rank, int size, int device, gloo::rendezvous::Store& store, const std::string& prefix,
                   std::chrono::milliseconds timeout)
    : rank_(rank), size_(size), device_(device), timeout_(timeout) {
  if (size < 1 || rank < 0 || rank >= size || device < 0) throw std::invalid_argument("NcclComm: bad rank/size/device");
  init(&store, prefix);
}

void NcclComm::init(gloo::rendezvous::Store* store, const std::string& prefix) {
  const nccl::NcclApi& api = nccl_api();
  CUDA_CHECK(cudaSetDevice(device_));
  ncclUniqueId id;
  std::memset(&id, 0, sizeof id);
  if (rank_ == 0) nccl::check(api.get_unique_id(&id), "ncclGetUniqueId");
  if (size_ > 1) {
    guarded("rendezvous", [&] {
      gloo::rendezvous::PrefixStore ps(prefix, *store);
      if (rank_ == 0) {
        ps.set(kKeyUniqueId, std::vector<char>(id.internal, id.internal + sizeof id.internal));
      } else {
        ps.wait({kKeyUniqueId}, timeout_);
        const std::vector<char> v = ps.get(kKeyUniqueId);
        if (v.size() != sizeof id.internal)
          throw CommError("nccl rendezvous: the unique id in the store has " + std::to_string(v.size()) +
                          " bytes, not " + std::to_string(sizeof id.internal));
        std::memcpy(id.internal, v.data(), v.size());
      }
      // ncclCommInitRank blocks until every rank has called it: start it only
      // once every rank is known to have arrived.
      ps.set(key_arrived(rank_), std::vector<char>(1, 1));
      std::vector<std::string> keys;
      for (int r = 0; r < size_; ++r) keys.push_back(key_arrived(r));
      ps.wait(keys, timeout_);
    });
  }
  ncclComm_t comm = nullptr;
  nccl::check(api.comm_init_rank(&comm, size_, id, rank_), "ncclCommInitRank");
  const cudaError_t err = cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking);
  if (err != cudaSuccess) {  // no destructor runs for a constructor that throws
    api.comm_destroy(comm);
    CUDA_CHECK(err);
  }
  comm_ = comm;
}

NcclComm::~NcclComm() {
  if (comm_ != nullptr) {
    const nccl::NcclApi& api = nccl_api();
    // Unwinding from a failure: peers may be gone, and destroy may wait for them.
    if (std::uncaught_exceptions() > 0) api.comm_abort(comm_);
    else api.comm_destroy(comm_);
  }
  cudaSetDevice(device_);
  for (void* b : buffer_)
    if (b != nullptr) cudaFree(b);
  if (stream_ != nullptr) cudaStreamDestroy(stream_);
}

void NcclComm::begin(const char* op) {
  if (aborted_) throw CommError(std::string("nccl ") + op + ": the communicator was aborted after an earlier failure");
  CUDA_CHECK(cudaSetDevice(device_));
}

void NcclComm::fail(const char* op, const std::string& why) {
  if (!aborted_ && comm_ != nullptr) nccl_api().comm_abort(comm_);
  comm_ = nullptr;
  aborted_ = true;
  throw CommError(std::string("nccl ") + op + ": " + why);
}

void NcclComm::wait(const char* op) {
  const nccl::NcclApi& api = nccl_api();
  const auto start = std::chrono::steady_clock::now();
  for (int polls = 0;; ++polls) {
    const cudaError_t q = cudaStreamQuery(stream_);
    if (q == cudaSuccess) return;
    if (q != cudaErrorNotReady) {
      cudaGetLastError();
      fail(op, std::string("CUDA: ") + cudaGetErrorString(q));
    }
    ncclResult_t async = ncclSuccess;
    const ncclResult_t r = api.get_async_error(comm_, &async);
    if (r != ncclSuccess) fail(op, std::string("ncclCommGetAsyncError: ") + api.get_error_string(r));
    if (async != ncclSuccess && async != ncclInProgress) fail(op, api.get_error_string(async));
    if (std::chrono::steady_clock::now() - start > timeout_)
      fail(op, "timed out after " + std::to_string(timeout_.count()) + " ms (a peer stalled or died)");
    if (polls < 2000) std::this_thread::yield();
    else std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

void* NcclComm::staging(int which, std::size_t bytes) {
  if (bytes > capacity_[which]) {
    std::size_t cap = capacity_[which] * 2;
    if (cap < bytes) cap = bytes;
    if (cap < 256) cap = 256;
    if (buffer_[which] != nullptr) CUDA_CHECK(cudaFree(buffer_[which]));
    buffer_[which] = nullptr;
    capacity_[which] = 0;
    CUDA_CHECK(cudaMalloc(&buffer_[which], cap));
    capacity_[which] = cap;
  }
  return buffer_[which];
}

// An NCCL call on the stream, in a member: a failure aborts the communicator
// (as a failed wait does).
#define GCSIM_NCCL_OK(op, expr)                                                    \
  do {                                                                             \
    const ncclResult_t gcsim_r_ = (expr);                                          \
    if (gcsim_r_ != ncclSuccess && gcsim_r_ != ncclInProgress)                     \
      fail(op, std::string(#expr) + ": " + nccl_api().get_error_string(gcsim_r_)); \
  } while (0)

void NcclComm::allreduce_sum(float* data, std::size_t n) {
  begin("allreduce");
  if (n == 0) return;
  const nccl::NcclApi& api = nccl_api();
  const std::size_t bytes = n * sizeof(float);
  void* d = staging(0, bytes);
  CUDA_CHECK(cudaMemcpyAsync(d, data, bytes, cudaMemcpyHostToDevice, stream_));
  GCSIM_NCCL_OK("allreduce", api.all_reduce(d, d, n, ncclFloat, ncclSum, comm_, stream_));
  wait("allreduce");  // before the copy back: one from pageable memory would block the host
  CUDA_CHECK(cudaMemcpyAsync(data, d, bytes, cudaMemcpyDeviceToHost, stream_));
  wait("allreduce");
  bytes_sent_ += ring_allreduce_bytes(n, size_, rank_);
}

void NcclComm::allreduce_sum_half(std::uint16_t* data, std::size_t n, kernels::HalfFormat format) {
  begin("allreduce");
  if (n == 0) return;
  const nccl::NcclApi& api = nccl_api();
  const std::size_t bytes = n * sizeof(std::uint16_t);
  const ncclDataType_t type = format == kernels::HalfFormat::Fp16 ? ncclFloat16 : ncclBfloat16;
  void* d = staging(0, bytes);
  CUDA_CHECK(cudaMemcpyAsync(d, data, bytes, cudaMemcpyHostToDevice, stream_));
  GCSIM_NCCL_OK("allreduce", api.all_reduce(d, d, n, type, ncclSum, comm_, stream_));
  wait("allreduce");
  CUDA_CHECK(cudaMemcpyAsync(data, d, bytes, cudaMemcpyDeviceToHost, stream_));
  wait("allreduce");
  bytes_sent_ += ring_allreduce_bytes(n, size_, rank_, sizeof(std::uint16_t));
}

void NcclComm::allgatherv(const void* data, std::size_t bytes, std::vector<std::uint8_t>& out,
                          std::vector<std::size_t>& counts) {
  begin("allgatherv");
  const nccl::NcclApi& api = nccl_api();
  // 1. every rank's byte count: one uint64 each
  std::vector<std::uint64_t> all(size_, 0);
  const std::uint64_t mine = bytes;
  auto* d = static_cast<std::uint64_t*>(staging(1, all.size() * sizeof(std::uint64_t)));
  CUDA_CHECK(cudaMemcpyAsync(d + rank_, &mine, sizeof mine, cudaMemcpyHostToDevice, stream_));
  GCSIM_NCCL_OK("allgatherv", api.all_gather(d + rank_, d, 1, ncclUint64, comm_, stream_));
  wait("allgatherv");
  CUDA_CHECK(cudaMemcpyAsync(all.data(), d, all.size() * sizeof(std::uint64_t), cudaMemcpyDeviceToHost, stream_));
  wait("allgatherv");
  counts.assign(size_, 0);
  for (int r = 0; r < size_; ++r) counts[r] = static_cast<std::size_t>(all[r]);
  if (counts[rank_] != bytes) fail("allgatherv", "this rank's count came back changed");
  // 2. the bytes
  gather_parts(data, bytes, counts, out);
  bytes_sent_ += ring_allgather_bytes(std::vector<std::size_t>(size_, sizeof(std::uint64_t)), rank_);
  bytes_sent_ += ring_allgather_bytes(counts, rank_);
}

void NcclComm::allgatherv_known(const void* data, std::size_t bytes, const std::vector<std::size_t>& counts,
                                std::vector<std::uint8_t>& out) {
  check_known_counts(bytes, counts);
  begin("allgatherv");
  gather_parts(data, bytes, counts, out);
  bytes_sent_ += ring_allgather_bytes(counts, rank_);
}

void NcclComm::gather_parts(const void* data, std::size_t bytes, const std::vector<std::size_t>& counts,
                            std::vector<std::uint8_t>& out) {
  const nccl::NcclApi& api = nccl_api();
  std::vector<std::size_t> offset(size_, 0);
  std::size_t total = 0;
  bool equal = true;
  for (int r = 0; r < size_; ++r) {
    offset[r] = total;
    total += counts[r];
    equal = equal && counts[r] == counts[0];
  }
  out.resize(total);
  if (total == 0) return;  // every rank has the same counts: all skip
  auto* d = static_cast<std::uint8_t*>(staging(0, total));
  if (bytes > 0) CUDA_CHECK(cudaMemcpyAsync(d + offset[rank_], data, bytes, cudaMemcpyHostToDevice, stream_));
  if (equal) {
    // in place: rank r's part is already at d + r * counts[0]
    GCSIM_NCCL_OK("allgatherv", api.all_gather(d + offset[rank_], d, counts[0], ncclUint8, comm_, stream_));
  } else {
    // one broadcast per rank, each into its place; ring broadcasts send what
    // a ring allgatherv does (every part but the successor's)
    GCSIM_NCCL_OK("allgatherv", api.group_start());
    for (int r = 0; r < size_; ++r)
      if (counts[r] > 0)
        GCSIM_NCCL_OK("allgatherv",
                      api.broadcast(d + offset[r], d + offset[r], counts[r], ncclUint8, r, comm_, stream_));
    GCSIM_NCCL_OK("allgatherv", api.group_end());
  }
  wait("allgatherv");
  CUDA_CHECK(cudaMemcpyAsync(out.data(), d, total, cudaMemcpyDeviceToHost, stream_));
  wait("allgatherv");
}

void NcclComm::barrier() {
  begin("barrier");
  const nccl::NcclApi& api = nccl_api();
  void* d = staging(0, sizeof(float));
  CUDA_CHECK(cudaMemsetAsync(d, 0, sizeof(float), stream_));
  GCSIM_NCCL_OK("barrier", api.all_reduce(d, d, 1, ncclFloat, ncclSum, comm_, stream_));
  wait("barrier");
}

void NcclComm::send(int peer, const void* data, std::size_t bytes) { sendrecv(peer, data, bytes, peer, nullptr, 0); }

void NcclComm::recv(int peer, void* data, std::size_t bytes) { sendrecv(peer, nullptr, 0, peer, data, bytes); }

void NcclComm::sendrecv(int to, const void* out, std::size_t out_bytes, int from, void* in, std::size_t in_bytes) {
  check_peer("sendrecv", to);
  check_peer("sendrecv", from);
  begin("send/recv");
  if (out_bytes == 0 && in_bytes == 0) return;
  const nccl::NcclApi& api = nccl_api();
  void* d_in = in_bytes > 0 ? staging(0, in_bytes) : nullptr;
  void* d_out = out_bytes > 0 ? staging(1, out_bytes) : nullptr;
  if (out_bytes > 0) CUDA_CHECK(cudaMemcpyAsync(d_out, out, out_bytes, cudaMemcpyHostToDevice, stream_));
  GCSIM_NCCL_OK("send/recv", api.group_start());
  if (in_bytes > 0) GCSIM_NCCL_OK("send/recv", api.recv(d_in, in_bytes, ncclUint8, from, comm_, stream_));
  if (out_bytes > 0) GCSIM_NCCL_OK("send/recv", api.send(d_out, out_bytes, ncclUint8, to, comm_, stream_));
  GCSIM_NCCL_OK("send/recv", api.group_end());
  wait("send/recv");
  if (in_bytes > 0) {
    CUDA_CHECK(cudaMemcpyAsync(in, d_in, in_bytes, cudaMemcpyDeviceToHost, stream_));
    wait("send/recv");
  }
  bytes_sent_ += out_bytes;
}

}  // namespace gcsim::comm
