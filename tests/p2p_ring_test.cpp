// gcsim's own point-to-point rings and their collective family, p2p
// ([collective.p2p]): the ring allgather over groups of ranks that the
// hierarchical exchange runs (comm/ring_allgather.h), the calibration bench
// timing it inside nodes and between them (calib/communicator_bench.h), the
// fit, and the simulator charging the exchanges made of sendrecv steps that
// family's figures in both backends, the ring's where a profile has none.
#include <catch2/catch.hpp>

#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "calib/collective_sweep.h"
#include "calib/communicator_bench.h"
#include "comm/ring_allgather.h"
#include "config/profile_loader.h"
#include "config/scenario_loader.h"
#include "scenario_fixture.h"
#include "sim/analytic/iteration.h"
#include "sim/collectives/fabric.h"
#include "sim/collectives/two_level_rings.h"
#include "sim/des/training_sim.h"
#include "sim/training/buckets.h"
#include "sim/training/compression_cost.h"
#include "tests/train_support.h"

using namespace gcsim;

namespace {

// Rank r's byte i of its part.
std::uint8_t byte_of(int r, std::size_t i) { return static_cast<std::uint8_t>(r * 37 + i * 7 + 1); }

constexpr const char* kP2p = R"([collective.p2p]
launch_us = 0.0
[collective.p2p.intra_node]
alpha_us = 30.0
efficiency = 0.3
[collective.p2p.inter_node]
alpha_us = 50.0
efficiency = 0.4
)";

Scenario hierarchical(const std::vector<std::string>& more = {}) {
  std::vector<std::string> sets = {"compression.method=\"topk\"", "compression.exchange=\"hierarchical\"",
                                   "training.iterations=2"};
  sets.insert(sets.end(), more.begin(), more.end());
  return load_scenario(std::string(GCSIM_SOURCE_DIR) + "/scenarios/dgx-h100.toml", sets);
}

}  // namespace

TEST_CASE("node groups: the ranks of a node in order and one local rank of every node", "[p2p]") {
  CHECK(comm::node_group(5, 8, 4) == std::vector<int>{4, 5, 6, 7});
  CHECK(comm::cross_node_group(5, 8, 4) == std::vector<int>{1, 5});
  CHECK(comm::cross_node_group(2, 6, 1) == std::vector<int>{0, 1, 2, 3, 4, 5});
  CHECK(comm::node_group(2, 6, 6) == std::vector<int>{0, 1, 2, 3, 4, 5});
  CHECK_THROWS_AS(comm::node_group(0, 6, 4), std::invalid_argument);  // 6 ranks are not nodes of 4
  CHECK_THROWS_AS(comm::cross_node_group(6, 6, 2), std::invalid_argument);
}

TEST_CASE("ring_allgather over groups leaves every part of the group on every member and touches no other rank",
          "[p2p]") {
  const int P = 6, G = 3;
  for (const bool inter : {false, true}) {
    INFO((inter ? "between nodes" : "inside nodes"));
    train::test::on_ranks(P, [&](comm::Communicator& c) {
      const std::vector<int> group = inter ? comm::cross_node_group(c.rank(), P, G) : comm::node_group(c.rank(), P, G);
      const int me = static_cast<int>(std::find(group.begin(), group.end(), c.rank()) - group.begin());
      // Parts of unequal sizes (as the dense shards of n / G entries), 0 bytes included.
      std::vector<std::size_t> offsets = {0};
      for (std::size_t j = 0; j < group.size(); ++j) offsets.push_back(offsets.back() + (j == 1 ? 0 : 5 + 3 * j));
      std::vector<std::uint8_t> buf(offsets.back(), 0);
      for (std::size_t i = offsets[me]; i < offsets[me + 1]; ++i) buf[i] = byte_of(c.rank(), i);
      comm::ring_allgather(c, group, me, buf.data(), offsets);
      for (std::size_t j = 0; j < group.size(); ++j)
        for (std::size_t i = offsets[j]; i < offsets[j + 1]; ++i)
          if (buf[i] != byte_of(group[j], i))
            throw std::runtime_error("rank " + std::to_string(c.rank()) + ": part " + std::to_string(j) + " wrong");
      c.barrier();  // nothing stray arrived from outside the group: every rank gets here
    });
  }
  train::test::on_ranks(2, [&](comm::Communicator& c) {
    const std::vector<int> group = {0, 1};
    const std::vector<std::size_t> offsets = {0, 4, 8};
    std::vector<std::uint8_t> buf(8);
    if (c.rank() == 0) {
      // this rank is not at position 1, and the offsets must cover the group
      bool threw = false;
      try {
        comm::ring_allgather(c, group, 1, buf.data(), offsets);
      } catch (const std::invalid_argument&) {
        threw = true;
      }
      const std::vector<std::size_t> short_offsets = {0, 4};
      try {
        comm::ring_allgather(c, group, 0, buf.data(), short_offsets);
        threw = false;
      } catch (const std::invalid_argument&) {
      }
      if (!threw) throw std::runtime_error("bad positions or offsets were accepted");
    }
  });
}

TEST_CASE("the communicator bench times p2p_ring inside nodes and between them with ring byte counts", "[p2p]") {
  const int P = 4;
  for (const bool inter : {false, true}) {
    INFO((inter ? "between nodes" : "inside nodes"));
    train::test::on_ranks(P, [&](comm::Communicator& c) {
      calib::CommunicatorBench bench(c, 0.0, {2, inter});
      if (bench.ring_length(calib::coll::p2p_ring) != 2 || bench.ring_length(calib::coll::allgather) != P)
        throw std::runtime_error("ring lengths");
      for (std::size_t bytes : {std::size_t{4}, std::size_t{4096}}) {
        bench.prepare(calib::coll::p2p_ring, bytes);
        bench.run_timed();
        if (bench.check() != 0) throw std::runtime_error("the data check failed on a correct ring");
      }
      calib::CollectiveSweepOptions o;
      o.sizes = {64, 1024};
      o.repeats = 2;
      o.warmup = 0;
      o.collectives = {calib::coll::p2p_ring};
      o.groups = {2, inter};
      const auto ms = calib::run_collective_sweep(c, o);
      if (ms.size() != 2) throw std::runtime_error("want 2 sizes");
      for (const auto& m : ms)
        if (m.op != calib::coll::p2p_ring || m.wire_bytes != static_cast<double>(m.bytes))  // rings of 2: one part each
          throw std::runtime_error("p2p_ring's wire bytes");
    });
  }
  // Rings of one rank time nothing; nodes that do not divide the ranks are refused.
  train::test::on_ranks(2, [&](comm::Communicator& c) {
    calib::CommunicatorBench one(c, 0.0, {2, true});  // one node of 2: rings of 1 between nodes
    bool threw = false;
    try {
      one.prepare(calib::coll::p2p_ring, 64);
    } catch (const std::invalid_argument&) {
      threw = true;
    }
    if (!threw) throw std::runtime_error("a ring of one rank was timed");
  });
  CHECK_THROWS_AS(train::test::on_ranks(3, [&](comm::Communicator& c) { calib::CommunicatorBench b(c, 0.0, {2, true}); }),
                  std::invalid_argument);
}

TEST_CASE("fit_allgather on p2p_ring points recovers per-step alpha and rate without a launch", "[p2p]") {
  for (const int L : {2, 8}) {
    INFO("rings of " << L);
    std::vector<calib::CollectiveMeasurement> ms;
    for (const std::size_t bytes : calib::collective_size_grid(4, 4u << 20)) {
      calib::CollectiveMeasurement m{calib::coll::p2p_ring, bytes, (L - 1.0) * static_cast<double>(bytes), {}};
      m.seconds.median = (L - 1) * 2e-3 + m.wire_bytes / 11e6;
      ms.push_back(m);
      ms.push_back({calib::coll::allgather, bytes, 1.0, {}});  // other ops' points are not p2p_ring's
      ms.back().seconds.median = 1.0;
    }
    const calib::AllgatherFit g = calib::fit_allgather(ms, L, 0.0, calib::coll::p2p_ring);
    CHECK(g.step_alpha_s == Approx(2e-3).epsilon(1e-6));
    CHECK(g.bytes_per_s == Approx(11e6).epsilon(1e-6));
    CHECK(g.allgather.r2 == Approx(1.0));
  }
}

TEST_CASE("hierarchical exchange rings are charged the p2p family - the ring figures without one", "[p2p]") {
  const Scenario ring_only = hierarchical();
  Scenario p2p = ring_only;
  p2p.profile = load_profile(test::write_temp("p2p.toml", test::default_profile_text() + "\n" + kP2p));
  Scenario plain = ring_only;
  plain.profile = load_profile(test::write_temp("no-p2p.toml", test::default_profile_text()));
  CHECK(plain.profile.collective(family::p2p).inter.efficiency == plain.profile.collective(family::ring).inter.efficiency);
  const auto buckets = make_buckets(p2p.model, p2p.training.bucket_mb * 1024.0 * 1024.0, p2p.compression.granularity);
  const Fabric f = make_fabric(p2p.cluster, p2p.profile), f0 = make_fabric(plain.cluster, plain.profile);
  const double line_intra = p2p.cluster.intra_node.bytes_per_s(), line_inter = p2p.cluster.inter_node.bytes_per_s();
  for (const Bucket& b : buckets) {
    const BucketCost c = bucket_cost(p2p, f, b), c0 = bucket_cost(plain, f0, b);
    REQUIRE(c.phases.size() == 3);  // intra reduce-scatter, inter allgather, intra allgather
    for (std::size_t i = 0; i < 3; ++i) {
      const double bytes = c.phases[i].use.bytes;
      const Fabric at = f.sized(bytes).charged(family::p2p);
      CHECK(at.intra.bytes_per_s == Approx(line_intra * 0.3));
      CHECK(at.inter.bytes_per_s == Approx(line_inter * 0.4));
      const CollectiveCost want = i == 1 ? inter_node_allgather(at, bytes) : intra_node_ring(at, bytes);
      CHECK(c.phases[i].collective.time_s == Approx(want.time_s).epsilon(1e-9));  // no launch: the family's is 0
      // without [collective.p2p]: the ring's figures, as before the family existed
      const Fabric ring_at = f0.sized(bytes).charged(family::ring);
      const CollectiveCost ring_want = i == 1 ? inter_node_allgather(ring_at, bytes) : intra_node_ring(ring_at, bytes);
      CHECK(c0.phases[i].collective.time_s == Approx(ring_want.time_s + ring_at.launch_s).epsilon(1e-9));
    }
  }
  // Both backends charge it alike (no contention on this cluster's rings).
  const IterationResult a = simulate_analytic(p2p);
  const DesRun d = simulate_des(p2p);
  CHECK(std::abs(d.result.iteration_time_s - a.iteration_time_s) / a.iteration_time_s < 1e-9);
  CHECK(a.iteration_time_s != Approx(simulate_analytic(plain).iteration_time_s));
}
