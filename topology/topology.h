// The cluster as a graph (Boost.Graph): vertices are hosts (one per rank's
// GPU), switches, NVSwitches and NICs; every physical full-duplex link is two
// directed edges, one per direction, each with its own capacity, so traffic in
// one direction never slows the other. Each directed edge has a dense id in
// [0, link_count()) that the network simulator uses to index its per-link state.
//
// Capacities are what a large message achieves (line rate x the profile's
// efficiency), so a contention-free message of m bytes over a route takes
// sum(latency) + m / min(capacity), the closed forms' alpha-beta cost minus
// the software overhead that the messaging layer adds.
#pragma once

#include <boost/graph/adjacency_list.hpp>

#include <stdexcept>
#include <string>
#include <vector>

namespace gcsim {

// Invalid builder parameters: the message names the parameter and the value.
class TopologyError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

enum class VertexKind { Host, Switch, NvSwitch, Nic };

// What a link is for the collective library's efficiency
// (Network::scale_links): inside a node (an end is an NVSwitch), a
// rank's path to the network (host, NIC, its switch port; the ring
// topology's host-to-host links), or between two switches (leaf <-> spine).
enum class LinkRole { Intra, Nic, Fabric };

struct VertexProps {
  VertexKind kind = VertexKind::Host;
  std::string name;  // "gpu12", "node1.nvswitch", "node1.nic0", "leaf3", "spine0", "switch"
};

struct EdgeProps {
  int id = 0;                 // dense link id
  double bytes_per_s = 0.0;   // capacity in this direction
  double latency_s = 0.0;     // one-way propagation + switching latency of this hop
};

using TopologyGraph =
    boost::adjacency_list<boost::vecS, boost::vecS, boost::bidirectionalS, VertexProps, EdgeProps>;
using VertexId = TopologyGraph::vertex_descriptor;

// One link class as a builder takes it.
struct LinkSpec {
  double bytes_per_s = 0.0;
  double latency_s = 0.0;  // end to end between two ranks over this class (split across its hops)
};

class Topology {
 public:
  Topology() = default;

  const TopologyGraph& graph() const { return graph_; }
  int ranks() const { return static_cast<int>(host_of_rank_.size()); }
  VertexId host(int rank) const { return host_of_rank_.at(rank); }
  int link_count() const { return static_cast<int>(links_.size()); }
  // Per link id: the edge, its capacity, latency and a readable name "node0.nic0->switch".
  TopologyGraph::edge_descriptor edge(int link) const { return links_.at(link); }
  double link_bytes_per_s(int link) const { return graph_[links_.at(link)].bytes_per_s; }
  double link_latency_s(int link) const { return graph_[links_.at(link)].latency_s; }
  std::string link_name(int link) const;
  LinkRole link_role(int link) const;
  // Whether routes may pass through host vertices (true only for the ring topology).
  bool hosts_forward() const { return hosts_forward_; }
  std::string description() const { return description_; }  // e.g. "two-level: 8 nodes x 8 GPUs, 1 NIC each"

  // Builder interface.
  VertexId add_vertex(VertexKind kind, std::string name);
  // Adds both directions of a full-duplex link.
  void add_duplex_link(VertexId a, VertexId b, double bytes_per_s, double latency_s);
  void set_rank_host(int rank, VertexId v);  // ranks are assigned densely 0..P-1
  void set_hosts_forward(bool f) { hosts_forward_ = f; }
  void set_description(std::string d) { description_ = std::move(d); }

 private:
  TopologyGraph graph_;
  std::vector<TopologyGraph::edge_descriptor> links_;
  std::vector<VertexId> host_of_rank_;
  bool hosts_forward_ = false;
  std::string description_;
};

}  // namespace gcsim
