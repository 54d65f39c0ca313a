// Topology: the cluster graph (see topology.h). Boost Graph Library:
// Siek, Lee & Lumsdaine, "The Boost Graph Library" (Addison-Wesley, 2002).
#include "topology/topology.h"

#include <stdexcept>
#include <utility>

namespace gcsim {

VertexId Topology::add_vertex(VertexKind kind, std::string name) {
  // (add, then set the bundle: the add_vertex(props, g) overload trips a GCC
  // -Wuninitialized false positive inside Boost's named_graph.)
  const VertexId v = boost::add_vertex(graph_);
  graph_[v] = VertexProps{kind, std::move(name)};
  return v;
}

void Topology::add_duplex_link(VertexId a, VertexId b, double bytes_per_s, double latency_s) {
  const auto n = static_cast<VertexId>(boost::num_vertices(graph_));
  if (a >= n || b >= n || a == b) throw std::logic_error("Topology::add_duplex_link: bad endpoints");
  for (const auto& [from, to] : {std::pair{a, b}, std::pair{b, a}}) {
    const EdgeProps props{link_count(), bytes_per_s, latency_s};
    const auto [e, added] = boost::add_edge(from, to, props, graph_);
    if (!added) throw std::logic_error("Topology::add_duplex_link: edge not added");
    links_.push_back(e);
  }
}

void Topology::set_rank_host(int rank, VertexId v) {
  if (v >= boost::num_vertices(graph_) || graph_[v].kind != VertexKind::Host)
    throw std::logic_error("Topology::set_rank_host: rank " + std::to_string(rank) + " is not on a host vertex");
  if (rank < 0 || rank > ranks())
    throw std::logic_error("Topology::set_rank_host: ranks are assigned densely (got " + std::to_string(rank) +
                           " with " + std::to_string(ranks()) + " assigned)");
  if (rank == ranks())
    host_of_rank_.push_back(v);
  else
    host_of_rank_[static_cast<std::size_t>(rank)] = v;
}

std::string Topology::link_name(int link) const {
  const auto e = links_.at(static_cast<std::size_t>(link));
  return graph_[boost::source(e, graph_)].name + "->" + graph_[boost::target(e, graph_)].name;
}

LinkRole Topology::link_role(int link) const {
  const auto e = links_.at(static_cast<std::size_t>(link));
  const VertexKind a = graph_[boost::source(e, graph_)].kind, b = graph_[boost::target(e, graph_)].kind;
  if (a == VertexKind::NvSwitch || b == VertexKind::NvSwitch) return LinkRole::Intra;
  if (a == VertexKind::Switch && b == VertexKind::Switch) return LinkRole::Fabric;
  return LinkRole::Nic;
}

}  // namespace gcsim
