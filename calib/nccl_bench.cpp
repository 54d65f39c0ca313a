// NCCL's collectives on the local GPUs, one process (see nccl_bench.h).
#include "calib/nccl_bench.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <stdexcept>

#include "comm/nccl_api.h"
#include "comm/nccl_comm.h"  // nccl_device_count
#include "kernels/cuda/cuda_check.h"

namespace gcsim::calib {

struct NcclBench::State {
  const comm::nccl::NcclApi* api = nullptr;
  int n = 0;
  std::vector<ncclComm_t> comms;
  std::vector<cudaStream_t> streams;
  std::vector<cudaEvent_t> start, stop;
  std::vector<float*> send, recv;
  std::size_t send_cap = 0, recv_cap = 0;  // floats per device
  std::string op;
  std::size_t count = 0;  // floats: buffer (allreduce, broadcast) or one rank's part

  std::size_t send_count() const { return op == coll::reduce_scatter ? count * static_cast<std::size_t>(n) : count; }
  std::size_t recv_count() const { return op == coll::allgather ? count * static_cast<std::size_t>(n) : count; }

  void reserve(std::size_t s, std::size_t r) {
    if (s > send_cap || r > recv_cap) {
      for (int g = 0; g < n; ++g) {
        CUDA_CHECK(cudaSetDevice(g));
        if (send[static_cast<std::size_t>(g)]) CUDA_CHECK(cudaFree(send[static_cast<std::size_t>(g)]));
        if (recv[static_cast<std::size_t>(g)]) CUDA_CHECK(cudaFree(recv[static_cast<std::size_t>(g)]));
        send[static_cast<std::size_t>(g)] = recv[static_cast<std::size_t>(g)] = nullptr;
        CUDA_CHECK(cudaMalloc(&send[static_cast<std::size_t>(g)], std::max(s, send_cap) * sizeof(float)));
        CUDA_CHECK(cudaMalloc(&recv[static_cast<std::size_t>(g)], std::max(r, recv_cap) * sizeof(float)));
      }
      send_cap = std::max(s, send_cap);
      recv_cap = std::max(r, recv_cap);
    }
  }

  void fill() {
    std::vector<float> host(send_count());
    for (int g = 0; g < n; ++g) {
      for (std::size_t i = 0; i < host.size(); ++i) host[i] = pattern_value(g, i);
      CUDA_CHECK(cudaSetDevice(g));
      CUDA_CHECK(cudaMemcpy(send[static_cast<std::size_t>(g)], host.data(), host.size() * sizeof(float),
                            cudaMemcpyHostToDevice));
      CUDA_CHECK(cudaMemset(recv[static_cast<std::size_t>(g)], 0, recv_count() * sizeof(float)));
    }
  }

  void launch() {
    comm::nccl::check(api->group_start(), "ncclGroupStart");
    for (int g = 0; g < n; ++g) {
      const auto i = static_cast<std::size_t>(g);
      ncclResult_t r = ncclSuccess;
      if (op == coll::allreduce)
        r = api->all_reduce(send[i], recv[i], count, ncclFloat, ncclSum, comms[i], streams[i]);
      else if (op == coll::allgather)
        r = api->all_gather(send[i], recv[i], count, ncclFloat, comms[i], streams[i]);
      else if (op == coll::reduce_scatter)
        r = api->reduce_scatter(send[i], recv[i], count, ncclFloat, ncclSum, comms[i], streams[i]);
      else
        r = api->broadcast(send[i], recv[i], count, ncclFloat, 0, comms[i], streams[i]);
      comm::nccl::check(r, op.c_str());
    }
    comm::nccl::check(api->group_end(), "ncclGroupEnd");
  }

  void sync() {
    for (int g = 0; g < n; ++g) {
      CUDA_CHECK(cudaSetDevice(g));
      CUDA_CHECK(cudaStreamSynchronize(streams[static_cast<std::size_t>(g)]));
    }
  }
};

NcclBench::NcclBench(int devices) : s_(std::make_unique<State>()) {
  s_->api = &comm::nccl::nccl_api();  // throws when libnccl cannot be loaded
  int have = 0;
  try {
    have = comm::nccl_device_count();  // the GPUs NCCL can use, or why none
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("--backend nccl: ") + e.what());
  }
  if (devices > have)
    throw std::runtime_error("--backend nccl: --gpus " + std::to_string(devices) + " but this machine has " +
                             std::to_string(have));
  s_->n = devices > 0 ? devices : have;
  const auto n = static_cast<std::size_t>(s_->n);
  s_->comms.assign(n, nullptr);
  s_->streams.assign(n, nullptr);
  s_->start.assign(n, nullptr);
  s_->stop.assign(n, nullptr);
  s_->send.assign(n, nullptr);
  s_->recv.assign(n, nullptr);
  std::vector<int> list(n);
  for (int g = 0; g < s_->n; ++g) list[static_cast<std::size_t>(g)] = g;
  comm::nccl::check(s_->api->comm_init_all(s_->comms.data(), s_->n, list.data()), "ncclCommInitAll");
  for (int g = 0; g < s_->n; ++g) {
    const auto i = static_cast<std::size_t>(g);
    CUDA_CHECK(cudaSetDevice(g));
    CUDA_CHECK(cudaStreamCreateWithFlags(&s_->streams[i], cudaStreamNonBlocking));
    CUDA_CHECK(cudaEventCreate(&s_->start[i]));
    CUDA_CHECK(cudaEventCreate(&s_->stop[i]));
  }
}

NcclBench::~NcclBench() {
  if (!s_) return;
  for (int g = 0; g < s_->n; ++g) {
    const auto i = static_cast<std::size_t>(g);
    cudaSetDevice(g);
    if (s_->comms[i]) s_->api->comm_destroy(s_->comms[i]);
    if (s_->send[i]) cudaFree(s_->send[i]);
    if (s_->recv[i]) cudaFree(s_->recv[i]);
    if (s_->start[i]) cudaEventDestroy(s_->start[i]);
    if (s_->stop[i]) cudaEventDestroy(s_->stop[i]);
    if (s_->streams[i]) cudaStreamDestroy(s_->streams[i]);
  }
}

int NcclBench::ranks() const { return s_->n; }

std::vector<std::string> NcclBench::collectives() const { return all_collectives(); }

void NcclBench::prepare(const std::string& op, std::size_t bytes) {
  check_collective(op);
  if (bytes == 0 || bytes % 4 != 0) throw std::invalid_argument("collective sweep: sizes must be positive multiples of 4");
  s_->op = op;
  s_->count = bytes / 4;
  s_->reserve(s_->send_count(), s_->recv_count());
  s_->fill();
}

double NcclBench::run_timed() {
  for (int g = 0; g < s_->n; ++g) {
    CUDA_CHECK(cudaSetDevice(g));
    CUDA_CHECK(cudaEventRecord(s_->start[static_cast<std::size_t>(g)], s_->streams[static_cast<std::size_t>(g)]));
  }
  s_->launch();
  for (int g = 0; g < s_->n; ++g) {
    CUDA_CHECK(cudaSetDevice(g));
    CUDA_CHECK(cudaEventRecord(s_->stop[static_cast<std::size_t>(g)], s_->streams[static_cast<std::size_t>(g)]));
  }
  s_->sync();
  float worst_ms = 0.0f;
  for (int g = 0; g < s_->n; ++g) {
    float ms = 0.0f;
    CUDA_CHECK(cudaEventElapsedTime(&ms, s_->start[static_cast<std::size_t>(g)], s_->stop[static_cast<std::size_t>(g)]));
    worst_ms = std::max(worst_ms, ms);
  }
  return static_cast<double>(worst_ms) * 1e-3;
}

std::uint64_t NcclBench::check() {
  s_->fill();
  s_->launch();
  s_->sync();
  const int p = s_->n;
  const std::size_t count = s_->count;
  std::vector<float> out(s_->recv_count());
  std::uint64_t wrong = 0;
  auto sum_at = [p](std::size_t i) {
    float v = 0.0f;
    for (int r = 0; r < p; ++r) v += pattern_value(r, i);
    return v;
  };
  for (int g = 0; g < p; ++g) {
    CUDA_CHECK(cudaSetDevice(g));
    CUDA_CHECK(cudaMemcpy(out.data(), s_->recv[static_cast<std::size_t>(g)], out.size() * sizeof(float),
                          cudaMemcpyDeviceToHost));
    for (std::size_t i = 0; i < out.size(); ++i) {
      float want = 0.0f;
      if (s_->op == coll::allreduce) want = sum_at(i);
      else if (s_->op == coll::reduce_scatter) want = sum_at(static_cast<std::size_t>(g) * count + i);
      else if (s_->op == coll::allgather) want = pattern_value(static_cast<int>(i / count), i % count);
      else want = pattern_value(0, i);
      wrong += out[i] != want;
    }
  }
  return wrong;
}

std::vector<std::string> NcclBench::device_names() const {
  std::vector<std::string> names;
  for (int g = 0; g < s_->n; ++g) {
    cudaDeviceProp prop{};
    names.push_back(cudaGetDeviceProperties(&prop, g) == cudaSuccess ? prop.name : "unknown");
  }
  return names;
}

std::string NcclBench::library() const {
  return "NCCL " + comm::nccl::version_string(s_->api->version) + " (" + s_->api->library + ")";
}

}  // namespace gcsim::calib
