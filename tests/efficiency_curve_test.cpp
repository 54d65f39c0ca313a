// Efficiency measured size by size (sim/efficiency_curve.h) and the
// allgather family ([collective.allgather]): the curve's interpolation, the
// profile's curves read and checked, and both backends charging a collective
// its family's efficiency at its size -- the closed forms through
// Fabric::sized / charged, the DES by scaling its endpoints' links, built at
// another efficiency, for the collective (Network::scale_links),
// while the links between switches keep their line rate.
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "config/input_error.h"
#include "config/profile_loader.h"
#include "config/scenario_loader.h"
#include "scenario_fixture.h"
#include "sim/analytic/iteration.h"
#include "sim/collectives/fabric.h"
#include "sim/collectives/ring_allreduce.h"
#include "sim/des/training_sim.h"
#include "sim/efficiency_curve.h"
#include "sim/engine/engine.h"
#include "sim/network/network.h"
#include "sim/training/buckets.h"
#include "sim/training/compression_cost.h"
#include "topology/builders.h"

using namespace gcsim;

namespace {

Profile profile_with(const std::string& section, const std::string& file = "curve.toml") {
  return load_profile(test::write_temp(file, test::default_profile_text() + "\n" + section));
}

std::string load_error(const std::string& section) {
  try {
    profile_with(section, "bad-curve.toml");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

Scenario load(const std::string& rel, const std::vector<std::string>& sets) {
  return load_scenario(std::string(GCSIM_SOURCE_DIR) + "/" + rel, sets);
}

double rel_diff(double a, double b) { return std::abs(a - b) / std::abs(b); }

// An allgather far slower than the ring, slower still for mid-sized
// messages, and a ring whose small buffers reach less than its large ones.
constexpr const char* kCurves = R"([collective.allgather]
launch_us = 40.0
[collective.allgather.inter_node]
alpha_us = 25.0
efficiency = 0.7
curve = [{bytes = 1.0e4, efficiency = 0.9}, {bytes = 1.0e5, efficiency = 0.35}, {bytes = 1.0e7, efficiency = 0.7}]
[collective.allgather.intra_node]
alpha_us = 6.0
efficiency = 0.5
curve = [{bytes = 1.0e5, efficiency = 0.3}, {bytes = 1.0e7, efficiency = 0.6}]
[collective.ring.inter_node]
efficiency = 0.9
curve = [{bytes = 1.0e6, efficiency = 0.5}, {bytes = 1.0e8, efficiency = 0.9}]
)";

}  // namespace

TEST_CASE("an efficiency curve interpolates the transfer time linearly between its points and holds its ends",
          "[curve]") {
  const EfficiencyCurve c({{1000.0, 0.5}, {3000.0, 0.75}, {10000.0, 1.0}});
  CHECK(c.at(1000.0) == Approx(0.5));
  CHECK(c.at(3000.0) == Approx(0.75));
  CHECK(c.at(10000.0) == Approx(1.0));
  CHECK(c.at(10.0) == Approx(0.5));   // below the first size: the first point's
  CHECK(c.at(0.0) == Approx(0.5));
  CHECK(c.at(1e9) == Approx(1.0));    // above the last: the last's
  // Between 1000 and 3000 the transfer time s / e goes linearly from 2000 to 4000 (in line-rate seconds x rate).
  CHECK(2000.0 / c.at(2000.0) == Approx(3000.0));
  CHECK(c.at(2000.0) == Approx(2.0 / 3.0));
  for (double s = 1000.0; s < 10000.0; s += 250.0) {  // the time grows with the size, the efficiency stays in range
    CHECK(c.at(s) > 0.0);
    CHECK(c.at(s) <= 1.0);
    CHECK((s + 250.0) / c.at(s + 250.0) >= s / c.at(s));
  }
  CHECK(EfficiencyCurve({{5.0, 0.25}}).at(1e12) == Approx(0.25));
  // A figure with a curve charges the curve; without one, or unsized, its flat efficiency.
  LinkClassFigures fig;
  fig.efficiency = 0.8;
  CHECK(fig.efficiency_at(2000.0) == 0.8);
  fig.curve = c;
  CHECK(fig.efficiency_at(2000.0) == Approx(2.0 / 3.0));
  CHECK(fig.efficiency_at(-1.0) == 0.8);
}

TEST_CASE("an efficiency curve refuses points out of order or out of range", "[curve]") {
  CHECK_THROWS_AS(EfficiencyCurve({{1000.0, 0.5}, {1000.0, 0.6}}), std::invalid_argument);
  CHECK_THROWS_AS(EfficiencyCurve({{1000.0, 0.5}, {10.0, 0.6}}), std::invalid_argument);
  CHECK_THROWS_AS(EfficiencyCurve({{0.0, 0.5}}), std::invalid_argument);
  CHECK_THROWS_AS(EfficiencyCurve({{10.0, 0.0}}), std::invalid_argument);
  CHECK_THROWS_AS(EfficiencyCurve({{10.0, 1.5}}), std::invalid_argument);
  CHECK_THROWS_AS(EfficiencyCurve({{10.0, std::nan("")}}), std::invalid_argument);
  CHECK_NOTHROW(EfficiencyCurve({{10.0, 1.0}, {20.0, 1e-3}}));
}

TEST_CASE("a profile reads the allgather family and its curves and refuses bad curves naming the key", "[curve]") {
  const Profile p = profile_with(kCurves);
  const CollectiveFigures ag = p.collective(family::allgather);
  CHECK(ag.launch_s == Approx(40e-6));
  CHECK(ag.inter.alpha_s == Approx(25e-6));
  REQUIRE(ag.inter.curve.points().size() == 3);
  CHECK(ag.inter.curve.points()[1].bytes == 1e5);
  CHECK(ag.inter.curve.points()[1].efficiency == Approx(0.35));
  CHECK(ag.intra.curve.points().size() == 2);
  CHECK(p.collective(family::ring).inter.curve.points().size() == 2);
  CHECK(p.collective(family::ring).intra.curve.empty());
  // Without a section of its own the allgather is charged as the ring, and the tree too.
  const Profile ring_only = profile_with("[collective.ring]\nlaunch_us = 7.0\n[collective.ring.inter_node]\nefficiency = 0.6\n");
  CHECK(ring_only.collective(family::allgather).launch_s == Approx(7e-6));
  CHECK(ring_only.collective(family::allgather).inter.efficiency == Approx(0.6));
  CHECK(ring_only.collective(family::tree).inter.efficiency == Approx(0.6));

  const std::string cls = "[collective.allgather.inter_node]\n";
  CHECK(test::contains(load_error(cls + "curve = [{bytes = 2.0e5, efficiency = 0.5}, {bytes = 1.0e5, efficiency = 0.6}]\n"),
                       "collective.allgather.inter_node.curve"));
  CHECK(test::contains(load_error(cls + "curve = [{bytes = 1.0e5, efficiency = 1.5}]\n"), "efficiency"));
  CHECK(test::contains(load_error(cls + "curve = [{bytes = -1.0, efficiency = 0.5}]\n"), "bytes"));
  CHECK(test::contains(load_error(cls + "curve = [{bytes = 1.0e5, efficiency = 0.5, rate = 3}]\n"), "rate"));
  CHECK(test::contains(load_error(cls + "curve = []\n"), "curve"));
  CHECK(test::contains(load_error("[collective.allgather.inter_node]\ncurve = [{bytes = 1.0e5}]\n"), "efficiency"));
}

TEST_CASE("a sized fabric charges each family its efficiency at the size and its own overheads", "[curve]") {
  const Scenario s = load("scenarios/h100-cluster.toml", {"cluster.workers=8"});
  Scenario sc = s;
  sc.profile = profile_with(kCurves);
  const Fabric f = make_fabric(sc.cluster, sc.profile);
  const double line = sc.cluster.inter_node.bytes_per_s();
  CHECK(f.inter.bytes_per_s == Approx(line * 0.9));  // unsized: the ring's flat efficiency
  CHECK(f.charged(family::allgather).inter.bytes_per_s == Approx(line * 0.7));
  CHECK(f.sized(1e5).charged(family::allgather).inter.bytes_per_s == Approx(line * 0.35));
  CHECK(f.sized(1e5).inter.bytes_per_s == Approx(line * 0.5));  // the ring's curve holds its first point
  CHECK(f.sized(1e9).inter.bytes_per_s == Approx(line * 0.9));
  CHECK(f.sized(1e5).charged(family::allgather).launch_s == Approx(40e-6));
  CHECK(f.sized(1e5).charged(family::allgather).overhead.inter_s == Approx(25e-6));
  // What the DES scales its endpoint links by, built at the ring's flat efficiency: 0.35 / 0.9.
  const Fabric::LinkScale m = f.sized(1e5).charged(family::allgather).rates_over(f);
  CHECK(m.inter == Approx(0.35 / 0.9));
  CHECK(m.intra == Approx(0.35 / 0.9));  // one GPU per host: the intra class is the NIC's
  CHECK(f.rates_over(f).inter == 1.0);
  // A fabric built by hand has no families: charged and sized leave it as it is.
  Fabric hand;
  hand.inter = {1e-6, 1e9};
  CHECK(hand.sized(1e5).charged(family::allgather).inter.bytes_per_s == 1e9);
}

TEST_CASE("with curves and the allgather family des agrees with analytic without contention", "[curve]") {
  const Profile curves = profile_with(kCurves);
  for (const char* file : {"scenarios/h100-cluster.toml", "scenarios/dgx-h100.toml"})
    for (const std::vector<std::string>& sets :
         {std::vector<std::string>{"training.iterations=2"},
          {"training.iterations=2", "compression.ratio=0.001"},
          {"training.iterations=2", "compression.method=\"none\""},
          {"training.iterations=2", "training.overlap=false", "cluster.workers=32"}}) {
      Scenario s = load(file, sets);
      s.profile = curves;
      INFO(file << " " << sets.back());
      const IterationResult a = simulate_analytic(s);
      const DesRun d = simulate_des(s);
      CHECK(rel_diff(d.result.iteration_time_s, a.iteration_time_s) < 1e-9);
      CHECK(rel_diff(d.result.bytes_sent_per_worker + 1, a.bytes_sent_per_worker + 1) < 1e-9);
      DesOptions flows;
      flows.fast_rings = false;  // every message as a flow: the scaled links in progressive filling, not the computed rings
      CHECK(rel_diff(simulate_des(s, flows).result.iteration_time_s, d.result.iteration_time_s) < 1e-9);
    }
}

TEST_CASE("the allgather pays its family's rate at its size and the allreduce does not", "[curve]") {
  // Top-K's allgather: its exchange time follows the allgather's curve at its per-rank message.
  const Scenario base = load("scenarios/h100-cluster.toml", {"cluster.workers=8", "compression.method=\"topk\"",
                                                              "compression.exchange=\"allgather\""});
  Scenario sc = base;
  sc.profile = profile_with(kCurves);
  const auto buckets = make_buckets(sc.model, sc.training.bucket_mb * 1024.0 * 1024.0, sc.compression.granularity);
  const Fabric f = make_fabric(sc.cluster, sc.profile);
  const Fabric f0 = make_fabric(base.cluster, base.profile);
  for (const Bucket& b : buckets) {
    const BucketCost c = bucket_cost(sc, f, b);
    const BucketCost c0 = bucket_cost(base, f0, b);
    REQUIRE(c.phases.size() == 1);
    const double m = c.phases[0].use.bytes;  // each rank's message
    const double e = sc.profile.collective(family::allgather).inter.curve.at(m);
    const double P = sc.cluster.workers, line = sc.cluster.inter_node.bytes_per_s();
    // launch + (P - 1) (alpha + latency + m / (line e))
    const double expect = 40e-6 + (P - 1) * (25e-6 + sc.cluster.inter_node.latency_us * 1e-6 + m / (line * e));
    INFO("bucket of " << b.params << " params, message " << m << " B");
    CHECK(c.phases[0].collective.time_s == Approx(expect).epsilon(1e-9));
    CHECK(c.phases[0].collective.time_s > c0.phases[0].collective.time_s);
    CHECK(c.phases[0].collective.bytes_sent == c0.phases[0].collective.bytes_sent);
  }
  // The dense allreduce is charged the ring's curve at its buffer, not the allgather's.
  Scenario dense = sc;
  dense.compression.method = "none";
  dense.algorithm = Algorithm::Ring;
  const BucketCost d = bucket_cost(dense, f, buckets.front());
  REQUIRE(d.phases.size() == 1);
  const double buffer = d.phases[0].use.bytes;
  const Fabric ring_at = f.sized(buffer);
  CHECK(ring_at.inter.bytes_per_s == Approx(sc.cluster.inter_node.bytes_per_s() *
                                            sc.profile.collective(family::ring).inter.curve.at(buffer)));
  CHECK(d.phases[0].collective.time_s ==
        Approx(ring_allreduce(ring_at, buffer).time_s + ring_at.launch_s).epsilon(1e-9));
}

TEST_CASE("scaled links: the NICs - the intra-node links and the links between switches each follow their own scale",
          "[curve]") {
  struct Done : FlowListener {
    std::vector<double> at;
    void on_flow_done(std::uint64_t, Time arrival) override { at.push_back(arrival); }
  };
  // Two nodes of 2 GPUs per leaf, two leaves, 4:1: each uplink carries 2 x 100 / 4 = 50 of a NIC's 100.
  const double nic = 100e6, intra = 1000e6, n = 1e6;
  const Topology t = build_fat_tree(8, 2, 1, {intra, 0.0}, {nic, 0.0}, 2, 1, 4.0, Placement::Packed);
  auto time_of = [&](int src, int dst, double scale_intra, double scale_nic, double scale_fabric = 1.0) {
    Engine e;
    Network net(e, t);
    net.scale_links(scale_intra, scale_nic, scale_fabric);
    Done d;
    net.start_flow(src, dst, n, &d, 0);
    e.run();
    REQUIRE(d.at.size() == 1);
    return d.at[0];
  };
  CHECK(time_of(0, 1, 1.0, 1.0) == Approx(n / intra));          // inside node 0
  CHECK(time_of(0, 1, 0.5, 1.0) == Approx(n / (0.5 * intra)));  // the intra-node class scaled
  CHECK(time_of(0, 2, 1.0, 1.0) == Approx(n / nic));            // node 0 -> node 1, one leaf
  CHECK(time_of(0, 2, 1.0, 0.6) == Approx(n / (0.6 * nic)));
  CHECK(time_of(0, 4, 1.0, 1.0) == Approx(n / (0.5 * nic)));    // across leaves: the uplink's 50
  CHECK(time_of(0, 4, 1.0, 0.6) == Approx(n / (0.5 * nic)));    // the uplink still binds, unscaled
  CHECK(time_of(0, 4, 1.0, 0.25) == Approx(n / (0.25 * nic)));  // now the NIC
  CHECK(time_of(0, 4, 1.0, 1.0, 0.8) == Approx(n / (0.8 * 0.5 * nic)));  // the uplink at its own scale
  CHECK(time_of(0, 2, 1.0, 1.0, 0.3) == Approx(n / nic));                // a path without one: unaffected
  // Re-rating flows already under way: half sent at 100, the rest at 50.
  struct Rescale : EventHandler {
    Network* net = nullptr;
    void on_event(std::uint64_t) override { net->scale_links(1.0, 0.5); }
  } rescale;
  Engine e;
  Network net(e, t);
  rescale.net = &net;
  Done d;
  net.start_flow(0, 2, n, &d, 0);
  e.schedule(0.5 * n / nic, &rescale, 0);
  e.run();
  REQUIRE(d.at.size() == 1);
  CHECK(d.at[0] == Approx(0.5 * n / nic + 0.5 * n / (0.5 * nic)));
  Engine e2;
  Network bad(e2, t);
  CHECK_THROWS_AS(bad.scale_links(0.0, 1.0), std::invalid_argument);
  CHECK_THROWS_AS(bad.scale_links(1.0, std::nan("")), std::invalid_argument);
  CHECK_THROWS_AS(bad.scale_links(1.0, 1.0, -1.0), std::invalid_argument);
}
