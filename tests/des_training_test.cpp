// The DES training model: agreement with the analytic timeline without
// contention, stragglers, contention in a training run, and the trace.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "config/scenario_loader.h"
#include "sim/analytic/iteration.h"
#include "sim/collectives/fabric.h"
#include "sim/des/training_sim.h"
#include "sim/training/buckets.h"
#include "sim/training/compression_cost.h"

using namespace gcsim;

namespace {

Scenario load(const std::string& rel, const std::vector<std::string>& sets = {}) {
  return load_scenario(std::string(GCSIM_SOURCE_DIR) + "/" + rel, sets);
}

double rel_diff(double a, double b) { return std::abs(a - b) / std::abs(b); }

}  // namespace

TEST_CASE("without contention des and analytic agree on the shipped scenarios", "[des-training]") {
  const std::vector<std::string> files = {"scenarios/h100-cluster.toml", "scenarios/dgx-h100.toml",
                                          "scenarios/seed/gradient-table.toml", "scenarios/seed/resnet50-1gbps.toml",
                                          "scenarios/seed/reduction.toml", "scenarios/seed/section-5-2.toml"};
  for (const auto& f : files)
    for (const std::vector<std::string>& sets :
         {std::vector<std::string>{}, {"training.iterations=3"}, {"compression.method=\"none\""},
          {"training.overlap=false"}, {"compression.exchange=\"dense\""}}) {
      const Scenario s = load(f, sets);
      const IterationResult a = simulate_analytic(s);
      const DesRun d = simulate_des(s);
      INFO(f << " " << (sets.empty() ? "" : sets[0]));
      CHECK(rel_diff(d.result.iteration_time_s, a.iteration_time_s) < 1e-9);
      CHECK(rel_diff(d.result.exposed_comm_s + 1e-12, a.exposed_comm_s + 1e-12) < 1e-6);
      CHECK(rel_diff(d.result.bytes_sent_per_worker + 1, a.bytes_sent_per_worker + 1) < 1e-9);
      CHECK(d.result.iterations == s.training.iterations);
      CHECK(d.iteration_s.size() == static_cast<std::size_t>(s.training.iterations));
    }
}

TEST_CASE("des agrees with analytic for every algorithm on one switch", "[des-training]") {
  for (const char* alg : {"ring", "halving-doubling", "ps"})
    for (int P : {2, 3, 8, 17}) {
      const Scenario s = load("scenarios/h100-cluster.toml", {"compression.method=\"none\"",
                                                              std::string("collective.algorithm=\"") + alg + "\"",
                                                              "cluster.workers=" + std::to_string(P)});
      INFO(alg << " P = " << P);
      CHECK(rel_diff(simulate_des(s).result.iteration_time_s, simulate_analytic(s).iteration_time_s) < 1e-9);
    }
}

TEST_CASE("one worker: the iteration is the compute step", "[des-training]") {
  const Scenario s = load("scenarios/h100-cluster.toml", {"cluster.workers=1", "training.iterations=2"});
  const DesRun d = simulate_des(s);
  CHECK(rel_diff(d.result.iteration_time_s, d.result.iteration_time_p1_s) < 1e-12);
  CHECK(d.result.efficiency_weak == Approx(1.0));
  CHECK(d.result.bytes_sent_per_worker == 0.0);
}

TEST_CASE("a named slow worker holds everyone back", "[des-training]") {
  const Scenario base = load("scenarios/h100-cluster.toml", {"training.iterations=3"});
  const Scenario slow =
      load("scenarios/h100-cluster.toml", {"training.iterations=3", "stragglers.slow=[{rank=5, factor=2.0}]"});
  const DesRun b = simulate_des(base);
  const DesRun s = simulate_des(slow);
  // Forward and backward of the slow worker double; the others wait for it at every collective.
  const double extra = b.result.forward_s + b.result.backward_s;
  CHECK(s.result.iteration_time_s > b.result.iteration_time_s);
  CHECK(s.result.iteration_time_s <= b.result.iteration_time_s + extra + 1e-12);
  CHECK(s.result.compute_s == Approx(b.result.compute_s + extra).epsilon(1e-9));
  CHECK(s.result.straggler_s == Approx(extra * (1.0 - 1.0 / 16.0)).epsilon(1e-9));
  CHECK(s.result.efficiency_weak < b.result.efficiency_weak);
}

TEST_CASE("lognormal stragglers: seeded - spread over iterations - slower on average", "[des-training]") {
  auto run = [](const std::string& seed) {
    return simulate_des(load("scenarios/h100-cluster.toml",
                             {"training.iterations=40", "stragglers.cv=0.2", "stragglers.seed=" + seed}));
  };
  const DesRun a = run("7");
  const DesRun again = run("7");
  const DesRun other = run("8");
  const DesRun none = simulate_des(load("scenarios/h100-cluster.toml", {"training.iterations=40"}));
  CHECK(a.iteration_s == again.iteration_s);  // deterministic
  CHECK(a.iteration_s != other.iteration_s);
  CHECK(a.result.iteration_p99_s > a.result.iteration_p50_s);
  CHECK(none.result.iteration_p99_s == Approx(none.result.iteration_p50_s));
  // The max of 16 multipliers with CV 0.2 is well above 1: waiting for the slowest costs time.
  CHECK(a.result.iteration_time_s > none.result.iteration_time_s);
  CHECK(a.result.straggler_s > 0.0);
}

TEST_CASE("contention in a training run: oversubscription slows des - not analytic", "[des-training]") {
  const std::vector<std::string> fat = {"cluster.workers=24", "cluster.topology=\"fat-tree\"",
                                        "cluster.nodes_per_leaf=8", "cluster.spines=1", "cluster.placement=\"spread\"",
                                        "compression.method=\"none\"", "cluster.inter_node.bandwidth_gbps=100"};
  auto with = [&](const char* over) {
    auto sets = fat;
    sets.push_back(std::string("cluster.oversubscription=") + over);
    return load("scenarios/h100-cluster.toml", sets);
  };
  const Scenario one = with("1.0");
  const Scenario two = with("2.0");
  CHECK(simulate_analytic(one).iteration_time_s == simulate_analytic(two).iteration_time_s);
  const DesRun d1 = simulate_des(one);
  const DesRun d2 = simulate_des(two);
  CHECK(rel_diff(d1.result.iteration_time_s, simulate_analytic(one).iteration_time_s) < 1e-9);
  CHECK(d2.result.exposed_comm_s > 1.5 * d1.result.exposed_comm_s);
  CHECK(d2.result.busiest_links.front().name.find("spine") != std::string::npos);
}

TEST_CASE("the trace has worker tracks - collectives and phases", "[des-training]") {
  const Scenario s = load("scenarios/h100-cluster.toml", {"cluster.workers=4", "training.iterations=2"});
  ChromeTrace trace;
  DesOptions o;
  o.trace = &trace;
  simulate_des(s, o);
  const std::string j = trace.json();
  CHECK(j.rfind("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[", 0) == 0);
  for (const char* needle : {"\"worker 3\"", "\"compute\"", "\"compression\"", "\"communication\"", "\"backward\"",
                             "\"collectives\"", "\"allgather b0\"", "\"ring-allgather b0\"", "\"compress b0\""})
    CHECK(j.find(needle) != std::string::npos);
  CHECK(trace.spans() > 20);
}

TEST_CASE("every compression method: des agrees with analytic without contention", "[des-training]") {
  for (const char* method : {"fp16", "bf16", "powersgd", "signsgd", "qsgd"})
    for (int P : {2, 3, 16}) {
      const Scenario s = load("scenarios/h100-cluster.toml", {std::string("compression.method=\"") + method + "\"",
                                                              "cluster.workers=" + std::to_string(P),
                                                              "training.iterations=2"});
      const IterationResult a = simulate_analytic(s);
      const DesRun d = simulate_des(s);
      INFO(method << " P = " << P);
      CHECK(rel_diff(d.result.iteration_time_s, a.iteration_time_s) < 1e-9);
      CHECK(rel_diff(d.result.bytes_sent_per_worker, a.bytes_sent_per_worker) < 1e-9);
      CHECK(rel_diff(d.result.compression_s + 1e-12, a.compression_s + 1e-12) < 1e-9);
    }
}

TEST_CASE("every sparse exchange: des agrees with analytic without contention", "[des-training]") {
  for (const char* exchange : {"allgather", "dense", "gtopk", "sparse-allreduce"})
    for (const char* ratio : {"0.001", "0.05"})
      for (int P : {2, 3, 5, 16}) {
        const Scenario s = load("scenarios/h100-cluster.toml",
                                {"compression.method=\"topk\"", std::string("compression.ratio=") + ratio,
                                 std::string("compression.exchange=\"") + exchange + "\"",
                                 "cluster.workers=" + std::to_string(P), "training.iterations=2"});
        const IterationResult a = simulate_analytic(s);
        const DesRun d = simulate_des(s);
        INFO(exchange << " rho " << ratio << " P = " << P);
        CHECK(rel_diff(d.result.iteration_time_s, a.iteration_time_s) < 1e-9);
        CHECK(rel_diff(d.result.bytes_sent_per_worker, a.bytes_sent_per_worker) < 1e-9);
        CHECK(a.algorithm.find(exchange == std::string("allgather") ? "ring-allgather"
                               : exchange == std::string("dense")   ? "ring"
                                                                    : exchange) != std::string::npos);
      }
}

TEST_CASE("hierarchical exchange: des agrees with analytic - compression priced on the shard", "[des-training]") {
  auto scenario = [](const char* exchange, int P, int G) {
    return load("scenarios/h100-cluster.toml",
                {"compression.method=\"topk\"", "compression.ratio=0.01",
                 std::string("compression.exchange=\"") + exchange + "\"", "cluster.workers=" + std::to_string(P),
                 "cluster.gpus_per_node=" + std::to_string(G), "cluster.topology=\"two-level\"",
                 "cluster.intra_node.bandwidth_gbps=3600", "cluster.intra_node.latency_us=1", "training.iterations=2"});
  };
  for (int G : {2, 4, 8})
    for (int M : {1, 2, 3, 8}) {
      const Scenario s = scenario("hierarchical", G * M, G);
      const IterationResult a = simulate_analytic(s);
      const DesRun d = simulate_des(s);
      INFO("G = " << G << " M = " << M);
      CHECK(rel_diff(d.result.iteration_time_s, a.iteration_time_s) < 1e-9);
      CHECK(rel_diff(d.result.bytes_sent_per_worker, a.bytes_sent_per_worker) < 1e-9);
      CHECK(a.algorithm.find("inter-node-allgather") != std::string::npos);
    }
  // The Top-K kernels run on n / G entries: the compression time falls with G
  // (less than 1/G: the GPU kernels' launch costs stay), the allgather exchange's does not.
  // (Without the reduce-scatter's sums, which the next case prices.)
  auto no_sums = [](Scenario s) {
    s.profile.kernels.erase(op::dense_sum);
    return s;
  };
  const IterationResult h2 = simulate_analytic(no_sums(scenario("hierarchical", 16, 2)));
  const IterationResult h8 = simulate_analytic(no_sums(scenario("hierarchical", 16, 8)));
  const IterationResult a8 = simulate_analytic(scenario("allgather", 16, 8));
  CHECK(h8.compression_s < h2.compression_s);
  CHECK(h8.compression_s < a8.compression_s / 2.0);
  // A one-GPU-per-node cluster has no node to split over.
  CHECK_THROWS_WITH(load("scenarios/h100-cluster.toml", {"compression.exchange=\"hierarchical\""}),
                    Catch::Contains("\"hierarchical\" needs a two-level cluster"));
}

TEST_CASE("hierarchical exchange: the reduce-scatter's sums are priced by dense_sum - at 0 by a profile without it",
          "[des-training]") {
  for (int G : {2, 4, 8}) {
    const Scenario s = load("scenarios/h100-cluster.toml",
                            {"compression.method=\"topk\"", "compression.exchange=\"hierarchical\"",
                             "cluster.workers=" + std::to_string(4 * G), "cluster.gpus_per_node=" + std::to_string(G),
                             "cluster.topology=\"two-level\"", "cluster.intra_node.bandwidth_gbps=3600",
                             "cluster.intra_node.latency_us=1"});
    Scenario without = s;
    without.profile.kernels.erase(op::dense_sum);
    const Fabric f = make_fabric(s.cluster, s.profile);
    const auto buckets = make_buckets(s.model, s.training.bucket_mb * 1024.0 * 1024.0, s.compression.granularity);
    INFO("G = " << G);
    for (const Bucket& b : buckets) {
      const BucketCost with_sums = bucket_cost(s, f, b), no_sums = bucket_cost(without, f, b);
      REQUIRE(with_sums.phases.size() == 3);  // reduce-scatter, between nodes, allgather
      const double shard = static_cast<double>(b.params) / G;
      const double sums = s.profile.kernel(op::dense_sum).eval(shard * (G - 1), 0.0);
      CHECK(sums > 0.0);
      // the sums come between the reduce-scatter and the shard's selection, on the critical path
      CHECK(with_sums.phases[1].before_s - no_sums.phases[1].before_s == Approx(sums).epsilon(1e-9));
      CHECK(with_sums.phases[0].before_s == no_sums.phases[0].before_s);
      CHECK(with_sums.phases[2].before_s == no_sums.phases[2].before_s);
    }
  }
}

TEST_CASE("gtopk and sparse-allreduce stay cheap as P grows where the allgather grows with P", "[des-training]") {
  auto bytes = [](const char* exchange, int P, const char* method = "topk") {
    return simulate_analytic(load("scenarios/h100-cluster.toml",
                                  {std::string("compression.method=\"") + method + "\"", "compression.ratio=0.001",
                                   "model.name=\"resnet50\"",
                                   std::string("compression.exchange=\"") + exchange + "\"",
                                   "cluster.workers=" + std::to_string(P)}))
        .bytes_sent_per_worker;
  };
  // Allgather: (P - 1) messages of k pairs; gtopk: 2 (P - 1) / P of one, whatever P.
  CHECK(bytes("allgather", 256) / bytes("allgather", 8) == Approx(255.0 / 7.0).epsilon(1e-9));
  CHECK(bytes("gtopk", 256) / bytes("gtopk", 8) == Approx((2.0 * 255 / 256) / (2.0 * 7 / 8)).epsilon(1e-9));
  CHECK(bytes("gtopk", 256) < bytes("allgather", 256) / 50);
  // Sparse allreduce: log2 P rounds of a vector that fills in, at most a dense one each.
  CHECK(bytes("sparse-allreduce", 256) < bytes("allgather", 256));
  CHECK(bytes("sparse-allreduce", 256) > bytes("sparse-allreduce", 8));
  // rho = 0.1 %: sum over s < 8 of 8 N (1 - 0.999^(2^s)) = 1.96 N bytes, against the ring's 7.97 N.
  CHECK(bytes("sparse-allreduce", 256) < bytes("allgather", 256, "none") / 3);
}

TEST_CASE("powersgd and fp16 keep allreduce's bytes per worker as P grows - signsgd and qsgd allgathers grow with P",
          "[des-training]") {
  auto bytes = [](const char* method, int P) {
    return simulate_analytic(load("scenarios/h100-cluster.toml", {std::string("compression.method=\"") + method + "\"",
                                                                  "model.name=\"resnet50\"",
                                                                  "cluster.workers=" + std::to_string(P)}))
        .bytes_sent_per_worker;
  };
  for (const char* method : {"none", "fp16", "powersgd"}) {
    INFO(method);
    // Ring allreduce: 2 (P-1)/P S, which goes from 1.75 S at P = 8 to 1.99 S at P = 256.
    CHECK(bytes(method, 256) / bytes(method, 8) == Approx((2.0 * 255 / 256) / (2.0 * 7 / 8)).epsilon(1e-9));
  }
  for (const char* method : {"signsgd", "qsgd"}) {
    INFO(method);
    CHECK(bytes(method, 256) / bytes(method, 8) == Approx(255.0 / 7.0).epsilon(1e-9));
  }
  // fp16 halves dense; PowerSGD r = 4 sends a few percent of it on ResNet-50.
  CHECK(bytes("fp16", 64) / bytes("none", 64) == Approx(0.5).epsilon(1e-9));
  CHECK(bytes("powersgd", 64) / bytes("none", 64) < 0.05);
}
