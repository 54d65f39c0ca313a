// Routing: the shortest path in hops between two ranks' hosts, as a list of
// directed link ids, cached per (src, dst) pair.
//
// Search: bidirectional breadth-first search (Pohl, "Bi-directional search",
// Machine Intelligence 6, 1971), expanding whole layers alternately from the
// source (out-edges) and the destination (in-edges) and stopping at the first
// layer where the two searches meet. Host vertices other than the two endpoints
// are never entered unless the topology's hosts forward (the ring), so a route
// never expands a big switch: host -> switch -> host meets at the switch after
// one layer from each side, whatever the switch's port count. Each route then
// costs about the degree of the vertices next to its endpoints, not O(P).
//
// Choice among equal-hop paths (deterministic): every vertex where the searches
// meet at the minimum hop count gives one path (its two halves from the BFS
// parent pointers, first discovery in graph order). Among them, prefer the
// largest bottleneck capacity (so GPU -> GPU inside a node takes the NVSwitch,
// not GPU -> NIC -> GPU); among those, sorted by vertex id, take the one a
// hash of (src_rank, dst_rank) picks, as ECMP hashes flows onto equal-cost
// uplinks (RFC 2992). Destination-mod-k (Zahavi et al., Concurrency and
// Computation 2010) balances shift patterns but puts every flow of a ring over
// nodes spread across leaves onto one spine; hashing has ECMP's collisions
// instead, which is what real clusters see.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "topology/topology.h"

namespace gcsim {

struct Route {
  std::vector<int> links;               // directed link ids, source to destination
  double latency_s = 0;                 // sum of the hops' latencies
  double bottleneck_bytes_per_s = 0;    // smallest capacity on the route
};

class Router {
 public:
  // Keeps a reference: `topology` must outlive the router.
  explicit Router(const Topology& topology);

  // The route from src_rank to dst_rank (src != dst, both in [0, ranks())),
  // computed once and cached; the reference stays valid for the router's life.
  // Throws std::invalid_argument for equal or out-of-range ranks.
  const Route& route(int src_rank, int dst_rank);
  std::size_t cached_routes() const { return cache_.size(); }
  const Topology& topology() const { return topology_; }

 private:
  // One direction of the bidirectional search; per-vertex state is valid
  // where stamp == the router's current epoch (no clearing between routes).
  struct Side {
    std::vector<std::uint32_t> stamp;
    std::vector<int> dist;
    std::vector<int> parent_link;  // link used to reach the vertex (toward it forward, away from it backward)
    std::vector<VertexId> frontier, next;
  };

  Route compute(int src_rank, int dst_rank);
  Route assemble(VertexId src, VertexId dst, VertexId meet) const;

  const Topology& topology_;
  std::unordered_map<std::int64_t, Route> cache_;  // node-based: references survive rehashing
  Side forward_, backward_;
  std::uint32_t epoch_ = 0;
};

}  // namespace gcsim
