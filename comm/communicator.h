// The collectives a data-parallel worker needs, behind one interface with
// three implementations: Gloo over TCP between processes (gloo_comm.h), P
// threads in one process (inprocess_comm.h, for fast tests), and NCCL on GPUs
// where built (nccl_comm.h; comm/choose_backend.h picks one for gcsim train).
//
// Every call is collective: all ranks make the same calls in the same order.
// A peer that dies or stalls makes the call throw CommError within the
// communicator's timeout; no call blocks forever.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/backend.h"  // kernels::HalfFormat

namespace gcsim::comm {

class CommError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Runs f; an exception other than CommError (Gloo's, a store's) comes out as
// CommError("<backend> <op>: what"), so callers catch one type.
template <typename F>
void as_comm_error(const char* backend, const char* op, F&& f) {
  try {
    f();
  } catch (const CommError&) {
    throw;
  } catch (const std::exception& e) {
    throw CommError(std::string(backend) + " " + op + ": " + e.what());
  }
}

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string name() const = 0;  // "gloo", "inprocess", ...

  // In place: data[i] = sum over ranks of data[i]. The reduction order is fixed
  // for a given size, so results are identical on every rank and every run.
  virtual void allreduce_sum(float* data, std::size_t n) = 0;

  // The same on 16-bit floats (fp16 or bf16, kernels/half.h), 2 bytes per
  // element on the wire: every partial sum is rounded to nearest even in the
  // format (kernels::half_sum: one correctly rounded addition of two values),
  // on the same ring schedule as allreduce_sum, so every rank gets the same bits.
  virtual void allreduce_sum_half(std::uint16_t* data, std::size_t n, kernels::HalfFormat format) = 0;

  // Every rank contributes `bytes` bytes (counts may differ between ranks);
  // afterwards `out` holds rank 0's bytes, then rank 1's, ... and `counts[r]`
  // the size of rank r's part.
  virtual void allgatherv(const void* data, std::size_t bytes, std::vector<std::uint8_t>& out,
                          std::vector<std::size_t>& counts) = 0;

  // The same when every rank already knows every part's size (Top-K and
  // Random-K send k = ceil(ratio n) entries on every rank): `counts` is the
  // same on all ranks and counts[rank()] == bytes, so the exchange of byte
  // counts that allgatherv starts with is skipped (one collective, not two).
  virtual void allgatherv_known(const void* data, std::size_t bytes, const std::vector<std::size_t>& counts,
                                std::vector<std::uint8_t>& out) = 0;

  virtual void barrier() = 0;

  // Point to point (the sparse exchanges of compress/exchange/: gTop-k's
  // tree, recursive doubling, the hierarchical exchange's rings). Not
  // collective: only the ranks named take part, and both know the size. Messages from
  // one rank to another arrive in the order sent. send may wait until the
  // peer has posted the matching recv (Gloo's sends are rendezvous), so two
  // ranks that both send and receive use sendrecv. A 0-byte message is not sent.
  virtual void send(int peer, const void* data, std::size_t bytes) = 0;
  virtual void recv(int peer, void* data, std::size_t bytes) = 0;
  // Both at once: `out` goes to rank `to`, `in` comes from rank `from` (a
  // ring's step: to the successor, from the predecessor; MPI_Sendrecv).
  virtual void sendrecv(int to, const void* out, std::size_t out_bytes, int from, void* in, std::size_t in_bytes) = 0;
  // Both directions with one peer.
  void sendrecv(int peer, const void* out, std::size_t out_bytes, void* in, std::size_t in_bytes) {
    sendrecv(peer, out, out_bytes, peer, in, in_bytes);
  }
  // The same when the peer's size is not known: an 8-byte size goes first
  // (counted in bytes_sent), then the bytes; `in` is resized to what came.
  void sendrecv_sized(int peer, const void* out, std::size_t out_bytes, std::vector<std::uint8_t>& in);
  // One direction of it: send_sized's message is what the peer's recv_sized gets.
  void send_sized(int peer, const void* data, std::size_t bytes);
  void recv_sized(int peer, std::vector<std::uint8_t>& in);

  // Bytes this rank has put on the wire so far, by the algorithm's schedule
  // (payload only: no TCP/IP headers).
  std::uint64_t bytes_sent() const { return bytes_sent_; }

 protected:
  // allgatherv_known's precondition on this rank's side: one count per rank,
  // and this rank's own equal to `bytes`; throws std::invalid_argument.
  void check_known_counts(std::size_t bytes, const std::vector<std::size_t>& counts) const;
  // std::invalid_argument unless peer is another rank of this group.
  void check_peer(const char* op, int peer) const;

  std::uint64_t bytes_sent_ = 0;
};

// Bytes one rank sends in a ring allreduce of n elements (4-byte floats by
// default) over P ranks: reduce-scatter + allgather, 2 (P-1) chunks of about n/P.
std::uint64_t ring_allreduce_bytes(std::size_t n, int ranks, int rank, std::size_t element_bytes = sizeof(float));
// Bytes one rank sends in a ring allgather(v) of `counts`: it forwards every
// part but its successor's, i.e. sum(counts) - counts[(rank + 1) % P].
std::uint64_t ring_allgather_bytes(const std::vector<std::size_t>& counts, int rank);

}  // namespace gcsim::comm
