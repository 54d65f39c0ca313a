#include "sim/collectives/fabric.h"

#include <algorithm>

namespace gcsim {

namespace {

// The links, launch and per-message overheads of `fig` at f.size_bytes.
void apply(Fabric& f, const Fabric::Figures& fig) {
  f.launch_s = fig.launch_s;
  f.inter = {fig.inter.alpha_s + f.inter_line.alpha_s, f.inter_line.bytes_per_s * fig.inter.efficiency_at(f.size_bytes)};
  // Without fabric figures the switches' links keep the rate make_fabric gave them.
  if (fig.fabric) f.fabric_bytes_per_s = f.inter_line.bytes_per_s * fig.fabric->efficiency_at(f.size_bytes);
  if (f.node_links) {
    f.intra = {fig.intra.alpha_s + f.intra_line.alpha_s, f.intra_line.bytes_per_s * fig.intra.efficiency_at(f.size_bytes)};
    f.overhead = MessageOverhead(fig.intra.alpha_s, fig.inter.alpha_s, f.G);
  } else {
    f.intra = f.inter;  // one GPU per host: every peer is over the network
    f.overhead = MessageOverhead(fig.inter.alpha_s);
  }
}

}  // namespace

Fabric make_fabric(const ClusterSpec& c, const Profile& p) {
  Fabric f;
  f.P = c.workers;
  f.G = std::min(c.gpus_per_node, c.workers);
  f.M = c.nodes();
  f.nics = c.nics_per_node;
  f.inter_line = {c.inter_node.latency_us * 1e-6, c.inter_node.bytes_per_s()};
  f.intra_line = {c.intra_node.latency_us * 1e-6, c.intra_node.bytes_per_s()};
  f.node_links = c.gpus_per_node > 1;
  for (const char* name : family::all) {
    const CollectiveFigures fig = p.collective(name);
    f.families[name] = Fabric::Figures{fig.intra, fig.inter, fig.launch_s, fig.fabric};
  }
  apply(f, f.families.at(family::ring));
  if (!f.families.at(family::ring).fabric) f.fabric_bytes_per_s = f.inter.bytes_per_s;  // as the NICs
  return f;
}

Fabric Fabric::charged(std::string_view family) const {
  Fabric out = *this;
  if (const auto it = families.find(family); it != families.end()) apply(out, it->second);
  return out;
}

Fabric Fabric::sized(double bytes) const {
  Fabric out = *this;
  out.size_bytes = bytes;
  if (const auto it = families.find(family::ring); it != families.end()) apply(out, it->second);
  return out;
}

Fabric::LinkScale Fabric::rates_over(const Fabric& links) const {
  const auto ratio = [](double own, double link) { return own > 0.0 && link > 0.0 ? own / link : 1.0; };
  return {ratio(intra.bytes_per_s, links.intra.bytes_per_s), ratio(inter.bytes_per_s, links.inter.bytes_per_s),
          ratio(fabric_bytes_per_s, links.fabric_bytes_per_s)};
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
