// The DES against the closed forms (no contention), and contention where the
// closed forms cannot see it.
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>
#include <memory>

#include "sim/collectives/allreduce.h"
#include "sim/collectives/fabric.h"
#include "sim/collectives/halving_doubling.h"
#include "sim/collectives/halving_doubling_schedule.h"
#include "sim/collectives/hierarchical_allreduce.h"
#include "sim/collectives/parameter_server.h"
#include "sim/collectives/ring_allgather.h"
#include "sim/collectives/ring_allreduce.h"
#include "sim/collectives/tree_allreduce.h"
#include "sim/collectives/tree_schedule.h"
#include "sim/collectives/two_level_rings.h"
#include "sim/engine/engine.h"
#include "sim/network/network.h"
#include "topology/builders.h"
#include "topology/cluster_topology.h"
#include "schedule_fixture.h"

using namespace gcsim;
using namespace gcsim::test;

namespace {

const std::vector<int> kRanks = {2, 3, 4, 7, 8, 16, 64, 256};
const std::vector<double> kBytes = {1e3, 1.048576e6, 1e8};


}  // namespace

TEST_CASE("engine runs events in time order - ties in scheduling order", "[des]") {
  struct Recorder : EventHandler {
    std::vector<std::uint64_t> seen;
    void on_event(std::uint64_t tag) override { seen.push_back(tag); }
  } rec;
  Engine e;
  e.schedule(2.0, &rec, 20);
  e.schedule(1.0, &rec, 10);
  e.schedule(2.0, &rec, 21);
  e.schedule(1.0, &rec, 11);
  e.schedule(0.5, &rec, 5);
  e.run();
  CHECK(rec.seen == std::vector<std::uint64_t>{5, 10, 11, 20, 21});
  CHECK(e.now() == 2.0);
  CHECK(e.events_processed() == 5);
}

TEST_CASE("ring allreduce schedule equals its closed form without contention", "[des]") {
  for (int P : kRanks)
    for (double n : kBytes) {
      const Outcome o = run_collective(switch_topology(P), [&](auto& c) { return ring_allreduce_schedule(c, P, n, 1); });
      const CollectiveCost cf = ring_allreduce(switch_fabric(P), n);
      INFO("P = " << P << ", n = " << n);
      CHECK(rel(o.time, cf.time_s) < 1e-9);
      CHECK(rel(o.sent_per_rank, cf.bytes_sent) < 1e-9);
      CHECK(o.messages == static_cast<std::uint64_t>(2 * (P - 1) * P));
    }
}

TEST_CASE("ring allgather schedule equals its closed form without contention", "[des]") {
  for (int P : kRanks)
    for (double m : kBytes) {
      const Outcome o = run_collective(switch_topology(P), [&](auto& c) { return ring_allgather_schedule(c, P, m, 1); });
      const CollectiveCost cf = ring_allgather(switch_fabric(P), m);
      INFO("P = " << P << ", m = " << m);
      CHECK(rel(o.time, cf.time_s) < 1e-9);
      CHECK(rel(o.sent_per_rank, cf.bytes_sent) < 1e-9);
    }
}

TEST_CASE("halving-doubling schedule equals its closed form - also for P not a power of two", "[des]") {
  for (int P : kRanks)
    for (double n : kBytes) {
      const Outcome o = run_collective(switch_topology(P), [&](auto& c) { return halving_doubling_schedule(c, P, n); });
      const CollectiveCost cf = halving_doubling_allreduce(switch_fabric(P), n);
      INFO("P = " << P << ", n = " << n);
      CHECK(rel(o.time, cf.time_s) < 1e-9);
      CHECK(rel(o.sent_per_rank, cf.bytes_sent) < 1e-9);
    }
}

TEST_CASE("parameter server schedule equals its closed form", "[des]") {
  for (int P : kRanks)
    for (int S : {1, 2, P})
      for (double n : kBytes) {
        if (S > P) continue;
        const Outcome o =
            run_collective(switch_topology(P), [&](auto& c) { return parameter_server_schedule(c, P, n, S); });
        const CollectiveCost cf = parameter_server(switch_fabric(P), n, S);
        INFO("P = " << P << ", S = " << S << ", n = " << n);
        CHECK(rel(o.time, cf.time_s) < 1e-9);
        CHECK(rel(o.sent_per_rank, cf.bytes_sent) < 1e-9);
      }
}

// The double binary tree's closed form (2 ceil(log2 P) alpha + 2n/B) is the
// pipelined limit; the schedule pays the pipeline fill and the two trees'
// sharing of each rank's links, so it agrees only for many chunks and large P.
TEST_CASE("tree schedule approaches its closed form when pipelined", "[des]") {
  const double n = 1e8;
  for (int P : {16, 64, 256}) {
    const CollectiveCost cf = tree_allreduce(switch_fabric(P), n);
    const Outcome one = run_collective(switch_topology(P), [&](auto& c) { return tree_allreduce_schedule(c, P, n, 1); });
    const Outcome many = run_collective(switch_topology(P), [&](auto& c) { return tree_allreduce_schedule(c, P, n, 64); });
    INFO("P = " << P << ": 1 chunk " << one.time << " s, 64 chunks " << many.time << " s, closed form " << cf.time_s);
    CHECK(many.time < one.time / 2.0);                 // pipelining pays
    CHECK(many.time >= cf.time_s * (1.0 - 1e-9));      // the closed form is a lower bound here
    CHECK(many.time < cf.time_s * 1.10);
    CHECK(rel(many.sent_per_rank, cf.bytes_sent) < 1e-9);
  }
  // Unpipelined, each of the ceil(log2 P) levels carries the whole half: the
  // reduce and the broadcast each take depth x (alpha + (n/2) / (B/2)).
  for (int P : {8, 64}) {
    const Outcome one = run_collective(switch_topology(P), [&](auto& c) { return tree_allreduce_schedule(c, P, n, 1); });
    CHECK(one.time > tree_allreduce(switch_fabric(P), n).time_s);
  }
}

namespace {

ClusterSpec two_level_cluster(int P, int G, int nics) {
  ClusterSpec c;
  c.workers = P;
  c.gpus_per_node = G;
  c.topology = G > 1 ? TopologyKind::TwoLevel : TopologyKind::Switch;
  c.nics_per_node = nics;
  c.inter_node = {100.0, 5.0};    // 100 Gb/s NIC, 5 us
  c.intra_node = {3600.0, 1.0};   // NVLink class, 1 us
  return c;
}

Profile plain_profile() {
  Profile p;
  p.collective_alpha_s = kAlphaSw;
  return p;
}

}  // namespace

TEST_CASE("hierarchical schedule equals its closed form on two-level nodes", "[des]") {
  for (int G : {2, 4, 8})
    for (int M : {1, 2, 3, 7, 16})
      for (int nics : {1, 2}) {
        const int P = G * M;
        if (P < 2) continue;
        const ClusterSpec c = two_level_cluster(P, G, nics);
        const Topology t = build_topology(c, plain_profile());
        const Fabric f = make_fabric(c, plain_profile());
        for (double n : kBytes) {
          const Outcome o = run_collective(t, [&](auto& ctx) { return hierarchical_allreduce_schedule(ctx, P, G, n, 1); });
          const CollectiveCost cf = hierarchical_allreduce(f, n);
          INFO("G = " << G << ", M = " << M << ", nics = " << nics << ", n = " << n);
          CHECK(rel(o.time, cf.time_s) < 1e-9);
          CHECK(rel(o.sent_per_rank, cf.bytes_sent) < 1e-9);
        }
      }
}

TEST_CASE("hierarchical exchange rings equal their closed forms on two-level nodes", "[des]") {
  for (int G : {1, 2, 4, 8})
    for (int M : {1, 2, 3, 7})
      for (int nics : {1, 2}) {
        const int P = G * M;
        if (P < 2) continue;
        const ClusterSpec c = two_level_cluster(P, G, nics);
        const Topology t = build_topology(c, plain_profile());
        const Fabric f = make_fabric(c, plain_profile());
        for (double n : kBytes) {
          INFO("G = " << G << ", M = " << M << ", nics = " << nics << ", n = " << n);
          const Outcome rs = run_collective(t, [&](auto& ctx) {
            return intra_node_ring_schedule(ctx, P, G, n, 1, "intra-node reduce-scatter");
          });
          const CollectiveCost ring = intra_node_ring(f, n);
          CHECK(rel(rs.time + 1e-300, ring.time_s + 1e-300) < 1e-9);
          CHECK(rel(rs.sent_per_rank + 1e-300, ring.bytes_sent + 1e-300) < 1e-9);
          CHECK(rs.messages == static_cast<std::uint64_t>(P * (G - 1)));
          const double m = n / 100.0;  // a shard's pairs
          const Outcome ag = run_collective(t, [&](auto& ctx) { return inter_node_allgather_schedule(ctx, P, G, m, 1); });
          const CollectiveCost inter = inter_node_allgather(f, m);
          CHECK(rel(ag.time + 1e-300, inter.time_s + 1e-300) < 1e-9);
          CHECK(rel(ag.sent_per_rank + 1e-300, inter.bytes_sent + 1e-300) < 1e-9);
          CHECK(ag.messages == static_cast<std::uint64_t>(P * (M - 1)));
        }
      }
  // Written out for 8 GPUs per node, 4 nodes, one NIC: the G rings share it.
  const ClusterSpec c = two_level_cluster(32, 8, 1);
  const Fabric f = make_fabric(c, plain_profile());
  REQUIRE(f.intra.alpha_s == Approx(kAlphaSw + 1e-6));
  REQUIRE(f.inter.alpha_s == Approx(kAlphaSw + 5e-6));
  const double n = 1e8, m = 1e6;
  CHECK(intra_node_ring(f, n).time_s == Approx(7.0 * (f.intra.alpha_s + n / 8.0 / f.intra.bytes_per_s)).epsilon(1e-12));
  CHECK(inter_node_allgather(f, m).time_s ==
        Approx(3.0 * (f.inter.alpha_s + m / (f.inter.bytes_per_s / 8.0))).epsilon(1e-12));
}

TEST_CASE("contention: two flows through one link take twice as long as one", "[des]") {
  struct Done : FlowListener {
    std::vector<double> at;
    void on_flow_done(std::uint64_t, Time arrival) override { at.push_back(arrival); }
  };
  const Topology t = switch_topology(3);
  const double n = 1e6;
  auto run = [&](int flows) {
    Engine e;
    Network net(e, t);
    Done d;
    for (int i = 0; i < flows; ++i) net.start_flow(i, 2, n, &d, static_cast<std::uint64_t>(i));
    e.run();
    return d.at;
  };
  const auto one = run(1);
  const auto two = run(2);
  REQUIRE(one.size() == 1);
  REQUIRE(two.size() == 2);
  CHECK(rel(one[0] - kLatency, n / kBw) < 1e-12);
  for (double a : two) CHECK(rel(a - kLatency, 2.0 * n / kBw) < 1e-12);
}

TEST_CASE("contention: max-min gives a flow the capacity others leave unused", "[des]") {
  // 0->2 and 1->2 share 2's downlink; 0->1 shares 0's uplink with 0->2.
  // Max-min: 0->2 and 1->2 get B/2 at the downlink, 0->1 gets the other B/2 of
  // 0's uplink. When the shared transfers end, nothing is left to share.
  struct Done : FlowListener {
    std::vector<std::pair<std::uint64_t, double>> at;
    void on_flow_done(std::uint64_t tag, Time arrival) override { at.emplace_back(tag, arrival); }
  } d;
  const Topology t = switch_topology(3);
  Engine e;
  Network net(e, t);
  net.start_flow(0, 2, 1e6, &d, 0);
  net.start_flow(1, 2, 1e6, &d, 1);
  net.start_flow(0, 1, 1e6, &d, 2);
  e.run();
  REQUIRE(d.at.size() == 3);
  for (const auto& [tag, a] : d.at) CHECK(rel(a - kLatency, 2e6 / kBw) < 1e-12);
}

TEST_CASE("contention: two NICs per node halve the inter-node time of a hierarchical allreduce", "[des]") {
  const int G = 8, M = 4, P = G * M;
  const double n = 1e8;
  auto inter_bandwidth_time = [&](int nics) {
    const ClusterSpec c = two_level_cluster(P, G, nics);
    const Fabric f = make_fabric(c, plain_profile());
    const Outcome o = run_collective(build_topology(c, plain_profile()),
                                     [&](auto& ctx) { return hierarchical_allreduce_schedule(ctx, P, G, n, 1); });
    // Remove the intra-node stages and the inter-node alphas: what is left is
    // the inter-node bandwidth term, G rings sharing the node's NICs.
    const double intra = 2.0 * (G - 1) * f.intra.time(n / G);
    return o.time - intra - 2.0 * (M - 1) * f.inter.alpha_s;
  };
  const double one = inter_bandwidth_time(1);
  const double two = inter_bandwidth_time(2);
  CHECK(rel(one / two, 2.0) < 1e-9);
  CHECK(rel(one, 2.0 * (M - 1) * (n / G / M) / (100e9 / 8 / G)) < 1e-9);
}

TEST_CASE("contention: a 2:1 oversubscribed fat-tree doubles a leaf-crossing ring's bandwidth time", "[des]") {
  const int P = 24;  // 3 leaves of 8 hosts
  const double n = 1e8;
  auto ring_time = [&](double oversubscription, Placement placement) {
    // One spine: every leaf-crossing flow shares the leaf's single uplink, whatever the routing hash.
    const Topology t = build_fat_tree(P, 1, 1, {}, {kBw, kLatency}, 8, 1, oversubscription, placement);
    return run_collective(t, [&](auto& c) { return ring_allreduce_schedule(c, P, n, 1); }).time;
  };
  const double alphas = 2.0 * (P - 1) * (kAlphaSw + kLatency);
  const double full = ring_time(1.0, Placement::Spread);
  const double over = ring_time(2.0, Placement::Spread);
  CHECK(rel(full, ring_allreduce(switch_fabric(P), n).time_s) < 1e-9);  // 1:1 is contention-free
  CHECK(rel((over - alphas) / (full - alphas), 2.0) < 1e-9);
  // Packed, the ring leaves each leaf once: oversubscription costs nothing.
  CHECK(rel(ring_time(2.0, Placement::Packed), full) < 1e-9);
}
