// Byte counts of the ring schedules (see communicator.h).
#include "comm/communicator.h"

#include <stdexcept>

namespace gcsim::comm {

void Communicator::check_known_counts(std::size_t bytes, const std::vector<std::size_t>& counts) const {
  if (counts.size() != static_cast<std::size_t>(size()) || counts[static_cast<std::size_t>(rank())] != bytes)
    throw std::invalid_argument(name() + " allgatherv_known: counts do not match the ranks or this rank's bytes");
}

void Communicator::check_peer(const char* op, int peer) const {
  if (peer < 0 || peer >= size() || peer == rank())
    throw std::invalid_argument(name() + " " + op + ": peer " + std::to_string(peer) + " is not another rank of " +
                                std::to_string(size()));
}

void Communicator::sendrecv_sized(int peer, const void* out, std::size_t out_bytes, std::vector<std::uint8_t>& in) {
  std::uint64_t mine = out_bytes, theirs = 0;
  sendrecv(peer, &mine, sizeof mine, &theirs, sizeof theirs);
  in.resize(static_cast<std::size_t>(theirs));
  sendrecv(peer, out, out_bytes, in.data(), in.size());
}

void Communicator::send_sized(int peer, const void* data, std::size_t bytes) {
  const std::uint64_t size = bytes;
  send(peer, &size, sizeof size);
  send(peer, data, bytes);
}

void Communicator::recv_sized(int peer, std::vector<std::uint8_t>& in) {
  std::uint64_t size = 0;
  recv(peer, &size, sizeof size);
  in.resize(static_cast<std::size_t>(size));
  recv(peer, in.data(), in.size());
}

std::uint64_t ring_allreduce_bytes(std::size_t n, int ranks, int rank, std::size_t element_bytes) {
  if (ranks <= 1) return 0;
  // Chunk c holds elements [c n / P, (c + 1) n / P). In the reduce-scatter a
  // rank sends every chunk except one, and again in the allgather.
  const auto p = static_cast<std::uint64_t>(ranks);
  std::uint64_t total = 0;
  for (std::uint64_t c = 0; c < p; ++c) {
    if (c == static_cast<std::uint64_t>((rank + 1) % ranks)) continue;
    total += (c + 1) * n / p - c * n / p;
  }
  return 2 * total * element_bytes;
}

std::uint64_t ring_allgather_bytes(const std::vector<std::size_t>& counts, int rank) {
  const int p = static_cast<int>(counts.size());
  if (p <= 1) return 0;
  std::uint64_t total = 0;
  for (int r = 0; r < p; ++r)
    if (r != (rank + 1) % p) total += counts[r];
  return total;
}

}  // namespace gcsim::comm
