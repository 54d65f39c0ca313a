// Tests for topology/: the builders' shapes, counts and errors, and the
// router's hop counts, latencies, capacity-first and ECMP-hash choices
// (topology/routing.h). Expected values are written out from the builders'
// documented rules; hop counts are also checked against a plain BFS oracle.
#include <catch2/catch.hpp>

#include <map>

#include <cmath>
#include <deque>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "sim/collectives/fabric.h"
#include "sim/profile.h"
#include "sim/scenario.h"
#include "topology/builders.h"
#include "topology/cluster_topology.h"
#include "topology/routing.h"
#include "topology/topology.h"

using gcsim::LinkSpec;
using gcsim::Placement;
using gcsim::Route;
using gcsim::Router;
using gcsim::Topology;
using gcsim::TopologyError;
using gcsim::VertexId;
using gcsim::VertexKind;

namespace {

Approx exact(double v) { return Approx(v).epsilon(1e-12); }

std::vector<std::string> names(const Topology& t, const Route& r) {
  std::vector<std::string> out;
  for (int l : r.links) out.push_back(t.link_name(l));
  return out;
}

int count_kind(const Topology& t, VertexKind k) {
  int n = 0;
  for (VertexId v = 0; v < boost::num_vertices(t.graph()); ++v) n += t.graph()[v].kind == k ? 1 : 0;
  return n;
}

int find_link(const Topology& t, const std::string& name) {
  for (int l = 0; l < t.link_count(); ++l)
    if (t.link_name(l) == name) return l;
  FAIL("no link " << name);
  return -1;
}

// The route is a chain of links from src's host to dst's host, with the sums it claims.
void check_chain(const Topology& t, const Route& r, int src, int dst) {
  const auto& g = t.graph();
  REQUIRE(!r.links.empty());
  VertexId at = t.host(src);
  double lat = 0.0, bott = std::numeric_limits<double>::infinity();
  for (int l : r.links) {
    CHECK(boost::source(t.edge(l), g) == at);
    at = boost::target(t.edge(l), g);
    lat += t.link_latency_s(l);
    bott = std::min(bott, t.link_bytes_per_s(l));
  }
  CHECK(at == t.host(dst));
  CHECK(r.latency_s == exact(lat));
  CHECK(r.bottleneck_bytes_per_s == exact(bott));
}

// Oracle: plain one-directional BFS hop count, entering hosts only as the
// destination unless hosts forward.
int bfs_hops(const Topology& t, int src, int dst) {
  const auto& g = t.graph();
  std::vector<int> dist(boost::num_vertices(g), -1);
  std::deque<VertexId> q{t.host(src)};
  dist[t.host(src)] = 0;
  while (!q.empty()) {
    const VertexId u = q.front();
    q.pop_front();
    if (u == t.host(dst)) return dist[u];
    if (u != t.host(src) && g[u].kind == VertexKind::Host && !t.hosts_forward()) continue;
    for (auto [e, end] = boost::out_edges(u, g); e != end; ++e) {
      const VertexId v = boost::target(*e, g);
      if (dist[v] < 0) {
        dist[v] = dist[u] + 1;
        q.push_back(v);
      }
    }
  }
  return -1;
}

void check_all_pairs(const Topology& t) {
  Router router(t);
  for (int s = 0; s < t.ranks(); ++s)
    for (int d = 0; d < t.ranks(); ++d) {
      if (s == d) continue;
      INFO(t.description() << ": " << s << " -> " << d);
      const Route& r = router.route(s, d);
      check_chain(t, r, s, d);
      CHECK(static_cast<int>(r.links.size()) == bfs_hops(t, s, d));
    }
}

const LinkSpec kNic{12.5e9, 4e-6};
const LinkSpec kIntra{450e9, 1e-6};

}  // namespace

// ------------------------------------------------------------ topology ----

TEST_CASE("topology: duplex links get dense ids and readable names", "[topology]") {
  Topology t;
  const VertexId a = t.add_vertex(VertexKind::Host, "gpu0");
  const VertexId s = t.add_vertex(VertexKind::Switch, "switch");
  t.set_rank_host(0, a);
  t.add_duplex_link(a, s, 5e9, 1e-6);
  REQUIRE(t.link_count() == 2);
  CHECK(t.link_name(0) == "gpu0->switch");
  CHECK(t.link_name(1) == "switch->gpu0");
  for (int l = 0; l < 2; ++l) {
    CHECK(t.graph()[t.edge(l)].id == l);
    CHECK(t.link_bytes_per_s(l) == 5e9);
    CHECK(t.link_latency_s(l) == 1e-6);
  }
  CHECK(t.ranks() == 1);
  CHECK(t.host(0) == a);
  CHECK_THROWS(t.set_rank_host(1, s));  // not a host
  CHECK_THROWS(t.set_rank_host(5, a));  // not dense
}

// -------------------------------------------------------------- switch ----

TEST_CASE("switch: P hosts - one switch - host to host = host latency in 2 hops", "[topology]") {
  const Topology t = gcsim::build_switch(16, kNic);
  CHECK(t.ranks() == 16);
  CHECK(boost::num_vertices(t.graph()) == 17);
  CHECK(count_kind(t, VertexKind::Switch) == 1);
  CHECK(t.link_count() == 32);
  CHECK_FALSE(t.hosts_forward());
  CHECK(t.description().rfind("switch:", 0) == 0);
  Router router(t);
  const Route& r = router.route(3, 11);
  CHECK(names(t, r) == std::vector<std::string>{"gpu3->switch", "switch->gpu11"});
  CHECK(r.latency_s == exact(kNic.latency_s));
  CHECK(r.bottleneck_bytes_per_s == kNic.bytes_per_s);
  check_all_pairs(gcsim::build_switch(5, kNic));
  CHECK(gcsim::build_switch(1, kNic).link_count() == 2);
}

TEST_CASE("switch: bad parameters name the parameter and value", "[topology]") {
  CHECK_THROWS_AS(gcsim::build_switch(0, kNic), TopologyError);
  CHECK_THROWS_WITH(gcsim::build_switch(0, kNic), "switch: P must be >= 1 (got 0)");
  CHECK_THROWS_WITH(gcsim::build_switch(4, {0.0, 1e-6}), Catch::Contains("host_link.bytes_per_s") && Catch::Contains("got 0"));
  CHECK_THROWS_WITH(gcsim::build_switch(4, {std::numeric_limits<double>::infinity(), 1e-6}),
                    Catch::Contains("host_link.bytes_per_s") && Catch::Contains("inf"));
  CHECK_THROWS_WITH(gcsim::build_switch(4, {1e9, -1e-6}), Catch::Contains("host_link.latency_s") && Catch::Contains("-1e-06"));
  CHECK_THROWS_WITH(gcsim::build_switch(4, {1e9, std::nan("")}), Catch::Contains("host_link.latency_s"));
}

// ----------------------------------------------------------- two-level ----

TEST_CASE("two-level: vertex and link counts", "[topology]") {
  struct Case { int P, G, nics, vertices, duplex; };
  // per node: G GPUs + nvswitch + nics; links G (nvswitch) + PCIe + nics (uplinks); + 1 switch
  for (const Case c : {Case{16, 8, 1, 16 + 2 * 2 + 1, 2 * (8 + 8 + 1)}, Case{16, 8, 2, 16 + 2 * 3 + 1, 2 * (8 + 8 + 2)},
                       Case{16, 8, 8, 16 + 2 * 9 + 1, 2 * (8 + 8 + 8)}, Case{16, 8, 16, 16 + 2 * 17 + 1, 2 * (8 + 16 + 16)},
                       Case{4, 8, 1, 4 + 2 + 1, 4 + 4 + 1}, Case{6, 1, 2, 6 + 1, 6}}) {
    INFO("P=" << c.P << " G=" << c.G << " nics=" << c.nics);
    const Topology t = gcsim::build_two_level(c.P, c.G, c.nics, kIntra, kNic);
    CHECK(t.ranks() == c.P);
    CHECK(static_cast<int>(boost::num_vertices(t.graph())) == c.vertices);
    CHECK(t.link_count() == 2 * c.duplex);
    CHECK(gcsim::hosts_connected(t));
  }
  const Topology t = gcsim::build_two_level(16, 8, 2, kIntra, kNic);
  CHECK(count_kind(t, VertexKind::NvSwitch) == 2);
  CHECK(count_kind(t, VertexKind::Nic) == 4);
  CHECK(count_kind(t, VertexKind::Switch) == 1);
  CHECK(t.description() == "two-level: 2 nodes x 8 GPUs, 2 NICs each on one switch, NIC 12.5 GB/s, 4 us, intra-node 450 GB/s, 1 us");
}

TEST_CASE("two-level with one GPU per node is a switch with nics x NIC capacity", "[topology]") {
  const Topology t = gcsim::build_two_level(4, 1, 2, LinkSpec{}, kNic);  // intra unused, not checked
  const Topology s = gcsim::build_switch(4, {2 * kNic.bytes_per_s, kNic.latency_s});
  REQUIRE(t.link_count() == s.link_count());
  CHECK(boost::num_vertices(t.graph()) == boost::num_vertices(s.graph()));
  CHECK(count_kind(t, VertexKind::Nic) == 0);
  CHECK(count_kind(t, VertexKind::NvSwitch) == 0);
  for (int l = 0; l < t.link_count(); ++l) {
    CHECK(t.link_name(l) == s.link_name(l));
    CHECK(t.link_bytes_per_s(l) == s.link_bytes_per_s(l));
    CHECK(t.link_latency_s(l) == s.link_latency_s(l));
  }
}

TEST_CASE("two-level: intra-node routes take the NVSwitch - never a NIC", "[topology]") {
  for (int nics : {1, 2, 8}) {
    const Topology t = gcsim::build_two_level(16, 8, nics, kIntra, kNic);
    Router router(t);
    for (int s = 0; s < 8; ++s)
      for (int d = 0; d < 8; ++d) {
        if (s == d) continue;
        INFO("nics=" << nics << " " << s << " -> " << d);
        const Route& r = router.route(s, d);
        CHECK(names(t, r) == std::vector<std::string>{"gpu" + std::to_string(s) + "->node0.nvswitch",
                                                      "node0.nvswitch->gpu" + std::to_string(d)});
        CHECK(r.latency_s == exact(kIntra.latency_s));
        CHECK(r.bottleneck_bytes_per_s == kIntra.bytes_per_s);
      }
  }
}

TEST_CASE("two-level: inter-node routes are GPU->NIC->switch->NIC->GPU with the NIC latency", "[topology]") {
  const Topology t = gcsim::build_two_level(16, 8, 1, kIntra, kNic);
  Router router(t);
  const Route& r = router.route(1, 9);
  CHECK(names(t, r) == std::vector<std::string>{"gpu1->node0.nic0", "node0.nic0->switch", "switch->node1.nic0",
                                                "node1.nic0->gpu9"});
  CHECK(r.latency_s == exact(kNic.latency_s));
  CHECK(r.bottleneck_bytes_per_s == kNic.bytes_per_s);
  check_all_pairs(t);
  check_all_pairs(gcsim::build_two_level(24, 4, 2, kIntra, kNic));
}

TEST_CASE("two-level: NIC affinity", "[topology]") {
  SECTION("2 NICs for 8 GPUs: even GPUs on nic0, odd on nic1") {
    const Topology t = gcsim::build_two_level(16, 8, 2, kIntra, kNic);
    Router router(t);
    for (int g = 0; g < 8; ++g) {
      const auto n = names(t, router.route(g, 8 + g));
      REQUIRE(n.size() == 4);
      CHECK(n[0] == "gpu" + std::to_string(g) + "->node0.nic" + std::to_string(g % 2));
      CHECK(n[3] == "node1.nic" + std::to_string(g % 2) + "->gpu" + std::to_string(8 + g));
    }
  }
  SECTION("8 NICs for 8 GPUs: each GPU its own NIC") {
    const Topology t = gcsim::build_two_level(16, 8, 8, kIntra, kNic);
    Router router(t);
    std::set<std::string> first;
    for (int g = 0; g < 8; ++g) {
      const auto n = names(t, router.route(g, 15 - g));
      REQUIRE(n.size() == 4);
      CHECK(n[0] == "gpu" + std::to_string(g) + "->node0.nic" + std::to_string(g));
      CHECK(n[3] == "node1.nic" + std::to_string(7 - g) + "->gpu" + std::to_string(15 - g));
      first.insert(n[0]);
    }
    CHECK(first.size() == 8);
  }
  SECTION("PCIe links carry the NIC rate with no latency") {
    const Topology t = gcsim::build_two_level(16, 8, 2, kIntra, kNic);
    const int l = find_link(t, "gpu3->node0.nic1");
    CHECK(t.link_bytes_per_s(l) == kNic.bytes_per_s);
    CHECK(t.link_latency_s(l) == 0.0);
    CHECK(t.link_latency_s(find_link(t, "node0.nic1->switch")) == exact(kNic.latency_s / 2));
  }
}

TEST_CASE("two-level: bad parameters name the parameter and value", "[topology]") {
  using gcsim::build_two_level;
  CHECK_THROWS_WITH(build_two_level(0, 8, 1, kIntra, kNic), "two-level: P must be >= 1 (got 0)");
  CHECK_THROWS_WITH(build_two_level(16, 0, 1, kIntra, kNic), "two-level: G must be >= 1 (got 0)");
  CHECK_THROWS_WITH(build_two_level(16, 8, 0, kIntra, kNic), "two-level: nics must be >= 1 (got 0)");
  CHECK_THROWS_WITH(build_two_level(12, 8, 1, kIntra, kNic),
                    Catch::Contains("multiple of G") && Catch::Contains("P = 12, G = 8"));
  CHECK_THROWS_WITH(build_two_level(16, 8, 1, {-5.0, 1e-6}, kNic), Catch::Contains("intra.bytes_per_s") && Catch::Contains("-5"));
  CHECK_THROWS_WITH(build_two_level(16, 8, 1, {1e9, -1.0}, kNic), Catch::Contains("intra.latency_s"));
  CHECK_THROWS_WITH(build_two_level(16, 8, 1, kIntra, {0.0, 1e-6}), Catch::Contains("nic.bytes_per_s"));
  CHECK_THROWS_WITH(build_two_level(16, 8, 1, kIntra, {1e9, std::numeric_limits<double>::infinity()}),
                    Catch::Contains("nic.latency_s") && Catch::Contains("inf"));
  CHECK_THROWS_AS(build_two_level(16, 8, 1, kIntra, {0.0, 0.0}), TopologyError);
  CHECK_NOTHROW(build_two_level(4, 8, 1, kIntra, kNic));  // one partial node
}

// ------------------------------------------------------------ fat-tree ----

TEST_CASE("fat-tree: counts - same-leaf and cross-leaf routes - uplink capacity", "[topology]") {
  // 4 nodes x 8 GPUs, 2 nodes per leaf -> 2 leaves, 2 spines (2 ports / 1:1)
  const Topology t = gcsim::build_fat_tree(32, 8, 1, kIntra, kNic, 2, 0, 1.0, Placement::Packed);
  CHECK(boost::num_vertices(t.graph()) == 32 + 4 * 2 + 2 + 2);
  CHECK(t.link_count() == 2 * (4 * (8 + 8) + 4 + 2 * 2));
  CHECK(count_kind(t, VertexKind::Switch) == 4);
  Router router(t);
  const Route& same = router.route(0, 8);  // nodes 0 and 1, both on leaf0
  CHECK(names(t, same) == std::vector<std::string>{"gpu0->node0.nic0", "node0.nic0->leaf0", "leaf0->node1.nic0",
                                                   "node1.nic0->gpu8"});
  CHECK(same.latency_s == exact(kNic.latency_s));
  const Route& cross = router.route(0, 16);  // node 2 on leaf1
  const auto n = names(t, cross);
  REQUIRE(n.size() == 6);
  CHECK(n[1] == "node0.nic0->leaf0");
  CHECK(n[2].rfind("leaf0->spine", 0) == 0);
  CHECK(n[4] == "leaf1->node2.nic0");
  CHECK(cross.latency_s == exact(kNic.latency_s));
  CHECK(router.route(0, 1).links.size() == 2);  // same node: NVSwitch
  const int up = find_link(t, "leaf0->spine1");
  CHECK(t.link_bytes_per_s(up) == exact(2 * 1 * kNic.bytes_per_s / (1.0 * 2)));
  CHECK(t.link_latency_s(up) == 0.0);
  check_all_pairs(gcsim::build_fat_tree(16, 4, 2, kIntra, kNic, 2, 0, 2.0, Placement::Packed));
}

TEST_CASE("fat-tree: one GPU per node attaches hosts to leaves", "[topology]") {
  const Topology t = gcsim::build_fat_tree(8, 1, 2, LinkSpec{}, kNic, 4, 0, 2.0, Placement::Packed);
  // 2 leaves, S = ceil(4 * 2 / 2) = 4 spines
  CHECK(boost::num_vertices(t.graph()) == 8 + 2 + 4);
  CHECK(t.link_count() == 2 * (8 + 2 * 4));
  CHECK(t.link_bytes_per_s(find_link(t, "gpu0->leaf0")) == 2 * kNic.bytes_per_s);
  Router router(t);
  CHECK(router.route(0, 3).links.size() == 2);
  CHECK(router.route(0, 3).latency_s == exact(kNic.latency_s));
  CHECK(router.route(0, 4).links.size() == 4);
  check_all_pairs(t);
}

TEST_CASE("fat-tree: the oversubscription ratio is exact whatever the spine count", "[topology]") {
  const int npl = 4, nics = 2;
  for (double over : {1.0, 1.5, 2.0, 3.0, 8.0}) {
    for (int spines : {0, 1, 3, 5}) {
      INFO("oversubscription=" << over << " spines=" << spines);
      const Topology t = gcsim::build_fat_tree(64, 4, nics, kIntra, kNic, npl, spines, over, Placement::Packed);
      const int S = spines > 0 ? spines : std::max(1, static_cast<int>(std::ceil(npl * nics / over)));
      CHECK(count_kind(t, VertexKind::Switch) == 4 + S);  // 16 nodes / 4 = 4 leaves
      double total = 0.0;
      for (int s = 0; s < S; ++s) {
        const double c = t.link_bytes_per_s(find_link(t, "leaf2->spine" + std::to_string(s)));
        CHECK(c == exact(npl * nics * kNic.bytes_per_s / (over * S)));
        CHECK(t.link_bytes_per_s(find_link(t, "spine" + std::to_string(s) + "->leaf2")) == exact(c));
        total += c;
      }
      CHECK(total == Approx(npl * nics * kNic.bytes_per_s / over));
    }
  }
}

TEST_CASE("fat-tree: spread placement puts neighbouring nodes on different leaves", "[topology]") {
  const Topology packed = gcsim::build_fat_tree(8, 1, 1, LinkSpec{}, kNic, 4, 0, 1.0, Placement::Packed);
  const Topology spread = gcsim::build_fat_tree(8, 1, 1, LinkSpec{}, kNic, 4, 0, 1.0, Placement::Spread);
  CHECK(spread.description().find("spread") != std::string::npos);
  find_link(spread, "gpu0->leaf0");
  find_link(spread, "gpu1->leaf1");
  find_link(spread, "gpu2->leaf0");
  Router rp(packed), rs(spread);
  CHECK(rp.route(0, 1).links.size() == 2);
  CHECK(rs.route(0, 1).links.size() == 4);  // via a spine
  CHECK(rs.route(0, 2).links.size() == 2);
  check_all_pairs(spread);
  check_all_pairs(gcsim::build_fat_tree(40, 4, 1, kIntra, kNic, 3, 2, 1.0, Placement::Spread));  // 10 nodes, 4 leaves
}

TEST_CASE("fat-tree: the ECMP hash is deterministic and uses every spine", "[topology]") {
  for (int spines : {2, 3, 4, 7}) {
    const Topology t = gcsim::build_fat_tree(16, 1, 1, LinkSpec{}, kNic, 4, spines, 1.0, Placement::Packed);
    Router router(t);
    Router again(t);
    std::map<std::string, int> used;
    for (int src = 0; src < 4; ++src)
      for (int dst = 4; dst < 16; ++dst) {
        INFO("S=" << spines << " " << src << " -> " << dst);
        const auto n = names(t, router.route(src, dst));
        REQUIRE(n.size() == 4);
        CHECK(n[1].rfind("leaf0->spine", 0) == 0);
        CHECK(names(t, again.route(src, dst)) == n);
        ++used[n[1]];
      }
    CHECK(static_cast<int>(used.size()) == spines);  // 48 flows reach every spine
  }
}

TEST_CASE("fat-tree: bad parameters name the parameter and value", "[topology]") {
  const auto ft = [](int P, int npl, int spines, double over) {
    return gcsim::build_fat_tree(P, 8, 1, kIntra, kNic, npl, spines, over, Placement::Packed);
  };
  CHECK_THROWS_AS(ft(16, 0, 0, 1.0), TopologyError);
  CHECK_THROWS_WITH(ft(16, 0, 0, 1.0), "fat-tree: nodes_per_leaf must be >= 1 (got 0)");
  CHECK_THROWS_WITH(ft(16, 2, -1, 1.0), "fat-tree: spines must be >= 0 (got -1)");
  CHECK_THROWS_WITH(ft(16, 2, 0, 0.5), "fat-tree: oversubscription must be >= 1 and finite (got 0.5)");
  CHECK_THROWS_WITH(ft(16, 2, 0, std::numeric_limits<double>::infinity()), Catch::Contains("oversubscription"));
  CHECK_THROWS_WITH(ft(16, 2, 0, std::nan("")), Catch::Contains("oversubscription"));
  CHECK_THROWS_WITH(ft(0, 2, 0, 1.0), "fat-tree: P must be >= 1 (got 0)");
  CHECK_THROWS_WITH(ft(20, 2, 0, 1.0), Catch::Contains("fat-tree: P must be a multiple of G"));
  CHECK_THROWS_WITH(gcsim::build_fat_tree(16, 8, 0, kIntra, kNic, 2, 0, 1.0, Placement::Packed),
                    "fat-tree: nics must be >= 1 (got 0)");
}

// ---------------------------------------------------------------- ring ----

TEST_CASE("ring: neighbours are one hop - the opposite host P/2 hops - through hosts", "[topology]") {
  const Topology t = gcsim::build_ring(8, kNic);
  CHECK(t.hosts_forward());
  CHECK(boost::num_vertices(t.graph()) == 8);
  CHECK(t.link_count() == 16);
  Router router(t);
  const Route& next = router.route(0, 1);
  CHECK(names(t, next) == std::vector<std::string>{"gpu0->gpu1"});
  CHECK(next.latency_s == exact(kNic.latency_s));
  CHECK(names(t, router.route(0, 7)) == std::vector<std::string>{"gpu0->gpu7"});
  const Route& opposite = router.route(0, 4);
  CHECK(opposite.links.size() == 4);
  CHECK(opposite.latency_s == exact(4 * kNic.latency_s));
  CHECK(names(t, router.route(0, 3)) == std::vector<std::string>{"gpu0->gpu1", "gpu1->gpu2", "gpu2->gpu3"});
  check_all_pairs(t);
  check_all_pairs(gcsim::build_ring(7, kNic));
  CHECK(gcsim::build_ring(2, kNic).link_count() == 2);
  CHECK(gcsim::build_ring(1, kNic).link_count() == 0);
  CHECK(gcsim::build_ring(3, kNic).link_count() == 6);
  CHECK_THROWS_WITH(gcsim::build_ring(0, kNic), "ring: P must be >= 1 (got 0)");
  CHECK_THROWS_WITH(gcsim::build_ring(4, {1e9, -1.0}), Catch::Contains("link.latency_s"));
  CHECK_THROWS_WITH(gcsim::build_ring(4, {0.0, 1.0}), Catch::Contains("link.bytes_per_s"));
}

// ------------------------------------------------------------- routing ----

TEST_CASE("routing: deterministic - cached and rejects bad ranks", "[topology]") {
  const Topology t = gcsim::build_fat_tree(64, 8, 2, kIntra, kNic, 2, 0, 2.0, Placement::Spread);
  Router a(t), b(t);
  const Route& r1 = a.route(3, 50);
  const Route& r2 = a.route(3, 50);
  CHECK(&r1 == &r2);
  CHECK(a.cached_routes() == 1);
  for (int d = 0; d < 64; ++d)
    if (d != 5) a.route(5, d);
  CHECK(a.cached_routes() == 64);
  CHECK(&a.route(3, 50) == &r1);  // references survive rehashing
  for (int s = 0; s < 64; s += 7)
    for (int d = 0; d < 64; d += 3)
      if (s != d) CHECK(a.route(s, d).links == b.route(s, d).links);
  CHECK_THROWS_AS(a.route(4, 4), std::invalid_argument);
  CHECK_THROWS_AS(a.route(-1, 4), std::invalid_argument);
  CHECK_THROWS_AS(a.route(0, 64), std::invalid_argument);
}

TEST_CASE("routing: 16384 ranks in 2048 nodes route every ring neighbour pair", "[topology]") {
  const int P = 16384;
  const Topology t = gcsim::build_two_level(P, 8, 1, kIntra, kNic);
  Router router(t);
  for (int r = 0; r < P; ++r) router.route(r, (r + 1) % P);
  CHECK(router.cached_routes() == static_cast<std::size_t>(P));
  CHECK(router.route(0, 1).links.size() == 2);
  CHECK(router.route(7, 8).links.size() == 4);
  CHECK(router.route(P - 1, 0).links.size() == 4);

  const Topology flat = gcsim::build_switch(P, kNic);
  Router flat_router(flat);
  for (int r = 0; r < P; ++r) CHECK(flat_router.route(r, (r + 1) % P).links.size() == 2);
}

// ---------------------------------------------------- cluster topology ----

TEST_CASE("build_topology maps a cluster to the builder with make_fabric's link classes", "[topology]") {
  gcsim::ClusterSpec c;
  c.workers = 32;
  c.gpus_per_node = 8;
  c.intra_node = {3600.0, 2.0};  // Gbit/s, us
  c.inter_node = {400.0, 6.0};
  c.nics_per_node = 2;
  gcsim::Profile p;
  p.intra_node_efficiency = 0.8;
  p.inter_node_efficiency = 0.9;
  p.collective_alpha_s = 5e-6;  // software overhead: not a link

  using Kind = gcsim::TopologyKind;
  SECTION("two-level") {
    c.topology = Kind::TwoLevel;
    const gcsim::Fabric f = gcsim::make_fabric(c, p);
    const Topology t = gcsim::build_topology(c, p);
    Router router(t);
    CHECK(t.description().rfind("two-level:", 0) == 0);
    const Route& intra = router.route(0, 1);
    CHECK(intra.bottleneck_bytes_per_s == exact(f.intra.bytes_per_s));
    CHECK(intra.latency_s == exact(f.intra.alpha_s - p.collective_alpha_s));
    const Route& inter = router.route(0, 8);
    CHECK(inter.bottleneck_bytes_per_s == exact(f.inter.bytes_per_s));
    CHECK(inter.latency_s == exact(f.inter.alpha_s - p.collective_alpha_s));
  }
  SECTION("fat-tree") {
    c.topology = Kind::FatTree;
    c.nodes_per_leaf = 2;
    c.oversubscription = 2.0;
    c.placement = Placement::Spread;
    const Topology t = gcsim::build_topology(c, p);
    CHECK(t.description().rfind("fat-tree:", 0) == 0);
    CHECK(count_kind(t, VertexKind::Switch) == 2 + 2);  // 2 leaves, ceil(2 * 2 / 2) spines
    Router router(t);
    CHECK(router.route(0, 8).links.size() == 6);  // spread: node 1 on leaf1
    CHECK(router.route(0, 16).links.size() == 4);
  }
  SECTION("switch and ring") {
    c.gpus_per_node = 1;
    c.workers = 6;
    const gcsim::Fabric f = gcsim::make_fabric(c, p);
    c.topology = Kind::Switch;
    const Topology s = gcsim::build_topology(c, p);
    Router rs(s);
    CHECK(rs.route(0, 5).bottleneck_bytes_per_s == exact(f.flat_link().bytes_per_s));
    CHECK(rs.route(0, 5).latency_s == exact(f.flat_link().alpha_s - p.collective_alpha_s));
    c.topology = Kind::Ring;
    const Topology r = gcsim::build_topology(c, p);
    Router rr(r);
    CHECK(rr.route(0, 1).bottleneck_bytes_per_s == exact(f.inter.bytes_per_s));
    CHECK(rr.route(0, 1).latency_s == exact(f.inter.alpha_s - p.collective_alpha_s));
    c.gpus_per_node = 2;
    CHECK_THROWS_WITH(gcsim::build_topology(c, p), Catch::Contains("gpus_per_node must be 1"));
  }
}
