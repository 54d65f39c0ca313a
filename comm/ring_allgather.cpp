#include "comm/ring_allgather.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace gcsim::comm {

void ring_allgather(Communicator& comm, std::span<const int> group, int me, std::uint8_t* buf,
                    std::span<const std::size_t> offsets) {
  const int n = static_cast<int>(group.size());
  if (n < 1 || me < 0 || me >= n || offsets.size() != group.size() + 1)
    throw std::invalid_argument("ring_allgather: " + std::to_string(n) + " ranks, position " + std::to_string(me) +
                                ", " + std::to_string(offsets.size()) + " offsets");
  if (group[static_cast<std::size_t>(me)] != comm.rank())
    throw std::invalid_argument("ring_allgather: position " + std::to_string(me) + " is rank " +
                                std::to_string(group[static_cast<std::size_t>(me)]) + ", not this rank " +
                                std::to_string(comm.rank()));
  const int next = group[static_cast<std::size_t>((me + 1) % n)], prev = group[static_cast<std::size_t>((me + n - 1) % n)];
  for (int s = 0; s + 1 < n; ++s) {
    const auto out = static_cast<std::size_t>(((me - s) % n + n) % n), in = static_cast<std::size_t>(((me - s - 1) % n + n) % n);
    comm.sendrecv(next, buf + offsets[out], offsets[out + 1] - offsets[out], prev, buf + offsets[in],
                  offsets[in + 1] - offsets[in]);
  }
}

namespace {
void check_nodes(int rank, int ranks, int G) {
  if (G < 1 || ranks < 1 || ranks % G != 0 || rank < 0 || rank >= ranks)
    throw std::invalid_argument("node groups: " + std::to_string(ranks) + " ranks are not nodes of " +
                                std::to_string(G) + " (rank " + std::to_string(rank) + ")");
}
}  // namespace

std::vector<int> node_group(int rank, int ranks, int G) {
  check_nodes(rank, ranks, G);
  std::vector<int> g(static_cast<std::size_t>(G));
  for (int i = 0; i < G; ++i) g[static_cast<std::size_t>(i)] = rank / G * G + i;
  return g;
}

std::vector<int> cross_node_group(int rank, int ranks, int G) {
  check_nodes(rank, ranks, G);
  std::vector<int> g;
  for (int r = rank % G; r < ranks; r += G) g.push_back(r);
  return g;
}

}  // namespace gcsim::comm
