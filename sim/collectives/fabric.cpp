#include "sim/collectives/fabric.h"

#include <algorithm>

namespace gcsim {

namespace {

// A family's links, launch and per-message overheads on cluster c.
Fabric::Figures figures_of(const ClusterSpec& c, const CollectiveFigures& fig) {
  Fabric::Figures out;
  out.launch_s = fig.launch_s;
  out.inter.alpha_s = fig.inter.alpha_s + c.inter_node.latency_us * 1e-6;
  out.inter.bytes_per_s = c.inter_node.bytes_per_s() * fig.inter.efficiency;
  if (c.gpus_per_node > 1) {
    out.intra.alpha_s = fig.intra.alpha_s + c.intra_node.latency_us * 1e-6;
    out.intra.bytes_per_s = c.intra_node.bytes_per_s() * fig.intra.efficiency;
    out.overhead = MessageOverhead(fig.intra.alpha_s, fig.inter.alpha_s, std::min(c.gpus_per_node, c.workers));
  } else {
    out.intra = out.inter;  // one GPU per host: every peer is over the network
    out.overhead = MessageOverhead(fig.inter.alpha_s);
  }
  return out;
}

void apply(Fabric& f, const Fabric::Figures& fig) {
  f.intra = fig.intra;
  f.inter = fig.inter;
  f.launch_s = fig.launch_s;
  f.overhead = fig.overhead;
}

}  // namespace

Fabric make_fabric(const ClusterSpec& c, const Profile& p) {
  Fabric f;
  f.P = c.workers;
  f.G = std::min(c.gpus_per_node, c.workers);
  f.M = c.nodes();
  f.nics = c.nics_per_node;
  apply(f, figures_of(c, p.collective(family::ring)));
  if (p.collective_families.count(family::tree)) f.tree_figures = figures_of(c, p.collective(family::tree));
  return f;
}

Fabric Fabric::tree() const {
  Fabric t = *this;
  if (tree_figures) apply(t, *tree_figures);
  return t;
}

LinkParams Fabric::flat_link() const {
  if (!multi_node()) return intra;
  LinkParams nic{inter.alpha_s, inter.bytes_per_s * nics};
  if (G == 1) return nic;
  return {std::max(intra.alpha_s, nic.alpha_s), std::min(intra.bytes_per_s, nic.bytes_per_s)};
}

bool Fabric::crosses_nodes(int d) const {
  if (!multi_node()) return false;
  if (d >= G) return true;
  return G % (2 * d) != 0;
}

int Fabric::crossing_ranks_per_node(int d) const {
  if (!crosses_nodes(d)) return 0;
  int worst = 1;
  for (int node = 0; node < std::min(M, 64); ++node) {  // the pattern repeats with period lcm(G, 2d) <= 2G*d
    int n = 0;
    for (int r = node * G; r < (node + 1) * G && r < P; ++r) {
      const int partner = r ^ d;
      if (partner < P && partner / G != node) ++n;
    }
    worst = std::max(worst, n);
  }
  return worst;
}

LinkParams Fabric::pairwise_link(int d) const {
  if (!crosses_nodes(d)) return intra;
  const int senders = crossing_ranks_per_node(d);
  const double share = inter.bytes_per_s * nics / senders;
  return {inter.alpha_s, share};
}

}  // namespace gcsim
