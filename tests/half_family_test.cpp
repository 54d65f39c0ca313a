// fp16's allreduce and its collective family, half ([collective.half]): the
// calibration sweep timing Gloo's ring of 2-byte elements
// (calib/communicator_bench.h; its data check is in calib_test.cpp), the
// fit, and the simulator charging a 2-byte allreduce that family's figures
// in both backends -- the ring's where a profile has none, the tree's for a
// tree -- while fp32 allreduces keep the ring's.
#include <catch2/catch.hpp>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "calib/collective_sweep.h"
#include "calib/communicator_bench.h"
#include "config/profile_loader.h"
#include "config/scenario_loader.h"
#include "scenario_fixture.h"
#include "sim/analytic/iteration.h"
#include "sim/collectives/fabric.h"
#include "sim/collectives/ring_allreduce.h"
#include "sim/des/training_sim.h"
#include "sim/training/buckets.h"
#include "sim/training/compression_cost.h"
#include "tests/train_support.h"

using namespace gcsim;

namespace {

constexpr const char* kHalf = R"([collective.half]
launch_us = 100.0
[collective.half.inter_node]
alpha_us = 400.0
efficiency = 0.25
)";

Scenario fp16(const std::vector<std::string>& more = {}) {
  std::vector<std::string> sets = {"compression.method=\"fp16\"", "cluster.workers=8", "training.iterations=2"};
  sets.insert(sets.end(), more.begin(), more.end());
  return load_scenario(std::string(GCSIM_SOURCE_DIR) + "/scenarios/h100-cluster.toml", sets);
}

}  // namespace

TEST_CASE("the collective sweep times allreduce_half with an allreduce's wire bytes", "[half]") {
  // Its data check, element by element: calib_test.cpp's communicator bench case.
  train::test::on_ranks(3, [&](comm::Communicator& c) {
    calib::CollectiveSweepOptions o;
    o.sizes = {64, 1024};
    o.repeats = 2;
    o.warmup = 0;
    o.collectives = {calib::coll::allreduce_half};
    const auto ms = calib::run_collective_sweep(c, o);
    if (ms.size() != 2) throw std::runtime_error("want 2 sizes");
    for (const auto& m : ms)
      if (m.wire_bytes != 2.0 * 2 / 3 * static_cast<double>(m.bytes)) throw std::runtime_error("allreduce_half's wire bytes");
  });
}

TEST_CASE("fit_half_allreduce recovers the per-step alpha over 2 (P - 1) steps and the rate", "[half]") {
  for (const int P : {2, 4, 8}) {
    INFO("P = " << P);
    std::vector<calib::CollectiveMeasurement> ms;
    for (const std::size_t bytes : calib::collective_size_grid(4, 4u << 20)) {
      calib::CollectiveMeasurement m{calib::coll::allreduce_half, bytes, 2.0 * (P - 1) / P * static_cast<double>(bytes), {}};
      m.seconds.median = 50e-6 + 2 * (P - 1) * 3e-4 + m.wire_bytes / 9e6;
      ms.push_back(m);
      ms.push_back({calib::coll::allreduce, bytes, 1.0, {}});  // fp32 points are not the half family's
      ms.back().seconds.median = 1.0;
    }
    const calib::AllgatherFit h = calib::fit_half_allreduce(ms, P, 50e-6);
    CHECK(h.step_alpha_s == Approx(3e-4).epsilon(1e-6));
    CHECK(h.bytes_per_s == Approx(9e6).epsilon(1e-6));
    CHECK(h.launch_s == 50e-6);
  }
  CHECK_THROWS_AS(calib::fit_half_allreduce({}, 4, 0.0), std::invalid_argument);
}

TEST_CASE("an fp16 allreduce is charged the half family - the ring figures without one", "[half]") {
  const Scenario base = fp16();
  Scenario half = base;
  half.profile = load_profile(test::write_temp("half.toml", test::default_profile_text() + "\n" + kHalf));
  CHECK(base.profile.collective(family::half).inter.efficiency == base.profile.collective(family::ring).inter.efficiency);
  const auto buckets = make_buckets(half.model, half.training.bucket_mb * 1024.0 * 1024.0, half.compression.granularity);
  const Fabric f = make_fabric(half.cluster, half.profile), f0 = make_fabric(base.cluster, base.profile);
  REQUIRE(!buckets.empty());
  for (const Bucket& b : buckets) {
    const BucketCost c = bucket_cost(half, f, b), c0 = bucket_cost(base, f0, b);
    REQUIRE(c.phases.size() == 1);
    const double bytes = c.phases[0].use.bytes;
    REQUIRE(c.phases[0].use.element_bytes == 2);
    const Fabric at = f.sized(bytes).charged(family::half);
    CHECK(at.inter.bytes_per_s == Approx(half.cluster.inter_node.bytes_per_s() * 0.25));
    CHECK(c.phases[0].collective.time_s == Approx(ring_allreduce(at, bytes).time_s + 100e-6).epsilon(1e-9));
    const Fabric ring_at = f0.sized(bytes).charged(family::ring);
    CHECK(c0.phases[0].collective.time_s == Approx(ring_allreduce(ring_at, bytes).time_s + ring_at.launch_s).epsilon(1e-9));
  }
  // The fp32 allreduce of the same profile keeps the ring's figures.
  Scenario dense = half;
  dense.compression.method = "none";
  Scenario dense0 = base;
  dense0.compression.method = "none";
  CHECK(simulate_analytic(dense).iteration_time_s == Approx(simulate_analytic(dense0).iteration_time_s).epsilon(1e-12));
  // Both backends charge it alike, and it changes the step.
  const IterationResult a = simulate_analytic(half);
  const DesRun d = simulate_des(half);
  CHECK(std::abs(d.result.iteration_time_s - a.iteration_time_s) / a.iteration_time_s < 1e-6);
  CHECK(a.iteration_time_s > simulate_analytic(base).iteration_time_s);
}

TEST_CASE("an fp16 tree allreduce keeps the tree's figures", "[half]") {
  Scenario tree = fp16({"collective.algorithm=\"tree\""});
  Scenario tree_half = tree;
  tree_half.profile = load_profile(test::write_temp("half-tree.toml", test::default_profile_text() + "\n" + kHalf));
  CHECK(simulate_analytic(tree_half).iteration_time_s == Approx(simulate_analytic(tree).iteration_time_s).epsilon(1e-12));
}
