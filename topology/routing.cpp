// Router: bidirectional BFS shortest-hop routes with a deterministic,
// capacity-first then ECMP-hash choice among equal-hop paths (see routing.h).
#include "topology/routing.h"

#include <algorithm>
#include <cassert>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

namespace gcsim {

Router::Router(const Topology& topology) : topology_(topology) {
  const std::size_t n = boost::num_vertices(topology_.graph());
  for (Side* s : {&forward_, &backward_}) {
    s->stamp.assign(n, 0);
    s->dist.assign(n, 0);
    s->parent_link.assign(n, -1);
  }
}

const Route& Router::route(int src_rank, int dst_rank) {
  const int P = topology_.ranks();
  if (src_rank < 0 || src_rank >= P || dst_rank < 0 || dst_rank >= P)
    throw std::invalid_argument("route: ranks must be in [0, " + std::to_string(P) + ") (got " +
                                std::to_string(src_rank) + " -> " + std::to_string(dst_rank) + ")");
  if (src_rank == dst_rank)
    throw std::invalid_argument("route: source and destination are the same rank (" + std::to_string(src_rank) + ")");
  const std::int64_t key = static_cast<std::int64_t>(src_rank) * P + dst_rank;
  if (const auto it = cache_.find(key); it != cache_.end()) return it->second;
  return cache_.emplace(key, compute(src_rank, dst_rank)).first->second;
}

Route Router::compute(int src_rank, int dst_rank) {
  const TopologyGraph& g = topology_.graph();
  const VertexId src = topology_.host(src_rank), dst = topology_.host(dst_rank);
  const bool hosts_forward = topology_.hosts_forward();

  if (++epoch_ == 0) {  // wrapped: forget every stamp
    forward_.stamp.assign(forward_.stamp.size(), 0);
    backward_.stamp.assign(backward_.stamp.size(), 0);
    epoch_ = 1;
  }
  for (auto [side, v] : {std::pair{&forward_, src}, std::pair{&backward_, dst}}) {
    side->stamp[v] = epoch_;
    side->dist[v] = 0;
    side->parent_link[v] = -1;
    side->frontier.assign(1, v);
  }

  std::vector<VertexId> meet;
  int best = std::numeric_limits<int>::max();
  bool forward = true;
  while (meet.empty()) {
    Side& me = forward ? forward_ : backward_;
    const Side& other = forward ? backward_ : forward_;
    if (me.frontier.empty())
      throw std::logic_error("route: no path from rank " + std::to_string(src_rank) + " to rank " +
                             std::to_string(dst_rank) + " in " + topology_.description());
    me.next.clear();
    for (const VertexId u : me.frontier) {
      const int d = me.dist[u] + 1;
      auto discover = [&](VertexId v, int link) {
        if (me.stamp[v] == epoch_) return;
        if (!hosts_forward && v != src && v != dst && g[v].kind == VertexKind::Host) return;
        me.stamp[v] = epoch_;
        me.dist[v] = d;
        me.parent_link[v] = link;
        if (other.stamp[v] == epoch_) {
          const int total = d + other.dist[v];
          if (total < best) {
            best = total;
            meet.clear();
          }
          if (total == best) meet.push_back(v);
        } else {
          me.next.push_back(v);
        }
      };
      if (forward) {
        for (auto [e, end] = boost::out_edges(u, g); e != end; ++e) discover(boost::target(*e, g), g[*e].id);
      } else {
        for (auto [e, end] = boost::in_edges(u, g); e != end; ++e) discover(boost::source(*e, g), g[*e].id);
      }
    }
    std::swap(me.frontier, me.next);
    forward = !forward;
  }

  std::vector<Route> candidates;
  std::sort(meet.begin(), meet.end());
  for (const VertexId v : meet) candidates.push_back(assemble(src, dst, v));
  double widest = 0.0;
  for (const Route& r : candidates) widest = std::max(widest, r.bottleneck_bytes_per_s);
  std::vector<std::size_t> widest_ones;
  for (std::size_t i = 0; i < candidates.size(); ++i)
    if (candidates[i].bottleneck_bytes_per_s >= widest * (1.0 - 1e-12)) widest_ones.push_back(i);
  // An ECMP-style hash of (source, destination), as switches hash flows onto
  // equal-cost uplinks. Destination-mod-k was tried first: it sends every flow
  // of a strided pattern (a ring over spread nodes) through one spine.
  std::uint64_t h = (static_cast<std::uint64_t>(src_rank) << 32) ^ static_cast<std::uint64_t>(dst_rank);
  h += 0x9e3779b97f4a7c15ULL;
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
  h ^= h >> 31;
  const std::size_t pick = widest_ones[h % widest_ones.size()];
  return std::move(candidates[pick]);
}

Route Router::assemble(VertexId src, VertexId dst, VertexId meet) const {
  const TopologyGraph& g = topology_.graph();
  Route r;
  for (VertexId x = meet; x != src;) {  // source half, walked backwards
    const int link = forward_.parent_link[x];
    assert(link >= 0);
    r.links.push_back(link);
    x = boost::source(topology_.edge(link), g);
  }
  std::reverse(r.links.begin(), r.links.end());
  for (VertexId x = meet; x != dst;) {  // destination half
    const int link = backward_.parent_link[x];
    assert(link >= 0);
    r.links.push_back(link);
    x = boost::target(topology_.edge(link), g);
  }
  r.bottleneck_bytes_per_s = std::numeric_limits<double>::infinity();
  for (const int link : r.links) {
    r.latency_s += topology_.link_latency_s(link);
    r.bottleneck_bytes_per_s = std::min(r.bottleneck_bytes_per_s, topology_.link_bytes_per_s(link));
  }
  return r;
}

}  // namespace gcsim
