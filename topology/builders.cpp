// The four topology builders (see builders.h for the shapes and sources).
#include "topology/builders.h"

#include <boost/graph/breadth_first_search.hpp>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace gcsim {

namespace {

std::string fmt(double v) {
  std::ostringstream s;
  s.precision(6);
  s << v;
  return s.str();
}

[[noreturn]] void fail(const char* shape, const std::string& what) {
  throw TopologyError(std::string(shape) + ": " + what);
}

void check_at_least(const char* shape, const char* name, int v, int min) {
  if (v < min) fail(shape, std::string(name) + " must be >= " + std::to_string(min) + " (got " + std::to_string(v) + ")");
}

void check_capacity(const char* shape, const char* name, double v) {
  if (!(v > 0.0) || !std::isfinite(v)) fail(shape, std::string(name) + " must be > 0 and finite (got " + fmt(v) + ")");
}

void check_latency(const char* shape, const char* name, double v) {
  if (!(v >= 0.0) || !std::isfinite(v)) fail(shape, std::string(name) + " must be >= 0 and finite (got " + fmt(v) + ")");
}

// The parameters shared by two-level and fat-tree.
void check_nodes(const char* shape, int P, int G, int nics, LinkSpec intra, LinkSpec nic) {
  check_at_least(shape, "P", P, 1);
  check_at_least(shape, "G", G, 1);
  check_at_least(shape, "nics", nics, 1);
  if (P > G && P % G != 0)
    fail(shape, "P must be a multiple of G when P > G (got P = " + std::to_string(P) + ", G = " + std::to_string(G) + ")");
  if (G > 1) {
    check_capacity(shape, "intra.bytes_per_s", intra.bytes_per_s);
    check_latency(shape, "intra.latency_s", intra.latency_s);
  }
  check_capacity(shape, "nic.bytes_per_s", nic.bytes_per_s);
  check_latency(shape, "nic.latency_s", nic.latency_s);
  if (!std::isfinite(nic.bytes_per_s * nics)) fail(shape, "nics * nic.bytes_per_s overflows (nics = " + std::to_string(nics) + ")");
}

std::string host_name(int rank) { return "gpu" + std::to_string(rank); }

// A vertex that links a node to the network, with that link's capacity.
struct Uplink {
  VertexId v;
  double bytes_per_s;
};

// Adds node `node` (ranks node*G .. node*G + gpus - 1) and returns its uplinks:
// its NICs when G > 1, else its single host (with all NICs' capacity).
std::vector<Uplink> add_node(Topology& t, int node, int gpus, int G, int nics, LinkSpec intra, LinkSpec nic) {
  const int first = node * G;
  std::vector<VertexId> gpu(static_cast<std::size_t>(gpus));
  for (int g = 0; g < gpus; ++g) {
    gpu[g] = t.add_vertex(VertexKind::Host, host_name(first + g));
    t.set_rank_host(first + g, gpu[g]);
  }
  if (G == 1) return {Uplink{gpu[0], nics * nic.bytes_per_s}};

  const std::string prefix = "node" + std::to_string(node);
  const VertexId nvswitch = t.add_vertex(VertexKind::NvSwitch, prefix + ".nvswitch");
  for (const VertexId v : gpu) t.add_duplex_link(v, nvswitch, intra.bytes_per_s, intra.latency_s / 2.0);

  std::vector<Uplink> up;
  for (int j = 0; j < nics; ++j) up.push_back({t.add_vertex(VertexKind::Nic, prefix + ".nic" + std::to_string(j)), nic.bytes_per_s});
  // NIC affinity (PCIe): with at least one NIC per GPU, GPU g owns NICs g, g + G, ...;
  // with fewer NICs than GPUs, GPU g shares NIC g % nics.
  for (int g = 0; g < gpus; ++g) {
    if (nics >= G) {
      for (int j = g; j < nics; j += G) t.add_duplex_link(gpu[g], up[j].v, nic.bytes_per_s, 0.0);
    } else {
      t.add_duplex_link(gpu[g], up[g % nics].v, nic.bytes_per_s, 0.0);
    }
  }
  return up;
}

std::string nodes_summary(int P, int G, int nics) {
  const int M = (P + G - 1) / G;
  return std::to_string(M) + (M == 1 ? " node x " : " nodes x ") + std::to_string(std::min(P, G)) +
         (std::min(P, G) == 1 ? " GPU, " : " GPUs, ") + std::to_string(nics) + (nics == 1 ? " NIC each" : " NICs each");
}

std::string link_summary(LinkSpec l) { return fmt(l.bytes_per_s / 1e9) + " GB/s, " + fmt(l.latency_s * 1e6) + " us"; }

void check_connected(const Topology& t, const char* shape) {
  if (!hosts_connected(t)) throw std::logic_error(std::string(shape) + ": internal error: a host is unreachable from host 0");
}

}  // namespace

bool hosts_connected(const Topology& t) {
  if (t.ranks() == 0) return true;
  const TopologyGraph& g = t.graph();
  std::vector<boost::default_color_type> color(boost::num_vertices(g), boost::white_color);
  boost::breadth_first_search(
      g, t.host(0),
      boost::color_map(boost::make_iterator_property_map(color.begin(), boost::get(boost::vertex_index, g))));
  for (int r = 0; r < t.ranks(); ++r)
    if (color[t.host(r)] == boost::white_color) return false;
  return true;
}

// P host vertices, rank r on the r-th (one GPU per host).
static std::vector<VertexId> add_hosts(Topology& t, int P) {
  std::vector<VertexId> hosts;
  for (int r = 0; r < P; ++r) {
    hosts.push_back(t.add_vertex(VertexKind::Host, host_name(r)));
    t.set_rank_host(r, hosts.back());
  }
  return hosts;
}

Topology build_switch(int P, LinkSpec host_link) {
  const char* shape = "switch";
  check_at_least(shape, "P", P, 1);
  check_capacity(shape, "host_link.bytes_per_s", host_link.bytes_per_s);
  check_latency(shape, "host_link.latency_s", host_link.latency_s);

  Topology t;
  const std::vector<VertexId> hosts = add_hosts(t, P);
  const VertexId sw = t.add_vertex(VertexKind::Switch, "switch");
  for (const VertexId h : hosts) t.add_duplex_link(h, sw, host_link.bytes_per_s, host_link.latency_s / 2.0);
  t.set_description("switch: " + std::to_string(P) + (P == 1 ? " host" : " hosts") + " on one switch, " +
                    link_summary(host_link) + " host to host");
  check_connected(t, shape);
  return t;
}

Topology build_two_level(int P, int G, int nics, LinkSpec intra, LinkSpec nic) {
  const char* shape = "two-level";
  check_nodes(shape, P, G, nics, intra, nic);

  Topology t;
  const int M = (P + G - 1) / G;
  std::vector<Uplink> up;
  for (int n = 0; n < M; ++n) {
    const auto u = add_node(t, n, std::min(G, P - n * G), G, nics, intra, nic);
    up.insert(up.end(), u.begin(), u.end());
  }
  const VertexId sw = t.add_vertex(VertexKind::Switch, "switch");
  for (const Uplink& u : up) t.add_duplex_link(u.v, sw, u.bytes_per_s, nic.latency_s / 2.0);
  std::string d = "two-level: " + nodes_summary(P, G, nics) + " on one switch, NIC " + link_summary(nic);
  if (G > 1) d += ", intra-node " + link_summary(intra);
  t.set_description(std::move(d));
  check_connected(t, shape);
  return t;
}

int fat_tree_spines(int nodes_per_leaf, int nics, int spines, double oversubscription) {
  if (spines > 0) return spines;
  // One per leaf uplink port (the small tolerance keeps an exact quotient such
  // as 16 / 2 from rounding up through float error).
  const double ports = static_cast<double>(nodes_per_leaf) * nics;
  return std::max(1, static_cast<int>(std::ceil(ports / oversubscription - 1e-9)));
}

Topology build_fat_tree(int P, int G, int nics, LinkSpec intra, LinkSpec nic, int nodes_per_leaf, int spines,
                        double oversubscription, Placement placement, double fabric_port_bytes_per_s) {
  const char* shape = "fat-tree";
  check_nodes(shape, P, G, nics, intra, nic);
  check_at_least(shape, "nodes_per_leaf", nodes_per_leaf, 1);
  check_at_least(shape, "spines", spines, 0);
  if (!(oversubscription >= 1.0) || !std::isfinite(oversubscription))
    fail(shape, "oversubscription must be >= 1 and finite (got " + fmt(oversubscription) + ")");
  if (placement != Placement::Packed && placement != Placement::Spread)
    fail(shape, "placement must be packed or spread (got " + std::to_string(static_cast<int>(placement)) + ")");

  const int M = (P + G - 1) / G;
  const int L = (M + nodes_per_leaf - 1) / nodes_per_leaf;
  const double ports = static_cast<double>(nodes_per_leaf) * nics;  // NIC ports under one leaf
  const int S = fat_tree_spines(nodes_per_leaf, nics, spines, oversubscription);
  // A port's worth of uplink: the NIC's rate unless the links between switches have their own efficiency.
  const double port = fabric_port_bytes_per_s > 0.0 ? fabric_port_bytes_per_s : nic.bytes_per_s;
  const double uplink = ports * port / (oversubscription * S);

  Topology t;
  std::vector<std::vector<Uplink>> up;
  for (int n = 0; n < M; ++n) up.push_back(add_node(t, n, std::min(G, P - n * G), G, nics, intra, nic));
  std::vector<VertexId> leaf, spine;
  for (int l = 0; l < L; ++l) leaf.push_back(t.add_vertex(VertexKind::Switch, "leaf" + std::to_string(l)));
  for (int s = 0; s < S; ++s) spine.push_back(t.add_vertex(VertexKind::Switch, "spine" + std::to_string(s)));
  for (int n = 0; n < M; ++n) {
    const int l = placement == Placement::Packed ? n / nodes_per_leaf : n % L;
    for (const Uplink& u : up[n]) t.add_duplex_link(u.v, leaf[l], u.bytes_per_s, nic.latency_s / 2.0);
  }
  for (const VertexId l : leaf)
    for (const VertexId s : spine) t.add_duplex_link(l, s, uplink, 0.0);

  std::string d = "fat-tree: " + nodes_summary(P, G, nics) + ", " + std::to_string(L) + (L == 1 ? " leaf" : " leaves") +
                  " of " + std::to_string(nodes_per_leaf) + " nodes (" + (placement == Placement::Packed ? "packed" : "spread") + "), " +
                  std::to_string(S) + (S == 1 ? " spine" : " spines") + ", " + fmt(oversubscription) +
                  ":1 oversubscribed, NIC " + link_summary(nic);
  if (G > 1) d += ", intra-node " + link_summary(intra);
  t.set_description(std::move(d));
  check_connected(t, shape);
  return t;
}

Topology build_ring(int P, LinkSpec link) {
  const char* shape = "ring";
  check_at_least(shape, "P", P, 1);
  check_capacity(shape, "link.bytes_per_s", link.bytes_per_s);
  check_latency(shape, "link.latency_s", link.latency_s);

  Topology t;
  const std::vector<VertexId> hosts = add_hosts(t, P);
  // P == 2: hosts 0 and 1 are each other's both neighbours, one link.
  const int links = P == 1 ? 0 : (P == 2 ? 1 : P);
  for (int i = 0; i < links; ++i) t.add_duplex_link(hosts[i], hosts[(i + 1) % P], link.bytes_per_s, link.latency_s);
  t.set_hosts_forward(true);
  t.set_description("ring: " + std::to_string(P) + (P == 1 ? " host" : " hosts") + ", " + link_summary(link) +
                    " per neighbour link");
  check_connected(t, shape);
  return t;
}

}  // namespace gcsim
