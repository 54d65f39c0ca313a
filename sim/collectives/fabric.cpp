#include "sim/collectives/fabric.h"

#include <algorithm>

namespace gcsim {

Fabric make_fabric(const ClusterSpec& c, const Profile& p) {
  Fabric f;
  f.P = c.workers;
  f.G = std::min(c.gpus_per_node, c.workers);
  f.M = c.nodes();
  f.nics = c.nics_per_node;
  f.inter.alpha_s = p.collective_alpha_s + c.inter_node.latency_us * 1e-6;
  f.inter.bytes_per_s = c.inter_node.bytes_per_s() * p.inter_node_efficiency;
  if (c.gpus_per_node > 1) {
    f.intra.alpha_s = p.collective_alpha_s + c.intra_node.latency_us * 1e-6;
    f.intra.bytes_per_s = c.intra_node.bytes_per_s() * p.intra_node_efficiency;
  } else {
    f.intra = f.inter;  // one GPU per host: every peer is over the network
  }
  return f;
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
