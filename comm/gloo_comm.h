// Collectives between processes over Gloo's TCP transport.
//
// Rendezvous: every rank opens a gloo::rendezvous::FileStore on a directory
// all ranks can see (the launcher uses OUT/.rendezvous), or a TCP store that
// rank 0 serves (comm/tcp_store.h), under a prefix that names the run, and
// connects a full mesh of TCP pairs. Each rank binds to
// `host` (loopback by default; inside a network namespace, that namespace's
// address).
//
// allreduce_sum is Gloo's ring allreduce (reduce-scatter + allgather);
// allgatherv first allgathers the per-rank byte counts, then the bytes
// (Gloo's ring allgatherv); allgatherv_known only the bytes. A dead peer closes its sockets: Gloo raises an
// IoException, which becomes CommError; a stalled peer hits the timeout.
// Point to point: Gloo's unbound buffers; the n-th message from rank a to
// rank b uses slot (0x7f, n), which no collective's tag reaches.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "comm/communicator.h"

namespace gloo {
class Context;
}

namespace gcsim::comm {
class TcpStoreServer;
}

namespace gcsim::comm {

struct GlooOptions {
  std::string store_dir;      // shared directory for the file store
  std::string store_addr;     // or "tcp://HOST:PORT": rank 0 serves a TCP store there (comm/tcp_store.h)
  std::string run_id;         // prefix of the store keys (one per run)
  std::string host = "127.0.0.1";
  std::chrono::milliseconds timeout{60000};
};

class GlooComm final : public Communicator {
 public:
  // Blocks until all `size` ranks have connected (or throws CommError after the timeout).
  GlooComm(int rank, int size, const GlooOptions& options);
  ~GlooComm() override;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string name() const override { return "gloo"; }
  void allreduce_sum(float* data, std::size_t n) override;
  void allreduce_sum_half(std::uint16_t* data, std::size_t n, kernels::HalfFormat format) override;
  void allgatherv(const void* data, std::size_t bytes, std::vector<std::uint8_t>& out,
                  std::vector<std::size_t>& counts) override;
  void allgatherv_known(const void* data, std::size_t bytes, const std::vector<std::size_t>& counts,
                        std::vector<std::uint8_t>& out) override;
  void barrier() override;
  // Gloo unbound buffers, one slot per message and direction of a pair.
  void send(int peer, const void* data, std::size_t bytes) override;
  void recv(int peer, void* data, std::size_t bytes) override;
  using Communicator::sendrecv;
  void sendrecv(int to, const void* out, std::size_t out_bytes, int from, void* in, std::size_t in_bytes) override;

 private:
  std::uint32_t next_tag() { return tag_++; }
  // Gloo's ring allgatherv of parts of known sizes (total = their sum).
  void gather_parts(const void* data, std::size_t bytes, const std::vector<std::size_t>& counts, std::size_t total,
                    std::vector<std::uint8_t>& out);
  int rank_, size_;
  std::shared_ptr<gloo::Context> context_;
  std::uint32_t tag_ = 1;
  std::vector<std::uint64_t> count_scratch_;
  std::chrono::milliseconds timeout_;
  std::vector<std::uint32_t> sent_to_, received_from_;  // point-to-point messages per peer: their slots
  std::unique_ptr<TcpStoreServer> store_server_;        // rank 0 with a TCP store: serves it while alive
};

}  // namespace gcsim::comm
