// Gloo-backed communicator (see gloo_comm.h).
#include "comm/gloo_comm.h"
#include "comm/tcp_store.h"

#include <csignal>
#include <mutex>
#include <utility>

#include <gloo/allgatherv.h>
#include <gloo/allreduce.h>
#include <gloo/barrier.h>
#include <gloo/math.h>
#include <gloo/rendezvous/context.h>
#include <gloo/rendezvous/file_store.h>
#include <gloo/rendezvous/prefix_store.h>
#include <gloo/transport/tcp/device.h>
#include <gloo/transport/unbound_buffer.h>

#include "kernels/half.h"

namespace gcsim::comm {

namespace {

template <typename F>
void guarded(const char* op, F&& f) {
  as_comm_error("gloo", op, std::forward<F>(f));
}

void sum_floats(void* c, const void* a, const void* b, std::size_t n) {
  auto* out = static_cast<float*>(c);
  const auto* x = static_cast<const float*>(a);
  const auto* y = static_cast<const float*>(b);
  for (std::size_t i = 0; i < n; ++i) out[i] = x[i] + y[i];
}

// Gloo's ring calls the reduce function on chunks of 16-bit elements; each
// addition is kernels::half_sum (correctly rounded in the format).
template <kernels::HalfFormat F>
void sum_halves(void* c, const void* a, const void* b, std::size_t n) {
  auto* out = static_cast<std::uint16_t*>(c);
  const auto* x = static_cast<const std::uint16_t*>(a);
  const auto* y = static_cast<const std::uint16_t*>(b);
  for (std::size_t i = 0; i < n; ++i) out[i] = kernels::half_sum(x[i], y[i], F);
}

}  // namespace

GlooComm::GlooComm(int rank, int size, const GlooOptions& options)
    : rank_(rank), size_(size), timeout_(options.timeout), sent_to_(size > 0 ? size : 0, 0),
      received_from_(size > 0 ? size : 0, 0) {
  if (size < 1 || rank < 0 || rank >= size) throw std::invalid_argument("GlooComm: bad rank/size");
  // A peer that died closes its sockets: writing to them must be an error
  // (CommError: "lost its peers"), not a SIGPIPE that kills this process too
  // (a train or calibrate worker, or a test running ranks as threads).
  static std::once_flag no_sigpipe;
  std::call_once(no_sigpipe, [] { std::signal(SIGPIPE, SIG_IGN); });
  // This rank's own address: a failure here is its own, not a peer's.
  std::shared_ptr<gloo::transport::Device> device;
  try {
    gloo::transport::tcp::attr attr;
    attr.hostname = options.host;
    device = gloo::transport::tcp::CreateDevice(attr);
  } catch (const std::exception& e) {
    throw std::runtime_error("gloo: cannot use address " + options.host + ": " + e.what());
  }
  guarded("rendezvous", [&] {
    std::unique_ptr<gloo::rendezvous::Store> base;
    if (options.store_addr.empty()) {
      base = std::make_unique<gloo::rendezvous::FileStore>(options.store_dir);
    } else {
      const auto [host, port] = parse_tcp_address(options.store_addr);
      if (rank == 0) store_server_ = std::make_unique<TcpStoreServer>(host, port);
      base = std::make_unique<TcpStore>(host, port, options.timeout);
    }
    gloo::rendezvous::PrefixStore store(options.run_id, *base);
    auto context = std::make_shared<gloo::rendezvous::Context>(rank, size);
    context->setTimeout(options.timeout);
    context->connectFullMesh(store, device);
    context_ = std::move(context);
  });
}

GlooComm::~GlooComm() = default;

void GlooComm::allreduce_sum(float* data, std::size_t n) {
  if (size_ == 1 || n == 0) return;
  guarded("allreduce", [&] {
    gloo::AllreduceOptions opts(context_);
    opts.setAlgorithm(gloo::AllreduceOptions::Algorithm::RING);
    opts.setOutput(data, n);
    opts.setReduceFunction(&sum_floats);
    opts.setTag(next_tag());
    gloo::allreduce(opts);
  });
  bytes_sent_ += ring_allreduce_bytes(n, size_, rank_);
}

void GlooComm::allreduce_sum_half(std::uint16_t* data, std::size_t n, kernels::HalfFormat format) {
  if (size_ == 1 || n == 0) return;
  guarded("allreduce", [&] {
    gloo::AllreduceOptions opts(context_);
    opts.setAlgorithm(gloo::AllreduceOptions::Algorithm::RING);
    opts.setOutput(data, n);
    opts.setReduceFunction(format == kernels::HalfFormat::Fp16 ? &sum_halves<kernels::HalfFormat::Fp16>
                                                               : &sum_halves<kernels::HalfFormat::Bf16>);
    opts.setTag(next_tag());
    gloo::allreduce(opts);
  });
  bytes_sent_ += ring_allreduce_bytes(n, size_, rank_, sizeof(std::uint16_t));
}

void GlooComm::allgatherv(const void* data, std::size_t bytes, std::vector<std::uint8_t>& out,
                          std::vector<std::size_t>& counts) {
  counts.assign(size_, 0);
  if (size_ == 1) {
    counts[0] = bytes;
    const auto* in = static_cast<const std::uint8_t*>(data);
    out.assign(in, in + bytes);
    return;
  }
  guarded("allgatherv", [&] {
    // 1. every rank's byte count
    count_scratch_.assign(size_, 0);
    std::uint64_t mine = bytes;
    gloo::AllgathervOptions sizes(context_);
    sizes.setInput(&mine, 1);
    sizes.setOutput(count_scratch_.data(), std::vector<std::size_t>(size_, 1));
    sizes.setTag(next_tag());
    gloo::allgatherv(sizes);
    std::size_t total = 0;
    for (int r = 0; r < size_; ++r) total += counts[r] = count_scratch_[r];
    // 2. the bytes
    gather_parts(data, bytes, counts, total, out);
  });
  bytes_sent_ += ring_allgather_bytes(std::vector<std::size_t>(size_, sizeof(std::uint64_t)), rank_);
  bytes_sent_ += ring_allgather_bytes(counts, rank_);
}

void GlooComm::allgatherv_known(const void* data, std::size_t bytes, const std::vector<std::size_t>& counts,
                                std::vector<std::uint8_t>& out) {
  check_known_counts(bytes, counts);
  std::size_t total = 0;
  for (const std::size_t c : counts) total += c;
  if (size_ == 1) {
    const auto* in = static_cast<const std::uint8_t*>(data);
    out.assign(in, in + bytes);
    return;
  }
  guarded("allgatherv", [&] { gather_parts(data, bytes, counts, total, out); });
  bytes_sent_ += ring_allgather_bytes(counts, rank_);
}

void GlooComm::gather_parts(const void* data, std::size_t bytes, const std::vector<std::size_t>& counts,
                            std::size_t total, std::vector<std::uint8_t>& out) {
  out.resize(total);
  gloo::AllgathervOptions opts(context_);
  // Gloo wants a non-null input even for an empty part.
  std::uint8_t dummy = 0;
  opts.setInput(bytes ? static_cast<std::uint8_t*>(const_cast<void*>(data)) : &dummy, bytes);
  opts.setOutput(out.empty() ? &dummy : out.data(), counts);
  opts.setTag(next_tag());
  gloo::allgatherv(opts);
}

namespace {
constexpr std::uint8_t kPointToPointSlot = 0x7f;
}

void GlooComm::send(int peer, const void* data, std::size_t bytes) { sendrecv(peer, data, bytes, peer, nullptr, 0); }

void GlooComm::recv(int peer, void* data, std::size_t bytes) { sendrecv(peer, nullptr, 0, peer, data, bytes); }

void GlooComm::sendrecv(int to, const void* out, std::size_t out_bytes, int from, void* in, std::size_t in_bytes) {
  check_peer("sendrecv", to);
  check_peer("sendrecv", from);
  guarded("send/recv", [&] {
    std::unique_ptr<gloo::transport::UnboundBuffer> rbuf, sbuf;
    if (in_bytes > 0) {
      rbuf = context_->createUnboundBuffer(in, in_bytes);
      rbuf->recv(from, gloo::Slot::build(kPointToPointSlot, received_from_[from]++));
    }
    if (out_bytes > 0) {
      sbuf = context_->createUnboundBuffer(const_cast<void*>(out), out_bytes);
      sbuf->send(to, gloo::Slot::build(kPointToPointSlot, sent_to_[to]++));
    }
    if (sbuf && !sbuf->waitSend(timeout_))
      throw CommError("gloo send to rank " + std::to_string(to) + ": timed out after " +
                      std::to_string(timeout_.count()) + " ms");
    if (rbuf && !rbuf->waitRecv(timeout_))
      throw CommError("gloo recv from rank " + std::to_string(from) + ": timed out after " +
                      std::to_string(timeout_.count()) + " ms");
  });
  bytes_sent_ += out_bytes;
}

void GlooComm::barrier() {
  if (size_ == 1) return;
  guarded("barrier", [&] {
    gloo::BarrierOptions opts(context_);
    opts.setTag(next_tag());
    gloo::barrier(opts);
  });
}

}  // namespace gcsim::comm
